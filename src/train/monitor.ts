// GradientMonitor: a callback that records, every N steps of a fit, each layer's gradient norm and each
// node's activation statistics — the numbers that show a vanishing (or exploding) gradient, dead ReLUs or
// saturated sigmoids (lecture 2.6.2). probeGradients() takes the same record on a fixed batch without
// updating the weights (e.g. at initialization, or to compare checkpoints on the same examples).
//
// Per layer with parameters:   ‖∂L/∂θ‖₂ over all its parameters, ‖∂L/∂W‖₂ over its weights 'w' (dense,
//                              conv), and ‖W‖₂ — sums of squares from the sum_squares_f32 kernel, in f64.
// Per node (layer output):     mean, standard deviation and fraction of exact zeros of its activations
//                              over the first `examples` rows of the batch.
// Read after the step: the gradient buffer holds that batch's gradients (after clipNorm, if set), the
// activation buffers its forward. Single-process fit only (with workers, slice 0 holds a partial sum).
import { RedeError } from '../engine/errors';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import type { Trainer } from './trainer';
import { batchGradients } from './gradients';

/** A network with what compile() made of it (the facade Model is one). */
type Model = Network & { trainer: Trainer | null };
import type { Callback, Logs, TrainContext } from './callbacks';

export interface LayerGradients {
  /** Node index in model.layers, name and type. */
  index: number;
  layer: string;
  type: string;
  /** ‖∂L/∂θ‖ over every parameter of the layer. */
  gradNorm: number;
  /** ‖∂L/∂W‖ of the weights ('w'); NaN for layers without weights (batch norm). */
  weightGradNorm: number;
  /** ‖W‖ (NaN without weights): the gradient relative to the weights is weightGradNorm / weightNorm. */
  weightNorm: number;
}

export interface ActivationStats {
  index: number;
  layer: string;
  type: string;
  mean: number;
  std: number;
  /** Fraction of values exactly 0 (dead ReLUs, dropped units). */
  zeros: number;
}

export interface MonitorRecord {
  /** Optimizer steps taken when recorded. */
  step: number;
  epoch: number;
  /** The batch's mean loss. */
  loss: number;
  grads: LayerGradients[];
  activations: ActivationStats[];
}

export interface GradientMonitorOptions {
  /** Record every `every` optimizer steps (default 10). */
  every?: number;
  /** Rows of the batch summarized for activation statistics (default 32; keep it ≤ the batch size). */
  examples?: number;
  /** Record activation statistics too (default true). */
  activations?: boolean;
}

/** Per-layer gradient norms of the gradients now in the model's gradient buffer (slice 0). */
export function gradientNorms(m: Model): LayerGradients[] {
  const k = m.e.k, out: LayerGradients[] = [];
  m.layers.forEach((L, index) => {
    if (!L.params.length) return;
    let all = 0, w = NaN, wn = NaN;
    for (const p of L.params) {
      const n = numelOf(p.shape), ss = k.sum_squares_f32(L.g[p.name], n);
      all += ss;
      if (p.name === 'w') { w = Math.sqrt(ss); wn = Math.sqrt(k.sum_squares_f32(L.p[p.name], n)); }
    }
    out.push({ index, layer: L.name, type: L.type, gradNorm: Math.sqrt(all), weightGradNorm: w, weightNorm: wn });
  });
  return out;
}

/** Mean, std and zero fraction of every node's output over the first `rows` examples of the last forward. */
export function activationStats(m: Model, rows: number): ActivationStats[] {
  if (!(Number.isInteger(rows) && rows >= 1 && rows <= m.capacity)) {
    throw new RedeError(`activationStats: rows must be an integer in [1, ${m.capacity}] (the planned batch), got ${rows}`);
  }
  const f = m.e.f32;
  return m.layers.map((L, index) => {
    const n = rows * numelOf(L.outShape), at = m.act[index] >>> 2;
    let s = 0, ss = 0, zeros = 0;
    for (let i = at; i < at + n; i++) { const v = f[i]; s += v; ss += v * v; if (v === 0) zeros++; }
    const mean = s / n;
    return { index, layer: L.name, type: L.type, mean, std: Math.sqrt(Math.max(0, ss / n - mean * mean)), zeros: zeros / n };
  });
}

