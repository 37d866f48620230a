// Reference GEMM, same signatures as assembly/gemm.ts: C = (acc ? C : 0) + op(A)·op(B), row-major.
// The packed-B format is shared with the wasm kernels (the test compares the packed bytes):
// ceil(n/NR) panels of k×NR floats, packed[q·k·NR + p·NR + j] = op(B)[p, q·NR + j], zero past column n.
import type { Heap } from './heap';
import { GEMM_NR } from '../engine/generated/abi';

export const gemmRef = (h: Heap) => {
  /** op(B)[p, j] where op(B) = B (k×n, stride ldb) or Bᵀ (B stored n×k). */
  const opB = (f: Float32Array, transB: number, B: number, ldb: number, p: number, j: number): number =>
    f[B + (transB ? j * ldb + p : p * ldb + j)];
  return {
    gemm_scratch_bytes(_m: number, _n: number, _k: number): number {
      return 0; // the reference reads its operands in place
    },
    gemm_f32_packed_b_scratch_bytes(_m: number, _n: number, _k: number): number {
      return 0;
    },
    gemm_f32(transA: number, transB: number, m: number, n: number, k: number,
      a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, _scratch: number): void {
      const f = h.f32, A = a >>> 2, B = b >>> 2, C = c >>> 2;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0; // f64 accumulation: the reference is the more exact side
          for (let p = 0; p < k; p++) s += f[A + (transA ? p * lda + i : i * lda + p)] * opB(f, transB, B, ldb, p, j);
          const ci = C + i * ldc + j;
          f[ci] = accumulate ? f[ci] + s : s;
        }
      }
    },
    gemm_packed_b_bytes(k: number, n: number): number {
      return Math.ceil(n / GEMM_NR) * GEMM_NR * k * 4;
    },
    gemm_pack_b(transB: number, k: number, n: number, b: number, ldb: number, packed: number): void {
      const f = h.f32, B = b >>> 2, P = packed >>> 2;
      for (let q = 0; q * GEMM_NR < n; q++) {
        for (let p = 0; p < k; p++) {
          for (let jj = 0; jj < GEMM_NR; jj++) {
            const j = q * GEMM_NR + jj;
            f[P + (q * k + p) * GEMM_NR + jj] = j < n ? opB(f, transB, B, ldb, p, j) : 0;
          }
        }
      }
    },
    gemm_f32_packed_b(transA: number, m: number, n: number, k: number, a: number, lda: number, packed: number,
      c: number, ldc: number, accumulate: number, _scratch: number): void {
      const f = h.f32, A = a >>> 2, P = packed >>> 2, C = c >>> 2;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const q = Math.floor(j / GEMM_NR), jj = j % GEMM_NR;
          let s = 0;
          for (let p = 0; p < k; p++) s += f[A + (transA ? p * lda + i : i * lda + p)] * f[P + (q * k + p) * GEMM_NR + jj];
          const ci = C + i * ldc + j;
          f[ci] = accumulate ? f[ci] + s : s;
        }
      }
    },
  };
};
