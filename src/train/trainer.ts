// What compile() makes of a network: the optimizer and its zeroed state, the objective (a loss per output,
// weighted), the metrics, the schedule and the training counters — and the step program over them. The loop
// (loop.ts) and the executors (thread-step.ts, src/parallel/group-step.ts) run it; evaluate runs forward only.
import { RedeError } from '../engine/errors';
import { MemoryPlan } from '../engine/plan';
import type { AugmentOptions } from '../data/augment';
import { isDataset, type Dataset } from '../data/dataset';
import { toExamples, toLabels, type InputData, type LabelData } from '../data/input';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import { Optimizer, type OptimizerSpec } from '../optim/optimizer';
import { checkSchedule, type Schedule } from '../optim/schedules';
import { checkOptions } from '../engine/options';
import type { Callback, Logs } from './callbacks';
import type { Loss, LossSpec } from './loss';
import { Objective, countTopK, type Head } from './objective';
import { StepProgram } from './program';
import { arraySource, datasetSource, type Labels, type Source } from './source';

export type Metric = 'accuracy' | `top${number}`;

export interface CompileOptions {
  optimizer: OptimizerSpec;
  /** One loss for every output, or one per output (config.outputs order). */
  loss: LossSpec | LossSpec[];
  /** Per output: its weight in the summed loss (Keras's loss_weights). Default 1 each. */
  lossWeights?: number[];
  metrics?: Metric[];
  schedule?: Schedule;
}

/** Every key FitOptions has (fit refuses others). */
export const FIT_OPTIONS = ['epochs', 'batchSize', 'validationData', 'validationSplit', 'shuffle', 'seed', 'callbacks', 'augment',
  'initialEpoch', 'onNonFinite', 'workers', 'deterministic', 'microShards', 'stepTimeoutMs', 'verbose'] as const;
/** Keras's spellings. */
export const FIT_ALIASES: Record<string, string> = {
  batch_size: 'batchSize', validation_data: 'validationData', validation_split: 'validationSplit', initial_epoch: 'initialEpoch',
};

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  validationData?: Dataset | [InputData, LabelData];
  /** Fraction of the training data (taken from the end, before shuffling) held out for validation. */
  validationSplit?: number;
  shuffle?: boolean;
  /** Fixes shuffling, dropout and augmentation (initialization is fixed by the model's seed). */
  seed?: number;
  callbacks?: Callback[];
  /** 0 silent, 1 a live progress bar and a line per epoch, 2 a line per epoch (Keras). Default: 1 on a terminal, else 0. */
  verbose?: 0 | 1 | 2;
  /** Only with a Dataset. */
  augment?: AugmentOptions;
  /** Resume: the first epoch to run (its step count continues from there). */
  initialEpoch?: number;
  /** A non-finite loss: 'stop' (default: reject naming epoch and step; weights stay as before the step) or 'skip' the batch. */
  onNonFinite?: 'stop' | 'skip';
  // ---- data-parallel training (src/parallel) ----
  /** Worker threads sharing each mini-batch ('auto': one per core, at most one per example). Default 1. */
  workers?: number | 'auto';
  /** With workers: fixed micro-shards per batch, so any worker count gives bitwise-identical weights. */
  deterministic?: boolean;
  /** Micro-shards per batch in deterministic mode (default 8; workers ≤ microShards). */
  microShards?: number;
  /** With workers: a step that takes longer rejects fit naming the late workers (default 120,000 ms). */
  stepTimeoutMs?: number;
}

export interface History { epochs: number[]; history: Record<string, number[]> }

export class Trainer {
  readonly optimizer: Optimizer;
  readonly objective: Objective;
  readonly metrics: Metric[];
  readonly schedule?: Schedule;
  /** Optimizer state: slots × paramFloats, zeroed. */
  readonly optState: number;
  /** The step program: this network, its optimizer, the objective. */
  readonly program: StepProgram;
  epoch = 0;
  step = 0;
  /** Fixes dropout masks (with the step and example index); fit's seed option sets it. */
  seed: number;