/**
 * ‖∂L/∂W‖ of the first weighted layer (next to the input) over that of the last (the output layer):
 * ≪ 1 when the gradient vanishes on its way back to the input.
 */
export function firstLastRatio(grads: readonly LayerGradients[]): number {
  const w = grads.filter((g) => Number.isFinite(g.weightGradNorm));
  if (w.length < 2) throw new RedeError(`firstLastRatio: needs at least 2 layers with weights, got ${w.length}`);
  return w[0].weightGradNorm / w[w.length - 1].weightGradNorm;
}

/**
 * One forward + loss + backward on (x, labels) in training mode, without an optimizer step; returns the
 * record. Batch-norm running statistics are restored afterwards, so the model is left as it was (apart from
 * its gradient and activation buffers). Needs a compiled model with a sparse (integer-label) loss.
 */
export function probeGradients(m: Model, x: Float32Array, labels: Int32Array): MonitorRecord {
  const t = m.trainer;
  if (!t) throw new RedeError('probeGradients: compile the model first (the loss is needed)');
  if (!t.loss.sparse) throw new RedeError(`probeGradients: needs integer labels (sparse_categorical_crossentropy), the model's loss is ${t.loss.type}`);
  const loss = batchGradients(t, x, labels, 'probeGradients'); // the step program, without its update
  return { step: t.step, epoch: t.epoch, loss, grads: gradientNorms(m), activations: activationStats(m, x.length / numelOf(m.inputShape)) };
}

export class GradientMonitor implements Callback {
  readonly records: MonitorRecord[] = [];
  readonly every: number;
  readonly examples: number;
  readonly withActivations: boolean;
  private batchesPerEpoch = 0;
  private due = false;
  private epoch = 0;

  constructor(readonly model: Model, o: GradientMonitorOptions = {}) {
    this.every = o.every ?? 10;
    this.examples = o.examples ?? 32;
    this.withActivations = o.activations ?? true;
    if (!Number.isInteger(this.every) || this.every < 1) throw new RedeError(`GradientMonitor: every must be a positive integer, got ${o.every}`);
    if (!Number.isInteger(this.examples) || this.examples < 1) throw new RedeError(`GradientMonitor: examples must be a positive integer, got ${o.examples}`);
  }

  onTrainBegin(ctx: TrainContext): void { this.batchesPerEpoch = ctx.batchesPerEpoch; }
  onEpochBegin(epoch: number): void { this.epoch = epoch; }

  onBatchEnd(step: number, logs: Logs): void {
    if (step % this.every === 0) this.due = true;
    if (!this.due) return;
    // The last batch of an epoch may be short, and the monitor cannot see its length: with several batches
    // per epoch, a record due then waits for the next (full) batch.
    if (this.batchesPerEpoch > 1 && step % this.batchesPerEpoch === 0) return;
    this.due = false;
    this.record(step, logs.loss);
  }

  /** Records the model's current gradients and activations (what onBatchEnd does when a record is due). */
  record(step: number, loss: number): MonitorRecord {
    const m = this.model;
    const rec: MonitorRecord = {
      step, epoch: this.epoch, loss, grads: gradientNorms(m),
      activations: this.withActivations ? activationStats(m, Math.min(this.examples, m.capacity)) : [],
    };
    this.records.push(rec);
    return rec;
  }

  /** Each weighted layer's ‖∂L/∂W‖ over the records: one row per record, one column per layer. */
  weightGradTable(): { layers: string[]; steps: number[]; norms: number[][] } {
    const first = this.records[0];
    const layers = first ? first.grads.filter((g) => Number.isFinite(g.weightGradNorm)).map((g) => g.layer) : [];
    return {
      layers,
      steps: this.records.map((r) => r.step),
      norms: this.records.map((r) => r.grads.filter((g) => Number.isFinite(g.weightGradNorm)).map((g) => g.weightGradNorm)),
    };
  }
}
