// Fixed-point requantization (gemmlowp / TFLite), shared by the int8 kernels (assembly/qgemm.ts, qconv.ts); not
// exported from the module. The TypeScript twin is src/ref/qmath.ts.
/** SaturatingRoundingDoublingHighMul(a, b) for b > 0 (gemmlowp): round-half-away-from-zero of a·b / 2^31.
 *  With b > 0 the only overflow case (a = b = −2^31) cannot occur, and gemmlowp's sign-dependent nudge with a
 *  truncating division equals floor((a·b + 2^30) / 2^31). */
// @ts-ignore: decorator
@inline export function srdhm(a: i32, b: i32): i32 {
  return <i32>((<i64>a * <i64>b + (<i64>1 << 30)) >> 31);
}

/** RoundingDivideByPOT(x, e) (gemmlowp): x / 2^e rounded half away from zero, 0 ≤ e ≤ 31. */
// @ts-ignore: decorator
@inline export function rdbpot(x: i32, e: i32): i32 {
  const mask = (<i32>((<i64>1 << e) - 1));
  const rem = x & mask, threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

/** TFLite's MultiplyByQuantizedMultiplier: x · mult · 2^(shift − 31), mult in [2^30, 2^31), shift in [−31, 30]. */
// @ts-ignore: decorator
@inline export function mulq(x: i32, mult: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(x << left, mult), right);
}

