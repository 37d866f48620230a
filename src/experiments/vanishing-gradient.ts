// Lecture 2.6.2, the vanishing gradient: "the chain rule multiplies many small numbers produced by the
// activation functions, so the gradient decreases exponentially" — worst with sigmoid and tanh.
// Deep plain networks (10 and 20 weighted layers; an MLP and a CNN) with sigmoid, tanh and ReLU, with and
// without batch norm and residual connections. For each: ‖∂L/∂W‖ of every weighted layer on one fixed
// probe batch at initialization and again after some SGD training (probeGradients), the training-loss
// curve, and the first-layer / last-layer ratio of gradient norms. GradientMonitor records the same norms
// (and activation statistics) during training; they go to the JSON file.
import { fashionMnist } from '../data/fashion-mnist';
import { subset, type Dataset } from '../data/dataset';
import { Engine } from '../engine/engine';
import type { LayerConfig, ModelConfig } from '../model/config';
import { Model } from '../api/model';
import { GradientMonitor, firstLastRatio, probeGradients, type MonitorRecord } from '../train/monitor';
import { figure, PALETTE, type Panel } from '../viz/svg';
import {
  check, DEFAULT_OUT_DIR, machineLine, markdownTable, now, sci, since, writeReport,
  type ExperimentOptions, type ExperimentResult,
} from './report';

export type Arch = 'mlp' | 'cnn';

export interface DeepVariant {
  name: string;
  activation: 'sigmoid' | 'tanh' | 'relu';
  batchnorm: boolean;
  /** Each hidden layer after the first adds its input back: h ← h + W·act(BN(h)). */
  residual: boolean;
}

export const VARIANTS: DeepVariant[] = [
  { name: 'sigmoid', activation: 'sigmoid', batchnorm: false, residual: false },
  { name: 'tanh', activation: 'tanh', batchnorm: false, residual: false },
  { name: 'relu', activation: 'relu', batchnorm: false, residual: false },
  { name: 'sigmoid+bn', activation: 'sigmoid', batchnorm: true, residual: false },
  { name: 'relu+bn', activation: 'relu', batchnorm: true, residual: false },
  { name: 'relu+bn+residual', activation: 'relu', batchnorm: true, residual: true },
];

/**
 * A plain deep network with `depth` weighted layers: depth − 1 hidden layers of `width` units (MLP) or
 * 3×3 conv filters (CNN; the first strides 2: 28×28 → 14×14), then global average pooling (CNN) and a
 * dense classifier. Each hidden layer: weights → [batch norm] → activation; with `residual`, pre-activation
 * blocks h ← h + W·act(BN(h)) instead, closed by BN → activation before the classifier. Initialization
 * is each activation's usual one: Glorot for sigmoid/tanh (Glorot & Bengio 2010), He for ReLU (He et al. 2015).
 */
export function deepNet(arch: Arch, depth: number, v: DeepVariant, width: number, input: number[] = [28, 28, 1], classes = 10): ModelConfig {
  const init = v.activation === 'relu' ? 'he_uniform' : 'glorot_uniform';
  const layers: LayerConfig[] = [];
  if (arch === 'mlp') layers.push({ type: 'flatten', name: 'flatten' });
  let prev = arch === 'mlp' ? 'flatten' : 'input';
  const weights = (i: number, from: string): LayerConfig => (arch === 'mlp'
    ? { type: 'dense', name: `w${i}`, inputs: [from], units: width, useBias: !v.batchnorm, init }
    : { type: 'conv2d', name: `w${i}`, inputs: [from], filters: width, kernel: 3, stride: i === 1 ? 2 : 1, padding: 'same', useBias: !v.batchnorm, init });
  if (v.residual) {
    // Pre-activation residual blocks (He et al. 2016, "Identity mappings in deep residual networks"):
    // h ← h + W·act(BN(h)), so the identity path carries the gradient straight back to the first layer.
    layers.push(weights(1, prev));
    prev = 'w1';
    for (let i = 2; i < depth; i++) {
      if (v.batchnorm) layers.push({ type: 'batchnorm', name: `bn${i}`, inputs: [prev] });
      layers.push({ type: v.activation, name: `act${i}`, ...(v.batchnorm ? {} : { inputs: [prev] }) });
      layers.push(weights(i, `act${i}`));
      layers.push({ type: 'add', name: `res${i}`, inputs: [`w${i}`, prev] });
      prev = `res${i}`;
    }
    if (v.batchnorm) layers.push({ type: 'batchnorm', name: 'bn_out' });
    layers.push({ type: v.activation, name: 'act_out' });
  } else {
    for (let i = 1; i < depth; i++) {
      layers.push(weights(i, prev));
      if (v.batchnorm) layers.push({ type: 'batchnorm', name: `bn${i}` });
      layers.push({ type: v.activation, name: `act${i}` });
      prev = `act${i}`;
    }
  }
  if (arch === 'cnn') layers.push({ type: 'globalavgpool2d', name: 'gap' });
  layers.push({ type: 'dense', name: `w${depth}`, units: classes, init: 'glorot_uniform' });
  return { name: `${arch}${depth}-${v.name}`, input, layers };
}

