// GEMM against the reference: every transpose form, accumulate, and sizes below/at/above the tiles.
import { test } from 'node:test';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 31, 33, 64, 67];

test('gemm_f32 matches the reference over transposes, accumulate and odd sizes', async () => {
  const rng = new Rng(1);
  for (const { name, e, ref } of await testEngines()) {
    for (let trial = 0; trial < 60; trial++) {
      const m = SIZES[rng.int(0, SIZES.length)], n = SIZES[rng.int(0, SIZES.length)], k = SIZES[rng.int(0, SIZES.length)];
      const tA = trial & 1, tB = (trial >> 1) & 1, acc = (trial >> 2) & 1;
      const pad = rng.int(0, 3); // strided operands: leading dimensions larger than the rows
      const lda = (tA ? m : k) + pad, ldb = (tB ? k : n) + pad, ldc = n + pad;
      const mark = e.mark();
      const a = e.tensor([(tA ? k : m) * lda], rng.array((tA ? k : m) * lda));
      const b = e.tensor([(tB ? n : k) * ldb], rng.array((tB ? n : k) * ldb));
      const c0 = rng.array(m * ldc);
      const c = e.tensor([m * ldc], c0), cr = e.tensor([m * ldc], c0);
      const scratch = e.reserve(e.k.gemm_scratch_bytes(m, n, k));
      e.k.gemm_f32(tA, tB, m, n, k, a.ptr, lda, b.ptr, ldb, c.ptr, ldc, acc, scratch);
      ref.gemm_f32(tA, tB, m, n, k, a.ptr, lda, b.ptr, ldb, cr.ptr, ldc, acc, 0);
      assertClose(e.read(c.ptr, m * ldc), e.read(cr.ptr, m * ldc), `${name} gemm m=${m} n=${n} k=${k} tA=${tA} tB=${tB} acc=${acc} pad=${pad}`, { rtol: 1e-4, atol: 1e-5 * k });
      e.release(mark);
    }
  }
});
