// GoogLeNet / Inception v1 (Szegedy et al. 2014, "Going deeper with convolutions", Table 1 and Figure 3).
// An inception module runs four branches on one input and concatenates them along channels:
//   1×1 (c1) | 1×1 (r3) → 3×3 (c3) | 1×1 (r5) → 5×5 (c5) | 3×3/1 max pool → 1×1 (pp)
// the 1×1 "reductions" keeping the 3×3 and 5×5 convs cheap.
//
//   input [224, 224, 3]
//   conv1 7×7/2, 64, pad 3  → maxpool 3×3/2 [→ LRN]                        → [112,112,64] → [56,56,64]
//   conv2 1×1, 64 → conv3 3×3, 192, pad 1 [→ LRN] → maxpool 3×3/2           → [56,56,192] → [28,28,192]
//   inception3a (64, 96,128, 16,32, 32) → 3b (128, 128,192, 32,96, 64)     → [28,28,256] → [28,28,480]
//   maxpool 3×3/2 → 4a (192, 96,208, 16,48, 64)                             → [14,14,512]   (aux1 reads 4a)
//   4b (160, 112,224, 24,64, 64) → 4c (128, 128,256, 24,64, 64)             → [14,14,512]
//   4d (112, 144,288, 32,64, 64)                                            → [14,14,528]   (aux2 reads 4d)
//   4e (256, 160,320, 32,128, 128) → maxpool (3×3/2; torchvision 2×2/2)      → [14,14,832] → [7,7,832]
//   5a (256, 160,320, 32,128, 128) → 5b (384, 192,384, 48,128, 128)         → [7,7,1024]
//   global average pool → dropout → fc (logits)                             → [classes]
// Every max pool pads 'same' (output ⌈in/stride⌉), which matches Caffe's and torchvision's ceil rounding here.
//
// variant 'paper' (default; Caffe's bvlc_googlenet): convs with bias and ReLU, LRN after pool1 and conv3
// (Caffe's constants: n = 5, k = 1, α = 1e-4 over n → rede's alpha 2e-5, β = 0.75), true 5×5 convs, dropout
// 0.4: 6,998,552 parameters at 224×224×3 → 1000 without the auxiliary heads.
// variant 'torchvision' (torchvision.models.googlenet): every conv is conv (no bias) → batch norm (ε = 1e-3)
// → ReLU, no LRN, dropout 0.2, and — a quirk inherited from a bug in the TensorFlow slim port — the "5×5"
// branch uses 3×3 kernels: 6,624,904 parameters without aux heads (13,004,888 with them).
// `batchnorm` alone (paper's 5×5 convs, BN replacing LRN) is the batch-norm variant of the paper's network.
//
// Auxiliary classifiers (section 5, `aux: true`): on 4a and 4d, 5×5/3 average pool → 1×1 conv 128 → fc 1024
// ReLU → dropout 0.7 → fc classes (torchvision pools adaptively to 4×4: the same at 224). With aux heads the
// model has three outputs, ['fc', 'aux1.fc2', 'aux2.fc2'], trained as in the paper with a softmax loss per
// head weighted 1, 0.3, 0.3: compile({ loss: 'sparse_categorical_crossentropy', lossWeights: [1, 0.3, 0.3] })
// (GOOGLENET_AUX_WEIGHTS). predict and the metrics read the first output.
import type { LayerConfig, ModelConfig } from '../model/config';
import { RedeError } from '../engine/errors';

/** The paper's loss weights (section 5): the main classifier 1, each auxiliary one 0.3. */
export const GOOGLENET_AUX_WEIGHTS = [1, 0.3, 0.3];

export interface GoogLeNetOptions {
  /** 'paper' (default) or 'torchvision'; see the header. */
  variant?: 'paper' | 'torchvision';
  /** Batch norm after every conv (replacing LRN). Default: true for 'torchvision', false for 'paper'. */
  batchnorm?: boolean;
  /** Kernel of the "5×5" branch. Default: 5 for 'paper', 3 for 'torchvision' (its quirk). */
  branchKernel?: 3 | 5;
  /** Auxiliary classifiers on 4a and 4d, as two more outputs (see the header). Default false. */
  aux?: boolean;
}

/** Channels of an inception module: c1 | r3 → c3 | r5 → c5 | pool → pp (the paper's Table 1 columns). */
export interface InceptionSpec { c1: number; r3: number; c3: number; r5: number; c5: number; pp: number }

const spec = (c1: number, r3: number, c3: number, r5: number, c5: number, pp: number): InceptionSpec => ({ c1, r3, c3, r5, c5, pp });

export const GOOGLENET_MODULES: Record<string, InceptionSpec> = {
  inception3a: spec(64, 96, 128, 16, 32, 32),
  inception3b: spec(128, 128, 192, 32, 96, 64),
  inception4a: spec(192, 96, 208, 16, 48, 64),
  inception4b: spec(160, 112, 224, 24, 64, 64),
  inception4c: spec(128, 128, 256, 24, 64, 64),
  inception4d: spec(112, 144, 288, 32, 64, 64),
  inception4e: spec(256, 160, 320, 32, 128, 128),
  inception5a: spec(256, 160, 320, 32, 128, 128),
  inception5b: spec(384, 192, 384, 48, 128, 128),
};

/** How every conv unit is built in one network. */
export interface UnitStyle {
  /** conv (no bias) → BN (epsilon) → ReLU; otherwise conv (bias) with fused ReLU. */
  batchnorm: boolean;
  epsilon?: number;
}

/**
 * Appends a conv unit `name` reading `from` (padding (k−1)/2, so stride 1 keeps h×w): `${name}.conv`, and
 * with batch norm `${name}.bn`, `${name}.relu`. Returns the name of its last layer.
 */
