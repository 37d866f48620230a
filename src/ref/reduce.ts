// Reference reduce kernels, same signatures as assembly/reduce.ts.
import type { Heap } from './heap';

export const reduceRef = (h: Heap) => ({
  /** dst[i] = Σ_s src[s·stride + i], slices added in order. */
  sum_slices_f32(dst: number, src: number, n: number, k: number, stride: number): void {
    const f = h.f32, D = dst >>> 2, S = src >>> 2;
    for (let i = 0; i < n; i++) {
      let acc = f[S + i];
      for (let s = 1; s < k; s++) acc = Math.fround(acc + f[S + s * stride + i]);
      f[D + i] = acc;
    }
  },
  scale_inplace_f32(x: number, n: number, s: number): void {
    const f = h.f32, X = x >>> 2, sf = Math.fround(s); // the wasm export receives s as f32
    for (let i = 0; i < n; i++) f[X + i] *= sf;
  },
  sum_squares_f32(x: number, n: number): number {
    const f = h.f32, X = x >>> 2;
    let s = 0;
    for (let i = 0; i < n; i++) s += f[X + i] * f[X + i];
    return s;
  },
  fill_f32(x: number, n: number, value: number): void {
    h.f32.fill(value, x >>> 2, (x >>> 2) + n);
  },
});
