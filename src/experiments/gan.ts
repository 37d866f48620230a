// The lecture's generative adversarial network: a generator G maps noise to images, a discriminator D tells
// generated images from real ones, and the two are trained against each other (Goodfellow et al. 2014). A DCGAN
// (Radford et al. 2016: transposed convolutions, batch norm in G, leaky ReLU in D, Adam with β1 = 0.5) for 28×28
// images, and a class-conditional one: G takes the class with the noise, and D has K + 1 classes — the K real
// classes and "generated" (Salimans et al. 2016) — so G is trained to make D call its image a real k.
// Each iteration is two steps of rede's step contract (trainStep):
//   D step: [D] on real images (target: real / their class) and G's images (target: generated);
//   G step: [G → D frozen] on noise (target: real / the class asked for) — D's weights do not move.
// Quality is measured, not eyeballed, with rede's own CNN classifier trained on the real images: its classifier
// score and the Fréchet distance in its penultimate features (src/experiments/sample-quality.ts), for samples
// and for held-out real images as the reference; for the conditional GAN, the fraction of samples of class k
// that the classifier assigns to k.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../api/model';
import { trainStep, type TrainStepSession } from '../api/train-step';
import type { Dataset } from '../data/dataset';
import { normalAt, permutation, intBelow } from '../data/rng';
import { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { checkNumber, checkOptions } from '../engine/options';
import { writeFileAtomic } from '../io/atomic';
import { argmaxRows } from '../model/classify';
import type { LayerConfig, ModelConfig } from '../model/config';
import { greyGridPng } from '../viz/grid';
import { figure, PALETTE, type Series } from '../viz/svg';
import {
  check, DEFAULT_OUT_DIR, machineLine, markdownTable, now, pct, sci, secs, since, writeReport,
  type Check, type ExperimentOptions, type ExperimentResult,
} from './report';
import { WeightAverage } from './gan-average';
import { firstOf, imageSet } from './images';
import { frechetDistance, gaussianOf, scoreFactors } from './sample-quality';

const PIXELS = 784, CLASSES = 10;

export interface GanSizes {
  latent: number; g: number; d: number;
  /** Units of a dense layer (leaky ReLU) between D's convolutions and its logits (0 or absent: none). */
  dHidden?: number;
  /**
   * Filters of a stride-1 5×5 conv2d_transpose (→ BN → ReLU) at 7×7 between G's dense layer and its first
   * upsampling, as TensorFlow's DCGAN tutorial has (0 or absent: none): G one layer deeper.
   */
  gMid?: number;
}

/** G: [latent (+ one-hot class)] → dense 7·7·2g → BN → ReLU → [7,7,2g] → [convT gMid k5 s1 → BN → ReLU] → convT g k4 s2 → BN → ReLU → convT 1 k4 s2 → sigmoid. */
export function generatorConfig(s: GanSizes, conditional: boolean, name = conditional ? 'cgan-generator' : 'gan-generator'): ModelConfig {
  const layers: LayerConfig[] = [
    { type: 'dense', units: 7 * 7 * 2 * s.g, useBias: false }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'reshape', shape: [7, 7, 2 * s.g] },
    ...(s.gMid ? [{ type: 'conv2d_transpose', filters: s.gMid, kernel: 5, stride: 1, padding: 'same', useBias: false }, { type: 'batchnorm' }, { type: 'relu' }] : []),
    { type: 'conv2d_transpose', filters: s.g, kernel: 4, stride: 2, padding: 'same', useBias: false }, { type: 'batchnorm' }, { type: 'relu' },
    { type: 'conv2d_transpose', filters: 1, kernel: 4, stride: 2, padding: 'same' }, { type: 'sigmoid' },
  ] as LayerConfig[];
  return { name, input: [s.latent + (conditional ? CLASSES : 0)], layers };
}

/**
 * D: conv d k4 s2 → leaky ReLU → conv 2d k4 s2 → leaky ReLU → [dense dHidden → leaky ReLU] → dropout (none at
 * rate 0) → dense (1 logit, or K + 1 class logits). Without the hidden dense layer D's verdict is a linear
 * function of features that each see a 10×10 patch.
 */
