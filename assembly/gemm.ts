// GEMM: C[m×n] (row stride ldc) = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], f32, row-major.
// op(A) = A (m×k, stride lda) or Aᵀ (A stored k×m); op(B) = B (k×n, stride ldb) or Bᵀ (B stored n×k).
// BASELINE: correct, not yet fast; the packed MR×NR micro-kernel replaces the body, same signature.

/** Bytes of scratch gemm_f32 needs for these sizes (packing panels). */
export function gemm_scratch_bytes(m: i32, n: i32, k: i32): i32 {
  return 0;
}

export function gemm_f32(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32,
  c: usize, ldc: i32, accumulate: i32, scratch: usize,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s: f32 = 0;
      for (let p = 0; p < k; p++) {
        const av = load<f32>(a + ((transA ? <usize>p * lda + i : <usize>i * lda + p) << 2));
        const bv = load<f32>(b + ((transB ? <usize>j * ldb + p : <usize>p * ldb + j) << 2));
        s += av * bv;
      }
      const cp = c + ((<usize>i * ldc + j) << 2);
      store<f32>(cp, accumulate ? load<f32>(cp) + s : s);
    }
  }
}
