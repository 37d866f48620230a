// A classifier's answers from its outputs: the best class, or the k best with their values, per example.
// Shared by Model and InferenceModel, so both rank alike: ties go to the lower class index.
import { RedeError } from '../engine/errors';
import { Conv2D } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import type { Layer } from '../layers/layer';

export interface TopK {
  /** n × k class indices, best first per example. */
  indices: Int32Array;
  /** n × k outputs at those indices: probabilities when the model ends in a softmax, else its scores (logits). */
  values: Float32Array;
  /** n × k class names, when the model knows them (classNames); else absent. */
  names?: string[];
}

/** Whether a layer's output is a softmax: a softmax layer, or a dense / conv2d with activation 'softmax'. */
export function isSoftmaxOutput(L: Layer): boolean {
  return L.type === 'softmax' || ((L instanceof Dense || L instanceof Conv2D) && L.act.type === 'softmax');
}

/** The index of the largest of each row of y [n, classes]. */
export function argmaxRows(y: Float32Array, classes: number): Int32Array {
  const n = y.length / classes, out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (y[r * classes + c] > y[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** The k largest of each row of y [n, classes], best first (a partial insertion sort: k is small). */
export function topKRows(where: string, y: Float32Array, classes: number, k: number, names?: readonly string[] | null): TopK {
  if (!Number.isInteger(k) || k < 1 || k > classes) throw new RedeError(`${where}: k must be an integer in [1, ${classes}] (the model's classes), got ${k}`);
  const n = y.length / classes, indices = new Int32Array(n * k), values = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    const row = r * classes, at = r * k;
    let filled = 0;
    for (let c = 0; c < classes; c++) {
      const v = y[row + c];
      if (filled === k && !(v > values[at + k - 1])) continue;
      let j = filled < k ? filled++ : k - 1;
      while (j > 0 && v > values[at + j - 1]) { values[at + j] = values[at + j - 1]; indices[at + j] = indices[at + j - 1]; j--; }
      values[at + j] = v; indices[at + j] = c;
    }
  }
  return names ? { indices, values, names: Array.from(indices, (i) => names[i]) } : { indices, values };
}

/** classNames checked against a model's `classes` outputs (null clears them). */
export function checkClassNames(where: string, names: unknown, classes: number): string[] | null {
  if (names === null || names === undefined) return null;
  if (!Array.isArray(names) || !names.every((v) => typeof v === 'string')) throw new RedeError(`${where}: classNames must be a list of strings, got ${JSON.stringify(names)}`);
  if (names.length !== classes) throw new RedeError(`${where}: ${names.length} classNames for a model with ${classes} outputs`);
  return [...names];
}