export function discriminatorConfig(s: GanSizes, conditional: boolean, dropout = 0.3): ModelConfig {
  const layers: LayerConfig[] = [
    { type: 'conv2d', filters: s.d, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
    { type: 'conv2d', filters: 2 * s.d, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
    { type: 'flatten' },
    ...(s.dHidden ? [{ type: 'dense', units: s.dHidden } as LayerConfig, { type: 'leaky_relu', alpha: 0.2 } as LayerConfig] : []),
    ...(dropout > 0 ? [{ type: 'dropout', rate: dropout } as LayerConfig] : []), { type: 'dense', units: conditional ? CLASSES + 1 : 1 },
  ];
  return { name: conditional ? 'cgan-discriminator' : 'gan-discriminator', input: [28, 28, 1], layers };
}

/**
 * Q (InfoGAN, Chen et al. 2016; here its own network rather than a head on D): conv d k4 s2 → leaky ReLU → conv 2d
 * k4 s2 → leaky ReLU → dense 128 → leaky ReLU → dense K (logits of G's code). Trained on G's images to recover the
 * code, and G through it (frozen) to make the code recoverable: a bound on their mutual information, no labels.
 */
export function codeReaderConfig(s: GanSizes): ModelConfig {
  return { name: 'gan-code-reader', input: [28, 28, 1], layers: [
    { type: 'conv2d', filters: s.d, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
    { type: 'conv2d', filters: 2 * s.d, kernel: 4, stride: 2, padding: 'same' }, { type: 'leaky_relu', alpha: 0.2 },
    { type: 'flatten' }, { type: 'dense', units: 128 }, { type: 'leaky_relu', alpha: 0.2 }, { type: 'dense', units: CLASSES }] };
}

/** The measuring classifier: conv32 → pool → conv64 → pool → dense 128 (the features) | dense 10. */
function classifierConfigs(): [ModelConfig, ModelConfig] {
  return [
    { name: 'judge-features', input: [28, 28, 1], layers: [
      { type: 'conv2d', filters: 32, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'maxpool2d', pool: 2 },
      { type: 'conv2d', filters: 64, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'maxpool2d', pool: 2 },
      { type: 'flatten' }, { type: 'dense', units: 128, activation: 'relu' }] },
    { name: 'judge-head', input: [128], layers: [{ type: 'dropout', rate: 0.3 }, { type: 'dense', units: CLASSES }, { type: 'softmax' }] },
  ];
}

export interface Judge { features: Model; head: Model; accuracy: number }
export type FeatureGaussian = { mean: Float64Array; cov: Float64Array };

async function trainJudge(e: Engine, train: Dataset, test: Dataset, epochs: number, seed: number): Promise<Judge> {
  const [fc, hc] = classifierConfigs();
  const features = await Model.create(fc, { engine: e, seed }), head = await Model.create(hc, { engine: e, seed: seed + 1 });
  const B = 64, n = train.y.length, order = new Int32Array(n), xb = new Float32Array(B * PIXELS), yb = new Int32Array(B);
  const step = await trainStep({ nets: [features, head], optimizer: { type: 'adam', lr: 1e-3 }, loss: 'sparse_categorical_crossentropy', batchSize: B, seed });
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      permutation(order, seed + 17, epoch);
      for (let b = 0; b * B < n; b++) {
        const rows = Math.min(B, n - b * B);
        for (let r = 0; r < rows; r++) { const i = order[b * B + r]; xb.set(train.x.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS); yb[r] = train.y[i]; }
        await step.run(xb.subarray(0, rows * PIXELS), yb.subarray(0, rows));
      }
    }
  } finally {
    await step.close();
  }
  const probs = judgeProbs({ features, head, accuracy: 0 }, test.x).probs;
  const best = argmaxRows(probs, CLASSES);
  let hits = 0;
  for (let i = 0; i < test.y.length; i++) hits += best[i] === test.y[i] ? 1 : 0;
  return { features, head, accuracy: hits / test.y.length };
}

/** The measuring classifier's p(y|x) rows and penultimate features of images x. */
function judgeProbs(j: Judge, x: Float32Array): { probs: Float32Array; features: Float32Array } {
  const features = j.features.predict(x, { batchSize: 250 });
  return { probs: j.head.predict(features, { batchSize: 250 }), features }; // the head ends in a softmax
}

/** A set of images' measures: the classifier score as spread ÷ doubt with each digit's wins (scoreFactors), Fréchet distance. */
export interface Quality { score: number; spread: number; doubt: number; wins: number[]; frechet: number; classAccuracy?: number }

/**
 * The measuring classifier trained on `train`, and its reference: the Gaussian of its features of the held-out
 * `test` images, their own quality, and real-vs-real (as many training images as `test` against the reference).
 * scripts/gan-score.mts scores another implementation's samples with it.
 */
export async function measuringClassifier(e: Engine, train: Dataset, test: Dataset, epochs: number, seed: number):
  Promise<{ judge: Judge; reference: FeatureGaussian; real: Quality; realVsReal: number }> {
  const judge = await trainJudge(e, train, test, epochs, seed);
  return { judge, ...judgeReference(judge, train, test) };
}

/** A trained classifier's reference (see measuringClassifier). */
export function judgeReference(judge: Judge, train: Dataset, test: Dataset): { reference: FeatureGaussian; real: Quality; realVsReal: number } {
  const judged = judgeProbs(judge, test.x), reference = gaussianOf(judged.features, test.y.length, 128);
  const real = qualityOf(judged, reference, test.y);
  const sameSize = firstOf(train, test.y.length);
  const realVsReal = frechetDistance(gaussianOf(judgeProbs(judge, sameSize.x).features, sameSize.y.length, 128), reference, 128);
  return { reference, real, realVsReal };
}

/** The classifier score and Fréchet distance of images x [n, 784] in [0, 1] (and class accuracy against `classes`). */
export function quality(j: Judge, x: Float32Array, reference: FeatureGaussian, classes?: Int32Array): Quality {
  return qualityOf(judgeProbs(j, x), reference, classes);
}

/** quality() of images the classifier has already seen: its p(y|x) rows and features. */
function qualityOf({ probs, features }: { probs: Float32Array; features: Float32Array }, reference: FeatureGaussian, classes?: Int32Array): Quality {
  const n = probs.length / CLASSES, f = scoreFactors(probs, n, CLASSES);
  const q: Quality = { score: f.spread / f.doubt, ...f, frechet: frechetDistance(gaussianOf(features, n, 128), reference, 128) };
  if (classes) {
    const best = argmaxRows(probs, CLASSES);
    let hits = 0;
    for (let i = 0; i < n; i++) hits += best[i] === classes[i] ? 1 : 0;
    q.classAccuracy = hits / n;
  }
  return q;
}

/** Noise rows [n, latent] (+ one-hot of `classes`) from the counter-based normal stream (seed, stream, row). */
function noise(n: number, latent: number, seed: number, stream: number, classes?: Int32Array): Float32Array {
  const w = latent + (classes ? CLASSES : 0), z = new Float32Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < latent; j++) z[i * w + j] = normalAt(seed, stream, i * latent + j);
    if (classes) z[i * w + latent + classes[i]] = 1;
  }
  return z;
}

