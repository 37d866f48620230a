// Reference GEMM, same signature as assembly/gemm.ts: C = (acc ? C : 0) + op(A)·op(B), row-major.
import type { Heap } from './heap';

export const gemmRef = (h: Heap) => ({
  gemm_scratch_bytes(_m: number, _n: number, _k: number): number {
    return 0;
  },
  gemm_f32(transA: number, transB: number, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, _scratch: number): void {
    const f = h.f32, A = a >> 2, B = b >> 2, C = c >> 2;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0; // f64 accumulation: the reference is the more exact side
        for (let p = 0; p < k; p++) {
          s += f[A + (transA ? p * lda + i : i * lda + p)] * f[B + (transB ? j * ldb + p : p * ldb + j)];
        }
        const ci = C + i * ldc + j;
        f[ci] = accumulate ? f[ci] + s : s;
      }
    }
  },
});
