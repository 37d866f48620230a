// Reference loss kernels, same signatures as assembly/loss.ts.
import type { Heap } from './heap';

export const lossRef = (_h: Heap) => ({});
