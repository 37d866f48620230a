// Inline helpers the kernel files share (none is a wasm export): the multiply-add that the relaxed-SIMD build
// fuses, the address of element i of an f32 or i32 array, and 64-byte (cache-line) rounding.

/** a·b + c; fused in the relaxed-SIMD build. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Address of the i-th 4-byte element at p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: usize): usize {
  return p + (i << 2);
}

/** bytes rounded up to a multiple of 64. */
// @ts-ignore: decorator
@inline export function align64(bytes: usize): usize {
  return (bytes + 63) & ~<usize>63;
}
