// The fixed-point requantization of assembly/qmath.ts in TypeScript, bit for bit (BigInt for the 64-bit product),
// and its inverse: a real multiplier as (mult, shift) (TFLite's QuantizeMultiplier).

/** SaturatingRoundingDoublingHighMul(a, b), b > 0: floor((a·b + 2^30) / 2^31) (see assembly/qmath.ts). */
export function srdhm(a: number, b: number): number {
  return Number(BigInt.asIntN(32, (BigInt(a | 0) * BigInt(b | 0) + (1n << 30n)) >> 31n));
}

/** RoundingDivideByPOT(x, e): x / 2^e rounded half away from zero. */
export function rdbpot(x: number, e: number): number {
  const mask = e >= 31 ? 0x7fffffff : (1 << e) - 1;
  const rem = x & mask, threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

/** MultiplyByQuantizedMultiplier(x, mult, shift) = x · mult · 2^(shift − 31), rounded as TFLite does. */
export function mulq(x: number, mult: number, shift: number): number {
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm((x << left) | 0, mult), right);
}

/**
 * A positive real multiplier M as mult · 2^(shift − 31), mult in [2^30, 2^31) (TFLite's QuantizeMultiplier):
 * M = q·2^shift with q in [0.5, 1), mult = round(q·2^31). 0 gives (0, 0). shift is clamped to [−31, 30]
 * (smaller multipliers underflow to 0, which the quantizer never produces for a calibrated tensor).
 */
export function quantizeMultiplier(m: number): { mult: number; shift: number } {
  if (!(m > 0) || !Number.isFinite(m)) return { mult: 0, shift: 0 };
  let shift = Math.floor(Math.log2(m)) + 1;
  let q = m / 2 ** shift;
  // log2 rounding at exact powers of two: bring q into [0.5, 1)
  while (q >= 1) { q /= 2; shift++; }
  while (q < 0.5) { q *= 2; shift--; }
  let mult = Math.round(q * 2 ** 31);
  if (mult === 2 ** 31) { mult /= 2; shift++; }
  if (shift < -31) return { mult: 0, shift: 0 };
  if (shift > 30) throw new Error(`quantizeMultiplier: ${m} is too large for a 32-bit fixed-point multiplier`);
  return { mult, shift };
}

/** Round half to even (f32x4.nearest / f32.nearest). */
export function nearestEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