/**
 * Top-k training's selection: the `keep` rows of noise zg [n, latent] whose images D rates most real (highest
 * logit; ties by row), in that order. G runs in training mode (batch statistics of all of zg, as in its step).
 */
export function mostReal(G: Model, D: Model, zg: Float32Array, keep: number, step: number): Float32Array {
  const w = G.inputShape.reduce((a, b) => a * b, 1), n = zg.length / w;
  if (!(Number.isInteger(keep) && keep >= 1 && keep <= n)) throw new RedeError(`mostReal: keep must be an integer in [1, ${n}], got ${keep}`);
  const logits = D.predict(G.forward(zg, { training: true, step }), { batchSize: n });
  const rows = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, keep);
  const out = new Float32Array(keep * w);
  rows.forEach((r, i) => out.set(zg.subarray(r * w, (r + 1) * w), i * w));
  return out;
}

/** The factor on both rates at step t of T with the last fraction `decay` of the run decaying linearly to 0. */
export function rateFactor(t: number, T: number, decay: number): number {
  const from = T * (1 - decay);
  return decay > 0 && t >= from ? (T - t) / (T - from) : 1;
}

/** dst ← the 28×28 image src moved by dx pixels right and dy down, zeros where nothing moves in. */
export function shiftImage(src: Float32Array, dst: Float32Array, dx: number, dy: number): void {
  dst.fill(0);
  const x0 = Math.max(0, dx), x1 = Math.min(28, 28 + dx);
  for (let y = Math.max(0, dy); y < Math.min(28, 28 + dy); y++) {
    dst.set(src.subarray((y - dy) * 28 + x0 - dx, (y - dy) * 28 + x1 - dx), y * 28 + x0);
  }
}

export interface GanSettings {
  train: number; test: number; epochs: number; batch: number; sizes: GanSizes; judgeEpochs: number; samples: number;
  variants: ('gan' | 'cgan')[]; datasets: ('digits' | 'fashion')[]; gridEvery: number;
  /** Adam learning rates of D and G (equal: Radford et al.; D faster: TTUR, Heusel et al. 2017), G steps per D step. */
  lrD: number; lrG: number; gSteps: number;
  /** β of the moving average of G's weights that is measured, drawn and saved (0: G's last weights; gan-average.ts). */
  ema: number;
  /** D's dropout rate before its last layer (0: no dropout layer). */
  dropout: number;
  /**
   * The unconditional GAN's G also takes a one-hot code of K values drawn uniformly, independent of the labels
   * (a categorical latent: the noise space falls apart into K pieces, so G need not pass between digits).
   */
  code: boolean;
  /**
   * With `code`: the Adam learning rate of the InfoGAN steps (0: none) — Q learns to read the code from G's
   * images, then G, through Q frozen, to write it readably.
   */
  info: number;
  /**
   * Top-k training of G (Sinha et al. 2020): each G step generates its batch, lets D judge it, and trains G only
   * on the fraction ν of it that D rates most real — the worst samples' gradients point toward the mean of the
   * modes, between the digits. ν = max(topK, topKDecay^epoch): all of the batch in the first epoch, then less.
   * 1: off. Unconditional GAN only.
   */
  topK: number;
  /** ν's factor per epoch in top-k training (0.9: ν reaches 0.5 in the seventh epoch). */
  topKDecay: number;
  /**
   * The last fraction of the run over which both Adam rates fall linearly to 0 (0: constant rates), as
   * pix2pix and CycleGAN train: late steps move G less, so the samples settle instead of circling.
   */
  lrDecay: number;
  /**
   * The largest shift, in whole pixels per axis, of each real image in D's batch (uniform in [−s, s], zeros
   * shifted in; 0: none): more distinct real images for D than the 8,000 digits. The shifts leak into G's
   * samples, and off-centre digits leave the measuring classifier less sure (gan-trials.md, seventh round: 2
   * pixels scored 5.92 at epoch 5 where the same recipe without them scored 7.00).
   */
  shiftReal: number;
  /** D's target for real images: 0.9 is one-sided label smoothing (Salimans et al. 2016), 1 none. */
  realTarget: number;
  /** Networks and settings of one variant that differ from the shared ones (a variant's own entry wins). */
  nets: { gan?: Partial<GanNets>; cgan?: Partial<GanNets> };
}
/** The settings a variant may have of its own (`nets.gan`, `nets.cgan`). */
const NET_KEYS = ['sizes', 'dropout', 'code', 'info', 'epochs', 'lrD', 'lrG', 'topK', 'topKDecay', 'realTarget', 'lrDecay', 'shiftReal'] as const satisfies readonly (keyof GanSettings)[];
export type GanNets = Pick<GanSettings, typeof NET_KEYS[number]>;

