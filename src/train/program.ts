// The body of one training step, written once: whoever runs it — this thread (thread-step.ts) or each worker
// on its micro-shards (src/parallel/step.ts) — calls these two methods.
//
//   gradients(rows):  x → net_0 → net_1 → … → net_{L−1} → heads' losses (+ dL/dout)
//                     then backward in reverse; dL/dinput of net_{i+1} is dL/doutput of net_i
//   update(lr, t):    per trainable network: optional global-norm clipping, one optimizer pass
//
// A chain of one network is ordinary training. Two chained networks are an encoder into a decoder, or a GAN's
// generator through its discriminator; a frozen link (no optimizer) passes gradients through and keeps its
// weights bitwise. Inputs go to the first network's input slot; labels or targets to the last's.
import { RedeError } from '../engine/errors';
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import type { Optimizer } from '../optim/optimizer';
import { Objective, countTopK, type Head } from './objective';

/** A network in a chain, with its optimizer and the address of that optimizer's state; null: frozen. */
export interface Link { net: Network; opt: { optimizer: Optimizer; state: number } | null }

export interface GradientOptions {
  /** Global step number (with seed and exampleOffset it fixes dropout masks). */
  step: number;
  seed: number;
  /** Index of this micro-batch's first example within the mini-batch. */
  exampleOffset?: number;
  /** dL/dout scale: 1/rows (default) for a whole batch, 1/B for a micro-shard of a batch of B. */
  scale?: number;
  /** Count top-1 hits of the first head (sparse labels only). */
  countCorrect?: boolean;
}

export class StepProgram {
  constructor(readonly links: readonly Link[], readonly objective: Objective) {
    if (links.length === 0) throw new RedeError('train: a step needs at least one network');
    for (let i = 1; i < links.length; i++) {
      const a = links[i - 1].net, b = links[i].net;
      if (a.outputs.length !== 1 || numelOf(a.outputShape) !== numelOf(b.inputShape)) {
        throw new RedeError(`train: network ${i - 1} ('${a.config.name ?? 'model'}', output [${a.outputShape.join(', ')}]${a.outputs.length > 1 ? `, ${a.outputs.length} outputs` : ''}) cannot feed network ${i} ('${b.config.name ?? 'model'}', input [${b.inputShape.join(', ')}])`);
      }
    }
    if (objective.outputs !== this.last.outputs.length) throw new RedeError(`train: ${objective.outputs} losses for ${this.last.outputs.length} outputs`);
  }

  get first(): Network { return this.links[0].net; }
  get last(): Network { return this.links[this.links.length - 1].net; }
  get trainable(): boolean { return this.links.some((l) => l.opt); }

  /** Plans every network's activations for `batch` examples. */
  ensureCapacity(batch: number): void { for (const l of this.links) l.net.ensureCapacity(batch); }
  get capacity(): number { return Math.min(...this.links.map((l) => l.net.capacity)); }

  /** The heads at the current plan. */
  heads(): Head[] { return this.objective.heads(this.last); }

  /** Where a batch goes: the first network's input rows, the last network's labels or targets. */
  slots(rows: number): { x: Float32Array; labels: Int32Array | null; targets: Float32Array | null } {
    const a = this.first, z = this.last, sparse = this.objective.sparse;
    const per = numelOf(a.inputShape), cols = numelOf(z.outputShape);
    return {
      x: a.e.f32.subarray(a.inputAct >>> 2, (a.inputAct >>> 2) + rows * per),
      labels: sparse ? z.e.i32.subarray(z.labels >>> 2, (z.labels >>> 2) + rows) : null,
      targets: sparse ? null : z.e.f32.subarray(z.targets >>> 2, (z.targets >>> 2) + rows * cols),
    };
  }

  /** Forward through the chain in training mode, without loss or backward (outputs stay in the arena). */
  forward(rows: number, o: GradientOptions, training = true): void {
    const step = { training, step: o.step, seed: o.seed, exampleOffset: o.exampleOffset ?? 0 };
    this.links.forEach((l, i) => {
      if (i > 0) { const a = this.links[i - 1].net; copy(a, a.outputAct, l.net, l.net.inputAct, rows * numelOf(l.net.inputShape)); }
      l.net.forwardStep(l.net.step(rows, step));
    });
  }

  /**
   * Forward, loss and backward for `rows` examples already in the input slot; parameter gradients go to each
   * network's bound gradient slice (overwritten). Returns Σ over rows of the (weighted) loss and the top-1 hits.
   * A non-finite loss skips backward: the caller decides what the step does.
   */
  gradients(rows: number, o: GradientOptions): { lossSum: number; correct: number } {
    this.forward(rows, o);
    const heads = this.heads(), z = this.last;
    const L = this.objective.run(z, heads, rows, true, o.scale ?? 1 / rows);
    const correct = o.countCorrect && this.objective.sparse ? countTopK(z, heads[0], rows, 1) : 0;
    if (!Number.isFinite(L)) return { lossSum: L * rows, correct };
    const step = { training: true, step: o.step, seed: o.seed, exampleOffset: o.exampleOffset ?? 0 };
    const skip = Objective.skipped(heads), fromLogits = Objective.fromLogits(heads);
    for (let i = this.links.length - 1; i >= 0; i--) {
      const net = this.links[i].net, needInput = i > 0;
      if (i < this.links.length - 1) {
        const next = this.links[i + 1].net;
        copy(next, next.inputGrad, net, net.outputGrad, rows * numelOf(net.outputShape));
      }
      const last = i === this.links.length - 1;
      net.backwardStep(net.step(rows, step), needInput, last ? skip : undefined, last ? fromLogits : undefined);
    }
    return { lossSum: L * rows, correct };
  }

  /** Clips (when the optimizer asks) and updates every trainable network with step `t` (≥ 1) and its rate. */
  update(lrs: readonly number[], t: readonly number[]): void {
    this.links.forEach((l, i) => {
      if (!l.opt) return;
      const n = l.net, k = n.e.k, opt = l.opt.optimizer;
      if (opt.cfg.clipNorm !== undefined) opt.clip(k, n.entries, n.grads);
      opt.applyRange(k, n.entries, n.params, n.grads, l.opt.state, n.paramFloats, lrs[i], t[i], 0, n.paramFloats);
    });
  }

  /** After a step that was applied: each trainable optimizer counts it. */
  commit(): void { for (const l of this.links) if (l.opt) l.opt.optimizer.t++; }

  /** The step numbers the next update uses (t + 1 per link; frozen links 0). */
  nextT(): number[] { return this.links.map((l) => (l.opt ? l.opt.optimizer.t + 1 : 0)); }
}

/** n floats from one network's memory to another's (the same engine, or each its own). */
function copy(a: Network, from: number, b: Network, to: number, n: number): void {
  if (a.e === b.e) a.e.f32.copyWithin(to >>> 2, from >>> 2, (from >>> 2) + n);
  else b.e.f32.set(a.e.f32.subarray(from >>> 2, (from >>> 2) + n), to >>> 2);
}
