// An exponential moving average of a generator's weights (Yazıcı et al. 2019, "The Unusual Effectiveness of
// Averaging in GAN Training"; Karras et al. 2018 sample from such an average too). GAN training circles around
// an equilibrium rather than settling in it, so the weights of one step carry that step's oscillation; their
// average over the last ~1/(1 − β) steps sits nearer the middle, and its samples are cleaner and more varied.
//   after generator step t:  avg ← β_t·avg + (1 − β_t)·w,  β_t = min(β, (1 + t)/(10 + t))
// β = 0.999 is a memory of ~1,000 steps; the warm-up β_t (TensorFlow's ExponentialMovingAverage with
// num_updates) keeps the untrained initial weights from lingering in the average of a short run: early on the
// average covers roughly the last t/9 steps.
// The average is a copy in JS memory (G's parameters [paramFloats] in the arena are the ones being trained).
// Batch norm's running statistics were gathered for the trained weights, not the averaged ones, so before the
// averaged generator is used for inference its running statistics are estimated again from its own forward
// passes in training mode (each pass moves them by the layer's momentum toward that batch's statistics).
import { RedeError } from '../engine/errors';
import type { Network } from '../model/network';

export class WeightAverage {
  /** The averaged parameters [net.paramFloats] (alignment padding included: it stays 0). */
  readonly avg: Float32Array;

  constructor(readonly net: Network, readonly beta: number) {
    if (!(beta >= 0 && beta < 1)) throw new RedeError(`WeightAverage: beta must be in [0, 1), got ${beta}`);
    this.avg = this.params().slice();
  }

  private params(): Float32Array { return this.net.e.f32.subarray(this.net.params >>> 2, (this.net.params >>> 2) + this.net.paramFloats); }
  private stats(): Float32Array { return this.net.e.f32.subarray(this.net.state >>> 2, (this.net.state >>> 2) + this.net.stateFloats); }

  /** Updates so far. */
  steps = 0;

  /** avg ← β_t·avg + (1 − β_t)·w, after a step of the network. */
  update(): void {
    const t = this.steps++, w = this.params(), a = this.avg, k = 1 - Math.min(this.beta, (1 + t) / (10 + t));
    for (let i = 0; i < a.length; i++) a[i] += k * (w[i] - a[i]);
  }

  /**
   * Runs `use` with the averaged weights in the network, its batch-norm running statistics estimated for them by
   * `calibrate` forward passes in training mode on the inputs `input(i)`; then puts the trained weights and
   * statistics back.
   */
  with<T>(calibrate: number, input: (i: number) => Float32Array, use: () => T): T {
    const trained = this.params().slice(), stats = this.stats().slice();
    this.params().set(this.avg);
    try {
      if (this.net.stateFloats > 0) for (let i = 0; i < calibrate; i++) this.net.forward(input(i), { training: true });
      return use();
    } finally {
      this.params().set(trained);
      this.stats().set(stats);
    }
  }
}
