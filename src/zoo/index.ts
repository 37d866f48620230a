// The model zoo: name → function returning a ModelConfig. A plain object, so a reader sees every model.
import type { ModelConfig } from '../model/config';
import { lenet5 } from './lenet5';
import { alexnet } from './alexnet';
import { zfnet } from './zfnet';
import { vgg, vgg11, vgg13, vgg16, vgg19 } from './vgg';
import { googlenet } from './googlenet';
import { resnet, resnet18, resnet34, resnet50, resnet101, resnet152 } from './resnet';
import { cifarResnet, resnet20, resnet32, resnet56, miniInception, vggSmall } from './small';

export { lenet5, alexnet, zfnet, vgg, vgg11, vgg13, vgg16, vgg19, googlenet, resnet, resnet18, resnet34, resnet50, resnet101, resnet152 };
export { cifarResnet, resnet20, resnet32, resnet56, miniInception, vggSmall };

export type ZooModel = (inputShape?: readonly number[], classes?: number) => ModelConfig;

/** Null-prototype: `models['__proto__']` or `models.toString` is no model (a name can come from a command line). */
export const models: Record<string, ZooModel> = Object.assign(Object.create(null) as Record<string, ZooModel>, {
  lenet5,
  // The ImageNet lineage (default input [224, 224, 3], 1000 classes); docs/zoo.md lists counts and sources.
  alexnet,
  zfnet,
  vgg11,
  vgg13,
  vgg16,
  vgg19,
  googlenet,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  // Small inputs (default [28, 28, 1], 10 classes: Fashion-MNIST; 32×32×3 works too).
  resnet20,
  resnet32,
  resnet56,
  mini_inception: miniInception,
  vgg_small: vggSmall,
});

/** The zoo model of that name, or undefined: only the zoo's own names count. */
export function zooModel(name: string): ZooModel | undefined {
  return Object.hasOwn(models, name) ? models[name] : undefined;
}
