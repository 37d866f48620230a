// ResNet (He, Zhang, Ren & Sun 2015, "Deep residual learning for image recognition", Table 1), as torchvision
// defines it (torchvision.models.resnet, "v1.5": a bottleneck's stride sits on its 3×3 conv, not its first 1×1).
// Every conv is followed by batch norm, so convs have no bias; a shortcut that changes shape is a projection
// (1×1 conv with the block's stride, then batch norm: the paper's option B); otherwise it is the identity.
//
//   input [224, 224, 3]
//   conv1 7×7/2, 64, pad 3 → bn1 → relu      → [112, 112, 64]
//   maxpool 3×3/2 'same'                      → [56, 56, 64]
//   layer1 (stride 1)                         → [56, 56, 64·e]      e = 1 (basic), 4 (bottleneck)
//   layer2 (first block stride 2)             → [28, 28, 128·e]
//   layer3 (first block stride 2)             → [14, 14, 256·e]
//   layer4 (first block stride 2)             → [7, 7, 512·e]
//   global average pool → fc (logits)         → [classes]
//
// Blocks per stage: 18 [2,2,2,2] basic · 34 [3,4,6,3] basic · 50 [3,4,6,3] · 101 [3,4,23,3] · 152 [3,8,36,3] bottleneck.
// Parameters at 224×224×3 → 1000 (gamma and beta count; running statistics are state, as in torchvision):
//   18: 11,689,512   34: 21,797,672   50: 25,557,032   101: 44,549,160   152: 60,192,808
//
// Layer names follow torchvision's state_dict keys (layer2.0.downsample.0 ...) so weights can be mapped by name.
// One difference in the maps, not in shapes or counts: rede's max pool pads 'same' (TensorFlow: 0 before,
// 1 after at 112 → 56) where torchvision pads 1 on each side.
import { RedeError } from '../engine/errors';
import type { LayerConfig, ModelConfig } from '../model/config';

export type ResNetDepth = 18 | 34 | 50 | 101 | 152;
export type BlockKind = 'basic' | 'bottleneck';

export const RESNET_STAGES: Record<ResNetDepth, { block: BlockKind; blocks: [number, number, number, number] }> = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
  101: { block: 'bottleneck', blocks: [3, 4, 23, 3] },
  152: { block: 'bottleneck', blocks: [3, 8, 36, 3] },
};

/** Output channels over a block's width: basic blocks keep it, bottlenecks expand it 4× (the paper's 1×1 up). */
export const EXPANSION: Record<BlockKind, number> = { basic: 1, bottleneck: 4 };

/**
 * Appends conv (no bias, torchvision's symmetric padding (k−1)/2) → batch norm [→ ReLU] reading `from`;
 * returns the name of the last layer appended. Names: `${conv}`, `${bn}`, `${bn}.relu`.
 */
export function convBn(
  layers: LayerConfig[], from: string, conv: string, bn: string,
  filters: number, kernel: number, stride: number, relu: boolean, epsilon?: number,
): string {
  layers.push({ type: 'conv2d', name: conv, inputs: [from], filters, kernel, stride, padding: (kernel - 1) >> 1, useBias: false });
  layers.push(epsilon === undefined ? { type: 'batchnorm', name: bn } : { type: 'batchnorm', name: bn, epsilon });
  if (!relu) return bn;
  layers.push({ type: 'relu', name: `${bn}.relu` });
  return `${bn}.relu`;
}

/**
 * One residual block named `p` reading `from` ([h, w, inC]); returns the name of its output
 * ([h/stride, w/stride, width·expansion]).
 *   basic:      3×3/s (width) → BN → ReLU → 3×3 (width) → BN
 *   bottleneck: 1×1 (width) → BN → ReLU → 3×3/s (width) → BN → ReLU → 1×1 (4·width) → BN
 * then + shortcut (identity, or 1×1/s conv → BN when the shape changes) → ReLU.
 */
export function residualBlock(layers: LayerConfig[], kind: BlockKind, from: string, p: string, inC: number, width: number, stride: number): string {
  const outC = width * EXPANSION[kind];
  let y: string;
  if (kind === 'basic') {
    y = convBn(layers, from, `${p}.conv1`, `${p}.bn1`, width, 3, stride, true);
    y = convBn(layers, y, `${p}.conv2`, `${p}.bn2`, width, 3, 1, false);
  } else {
    y = convBn(layers, from, `${p}.conv1`, `${p}.bn1`, width, 1, 1, true);
    y = convBn(layers, y, `${p}.conv2`, `${p}.bn2`, width, 3, stride, true);
    y = convBn(layers, y, `${p}.conv3`, `${p}.bn3`, outC, 1, 1, false);
  }
  const shortcut = stride !== 1 || inC !== outC
    ? convBn(layers, from, `${p}.downsample.0`, `${p}.downsample.1`, outC, 1, stride, false)
    : from;
  layers.push({ type: 'add', name: `${p}.add`, inputs: [y, shortcut] });
  layers.push({ type: 'relu', name: `${p}.relu` });
  return `${p}.relu`;
}

/** A stage of `blocks` blocks named `${p}.0` … ; the first carries the stride. Returns its output name. */
export function residualStage(layers: LayerConfig[], kind: BlockKind, from: string, p: string, inC: number, width: number, blocks: number, stride: number): string {
  let y = from, c = inC;
  for (let i = 0; i < blocks; i++) {
    y = residualBlock(layers, kind, y, `${p}.${i}`, c, width, i === 0 ? stride : 1);
    c = width * EXPANSION[kind];
  }
  return y;
}

export function resnet(depth: ResNetDepth, inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig {
  const spec = RESNET_STAGES[depth];
  if (!spec) throw new RedeError(`resnet: depth must be one of ${Object.keys(RESNET_STAGES).join(', ')}, got ${depth}`);
  const layers: LayerConfig[] = [];
  let y = convBn(layers, 'input', 'conv1', 'bn1', 64, 7, 2, true);
  layers.push({ type: 'maxpool2d', name: 'maxpool', inputs: [y], pool: 3, stride: 2, padding: 'same' });
  y = 'maxpool';
  let c = 64;
  [64, 128, 256, 512].forEach((width, i) => {
    y = residualStage(layers, spec.block, y, `layer${i + 1}`, c, width, spec.blocks[i], i === 0 ? 1 : 2);
    c = width * EXPANSION[spec.block];
  });
  layers.push({ type: 'globalavgpool2d', name: 'avgpool' });
  layers.push({ type: 'dense', name: 'fc', units: classes });
  return { name: `resnet${depth}`, input: [...inputShape], layers };
}

export const resnet18 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig => resnet(18, inputShape, classes);
export const resnet34 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig => resnet(34, inputShape, classes);
export const resnet50 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig => resnet(50, inputShape, classes);
export const resnet101 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig => resnet(101, inputShape, classes);
export const resnet152 = (inputShape: readonly number[] = [224, 224, 3], classes = 1000): ModelConfig => resnet(152, inputShape, classes);