  constructor(readonly net: Network, options: CompileOptions) {
    const o = checkOptions<CompileOptions>('compile', options, ['optimizer', 'loss', 'lossWeights', 'metrics', 'schedule'], { loss_weights: 'lossWeights' });
    if (o.optimizer === undefined) throw new RedeError("compile: optimizer is required, e.g. { type: 'adam', lr: 0.001 }");
    if (o.loss === undefined) throw new RedeError("compile: loss is required, e.g. 'sparse_categorical_crossentropy'");
    if (o.metrics !== undefined && !Array.isArray(o.metrics)) throw new RedeError(`compile: metrics must be a list, e.g. ['accuracy'], got ${JSON.stringify(o.metrics)}`);
    this.seed = net.seed;
    this.optimizer = new Optimizer(o.optimizer);
    this.objective = new Objective(net.outputs.length, o.loss, o.lossWeights);
    this.metrics = o.metrics ?? [];
    for (const m of this.metrics) {
      if (m !== 'accuracy' && !/^top[1-9]\d*$/.test(m)) throw new RedeError(`compile: unknown metric '${m}' (expected 'accuracy' or 'topK', e.g. 'top5')`);
    }
    this.schedule = checkSchedule(o.schedule);
    const plan = new MemoryPlan();
    plan.f32('opt', Math.max(1, this.optimizer.slots) * net.paramFloats, 'optimizer');
    const l = net.e.allocate(plan, `optimizer state (${this.optimizer.slots} × ${net.paramFloats} floats)`);
    this.optState = l.ptr.opt;
    net.e.k.fill_f32(this.optState, this.optimizer.slots * net.paramFloats, 0); // the arena is not zeroed on reuse
    net.memoryParts.optimizer = l.partBytes.optimizer;
    this.program = new StepProgram([{ net, opt: { optimizer: this.optimizer, state: this.optState } }], this.objective);
  }

  /** The first output's loss. */
  get loss(): Loss { return this.objective.losses[0]; }
  /** Whether fit reports accuracy (sparse labels and the metric asked). */
  get accuracy(): boolean { return this.objective.sparse && this.metrics.includes('accuracy'); }

  /**
   * x and y in any accepted form (src/data/input.ts) as the arrays the step reads, checked: x as examples of
   * the input shape; y as class labels for a sparse loss, else as float targets of the output shape.
   */
  arrays(where: string, x: InputData, y: LabelData | undefined): { x: Float32Array; y: Labels; n: number } {
    const m = this.net;
    if (y === undefined) throw new RedeError(`${where}: y is required when x is an array`);
    const { data, n } = toExamples(where, 'x', x, m.inputShape), outPer = numelOf(m.outputShape);
    if (this.objective.sparse) return { x: data, y: toLabels(where, y, n, outPer), n };
    const t = toExamples(where, 'y', y, m.outputShape);
    if (t.n !== n) {
      const hint = t.data.length === n ? `; class labels need sparse_categorical_crossentropy, the loss ${this.loss.type} takes targets [n, ${outPer}]` : '';
      throw new RedeError(`${where}: y has ${t.data.length} values, expected ${n * outPer} (${n} examples × ${outPer})${hint}`);
    }
    return { x: data, y: t.data, n };
  }

  /** The batch source for x (checked): fit's and evaluate's. */
  source(x: Dataset | InputData, y: LabelData | undefined, o: { batchSize: number; seed: number; shuffle: boolean; augment?: AugmentOptions }, where = 'fit'): Source {
    const m = this.net;
    if (isDataset(x)) {
      if (numelOf(x.shape) !== numelOf(m.inputShape)) throw new RedeError(`${where}: dataset examples are [${x.shape.join(', ')}], the model's input is [${m.inputShape.join(', ')}]`);
      if (!this.objective.sparse) throw new RedeError(`${where}: a Dataset has class labels; the loss ${this.loss.type} needs float targets (use sparse_categorical_crossentropy, or pass arrays of targets)`);
      // Labels are checked against the model's outputs before any work, not left to surface as a NaN loss.
      const outputs = numelOf(m.outputShape);
      if (x.classes > outputs) throw new RedeError(`${where}: the dataset has ${x.classes} classes, the model's output has ${outputs} values [${m.outputShape.join(', ')}]`);
      for (let i = 0; i < x.y.length; i++) if (!(x.y[i] >= 0 && x.y[i] < outputs)) throw new RedeError(`${where}: label of example ${i} is ${x.y[i]}, expected an integer in [0, ${outputs}) (the model's outputs)`);
      return datasetSource(x, { ...o, keepLast: true });
    }
    if (o.augment) throw new RedeError(`${where}: augmentation needs a Dataset (images with a known [h, w, c] shape)`);
    const a = this.arrays(where, x, y);
    return arraySource(a.x, a.y, numelOf(m.inputShape), a.y.length / a.n, { ...o, keepLast: true });
  }

