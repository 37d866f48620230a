// VGG (Simonyan & Zisserman 2014, "Very deep convolutional networks for large-scale image recognition",
// Table 1, configurations A/B/D/E = VGG-11/13/16/19), as Keras' VGG16 and torchvision's vgg16 define it:
// 3×3 'same' convs (stride 1, with bias, ReLU) in five blocks, each block closed by a 2×2/2 max pool,
// then fc 4096 → fc 4096 → fc classes. Dropout 0.5 after the first two fc layers, as the paper trains
// (torchvision has it; Keras' VGG16 leaves it out — no parameters either way).
//
//   VGG-16 at [224, 224, 3]:
//   block1 2×conv 64  → [224, 224, 64] → pool → [112, 112, 64]
//   block2 2×conv 128 → pool → [56, 56, 128]
//   block3 3×conv 256 → pool → [28, 28, 256]
//   block4 3×conv 512 → pool → [14, 14, 512]
//   block5 3×conv 512 → pool → [7, 7, 512] → flatten [25088]
//   fc1 4096 ReLU → dropout → fc2 4096 ReLU → dropout → predictions (logits) [classes]
//
// Parameters at 224×224×3 → 1000: VGG-11 132,863,336 · 13 133,047,848 · 16 138,357,544 · 19 143,667,240;
// with `batchnorm` (torchvision's vgg*_bn: conv (bias kept) → BN → ReLU) VGG-16 has 138,365,992.
// The flatten is NHWC, torchvision's NCHW: same counts, a permuted fc1 when importing weights.
import { RedeError } from '../engine/errors';
import type { LayerConfig, ModelConfig } from '../model/config';

export type VggDepth = 11 | 13 | 16 | 19;

/** Convs per block, per configuration (the paper's Table 1); block widths are 64, 128, 256, 512, 512. */
export const VGG_BLOCKS: Record<VggDepth, number[]> = {
  11: [1, 1, 2, 2, 2],
  13: [2, 2, 2, 2, 2],
  16: [2, 2, 3, 3, 3],
  19: [2, 2, 4, 4, 4],
};
const WIDTHS = [64, 128, 256, 512, 512];

export interface VggOptions {
  /** Batch norm after every conv (torchvision's vgg*_bn). Default false. */
  batchnorm?: boolean;
  /** Dropout after fc1 and fc2. Default 0.5; 0 leaves the layers out (Keras' VGG16). */
  dropout?: number;
}

/**
 * Appends `n` 3×3 'same' convs of `filters` (with bias; fused ReLU, or BN → ReLU when `batchnorm`) named
 * `${p}_conv${i}` reading `from`, then a 2×2/2 max pool `${p}_pool`. Returns the pool's name.
 */
export function vggBlock(layers: LayerConfig[], from: string, p: string, n: number, filters: number, batchnorm: boolean): string {
  let y = from;
  for (let i = 1; i <= n; i++) {
    const conv = `${p}_conv${i}`;
    layers.push({ type: 'conv2d', name: conv, inputs: [y], filters, kernel: 3, padding: 'same', activation: batchnorm ? 'linear' : 'relu' });
    y = conv;
    if (batchnorm) {
      layers.push({ type: 'batchnorm', name: `${conv}_bn` }, { type: 'relu', name: `${conv}_relu` });
      y = `${conv}_relu`;
    }
  }
  layers.push({ type: 'maxpool2d', name: `${p}_pool`, inputs: [y], pool: 2, stride: 2 });
  return `${p}_pool`;
}

/** Appends dense `units` ReLU named `name`, then dropout `${name}_dropout` when rate > 0. */
export function denseDropout(layers: LayerConfig[], name: string, units: number, rate: number): void {
  layers.push({ type: 'dense', name, units, activation: 'relu' });
  if (rate > 0) layers.push({ type: 'dropout', name: `${name}_dropout`, rate });
}

export function vgg(depth: VggDepth, inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: VggOptions = {}): ModelConfig {
  const blocks = VGG_BLOCKS[depth];
  if (!blocks) throw new RedeError(`vgg: depth must be one of ${Object.keys(VGG_BLOCKS).join(', ')}, got ${depth}`);
  const layers: LayerConfig[] = [];
  let y = 'input';
  blocks.forEach((n, i) => { y = vggBlock(layers, y, `block${i + 1}`, n, WIDTHS[i], o.batchnorm ?? false); });
  layers.push({ type: 'flatten', name: 'flatten' });
  denseDropout(layers, 'fc1', 4096, o.dropout ?? 0.5);
  denseDropout(layers, 'fc2', 4096, o.dropout ?? 0.5);
  layers.push({ type: 'dense', name: 'predictions', units: classes });
  return { name: `vgg${depth}${o.batchnorm ? '_bn' : ''}`, input: [...inputShape], layers };
}

export const vgg11 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: VggOptions = {}): ModelConfig => vgg(11, inputShape, classes, o);
export const vgg13 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: VggOptions = {}): ModelConfig => vgg(13, inputShape, classes, o);
export const vgg16 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: VggOptions = {}): ModelConfig => vgg(16, inputShape, classes, o);
export const vgg19 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: VggOptions = {}): ModelConfig => vgg(19, inputShape, classes, o);
