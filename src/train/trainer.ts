// compile / fit / evaluate / predict: the Keras-shaped loop over a planned model. Per step: the source
// writes the batch into the model's input slot, forward, fused loss (+ dlogits), backward into the
// gradient buffer, optional clipping, one optimizer pass over the flat parameters. Nothing is allocated.
import { RedeError } from '../engine/errors';
import { MemoryPlan } from '../engine/plan';
import type { AugmentOptions } from '../data/augment';
import type { Dataset } from '../data/dataset';
import { numelOf } from '../layers/layer';
import type { Model } from '../model/model';
import { Optimizer, type OptimizerSpec } from '../optim/optimizer';
import { learningRate, type Schedule } from '../optim/schedules';
import type { Callback, Logs, TrainContext } from './callbacks';
import { Loss, type LossSpec } from './loss';
import { arraySource, datasetSource, type Labels, type Source } from './source';

export type Metric = 'accuracy' | `top${number}`;

export interface CompileOptions {
  optimizer: OptimizerSpec;
  loss: LossSpec;
  metrics?: Metric[];
  schedule?: Schedule;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  validationData?: Dataset | [Float32Array, Labels];
  /** Fraction of the training data (taken from the end, before shuffling) held out for validation. */
  validationSplit?: number;
  shuffle?: boolean;
  /** Fixes shuffling, dropout and augmentation (initialization is fixed by the model's seed). */
  seed?: number;
  callbacks?: Callback[];
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
}

export interface History { epochs: number[]; history: Record<string, number[]> }

/** Compiled state kept on the model. */
export class Trainer {
  readonly optimizer: Optimizer;
  readonly loss: Loss;
  readonly metrics: Metric[];
  readonly schedule?: Schedule;
  /** Optimizer state: slots × paramFloats, zeroed. */
  readonly optState: number;
  epoch = 0;
  step = 0;
  /** Fixes dropout masks (with the step and example index); fit's seed option sets it. */
  seed: number;

  constructor(readonly model: Model, o: CompileOptions) {
    this.seed = model.seed;
    this.optimizer = new Optimizer(o.optimizer);
    this.loss = new Loss(o.loss);
    this.metrics = o.metrics ?? [];
    for (const m of this.metrics) {
      if (m !== 'accuracy' && !/^top[1-9]\d*$/.test(m)) throw new RedeError(`compile: unknown metric '${m}' (expected 'accuracy' or 'topK', e.g. 'top5')`);
    }
    this.schedule = o.schedule;
    const plan = new MemoryPlan();
    plan.f32('opt', Math.max(1, this.optimizer.slots) * model.paramFloats, 'optimizer');
    const l = model.e.allocate(plan, `optimizer state (${this.optimizer.slots} × ${model.paramFloats} floats)`);
    this.optState = l.ptr.opt;
    // The arena is not zeroed on reuse; an attached model (a worker replaying the plan) writes nothing.
    if (!model.attached) model.e.k.fill_f32(this.optState, this.optimizer.slots * model.paramFloats, 0);
    model.memoryParts.optimizer = l.partBytes.optimizer;
  }

  /** Where the loss reads outputs and writes their gradient; a final softmax is folded into the loss. */
  head(): { out: number; dout: number; from: number } {
    const m = this.model, out = m.graph.output, node = m.graph.nodes[out];
    if (node.layer.type === 'softmax' && this.loss.softmax) {
      const src = node.inputs[0];
      return { out: src < 0 ? m.inputAct : m.act[src], dout: m.dxOf(out, 0), from: out - 1 };
    }
    return { out: m.outputAct, dout: m.outputGrad, from: out };
  }

  /** The batch source for x (checked); also used by the parallel trainer. */
  source(x: Dataset | Float32Array, y: Labels | undefined, batchSize: number, seed: number, shuffle: boolean, augment: AugmentOptions | undefined, keepLast: boolean): Source {
    const m = this.model;
    if (!(x instanceof Float32Array)) {
      const per = numelOf(m.inputShape);
      if (numelOf(x.shape) !== per) throw new RedeError(`fit: dataset examples are [${x.shape.join(', ')}], the model's input is [${m.inputShape.join(', ')}]`);
      return datasetSource(x, { batchSize, seed, shuffle, augment, keepLast });
    }
    if (augment) throw new RedeError('fit: augmentation needs a Dataset (images with a known [h, w, c] shape)');
    if (!y) throw new RedeError('fit: y is required when x is an array');
    const per = numelOf(m.inputShape), n = m.batchOf(x, 'x');
    const yPer = y instanceof Int32Array ? 1 : numelOf(m.outputShape);
    if (y.length !== n * yPer) throw new RedeError(`fit: y has ${y.length} values, expected ${n * yPer} (${n} examples × ${yPer})`);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RedeError(`fit: x value ${i} (example ${Math.floor(i / per)}) is ${x[i]}`);
    if (y instanceof Int32Array) {
      const classes = numelOf(m.outputShape);
      for (let i = 0; i < n; i++) if (!(y[i] >= 0 && y[i] < classes)) throw new RedeError(`fit: label of example ${i} is ${y[i]}, expected an integer in [0, ${classes})`);
    }
    return arraySource(x, y, per, yPer, { batchSize, seed, shuffle, keepLast });
  }

