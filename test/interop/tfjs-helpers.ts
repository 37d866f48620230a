// What the tfjs and Keras interop tests share.
import { Model } from '../../src/api/model';
import { Rng } from '../helpers/rand';

/** Batch-norm statistics, affine and biases made non-trivial (a fresh model's hide layout bugs). */
export function perturb(model: Model, seed: number): void {
  const rng = new Rng(seed), w = model.getWeights();
  for (const [name, t] of w) {
    if (!/\/(gamma|beta|moving_mean|moving_variance|bias)$/.test(name)) continue;
    for (let i = 0; i < t.data.length; i++) t.data[i] = /variance$/.test(name) ? 0.5 + rng.next() : /gamma$/.test(name) ? 0.8 + 0.4 * rng.next() : 0.2 * (rng.next() - 0.5);
  }
  model.setWeights(w);
}
