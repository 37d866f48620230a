// Reference activation and elementwise kernels, same signatures as assembly/act.ts; f64 math, f32 storage.
import type { Heap } from './heap';

/** y[i] = fn(x[i]) over n elements (y may be x). */
function map1(h: Heap, n: number, x: number, y: number, fn: (v: number) => number): void {
  const f = h.f32, X = x >>> 2, Y = y >>> 2;
  for (let i = 0; i < n; i++) f[Y + i] = fn(f[X + i]);
}

/** out[i] = fn(a[i], b[i]) over n elements (out may be a or b). */
function map2(h: Heap, n: number, a: number, b: number, out: number, fn: (u: number, v: number) => number): void {
  const f = h.f32, A = a >>> 2, B = b >>> 2, O = out >>> 2;
  for (let i = 0; i < n; i++) f[O + i] = fn(f[A + i], f[B + i]);
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export const actRef = (h: Heap) => ({
  bias_add_f32(rows: number, cols: number, x: number, b: number, y: number): void {
    const f = h.f32, X = x >>> 2, B = b >>> 2, Y = y >>> 2;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) f[Y + r * cols + c] = f[X + r * cols + c] + f[B + c];
  },
  bias_grad_f32(rows: number, cols: number, dy: number, db: number, accumulate: number): void {
    const f = h.f32, G = dy >>> 2, D = db >>> 2;
    for (let c = 0; c < cols; c++) {
      let s = accumulate ? f[D + c] : 0;
      for (let r = 0; r < rows; r++) s += f[G + r * cols + c];
      f[D + c] = s;
    }
  },

  relu_forward_f32(n: number, x: number, y: number): void { map1(h, n, x, y, (v) => (v > 0 || Number.isNaN(v) ? v : 0)); },
  relu_backward_f32(n: number, x: number, dy: number, dx: number): void { map2(h, n, x, dy, dx, (v, g) => (v > 0 ? g : 0)); },
  leaky_relu_forward_f32(n: number, alpha: number, x: number, y: number): void {
    const a = Math.fround(alpha);
    map1(h, n, x, y, (v) => (v > 0 ? v : a * v));
  },
  leaky_relu_backward_f32(n: number, alpha: number, x: number, dy: number, dx: number): void {
    const a = Math.fround(alpha);
    map2(h, n, x, dy, dx, (v, g) => (v > 0 ? g : a * g));
  },
  elu_forward_f32(n: number, alpha: number, x: number, y: number): void {
    const a = Math.fround(alpha);
    map1(h, n, x, y, (v) => (v > 0 ? v : a * Math.expm1(v)));
  },
  elu_backward_f32(n: number, alpha: number, y: number, dy: number, dx: number): void {
    const a = Math.fround(alpha);
    map2(h, n, y, dy, dx, (v, g) => (v > 0 ? g : g * (v + a)));
  },
  sigmoid_forward_f32(n: number, x: number, y: number): void { map1(h, n, x, y, sigmoid); },
  sigmoid_backward_f32(n: number, y: number, dy: number, dx: number): void { map2(h, n, y, dy, dx, (v, g) => g * v * (1 - v)); },
  tanh_forward_f32(n: number, x: number, y: number): void { map1(h, n, x, y, Math.tanh); },
  tanh_backward_f32(n: number, y: number, dy: number, dx: number): void { map2(h, n, y, dy, dx, (v, g) => g * (1 - v * v)); },

  add_f32(a: number, b: number, y: number, n: number): void { map2(h, n, a, b, y, (u, v) => u + v); },
  add_acc_f32(x: number, y: number, n: number): void { map2(h, n, y, x, y, (u, v) => u + v); },
  mul_f32(a: number, b: number, y: number, n: number): void { map2(h, n, a, b, y, (u, v) => u * v); },
  scale_copy_f32(x: number, y: number, n: number, alpha: number): void {
    const a = Math.fround(alpha);
    map1(h, n, x, y, (v) => a * v);
  },
  axpy_f32(x: number, y: number, n: number, alpha: number): void {
    const a = Math.fround(alpha);
    map2(h, n, y, x, y, (u, v) => u + a * v);
  },
});