/** The settings that `variant` trains with: the shared ones, then its own entry in `nets`. */
function variantSettings(s: GanSettings, variant: 'gan' | 'cgan'): GanSettings {
  return { ...s, ...s.nets[variant] };
}
const FULL: GanSettings = { train: Infinity, test: 2000, epochs: 20, batch: 32, sizes: { latent: 64, g: 32, d: 32 }, judgeEpochs: 5, samples: 2000, variants: ['gan', 'cgan'], datasets: ['digits'], gridEvery: 5, lrD: 2e-4, lrG: 2e-4, gSteps: 1, ema: 0.999, dropout: 0.3, code: false, info: 0, topK: 1, topKDecay: 0.9, realTarget: 0.9, lrDecay: 0, shiftReal: 0,
  // The unconditional GAN's own networks: G twice as wide (dense 7·7·128, convT 64) and D without dropout scored 6.08 after 20 epochs
  // where the shared ones scored 5.40 (docs/experiments/gan-trials.md, third round); D's hidden dense 1024 (it then judges the whole
  // digit, not a linear sum of 10×10 patches) took that to 6.59 and Fréchet 29.2 to 19.9 (fourth round); G's Adam at 8e-4, four times D's,
  // and 30 epochs took it to 7.67 and Fréchet 8.03 (fifth round: at every epoch ahead of G at 4e-4, itself ahead of 2e-4; still short of 90 %).
  // Top-k training, no label smoothing, a cooling rate and shifted real digits did not lift a wider G's 7.8 (seventh round).
  // G one layer deeper (a stride-1 5×5 conv2d_transpose 128 at 7×7), on the wider G at 3.2e-3 without label smoothing, did: 8.43
  // (90 %) and Fréchet 3.09 in 20 epochs, where the same without that layer levelled off at 7.8 (eighth round).
  // The conditional GAN meets its targets with the shared ones.
  nets: { gan: { sizes: { latent: 64, g: 128, d: 32, dHidden: 1024, gMid: 128 }, dropout: 0, lrG: 3.2e-3, epochs: 20, realTarget: 1 } } };
const QUICK: GanSettings = { train: 1500, test: 500, epochs: 2, batch: 32, sizes: { latent: 16, g: 8, d: 8 }, judgeEpochs: 1, samples: 500, variants: ['gan', 'cgan'], datasets: ['digits'], gridEvery: 1, lrD: 2e-4, lrG: 2e-4, gSteps: 1, ema: 0.99, dropout: 0.3, code: false, info: 0, topK: 1, topKDecay: 0.9, realTarget: 0.9, lrDecay: 0, shiftReal: 0, nets: {} };

export interface GanRun {
  dataset: string; variant: string; epochs: number[]; dLoss: number[]; gLoss: number[];
  /** With the InfoGAN steps: Q's cross-entropy in reading G's code, per epoch (ln K: not read at all). */
  qLoss: number[];
  quality: (Quality & { epoch: number })[]; seconds: number;
  /** With a weight average: the same measures of G's last weights (quality is of the averaged generator). */
  lastWeights: (Quality & { epoch: number })[];
}

const BETA1 = 0.5; // Radford et al.'s Adam β1