export interface DeepRun {
  arch: Arch;
  depth: number;
  variant: string;
  /** ‖∂L/∂W‖ per weighted layer (index 0 = next to the input) on the probe batch. */
  initNorms: number[];
  trainedNorms: number[];
  initRatio: number;
  trainedRatio: number;
  /** Training loss of every step. */
  losses: number[];
  /** What GradientMonitor recorded during training. */
  monitor: MonitorRecord[];
  seconds: number;
}

export interface Settings { archs: Arch[]; depths: number[]; width: { mlp: number; cnn: number }; steps: number; batch: number; probe: number; lr: number; momentum: number }

const FULL: Settings = { archs: ['mlp', 'cnn'], depths: [10, 20], width: { mlp: 64, cnn: 8 }, steps: 300, batch: 32, probe: 256, lr: 0.05, momentum: 0.9 };
const QUICK: Settings = { archs: ['mlp', 'cnn'], depths: [10, 20], width: { mlp: 32, cnn: 4 }, steps: 40, batch: 32, probe: 64, lr: 0.05, momentum: 0.9 };

const weightNorms = (r: MonitorRecord): number[] => r.grads.filter((g) => Number.isFinite(g.weightGradNorm)).map((g) => g.weightGradNorm);

async function runOne(e: Engine, arch: Arch, depth: number, v: DeepVariant, s: Settings, train: Dataset, probe: Dataset, seed: number): Promise<DeepRun> {
  const t0 = now();
  const mark = e.mark(); // every model's memory is released after its run
  try {
    const m = await Model.create(deepNet(arch, depth, v, s.width[arch]), { engine: e, seed });
    m.compile({ optimizer: { type: 'sgd', lr: s.lr, momentum: s.momentum }, loss: 'sparse_categorical_crossentropy' });
    const init = probeGradients(m, probe.x, probe.y);
    const losses: number[] = [];
    const monitor = new GradientMonitor(m, { every: Math.max(1, Math.floor(s.steps / 10)), examples: Math.min(32, s.batch) });
    await m.fit(train, {
      epochs: 1, batchSize: s.batch, seed, onNonFinite: 'skip',
      callbacks: [monitor, { onBatchEnd: (_step, logs) => { losses.push(logs.loss); } }],
    });
    const trained = probeGradients(m, probe.x, probe.y);
    return {
      arch, depth, variant: v.name, initNorms: weightNorms(init), trainedNorms: weightNorms(trained),
      initRatio: firstLastRatio(init.grads), trainedRatio: firstLastRatio(trained.grads),
      losses, monitor: monitor.records, seconds: since(t0),
    };
  } finally {
    e.release(mark);
  }
}

/**
 * A run for the JSON file: everything but the monitor's full records, which become the weighted layers'
 * ‖∂L/∂W‖ per record and the activation layers' statistics at the last record (a few KB, not MB).
 */
function compactRun(r: DeepRun): Omit<DeepRun, 'monitor'> & { monitor: unknown } {
  const weighted = (rec: MonitorRecord) => rec.grads.filter((g) => Number.isFinite(g.weightGradNorm));
  const lastRec = r.monitor[r.monitor.length - 1];
  return {
    ...r,
    monitor: {
      steps: r.monitor.map((m) => m.step),
      layers: lastRec ? weighted(lastRec).map((g) => g.layer) : [],
      weightGradNorms: r.monitor.map((m) => weighted(m).map((g) => g.weightGradNorm)),
      activationsAtLastRecord: lastRec ? lastRec.activations.filter((a) => ['sigmoid', 'tanh', 'relu'].includes(a.type)) : [],
    },
  };
}