export function convUnit(layers: LayerConfig[], from: string, name: string, filters: number, kernel: number, stride: number, s: UnitStyle): string {
  const padding = (kernel - 1) >> 1;
  if (!s.batchnorm) {
    layers.push({ type: 'conv2d', name: `${name}.conv`, inputs: [from], filters, kernel, stride, padding, activation: 'relu' });
    return `${name}.conv`;
  }
  layers.push({ type: 'conv2d', name: `${name}.conv`, inputs: [from], filters, kernel, stride, padding, useBias: false });
  layers.push(s.epsilon === undefined ? { type: 'batchnorm', name: `${name}.bn` } : { type: 'batchnorm', name: `${name}.bn`, epsilon: s.epsilon });
  layers.push({ type: 'relu', name: `${name}.relu` });
  return `${name}.relu`;
}

/** One inception module `p` reading `from`; output channels c1 + c3 + c5 + pp. Returns its concat's name. */
export function inceptionModule(layers: LayerConfig[], from: string, p: string, m: InceptionSpec, branchKernel: number, s: UnitStyle): string {
  const b1 = convUnit(layers, from, `${p}.branch1`, m.c1, 1, 1, s);
  const b2 = convUnit(layers, convUnit(layers, from, `${p}.branch2.0`, m.r3, 1, 1, s), `${p}.branch2.1`, m.c3, 3, 1, s);
  const b3 = convUnit(layers, convUnit(layers, from, `${p}.branch3.0`, m.r5, 1, 1, s), `${p}.branch3.1`, m.c5, branchKernel, 1, s);
  layers.push({ type: 'maxpool2d', name: `${p}.branch4.0`, inputs: [from], pool: 3, stride: 1, padding: 'same' });
  const b4 = convUnit(layers, `${p}.branch4.0`, `${p}.branch4.1`, m.pp, 1, 1, s);
  layers.push({ type: 'concat', name: p, inputs: [b1, b2, b3, b4] });
  return p;
}

/** An auxiliary classifier `p` on a [14, 14, c] map; returns its logits' name. */
function auxHead(layers: LayerConfig[], from: string, p: string, classes: number, s: UnitStyle): string {
  layers.push({ type: 'avgpool2d', name: `${p}.pool`, inputs: [from], pool: 5, stride: 3 });
  convUnit(layers, `${p}.pool`, `${p}.conv`, 128, 1, 1, s);
  layers.push(
    { type: 'flatten', name: `${p}.flatten` },
    { type: 'dense', name: `${p}.fc1`, units: 1024, activation: 'relu' },
    { type: 'dropout', name: `${p}.dropout`, rate: 0.7 },
    { type: 'dense', name: `${p}.fc2`, units: classes },
  );
  return `${p}.fc2`;
}

export function googlenet(inputShape: readonly number[] = [224, 224, 3], classes = 1000, o: GoogLeNetOptions = {}): ModelConfig {
  const variant = o.variant ?? 'paper';
  if (variant !== 'paper' && variant !== 'torchvision') throw new RedeError(`googlenet: variant must be 'paper' or 'torchvision', got '${variant}'`);
  const tv = variant === 'torchvision';
  const batchnorm = o.batchnorm ?? tv;
  const branchKernel = o.branchKernel ?? (tv ? 3 : 5);
  const s: UnitStyle = { batchnorm, epsilon: tv ? 1e-3 : undefined };
  // Caffe's LRN in TensorFlow's terms: alpha / n with n = 5, k = 1.
  const lrn = (name: string): LayerConfig => ({ type: 'lrn', name, radius: 2, bias: 1, alpha: 1e-4 / 5, beta: 0.75 });
  const pool = (name: string, from: string, size = 3): LayerConfig => ({ type: 'maxpool2d', name, inputs: [from], pool: size, stride: 2, padding: 'same' });
  const layers: LayerConfig[] = [];

  let y = convUnit(layers, 'input', 'conv1', 64, 7, 2, s);
  layers.push(pool('maxpool1', y));
  y = 'maxpool1';
  if (!batchnorm) { layers.push(lrn('norm1')); y = 'norm1'; }
  y = convUnit(layers, y, 'conv2', 64, 1, 1, s);
  y = convUnit(layers, y, 'conv3', 192, 3, 1, s);
  if (!batchnorm) { layers.push(lrn('norm2')); y = 'norm2'; }
  layers.push(pool('maxpool2', y));
  y = 'maxpool2';

  const aux: string[] = [];
  for (const [name, m] of Object.entries(GOOGLENET_MODULES)) {
    if (name === 'inception4a') { layers.push(pool('maxpool3', y)); y = 'maxpool3'; }
    if (name === 'inception5a') { layers.push(pool('maxpool4', y, tv ? 2 : 3)); y = 'maxpool4'; }
    y = inceptionModule(layers, y, name, m, branchKernel, s);
    if (o.aux && name === 'inception4a') aux.push(auxHead(layers, y, 'aux1', classes, s));
    if (o.aux && name === 'inception4d') aux.push(auxHead(layers, y, 'aux2', classes, s));
  }
  layers.push(
    { type: 'globalavgpool2d', name: 'avgpool', inputs: [y] },
    { type: 'dropout', name: 'dropout', rate: tv ? 0.2 : 0.4 },
    { type: 'dense', name: 'fc', units: classes },
  );
  const suffix = tv ? '_torchvision' : batchnorm ? '_bn' : '';
  return { name: `googlenet${suffix}${o.aux ? '_aux' : ''}`, input: [...inputShape], layers, ...(o.aux ? { outputs: ['fc', ...aux] } : {}) };
}