async function trainGan(e: Engine, variant: 'gan' | 'cgan', shared: GanSettings, train: Dataset, judge: Judge, reference: { mean: Float64Array; cov: Float64Array },
  seed: number, outDir: string, name: string, log: (l: string) => void): Promise<{ run: GanRun; grids: string[]; saved: string }> {
  const s = variantSettings(shared, variant), t0 = now(), cond = variant === 'cgan', { latent } = s.sizes, B = s.batch;
  // G takes a one-hot with the noise: the class asked for (cgan), or a code drawn uniformly that no label ties to (gan with `code`).
  const coded = cond || s.code;
  const G = await Model.create(generatorConfig(s.sizes, coded, cond ? 'cgan-generator' : 'gan-generator'), { engine: e, seed });
  const D = await Model.create(discriminatorConfig(s.sizes, cond, s.dropout), { engine: e, seed: seed + 1 });
  const loss = cond ? 'sparse_categorical_crossentropy' as const : 'binary_crossentropy' as const;
  const dStep: TrainStepSession = await trainStep({ nets: [{ net: D, optimizer: { type: 'adam', lr: s.lrD, beta1: BETA1 } }], loss, batchSize: 2 * B, seed });
  const gStep: TrainStepSession = await trainStep({ nets: [{ net: G, optimizer: { type: 'adam', lr: s.lrG, beta1: BETA1 } }, { net: D, trainable: false }], loss, batchSize: B, seed: seed + 2 });
  const Q = s.info > 0 ? await Model.create(codeReaderConfig(s.sizes), { engine: e, seed: seed + 4 }) : null;
  const qStep = Q ? await trainStep({ nets: [{ net: Q, optimizer: { type: 'adam', lr: s.info, beta1: BETA1 } }], loss: 'sparse_categorical_crossentropy', batchSize: B, seed: seed + 5 }) : null;
  const giStep = Q ? await trainStep({ nets: [{ net: G, optimizer: { type: 'adam', lr: s.info, beta1: BETA1 } }, { net: Q, trainable: false }], loss: 'sparse_categorical_crossentropy', batchSize: B, seed: seed + 6 }) : null;
  const n = train.y.length, perEpoch = Math.floor(n / B), order = new Int32Array(n);
  const xd = new Float32Array(2 * B * PIXELS), yd = cond ? new Int32Array(2 * B) : new Float32Array(2 * B), yg = cond ? new Int32Array(B) : new Float32Array(B).fill(1);
  const asked = new Int32Array(B);
  // Fixed noise for the grids (a row per class for the conditional GAN) and for measuring.
  const gridClasses = Int32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));
  const gridZ = noise(100, latent, seed, 1, coded ? gridClasses : undefined);
  const evalClasses = Int32Array.from({ length: s.samples }, (_, i) => i % CLASSES), evalZ = noise(s.samples, latent, seed, 2, coded ? evalClasses : undefined);
  const run: GanRun = { dataset: name, variant, epochs: [], dLoss: [], gLoss: [], qLoss: [], quality: [], seconds: 0, lastWeights: [] };
  const grids: string[] = [];
  const average = s.ema > 0 ? new WeightAverage(G, s.ema) : null;
  // The generator that is measured, drawn and saved: the averaged one (batch norm recalibrated on 250-sample batches) or G.
  const CALIBRATE = 20;
  const generated = <T>(use: () => T): T => average ? average.with(CALIBRATE, (i) => noise(250, latent, seed + 3, i, coded ? evalClasses.subarray(0, 250) : undefined), use) : use();
  const line = (q: Quality) => `classifier score ${sci(q.score)}, Fréchet ${sci(q.frechet)}${q.classAccuracy !== undefined ? `, class ${pct(q.classAccuracy)}` : ''}`;
  // Measures the generator (and, for the grids, draws it; at the end, saves it) after `epoch` epochs.
  const measure = (epoch: number, grid?: string, save?: string) => {
    const q = generated(() => {
      if (grid) writeFileSync(join(outDir, grid), greyGridPng(G.predict(gridZ, { batchSize: 100 }), 100, 28, 28, 10));
      if (save) bytes = G.toBytes();
      return quality(judge, G.predict(evalZ, { batchSize: 250 }), reference, cond ? evalClasses : undefined);
    });
    run.quality.push({ epoch, ...q });
    const raw = average && epoch > 0 ? quality(judge, G.predict(evalZ, { batchSize: 250 }), reference, cond ? evalClasses : undefined) : null;
    if (raw) run.lastWeights.push({ epoch, ...raw });
    log(`gan: ${name} ${variant} epoch ${epoch}: ${line(q)}${raw ? ` (G's last weights: ${line(raw)})` : ''}`);
  };
  // The generator, for `rede generate --model <file> [--classes 10]`.
  const saved = `gan-${name}-${variant}-generator.rede`;
  let bytes: Uint8Array | null = null;
  try {
    measure(0);
    for (let epoch = 0, t = 0; epoch < s.epochs; epoch++) {
      permutation(order, seed + 5, epoch);
      let dSum = 0, gSum = 0, qSum = 0;
      const keep = s.topK < 1 ? Math.max(1, Math.round(B * Math.max(s.topK, s.topKDecay ** epoch))) : B;
      for (let b = 0; b < perEpoch; b++, t++) {
        // D step: B real images, then B generated ones (G in training mode, as in its own step).
        for (let r = 0; r < B; r++) {
          const i = order[b * B + r];
          if (s.shiftReal > 0) shiftImage(train.x.subarray(i * PIXELS, (i + 1) * PIXELS), xd.subarray(r * PIXELS, (r + 1) * PIXELS),
            intBelow(2 * s.shiftReal + 1, seed + 19, t, 2 * r) - s.shiftReal, intBelow(2 * s.shiftReal + 1, seed + 19, t, 2 * r + 1) - s.shiftReal);
          else xd.set(train.x.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS);
          asked[r] = intBelow(CLASSES, seed + 7, t, r);
          if (cond) { yd[r] = train.y[i]; yd[B + r] = CLASSES; } else { yd[r] = s.realTarget; yd[B + r] = 0; }
        }
        const z = noise(B, latent, seed + 11, t, coded ? asked : undefined);
        xd.set(G.forward(z, { training: true, step: t }), B * PIXELS);
        const f = rateFactor(t, perEpoch * s.epochs, s.lrDecay);
        dSum += (await dStep.run(xd, yd, { lr: [s.lrD * f] })).loss;
        // G step through the frozen D: make D call the images real (of the class asked for).
        if (cond) (yg as Int32Array).set(asked);
        for (let k = 0; k < s.gSteps; k++) {
          const zg = noise(B, latent, seed + 13 + 1000 * k, t, coded ? asked : undefined);
          gSum += (await gStep.run(keep < B ? mostReal(G, D, zg, keep, t) : zg, keep < B ? yg.subarray(0, keep) : yg, { lr: [s.lrG * f, 0] })).loss / s.gSteps;
        }
        if (qStep && giStep) {
          // Q reads the code from the D step's generated images; then G, through Q frozen, writes it readably.
          qSum += (await qStep.run(xd.subarray(B * PIXELS), asked)).loss;
          await giStep.run(noise(B, latent, seed + 17, t, asked), asked);
        }
        average?.update();
      }
      run.epochs.push(epoch + 1); run.dLoss.push(dSum / perEpoch); run.gLoss.push(gSum / perEpoch);
      if (qStep) run.qLoss.push(qSum / perEpoch);
      log(`gan: ${name} ${variant} epoch ${epoch + 1}: D loss ${sci(dSum / perEpoch)}, G loss ${sci(gSum / perEpoch)}${qStep ? `, Q loss ${sci(qSum / perEpoch)}` : ''} (${secs(since(t0))})`);
      if ((epoch + 1) % s.gridEvery === 0 || epoch + 1 === s.epochs) {
        const file = `gan-${name}-${variant}-epoch${String(epoch + 1).padStart(2, '0')}.png`;
        measure(epoch + 1, file, epoch + 1 === s.epochs ? saved : undefined);
        grids.push(file);
      }
    }
  } finally {
    await dStep.close();
    await gStep.close();
    await qStep?.close();
    await giStep?.close();
  }
  run.seconds = since(t0);
  await writeFileAtomic(join(outDir, saved), bytes ?? G.toBytes());
  return { run, grids, saved };
}

/** G and D of each variant, in words (one sentence when they share their sizes). */
function netsLine(s: GanSettings): string {
  const words = (v: GanSettings, cgan: boolean | null) =>
    `G: noise ${v.sizes.latent}${cgan === true ? ' + one-hot class' : v.code ? ` + one-hot code (${CLASSES} values drawn uniformly, no label)` : cgan === null && s.variants.includes('cgan') ? ' (+ one-hot class)' : ''} → dense 7·7·${2 * v.sizes.g} → BN → ReLU → ${v.sizes.gMid ? `conv2d_transpose ${v.sizes.gMid} (5×5, stride 1) → BN → ReLU → ` : ''}conv2d_transpose ${v.sizes.g} (4×4, stride 2) → BN → ReLU → ` +
    `conv2d_transpose 1 (4×4, stride 2) → sigmoid. D: conv ${v.sizes.d} and ${2 * v.sizes.d} (4×4, stride 2) with leaky ReLU 0.2, ${v.sizes.dHidden ? `dense ${v.sizes.dHidden} with leaky ReLU 0.2, ` : ''}${v.dropout > 0 ? `dropout ${v.dropout}` : 'no dropout'}, ` +
    `dense (${cgan === true ? 'K + 1 class logits' : cgan === false ? '1 logit' : '1 logit; K + 1 classes for the conditional GAN'}).` +
    (v.code && v.info > 0 ? ` Q (InfoGAN): conv ${v.sizes.d} and ${2 * v.sizes.d} (4×4, stride 2) with leaky ReLU 0.2, dense 128, ${CLASSES} code logits; Q, and G through Q, trained to recover the code (Adam lr ${v.info}).` : '');
  const [g, c] = [variantSettings(s, 'gan'), variantSettings(s, 'cgan')];
  const same = JSON.stringify([g.sizes, g.dropout, g.code, g.info]) === JSON.stringify([c.sizes, c.dropout, c.code, c.info]);
  if (same || s.variants.length === 1) return words(s.variants.length === 1 ? variantSettings(s, s.variants[0]) : s, s.variants.length === 1 ? s.variants[0] === 'cgan' : null);
  return `GAN — ${words(g, false)} Conditional GAN — ${words(c, true)}`;
}

/** A setting in words, once when every variant has the same, else each variant's ("20 epochs (GAN), 10 (conditional GAN)"). */
function perVariant(s: GanSettings, words: (v: GanSettings) => string): string {
  const each = s.variants.map((v) => words(variantSettings(s, v)));
  if (each.every((w) => w === each[0])) return each[0] ?? words(s);
  return s.variants.map((v, i) => `${each[i]} (${v === 'cgan' ? 'conditional GAN' : 'GAN'})`).join(', ');
}
const epochsWords = (s: GanSettings) => perVariant(s, (v) => `${v.epochs} epochs`);
const ratesWords = (s: GanSettings) => perVariant(s, (v) => `lr ${v.lrD} (D) and ${v.lrG} (G)`);

/**
 * The settings with `tune` over them. A setting `tune` gives at the top level reaches every variant: it also
 * replaces a variant's own default entry for it (else '{"epochs": 60}' would leave the GAN at its 30); `tune.nets`,
 * when given, is taken as it is.
 */
export function tuned(base: GanSettings, tune: Partial<GanSettings>): GanSettings {
  if (tune.nets) return { ...base, ...tune };
  const nets: GanSettings['nets'] = {};
  for (const v of ['gan', 'cgan'] as const) {
    const own = base.nets[v];
    if (own) nets[v] = Object.fromEntries(Object.entries(own).filter(([k]) => !Object.hasOwn(tune, k))) as Partial<GanNets>;
  }
  return { ...base, ...tune, nets };
}

/** `tune` overrides the settings (for trials of a recipe; the report states what ran). */
export async function gan(o: ExperimentOptions = {}, tune: Partial<GanSettings> = {}): Promise<ExperimentResult> {
  const t0 = now();
  const quick = o.quick ?? false, seed = o.seed ?? 1, log = o.log ?? (() => {});
  // A misspelt override would otherwise be ignored and the report would state settings that did not run.
  checkOptions('gan', tune, Object.keys(FULL));
  for (const [v, own] of Object.entries(tune.nets ?? {})) {
    if (v !== 'gan' && v !== 'cgan') throw new RedeError(`gan: nets has an entry '${v}', expected 'gan' or 'cgan'`);
    checkOptions(`gan nets.${v}`, own, NET_KEYS);
  }
  const s = tuned(quick ? QUICK : FULL, tune);
  const outDir = o.outDir ?? DEFAULT_OUT_DIR;
  mkdirSync(outDir, { recursive: true });
  for (const v of s.variants) {
    const vs = variantSettings(s, v);
    const where = `gan (${v})`;
    checkNumber(where, 'topK', vs.topK, { min: 0, exclusiveMin: true, max: 1 });
    checkNumber(where, 'topKDecay', vs.topKDecay, { min: 0, max: 1 });
    checkNumber(where, 'lrDecay', vs.lrDecay, { min: 0, max: 1 });
    checkNumber(where, 'shiftReal', vs.shiftReal, { min: 0, max: 27, integer: true });
    checkNumber(where, 'realTarget', vs.realTarget, { min: 0.5, exclusiveMin: true, max: 1 });
    if (vs.topK < 1 && (v !== 'gan' || vs.code)) throw new RedeError(`gan: 'topK' (${vs.topK}) is for the unconditional GAN without 'code' (D's one logit ranks the samples), got variant ${v} with code ${vs.code}`);
    if (vs.info > 0 && (v !== 'gan' || !vs.code)) throw new RedeError(`gan: 'info' (${vs.info}) needs the unconditional GAN with 'code' (the InfoGAN steps read G's code), got variant ${v} with code ${vs.code}`);
  }
  const e = await Engine.create();
  const saved: string[] = [];
  const runs: GanRun[] = [], refs: { dataset: string; judgeAccuracy: number; real: Quality; realVsReal: number }[] = [], grids: string[] = [];
  for (const name of s.datasets) {
    const data = await imageSet(name, o.dataDir);
    const train = firstOf(data.train, s.train), test = firstOf(data.test, s.test);
    const { judge, reference, real, realVsReal } = await measuringClassifier(e, train, test, s.judgeEpochs, seed);
    refs.push({ dataset: name, judgeAccuracy: judge.accuracy, real, realVsReal });
    log(`gan: ${name}: classifier test accuracy ${pct(judge.accuracy)}, real images' score ${sci(real.score)}, real-vs-real Fréchet ${sci(realVsReal)}`);
    for (const variant of s.variants) {
      const r = await trainGan(e, variant, s, train, judge, reference, seed, outDir, name, log);
      runs.push(r.run); grids.push(...r.grids); saved.push(r.saved);
    }
  }

  const last = (r: GanRun) => r.quality[r.quality.length - 1];
  const table = markdownTable(
    ['data set', 'images', 'classifier score', 'score / real', 'Fréchet distance', 'class accuracy', 'time'],
    [
      ...refs.flatMap((f) => [
        [f.dataset, 'real (held-out)', f.real.score.toFixed(2), '1.00', `${sci(f.realVsReal)} (train vs test)`, pct(f.real.classAccuracy!), ''],
        ...runs.filter((r) => r.dataset === f.dataset).map((r) => [f.dataset, r.variant === 'cgan' ? 'conditional GAN' : 'GAN', last(r).score.toFixed(2),
          (last(r).score / f.real.score).toFixed(2), sci(last(r).frechet), last(r).classAccuracy !== undefined ? pct(last(r).classAccuracy!) : '—', secs(r.seconds)]),
      ]),
    ],
    [false, false, true, true, true, true, true],
  );
  const checks: Check[] = [];
  for (const r of runs) {
    const f = refs.find((x) => x.dataset === r.dataset)!, q = last(r), q0 = r.quality[0];
    if (quick) {
      checks.push(check(`${r.dataset} ${r.variant}: samples move toward the real images (Fréchet distance falls from the untrained generator's)`, q.frechet < q0.frechet, `${sci(q0.frechet)} → ${sci(q.frechet)}`));
    } else {
      checks.push(check(`${r.dataset} ${r.variant}: the samples' classifier score is at least 90% of the real images'`, q.score >= 0.9 * f.real.score, `${q.score.toFixed(2)} vs ${f.real.score.toFixed(2)} (${pct(q.score / f.real.score)})`));
      if (r.variant === 'cgan') checks.push(check(`${r.dataset} conditional GAN: at least 90% of the samples are classified as the class asked for`, q.classAccuracy! >= 0.9, pct(q.classAccuracy!)));
    }
  }
  const colour = (i: number) => PALETTE[i % PALETTE.length];
  const lossSeries: Series[] = runs.flatMap((r, i) => [
    { name: `${r.dataset} ${r.variant} D`, x: r.epochs, y: r.dLoss, color: colour(2 * i) },
    { name: `${r.dataset} ${r.variant} G`, x: r.epochs, y: r.gLoss, color: colour(2 * i + 1) },
  ]);
  const fidSeries: Series[] = runs.map((r, i) => ({ name: `${r.dataset} ${r.variant}`, x: r.quality.map((q) => q.epoch), y: r.quality.map((q) => q.frechet), color: colour(2 * i), markers: true }));
  const svg = figure([
    { kind: 'line', title: 'Losses (epoch means)', xLabel: 'epoch', yLabel: 'loss', xIntegers: true, series: lossSeries },
    { kind: 'line', title: 'Fréchet distance to held-out real images', xLabel: 'epoch', yLabel: 'distance', xIntegers: true, logY: true, series: fidSeries },
  ], { cols: 2, title: 'GAN training' });
  const seconds = since(t0);
  const files = writeReport(outDir, {
    name: 'gan', title: 'Generative adversarial networks, measured', quick,
    intro: 'A generator learns to turn noise into images by fooling a discriminator that learns to tell them from real ones. ' +
      'The samples are scored with rede\'s own classifier trained on the real images (not Inception): its classifier score ' +
      'exp(E[KL(p(y|x) ‖ p(y))]) and the Fréchet distance in its 128 penultimate features, against held-out real images; ' +
      'for the conditional GAN also the fraction of samples that the classifier assigns to the class asked for.',
    settings: `${s.datasets.join(', ')}; ${Number.isFinite(s.train) ? `the first ${s.train}` : 'all'} training images. ` +
      `${netsLine(s)} ` +
      `Adam ${ratesWords(s)}, β1 ${BETA1}; ${perVariant(s, (v) => v.realTarget < 1 ? `real targets ${v.realTarget} (one-sided smoothing)` : 'real targets 1')}${s.variants.includes('gan') && variantSettings(s, 'gan').topK < 1 ? `; the GAN's G trained on the top-k of its batch (Sinha et al. 2020: ν = max(${variantSettings(s, 'gan').topK}, ${variantSettings(s, 'gan').topKDecay}^epoch))` : ''}; batch ${s.batch} real + ${s.batch} generated per D step, ${s.gSteps === 1 ? 'one G step' : `${s.gSteps} G steps`} per D step; ${epochsWords(s)}${perVariant(s, (v) => v.shiftReal > 0 ? `, real images shifted by up to ${v.shiftReal} pixels per axis` : '')}${perVariant(s, (v) => v.lrDecay > 0 ? `, both rates falling linearly to 0 over the last ${pct(v.lrDecay)} of the steps` : '')}${s.ema > 0 ? `; measured, drawn and saved: a moving average of G's weights (β ${s.ema}, batch norm re-estimated for it)` : ''}. ` +
      `Classifier: conv32-conv64-fc128, ${s.judgeEpochs} epochs of Adam; ${s.samples} samples and ${s.test} held-out images measured. Seed ${seed}.`,
    table,
    figures: [{ file: 'gan-curves.svg', svg, caption: 'Discriminator and generator losses per epoch, and the Fréchet distance of the samples to held-out real images.' }],
    checks, machine: machineLine(e.variant), seconds,
    notes: [
      ...refs.map((f) => `${f.dataset}: the measuring classifier's test accuracy is ${pct(f.judgeAccuracy)}.`),
      ...grids.filter((g) => s.variants.some((v) => g.endsWith(`-${v}-epoch${String(variantSettings(s, v).epochs).padStart(2, '0')}.png`)))
        .map((g) => `![${g}](${g}) — samples after the last epoch (${g.includes('cgan') ? 'a row per class' : variantSettings(s, 'gan').code ? 'fixed noise, a row per code' : 'fixed noise'}).`),
      ...saved.map((f) => `Generator saved as ${f}: \`rede generate --model ${f}${f.includes('cgan') || variantSettings(s, 'gan').code ? ' --classes 10' : ''} --out grid.png\` draws new samples.`),
      ...(quick ? ['Quick mode: tiny networks, few images, 2 epochs; it checks the direction only.'] : []),
    ],
    data: { settings: { ...s, train: Number.isFinite(s.train) ? s.train : 'all' }, seed, refs, runs },
  });
  files.push(...grids.map((g) => join(outDir, g)), ...saved.map((f) => join(outDir, f)));
  return { name: 'gan', table, files, checks, seconds };
}
