// Small-input members of the lineage, for 28×28 (Fashion-MNIST) and 32×32 (CIFAR) images: each trains in
// minutes on a CPU. Default input [28, 28, 1], 10 classes.
//
// CIFAR ResNets (He et al. 2016, CVPR, section 4.2): conv 3×3, 16 → BN → ReLU, three stages of n basic blocks
// with 16, 32, 64 filters (maps 28 → 14 → 7 at 28×28), the first block of stages 2 and 3 striding 2, global
// average pool, fc. 6n + 2 weighted layers: ResNet-20 (n = 3), 32 (n = 5), 56 (n = 9). Shortcuts are the
// paper's option B: identity, except a projection (1×1/2 conv → BN) where the shape changes. (The paper's
// CIFAR counts — 0.27M, 0.46M, 0.85M — use option A, a parameter-free zero-padded identity; rede's layer
// set has no channel zero-padding yet. Option B adds 2,752 parameters for the 2 projections: ResNet-20 has
// 272,474 at 32×32×3, the paper's option A 269,722.)
//
// Mini-Inception (Zhang, Bengio, Hardt, Recht & Vinyals 2017, "Understanding deep learning requires
// rethinking generalization", Figure 3 — their small Inception for 28×28 CIFAR crops): every conv is
// conv → BN → ReLU; an inception module concatenates a 1×1 (c1) and a 3×3 (c3) conv; a downsample module
// concatenates a 3×3/2 conv (c) and a 3×3/2 max pool ('same': 28 → 14 → 7).
//   conv 3×3, 96 → Inc(32, 32) → Inc(32, 48) → Down(80)                       [28,28,96] → [14,14,160]
//   → Inc(112, 48) → Inc(96, 64) → Inc(80, 80) → Inc(48, 96) → Down(96)       [14,14,144] → [7,7,240]
//   → Inc(176, 160) → Inc(176, 160) → global average pool → fc                 [7,7,336] → [classes]
// Their 1,649,402 parameters (28×28×3) count a bias per conv channel and no BN parameters; here convs have no
// bias and BN has gamma and beta: 1,651,114 = 1,649,402 + 1,712 conv channels (1,649,386 at 28×28×1).
//
// VGG-small: VGG's recipe (3×3 'same' convs in pairs, 2×2 max pools) cut to three blocks of 32, 64, 128
// filters with batch norm, then fc 256 → dropout 0.5 → fc classes. At 28: 28 → 14 → 7 → 3, flatten 1152.
import type { LayerConfig, ModelConfig } from '../model/config';
import { RedeError } from '../engine/errors';
import { convBn, residualStage } from './resnet';
import { convUnit, type UnitStyle } from './googlenet';
import { denseDropout, vggBlock } from './vgg';

const SMALL_INPUT = [28, 28, 1];

/** CIFAR-style ResNet with 6n + 2 layers (n basic blocks per stage). */
export function cifarResnet(n: number, inputShape: readonly number[] = SMALL_INPUT, classes = 10): ModelConfig {
  if (!Number.isInteger(n) || n < 1) throw new RedeError(`cifarResnet: blocks per stage must be a positive integer, got ${n}`);
  const layers: LayerConfig[] = [];
  let y = convBn(layers, 'input', 'conv1', 'bn1', 16, 3, 1, true);
  let c = 16;
  [16, 32, 64].forEach((width, i) => {
    y = residualStage(layers, 'basic', y, `layer${i + 1}`, c, width, n, i === 0 ? 1 : 2);
    c = width;
  });
  layers.push({ type: 'globalavgpool2d', name: 'avgpool' }, { type: 'dense', name: 'fc', units: classes });
  return { name: `resnet${6 * n + 2}`, input: [...inputShape], layers };
}

export const resnet20 = (inputShape: readonly number[] = SMALL_INPUT, classes = 10): ModelConfig => cifarResnet(3, inputShape, classes);
export const resnet32 = (inputShape: readonly number[] = SMALL_INPUT, classes = 10): ModelConfig => cifarResnet(5, inputShape, classes);
export const resnet56 = (inputShape: readonly number[] = SMALL_INPUT, classes = 10): ModelConfig => cifarResnet(9, inputShape, classes);

const BN: UnitStyle = { batchnorm: true };

/** Zhang et al.'s inception module `p`: 1×1 (c1) ‖ 3×3 (c3). Returns the concat's name. */
function smallInception(layers: LayerConfig[], from: string, p: string, c1: number, c3: number): string {
  const a = convUnit(layers, from, `${p}.1x1`, c1, 1, 1, BN);
  const b = convUnit(layers, from, `${p}.3x3`, c3, 3, 1, BN);
  layers.push({ type: 'concat', name: p, inputs: [a, b] });
  return p;
}

/** Zhang et al.'s downsample module `p`: 3×3/2 conv (c) ‖ 3×3/2 max pool, both 'same'. */
function smallDownsample(layers: LayerConfig[], from: string, p: string, c: number): string {
  layers.push({ type: 'conv2d', name: `${p}.conv`, inputs: [from], filters: c, kernel: 3, stride: 2, padding: 'same', useBias: false });
  layers.push({ type: 'batchnorm', name: `${p}.bn` }, { type: 'relu', name: `${p}.relu` });
  layers.push({ type: 'maxpool2d', name: `${p}.pool`, inputs: [from], pool: 3, stride: 2, padding: 'same' });
  layers.push({ type: 'concat', name: p, inputs: [`${p}.relu`, `${p}.pool`] });
  return p;
}

export function miniInception(inputShape: readonly number[] = SMALL_INPUT, classes = 10): ModelConfig {
  const layers: LayerConfig[] = [];
  let y = convUnit(layers, 'input', 'conv1', 96, 3, 1, BN);
  y = smallInception(layers, y, 'inc1', 32, 32);
  y = smallInception(layers, y, 'inc2', 32, 48);
  y = smallDownsample(layers, y, 'down1', 80);
  y = smallInception(layers, y, 'inc3', 112, 48);
  y = smallInception(layers, y, 'inc4', 96, 64);
  y = smallInception(layers, y, 'inc5', 80, 80);
  y = smallInception(layers, y, 'inc6', 48, 96);
  y = smallDownsample(layers, y, 'down2', 96);
  y = smallInception(layers, y, 'inc7', 176, 160);
  y = smallInception(layers, y, 'inc8', 176, 160);
  layers.push({ type: 'globalavgpool2d', name: 'avgpool' }, { type: 'dense', name: 'fc', units: classes });
  return { name: 'mini_inception', input: [...inputShape], layers };
}

export function vggSmall(inputShape: readonly number[] = SMALL_INPUT, classes = 10): ModelConfig {
  const layers: LayerConfig[] = [];
  let y = 'input';
  [32, 64, 128].forEach((filters, i) => { y = vggBlock(layers, y, `block${i + 1}`, 2, filters, true); });
  layers.push({ type: 'flatten', name: 'flatten' });
  denseDropout(layers, 'fc1', 256, 0.5);
  layers.push({ type: 'dense', name: 'predictions', units: classes });
  return { name: 'vgg_small', input: [...inputShape], layers };
}