/** A ratio for the table; 0/0 happens when every ReLU of a layer died (no gradient at all). */
const ratioText = (v: number): string => (Number.isNaN(v) ? '0/0 (dead)' : sci(v));

/** What went wrong in a run's training, in words ('' if nothing): divergence, dead layers, no learning. */
function trouble(r: DeepRun, window: number): string {
  const first = head(r.losses, 10), final = tail(r.losses, window), out: string[] = [];
  if (!(final < 100)) out.push(`the loss diverged (${first.toFixed(3)} → ${sci(final)})`);
  else if (final >= first) out.push(`the loss did not fall (${first.toFixed(3)} → ${final.toFixed(3)})`);
  if (Number.isNaN(r.trainedRatio)) out.push('afterwards no gradient reaches the weights at all (every unit of a layer is dead)');
  else if (r.trainedRatio < 1e-3 && r.initRatio >= 1e-3) out.push(`afterwards the gradient vanishes towards the input (ratio ${sci(r.initRatio)} → ${sci(r.trainedRatio)}: saturated units)`);
  return out.join('; ');
}

/** A mean loss for the table: a run whose loss exploded is marked. */
const lossText = (v: number): string => (Number.isFinite(v) && v < 100 ? v.toFixed(3) : `${sci(v)} (diverged)`);

/** Mean of the first / last `n` values. */
const head = (a: number[], n: number) => mean(a.slice(0, n));
const tail = (a: number[], n: number) => mean(a.slice(-n));
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

/** Moving average over `w` steps (for readable loss curves). */
function smooth(a: number[], w: number): number[] {
  return a.map((_, i) => mean(a.slice(Math.max(0, i - w + 1), i + 1)));
}

export async function vanishingGradient(o: ExperimentOptions = {}): Promise<ExperimentResult> {
  const t0 = now();
  const quick = o.quick ?? false, seed = o.seed ?? 1, log = o.log ?? (() => {});
  const s = quick ? QUICK : FULL;
  const data = await fashionMnist(o.dataDir);
  const train = subset(data.train, 0, s.steps * s.batch);
  // The probe batch comes from elsewhere in the training set, fixed for every network.
  const probe = subset(data.train, data.train.y.length - s.probe);
  const e = await Engine.create();
  const runs: DeepRun[] = [];
  for (const arch of s.archs) for (const depth of s.depths) for (const v of VARIANTS) {
    const r = await runOne(e, arch, depth, v, s, train, probe, seed);
    runs.push(r);
    log(`vanishing-gradient: ${arch}-${depth} ${v.name.padEnd(16)} first/last ‖∂L/∂W‖ ${sci(r.initRatio)} at init, ${sci(r.trainedRatio)} trained; ` +
      `loss ${head(r.losses, 10).toFixed(3)} → ${tail(r.losses, 10).toFixed(3)} (${r.seconds.toFixed(1)} s)`);
  }

  return { name: 'vanishing-gradient', ...writeVanishingReport(o.outDir ?? DEFAULT_OUT_DIR, runs, s, { seed, quick, machine: machineLine(e.variant), seconds: since(t0) }) };
}

/**
 * Table, figures, checks and files from the runs (exported so a report can be re-rendered from the JSON
 * of an earlier run without training again).
 */
