// Reference loss kernels, same signatures as assembly/loss.ts; f64 throughout, f32 storage.
import type { Heap } from './heap';

/** probs[0..classes) = softmax(x row) (may alias); returns logsumexp of the row. */
function softmaxRow(f: Float32Array, X: number, P: number, classes: number): number {
  let m = -Infinity;
  for (let j = 0; j < classes; j++) m = Math.max(m, f[X + j]);
  const e = new Float64Array(classes);
  let s = 0;
  for (let j = 0; j < classes; j++) s += (e[j] = Math.exp(f[X + j] - m));
  for (let j = 0; j < classes; j++) f[P + j] = e[j] / s;
  return m + Math.log(s);
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
function map2(h: Heap, n: number, a: number, b: number, out: number, fn: (u: number, v: number) => number): void {
  const f = h.f32, A = a >>> 2, B = b >>> 2, O = out >>> 2;
  for (let i = 0; i < n; i++) f[O + i] = fn(f[A + i], f[B + i]);
}


export const lossRef = (h: Heap) => ({
  softmax_forward_f32(rows: number, classes: number, x: number, y: number): void {
    const f = h.f32;
    for (let r = 0; r < rows; r++) softmaxRow(f, (x >>> 2) + r * classes, (y >>> 2) + r * classes, classes);
  },
  softmax_backward_f32(rows: number, classes: number, y: number, dy: number, dx: number): void {
    const f = h.f32;
    for (let r = 0; r < rows; r++) {
      const Y = (y >>> 2) + r * classes, G = (dy >>> 2) + r * classes, D = (dx >>> 2) + r * classes;
      let dot = 0;
      for (let j = 0; j < classes; j++) dot += f[Y + j] * f[G + j];
      for (let j = 0; j < classes; j++) f[D + j] = f[Y + j] * (f[G + j] - dot);
    }
  },

  softmax_xent_sparse_forward_f32(rows: number, classes: number, logits: number, labels: number, probs: number, losses: number): number {
    const f = h.f32, iv = h.i32;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const X = (logits >>> 2) + r * classes, label = iv[(labels >>> 2) + r];
      const xl = label >= 0 && label < classes ? f[X + label] : NaN;
      const loss = softmaxRow(f, X, (probs >>> 2) + r * classes, classes) - xl;
      f[(losses >>> 2) + r] = loss;
      total += loss;
    }
    return Math.fround(total / rows);
  },
  softmax_xent_sparse_backward_f32(rows: number, classes: number, probs: number, labels: number, scale: number, dlogits: number): void {
    const f = h.f32, iv = h.i32, s = Math.fround(scale);
    for (let r = 0; r < rows; r++) {
      const P = (probs >>> 2) + r * classes, D = (dlogits >>> 2) + r * classes, label = iv[(labels >>> 2) + r];
      for (let j = 0; j < classes; j++) f[D + j] = s * (f[P + j] - (j === label ? 1 : 0));
    }
  },

  softmax_xent_forward_f32(rows: number, classes: number, logits: number, targets: number, probs: number, losses: number): number {
    const f = h.f32;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const X = (logits >>> 2) + r * classes, T = (targets >>> 2) + r * classes;
      const x = f.slice(X, X + classes);
      const lse = softmaxRow(f, X, (probs >>> 2) + r * classes, classes);
      let loss = 0;
      for (let j = 0; j < classes; j++) loss -= f[T + j] * (x[j] - lse); // −Σ t·ln p, ln p = x − lse
      f[(losses >>> 2) + r] = loss;
      total += loss;
    }
    return Math.fround(total / rows);
  },
  softmax_xent_backward_f32(rows: number, classes: number, probs: number, targets: number, scale: number, dlogits: number): void {
    const f = h.f32, s = Math.fround(scale);
    for (let r = 0; r < rows; r++) {
      const P = (probs >>> 2) + r * classes, T = (targets >>> 2) + r * classes, D = (dlogits >>> 2) + r * classes;
      let tsum = 0;
      for (let j = 0; j < classes; j++) tsum += f[T + j];
      for (let j = 0; j < classes; j++) f[D + j] = s * (tsum * f[P + j] - f[T + j]);
    }
  },

  bce_logits_forward_f32(n: number, x: number, t: number, losses: number): number {
    const f = h.f32, X = x >>> 2, T = t >>> 2, L = losses >>> 2;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = f[X + i];
      // −t·ln σ − (1 − t)·ln(1 − σ), with ln σ(v) = −log1p(e^−v) written stably for either sign
      const lnP = v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v));
      const lnQ = v >= 0 ? -v - Math.log1p(Math.exp(-v)) : -Math.log1p(Math.exp(v));
      const loss = -f[T + i] * lnP - (1 - f[T + i]) * lnQ;
      f[L + i] = loss;
      total += loss;
    }
    return Math.fround(total / n);
  },
  bce_logits_backward_f32(n: number, x: number, t: number, scale: number, dx: number): void {
    const s = Math.fround(scale);
    map2(h, n, x, t, dx, (v, tv) => s * (sigmoid(v) - tv));
  },

  mse_forward_f32(n: number, y: number, t: number, losses: number): number {
    const f = h.f32, Y = y >>> 2, T = t >>> 2, L = losses >>> 2;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = f[Y + i] - f[T + i];
      f[L + i] = d * d;
      total += d * d;
    }
    return Math.fround(total / n);
  },
  mse_backward_f32(n: number, y: number, t: number, scale: number, dy: number): void {
    const s = Math.fround(scale);
    map2(h, n, y, t, dy, (u, v) => 2 * s * (u - v));
  },
});