  /** Runs one batch of `b` examples already written at the input/labels; returns the mean loss. */
  trainBatch(b: number, lr: number): number {
    const m = this.model, k = m.e.k, h = this.head();
    const s = m.step(b, true, this.step, false, 0, this.seed);
    m.forwardStep(s);
    const cols = numelOf(m.outputShape); // a folded softmax keeps its input's shape
    const loss = this.loss.run(m.e, b, cols, h.out, m.labels, m.targets, m.probs, m.losses, h.dout);
    if (!Number.isFinite(loss)) return loss;
    m.backwardStep(s, false, h.from);
    if (this.optimizer.cfg.clipNorm !== undefined) this.optimizer.clip(k, m.entries, m.grads);
    this.optimizer.apply(k, m.entries, m.params, m.grads, this.optState, m.paramFloats, lr);
    return loss;
  }

  async fit(x: Dataset | Float32Array, y: Labels | undefined, o: FitOptions): Promise<History> {
    if ((o.workers !== undefined && o.workers !== 1) || o.deterministic) {
      const { fitParallel } = await import('../parallel/fit');
      return fitParallel(this, x, y, o);
    }
    const m = this.model;
    const epochs = o.epochs ?? 1, batchSize = o.batchSize ?? 32, seed = o.seed ?? m.seed;
    this.seed = seed;
    if (!Number.isInteger(epochs) || epochs < 0) throw new RedeError(`fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RedeError(`fit: batchSize must be a positive integer, got ${batchSize}`);
    let val = o.validationData;
    if (o.validationSplit) {
      [x, y, val] = splitOff(x, y, o.validationSplit, m);
    }
    const src = this.source(x, y, batchSize, seed, o.shuffle ?? true, o.augment, true);
    if (src.batchesPerEpoch === 0) throw new RedeError(`fit: no training examples`);
    m.ensureCapacity(batchSize);
    const history: History = { epochs: [], history: {} };
    let stopped = false;
    const ctx: TrainContext = {
      stop: () => { stopped = true; },
      snapshot: () => m.e.read(m.params, m.paramFloats),
      restore: (w) => m.e.write(m.params, w),
      save: (path) => m.save(path),
      epochs, batchesPerEpoch: src.batchesPerEpoch,
    };
    const cbs = o.callbacks ?? [];
    for (const c of cbs) await c.onTrainBegin?.(ctx);
    const first = o.initialEpoch ?? 0;
    this.step = first * src.batchesPerEpoch;
    const per = numelOf(m.inputShape), outPer = numelOf(m.outputShape);
    for (let epoch = first; epoch < epochs && !stopped; epoch++) {
      for (const c of cbs) await c.onEpochBegin?.(epoch, ctx);
      const t0 = now();
      let lossSum = 0, seen = 0, correct = 0;
      for (let bi = 0; bi < src.batchesPerEpoch; bi++) {
        const b = src.batchLength(bi);
        const e = m.e;
        src.fill(epoch, bi, 0, b, e.f32.subarray(m.inputAct >> 2, (m.inputAct >> 2) + b * per),
          this.loss.sparse ? e.i32.subarray(m.labels >> 2, (m.labels >> 2) + b) : null,
          this.loss.sparse ? null : e.f32.subarray(m.targets >> 2, (m.targets >> 2) + b * outPer));
        const lr = learningRate(this.optimizer.lr, this.schedule, this.step, epoch);
        const loss = this.trainBatch(b, lr);
        if (!Number.isFinite(loss)) {
          if (o.onNonFinite === 'skip') { this.step++; continue; }
          throw new RedeError(`fit: loss is ${loss} at epoch ${epoch + 1}, step ${bi + 1} (global step ${this.step}); weights are those before this step`);
        }
        lossSum += loss * b; seen += b;
        if (this.loss.sparse && this.metrics.includes('accuracy')) correct += this.countCorrect(b, 1);
        this.step++;
        const logs: Logs = { loss, lr };
        for (const c of cbs) await c.onBatchEnd?.(this.step, logs, ctx);
      }
      const logs = this.endEpoch(epoch, { lossSum, seen, correct, seconds: (now() - t0) / 1000 }, val, batchSize, history);
      for (const c of cbs) await c.onEpochEnd?.(epoch, logs, ctx);
    }
    for (const c of cbs) await c.onTrainEnd?.({}, ctx);
    return history;
  }

  /**
   * The end of an epoch, shared by the single-thread and the parallel loops: the epoch's logs (loss, accuracy,
   * speed, learning rate, validation metrics as val_*), appended to the history.
   */
  endEpoch(epoch: number, t: { lossSum: number; seen: number; correct: number; seconds: number },
    val: FitOptions['validationData'], batchSize: number, history: History): Logs {
    const logs: Logs = { loss: t.lossSum / Math.max(1, t.seen), examples_per_s: t.seen / t.seconds, seconds: t.seconds, lr: learningRate(this.optimizer.lr, this.schedule, this.step, epoch) };
    if (this.loss.sparse && this.metrics.includes('accuracy')) logs.accuracy = t.correct / Math.max(1, t.seen);
    if (val) {
      const v = Array.isArray(val) ? this.evaluate(val[0], val[1], batchSize) : this.evaluate(val, undefined, batchSize);
      for (const [key, value] of Object.entries(v)) logs[`val_${key}`] = value;
    }
    this.epoch = epoch + 1;
    history.epochs.push(epoch);
    for (const [key, value] of Object.entries(logs)) (history.history[key] ??= []).push(value);
    return logs;
  }

  /** Examples among the first `b` whose label is in the top-k outputs. */
  countCorrect(b: number, topk: number): number {
    const m = this.model, h = this.head(), f = m.e.f32, lab = m.e.i32;
    const cols = numelOf(m.outputShape);
    let correct = 0;
    for (let r = 0; r < b; r++) {
      const row = (h.out >> 2) + r * cols, y = lab[(m.labels >> 2) + r], v = f[row + y];
      let above = 0;
      for (let c = 0; c < cols; c++) if (f[row + c] > v) above++;
      if (above < topk) correct++;
    }
    return correct;
  }

  evaluate(x: Dataset | Float32Array, y: Labels | undefined, batchSize = 64): Logs {
    const m = this.model;
    const src = this.source(x, y, batchSize, 0, false, undefined, true);
    m.ensureCapacity(Math.min(batchSize, src.count));
    const per = numelOf(m.inputShape), outPer = numelOf(m.outputShape), h = this.head();
    const tops = this.metrics.map((name) => (name === 'accuracy' ? 1 : Number(name.slice(3))));
    const hits = tops.map(() => 0);
    let lossSum = 0, seen = 0;
    for (let bi = 0; bi < src.batchesPerEpoch; bi++) {
      const b = src.batchLength(bi), e = m.e;
      src.fill(0, bi, 0, b, e.f32.subarray(m.inputAct >> 2, (m.inputAct >> 2) + b * per),
        this.loss.sparse ? e.i32.subarray(m.labels >> 2, (m.labels >> 2) + b) : null,
        this.loss.sparse ? null : e.f32.subarray(m.targets >> 2, (m.targets >> 2) + b * outPer));
      m.forwardStep(m.step(b, false));
      const cols = numelOf(m.outputShape);
      lossSum += this.loss.run(e, b, cols, h.out, m.labels, m.targets, m.probs, m.losses, 0) * b;
      if (this.loss.sparse) tops.forEach((t, i) => { hits[i] += this.countCorrect(b, t); });
      seen += b;
    }
    const logs: Logs = { loss: lossSum / seen };
    if (this.loss.sparse) this.metrics.forEach((name, i) => { logs[name] = hits[i] / seen; });
    return logs;
  }
}

/** Outputs for every row of x, in batches; a copy [n, ...outputShape]. */
export function predict(m: Model, x: Float32Array, batchSize = 64): Float32Array {
  const n = m.batchOf(x, 'x'), per = numelOf(m.inputShape), outPer = numelOf(m.outputShape);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RedeError(`predict: x value ${i} (example ${Math.floor(i / per)}) is ${x[i]}`);
  const out = new Float32Array(n * outPer);
  m.ensureCapacity(Math.min(batchSize, n));
  for (let i = 0; i < n; i += batchSize) {
    const b = Math.min(batchSize, n - i);
    m.e.write(m.inputAct, x.subarray(i * per, (i + b) * per));
    m.forwardStep(m.step(b, false));
    out.set(m.e.f32.subarray(m.outputAct >> 2, (m.outputAct >> 2) + b * outPer), i * outPer);
  }
  return out;
}

export function splitOff(x: Dataset | Float32Array, y: Labels | undefined, frac: number, m: Model): [Dataset | Float32Array, Labels | undefined, Dataset | [Float32Array, Labels]] {
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

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
