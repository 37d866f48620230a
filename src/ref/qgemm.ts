// Reference int8 GEMM, same signatures as assembly/qgemm.ts: exact int32 accumulation, the same packed-B bytes
// (the test compares them) and the same requantization (src/ref/qmath.ts), read straight from the operands.
import type { Heap } from './heap';
import { QPARAM_BYTES } from '../engine/generated/abi';
import { mulq } from './qmath';

const NR = 8;

export const qgemmRef = (h: Heap) => {
  const i8 = () => new Int8Array(h.memory.buffer), i16 = () => new Int16Array(h.memory.buffer);
  return {
    qgemm_packed_b_bytes(k: number, n: number): number {
      return Math.ceil(n / NR) * Math.ceil(k / 2) * NR * 4;
    },
    qgemm_scratch_bytes(_m: number, _n: number, _k: number): number {
      return 0; // reads its operands in place
    },
    /** packed[((q·kp + p)·8 + j)·2 + t] = int16(b[2p + t, q·8 + j]), zero past k or n (int16 index). */
    qgemm_pack_b(k: number, n: number, b: number, ldb: number, packed: number): void {
      const B = i8(), P = i16(), kp = Math.ceil(k / 2), base = packed >>> 1;
      for (let q = 0; q < Math.ceil(n / NR); q++) for (let p = 0; p < kp; p++) for (let j = 0; j < NR; j++) for (let t = 0; t < 2; t++) {
        const row = 2 * p + t, col = q * NR + j;
        P[base + ((q * kp + p) * NR + j) * 2 + t] = row < k && col < n ? B[b + row * ldb + col] : 0;
      }
    },
    qgemm_s8(m: number, n: number, k: number, a: number, lda: number, packed: number, q: number,
      zy: number, lo: number, hi: number, c: number, ldc: number, f32out: number, _scratch: number): void {
      const A = i8(), P = i16(), I = h.i32, F = h.f32, kp = Math.ceil(k / 2), base = packed >>> 1;
      for (let j = 0; j < n; j++) {
        const r = (q + j * QPARAM_BYTES) >>> 2, bias = I[r], mult = I[r + 1], shift = I[r + 2], scale = F[r + 3];
        const panel = base + Math.floor(j / NR) * kp * NR * 2, jj = j % NR;
        for (let i = 0; i < m; i++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += A[a + i * lda + p] * P[panel + ((p >> 1) * NR + jj) * 2 + (p & 1)];
          acc = (acc + bias) | 0;
          if (f32out) F[(c >>> 2) + i * ldc + j] = Math.fround(acc) * scale;
          else A[c + i * ldc + j] = Math.min(hi, Math.max(lo, zy + mulq(acc, mult, shift)));
        }
      }
    },
  };
};
