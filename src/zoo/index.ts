// The model zoo: name → function returning a ModelConfig. A plain object, so a reader sees every model.
import type { ModelConfig } from '../model/config';
import { lenet5 } from './lenet5';

export { lenet5 };

export type ZooModel = (inputShape?: readonly number[], classes?: number) => ModelConfig;

export const models: Record<string, ZooModel> = {
  lenet5,
};