  /** Where the first head reads its outputs (at the current plan). */
  head(): Head { return this.program.heads()[0]; }

  /** Loss and metrics over x, forward only (inference mode), in batches. */
  evaluate(x: Dataset | InputData, y: LabelData | undefined, batchSize = 64): Logs {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`evaluate: batchSize must be a positive integer, got ${batchSize}`);
    const m = this.net, p = this.program;
    const src = this.source(x, y, { batchSize, seed: 0, shuffle: false }, 'evaluate');
    p.ensureCapacity(Math.min(batchSize, src.count));
    const tops = this.metrics.map((name) => (name === 'accuracy' ? 1 : Number(name.slice(3))));
    const hits = tops.map(() => 0);
    let lossSum = 0, seen = 0;
    for (let bi = 0; bi < src.batchesPerEpoch; bi++) {
      const b = src.batchLength(bi), s = p.slots(b);
      src.fill(0, bi, 0, b, s.x, s.labels, s.targets);
      p.forward(b, { step: 0, seed: this.seed }, false);
      const heads = p.heads();
      lossSum += this.objective.run(m, heads, b, false) * b;
      if (this.objective.sparse) tops.forEach((t, i) => { hits[i] += countTopK(m, heads[0], b, t); });
      seen += b;
    }
    const logs: Logs = { loss: lossSum / seen };
    if (this.objective.sparse) this.metrics.forEach((name, i) => { logs[name] = hits[i] / seen; });
    return logs;
  }
}

/**
 * Outputs for every example of x (any form of src/data/input.ts), in batches; a copy [n, ...outputShape] of the
 * first output: probabilities when the model ends in a softmax (a softmax layer, or a layer's softmax
 * activation), else what its last layer computes (logits), as Keras.
 */
export function predict(m: Network, input: InputData, batchSize = 64): Float32Array {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`predict: batchSize must be a positive integer, got ${batchSize}`);
  const { data: x, n } = toExamples('predict', 'x', input, m.inputShape), per = numelOf(m.inputShape), outPer = numelOf(m.outputShape);
  const out = new Float32Array(n * outPer);
  m.ensureCapacity(Math.min(batchSize, n));
  for (let i = 0; i < n; i += batchSize) {
    const b = Math.min(batchSize, n - i);
    m.e.write(m.inputAct, x.subarray(i * per, (i + b) * per));
    m.forwardStep(m.step(b));
    out.set(m.e.f32.subarray(m.outputAct >>> 2, (m.outputAct >>> 2) + b * outPer), i * outPer);
  }
  return out;
}

export function splitOff(x: Dataset | Float32Array, y: Labels | undefined, frac: number, m: Network): [Dataset | Float32Array, Labels | undefined, Dataset | [Float32Array, Labels]] {
  if (!(frac > 0 && frac < 1)) throw new RedeError(`fit: validationSplit must be in (0, 1), got ${frac}`);
  if (x instanceof Float32Array) {
    const n = m.batchOf(x, 'x'), nv = Math.floor(n * frac), nt = n - nv, per = x.length / n;
    if (!y) throw new RedeError('fit: y is required when x is an array');
    const yPer = y.length / n;
    return [x.subarray(0, nt * per), y.subarray(0, nt * yPer), [x.subarray(nt * per), y.subarray(nt * yPer)]];
  }
  const n = x.y.length, nv = Math.floor(n * frac), nt = n - nv, per = x.x.length / n;
  const part = (a: number, b: number): Dataset => ({ ...x, x: x.x.subarray(a * per, b * per), y: x.y.subarray(a, b) });
  return [part(0, nt), undefined, part(nt, n)];
}
