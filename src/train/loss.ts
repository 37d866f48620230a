// Losses: each writes the mean loss of a batch and dL/doutput (already divided by the batch size) with
// one or two fused kernel calls. Cross-entropy takes logits; a model that ends in a softmax layer is
// trained through that layer's input (see fit), which is both faster and numerically stable.
import { RedeError } from '../engine/errors';
import type { Engine } from '../engine/engine';
import type { Kernels } from '../engine/generated/kernels';

export type LossType = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy' | 'mse';
export type LossSpec = LossType | { type: LossType; labelSmoothing?: number };

/** Where a loss reads and writes (byte addresses) for `rows` examples of `cols` outputs. */
export interface LossArgs {
  rows: number; cols: number; out: number; labels: number; targets: number; probs: number; losses: number;
  /** dL/dout goes here (0 or absent: the loss only). */
  dout?: number;
  /** Gradient scale; default 1/rows. */
  scale?: number;
}

export class Loss {
  readonly type: LossType;
  readonly labelSmoothing: number;
  constructor(spec: LossSpec) {
    const s = typeof spec === 'string' ? { type: spec } : spec;
    if (!['sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', 'mse'].includes(s.type)) {
      throw new RedeError(`loss: unknown type '${s.type}' (expected sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy or mse)`);
    }
    this.type = s.type;
    this.labelSmoothing = s.labelSmoothing ?? 0;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing < 1)) throw new RedeError(`loss: labelSmoothing must be in [0, 1), got ${this.labelSmoothing}`);
  }

  /** Sparse integer labels (one class per example) rather than f32 targets. */
  get sparse(): boolean { return this.type === 'sparse_categorical_crossentropy'; }
  get softmax(): boolean { return this.type === 'sparse_categorical_crossentropy' || this.type === 'categorical_crossentropy'; }

  /**
   * Mean loss over `rows` examples of `cols` outputs at `out`; writes dL/dout at `dout` when non-zero, scaled
   * by `scale` (default 1/rows: the gradient of the mean; a data-parallel shard passes 1/whole batch, a weighted
   * head weight/rows). `labels` (i32, sparse) or `targets` (f32 rows × cols); `probs` and `losses` are scratch
   * of rows × cols and rows.
   */
  run(e: Engine, a: LossArgs): number {
    const k = e.k, { rows, cols, out, labels, targets, probs, losses } = a, dout = a.dout ?? 0, scale = a.scale ?? 1 / rows;
    switch (this.type) {
      case 'sparse_categorical_crossentropy': {
        if (this.labelSmoothing > 0) {
          // Smoothed targets from the labels, then the dense form.
          this.smooth(e, rows, cols, labels, targets);
          return this.dense(k, a, dout, scale);
        }
        const L = k.softmax_xent_sparse_forward_f32(rows, cols, out, labels, probs, losses);
        if (dout) k.softmax_xent_sparse_backward_f32(rows, cols, probs, labels, scale, dout);
        return L;
      }
      case 'categorical_crossentropy':
        if (this.labelSmoothing > 0) throw new RedeError('loss categorical_crossentropy: pass smoothed targets yourself or use sparse labels with labelSmoothing');
        return this.dense(k, a, dout, scale);
      case 'binary_crossentropy': {
        const L = k.bce_logits_forward_f32(rows * cols, out, targets, losses);
        if (dout) k.bce_logits_backward_f32(rows * cols, out, targets, scale / cols, dout);
        return L;
      }
      case 'mse': {
        const L = k.mse_forward_f32(rows * cols, out, targets, losses);
        if (dout) k.mse_backward_f32(rows * cols, out, targets, scale / cols, dout);
        return L;
      }
    }
  }

  private dense(k: Kernels, a: LossArgs, dout: number, scale: number): number {
    const L = k.softmax_xent_forward_f32(a.rows, a.cols, a.out, a.targets, a.probs, a.losses);
    if (dout) k.softmax_xent_backward_f32(a.rows, a.cols, a.probs, a.targets, scale, dout);
    return L;
  }

  /** (1 − ε)·onehot + ε/classes, in TypeScript: rows × cols floats per batch is small. */
  private smooth(e: Engine, rows: number, cols: number, labels: number, targets: number): void {
    const t = e.f32, lab = e.i32, eps = this.labelSmoothing;
    for (let r = 0; r < rows; r++) {
      const row = (targets >>> 2) + r * cols;
      t.fill(eps / cols, row, row + cols);
      t[row + lab[(labels >>> 2) + r]] += 1 - eps;
    }
  }

  config(): LossSpec { return this.labelSmoothing ? { type: this.type, labelSmoothing: this.labelSmoothing } : this.type; }
}