export function writeVanishingReport(outDir: string, runs: DeepRun[], s: Settings, r: { seed: number; quick: boolean; machine: string; seconds: number }): Omit<ExperimentResult, 'name'> {
  const { seed, quick, machine, seconds } = r;
  const window = Math.max(10, Math.round(s.steps / 20));
  const table = markdownTable(
    ['network', 'variant', 'first/last ‖∂L/∂W‖ at init', 'after training', 'loss: first 10 steps', `last ${window} steps`, 'time'],
    runs.map((r) => [`${r.arch.toUpperCase()}-${r.depth}`, r.variant, ratioText(r.initRatio), ratioText(r.trainedRatio),
      lossText(head(r.losses, 10)), lossText(tail(r.losses, window)), `${r.seconds.toFixed(1)} s`]),
    [false, false, true, true, true, true, true],
  );

  const groups = s.archs.flatMap((arch) => s.depths.map((depth) => ({ arch, depth, runs: runs.filter((r) => r.arch === arch && r.depth === depth) })));
  const normPanels: Panel[] = groups.map((g) => ({
    kind: 'line', logY: true, xIntegers: true,
    title: `${g.arch.toUpperCase()}, ${g.depth} layers`, xLabel: 'weighted layer (1 = next to the input)', yLabel: '‖∂L/∂W‖',
    note: `solid: at initialization; dashed: after ${s.steps} SGD steps (same probe batch)`,
    series: g.runs.flatMap((r, i) => [
      { name: r.variant, x: r.initNorms.map((_, j) => j + 1), y: r.initNorms, color: PALETTE[i] },
      { name: `${r.variant} (trained)`, x: r.trainedNorms.map((_, j) => j + 1), y: r.trainedNorms, color: PALETTE[i], dash: true, legend: false },
    ]),
  }));
  const lossPanels: Panel[] = groups.map((g) => ({
    kind: 'line', title: `${g.arch.toUpperCase()}, ${g.depth} layers`, xLabel: 'SGD step', yLabel: `training loss (mean of ${window} steps)`,
    yDomain: [0, 3], note: 'a diverging run leaves the top of the chart',
    series: g.runs.map((r, i) => ({ name: r.variant, x: r.losses.map((_, j) => j + 1), y: smooth(r.losses, window), color: PALETTE[i] })),
  }));
  const figures = [
    { file: 'vanishing-gradient-norms.svg', svg: figure(normPanels, { cols: 2, title: 'Gradient norm per layer (log scale)' }),
      caption: 'Gradient norm of each weighted layer on a fixed probe batch, at initialization (solid) and after training (dashed).' },
    { file: 'vanishing-gradient-loss.svg', svg: figure(lossPanels, { cols: 2, title: 'Training loss' }),
      caption: `Training loss per SGD step (moving mean over ${window} steps).` },
  ];

  const checks = groups.filter((g) => g.depth === Math.max(...s.depths)).flatMap((g) => {
    const by = (name: string) => g.runs.find((r) => r.variant === name)!;
    const sig = by('sigmoid'), bn = by('relu+bn');
    const net = `${g.arch.toUpperCase()}-${g.depth}`;
    return [
      check(`${net}: sigmoid's first/last gradient ratio at initialization is far (over 100×) below ReLU+BN's`,
        sig.initRatio * 100 < bn.initRatio, `${sci(sig.initRatio)} vs ${sci(bn.initRatio)}`),
      check(`${net}: ReLU+BN's training loss falls further than sigmoid's`,
        tail(bn.losses, window) < tail(sig.losses, window), `last ${window} steps: ${tail(bn.losses, window).toFixed(3)} vs ${tail(sig.losses, window).toFixed(3)}`),
    ];
  });

  const settings = `Fashion-MNIST: the first ${(s.steps * s.batch).toLocaleString('en-US')} training images, one pass of ${s.steps} SGD steps ` +
    `(batch ${s.batch}, lr ${s.lr}, momentum ${s.momentum}); probe batch: the last ${s.probe} training images. MLP hidden width ${s.width.mlp}; ` +
    `CNN: ${s.width.cnn} filters 3×3 per layer (the first with stride 2), global average pooling, dense classifier. ` +
    `Depth counts weighted layers (the classifier included). Seed ${seed}.`;
  const files = writeReport(outDir, {
    name: 'vanishing-gradient', title: 'The vanishing gradient (lecture 2.6.2)', quick,
    intro: 'Backpropagation multiplies, layer after layer, the derivative of each activation: σ′ ≤ 1/4 for the sigmoid, ' +
      'tanh′ ≤ 1, ReLU′ ∈ {0, 1}. The ratio ‖∂L/∂W₁‖ / ‖∂L/∂W_L‖ (first weighted layer over the classifier) measures how ' +
      'much of the gradient reaches the input side. Batch normalization and residual connections are the modern fixes.',
    settings, table, figures, checks, machine, seconds,
    notes: [
      'The ratio compares the first weighted layer with the output layer; their shapes differ, so a ratio near 1 means "no systematic loss", not equality. Orders of magnitude are the point.',
      ...runs.map((x) => ({ x, trouble: trouble(x, window) })).filter((t) => t.trouble).map(({ x, trouble: what }) =>
        `${x.arch.toUpperCase()}-${x.depth} ${x.variant} at lr ${s.lr}: ${what}.`),
    ],
    data: { settings: s, seed, runs: runs.map(compactRun) },
  });
  return { table, files, checks, seconds };
}
