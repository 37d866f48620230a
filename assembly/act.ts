// Activations and elementwise kernels, f32, SIMD over contiguous elements (4 lanes; a scalar tail that runs the
// same lane math on one value, so a tail element gets exactly what its neighbours in a full vector would).
// Every pointer is a byte address into the one memory; every count is in elements. Outputs may alias an input
// exactly (in place) but must not partially overlap one.
//
// The SIMD exp below is shared with loss.ts, and sigmoid_x4 / tanh_x4 with rnn.ts: they are declared @global so that those files can use them without them
// becoming a wasm export (assembly/index.ts re-exports everything this file exports).

import { madd, at } from './simd';
// ---------------------------------------------------------------------------------------------------------------
// SIMD exp and expm1, f32x4.
// e^x = 2^k · e^r with k = round(x·log2 e) (rounded by the 1.5·2^23 trick, which also leaves k in the bits) and r = x − k·ln 2 ∈ [−ln2/2, ln2/2]; ln 2 = LN2_HI + LN2_LO with LN2_HI
// short enough (9 significant bits) that k·LN2_HI is exact for |k| ≤ 150 (Cody–Waite reduction).
// e^r − 1 = r + r²·(1/2! + r·(1/3! + … + r·1/7!)): the Taylor series to degree 7, truncation < 6e-9 on that range,
// so the result is within a few f32 ulps of e^x. 2^k is built from exponent bits as 2^k1 · 2^k2 (k1 = k >> 1,
// k2 = k − k1) so that k ∈ [−150, 128] needs no special case: results in the subnormal range come out rounded.
// Saturation: x > EXP_HI gives +inf; x < EXP_LO is clamped to EXP_LO, where e^x already rounds to 0. NaN stays NaN.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
/** ln(FLT_MAX) ≈ 88.72284, a hair below it: above this e^x overflows. */
const EXP_HI: f32 = 88.7228;
/** e^−104 ≈ 6.8e-46 is below half the smallest subnormal (1.4e-45): rounds to 0. */
const EXP_LO: f32 = -104.0;

/** e^r − 1 for r ∈ [−ln2/2, ln2/2], Taylor to degree 7 (Horner). */
@inline function expm1_reduced(r: v128): v128 {
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 720.0)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 120.0)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 24.0)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 6.0)));
  p = madd(p, r, f32x4.splat(<f32>0.5));
  return madd(f32x4.mul(r, r), p, r);
}

/** 1.5·2^23: adding it to |v| < 2^22 rounds v to the nearest integer, which then sits in the low mantissa bits. */
const ROUND_MAGIC: f32 = 12582912.0;

/** 2^k for the integer k ∈ [−150, 128] held in the bits of kb = k + ROUND_MAGIC, as 2^k1 · 2^k2 (both normal). */
@inline function pow2_split(kb: v128, second: bool): v128 {
  const ki = i32x4.sub(kb, i32x4.splat(0x4b400000)); // the bits of ROUND_MAGIC
  const k1 = i32x4.shr_s(ki, 1);
  const e = second ? i32x4.sub(ki, k1) : k1;
  return i32x4.shl(i32x4.add(e, i32x4.splat(127)), 23);
}

/** e^x per lane (see the comment above). */
@global @inline function exp_f32x4(x: v128): v128 {
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO)); // pmin/pmax: one instruction each, NaN passes through
  const kb = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const k = f32x4.sub(kb, f32x4.splat(ROUND_MAGIC)); // round(x·log2 e), as f32
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)));
  const er = f32x4.add(expm1_reduced(r), f32x4.splat(1));
  const y = f32x4.mul(f32x4.mul(er, pow2_split(kb, false)), pow2_split(kb, true));
  return v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(EXP_HI)));
}

/** e^x − 1 per lane, accurate near 0 (no cancellation): 2^k·(e^r − 1) + (2^k − 1). */
@global @inline function expm1_f32x4(x: v128): v128 {
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO)); // pmin/pmax: one instruction each, NaN passes through
  const kb = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const k = f32x4.sub(kb, f32x4.splat(ROUND_MAGIC)); // round(x·log2 e), as f32
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)));
  const t = f32x4.mul(pow2_split(kb, false), pow2_split(kb, true));
  const y = madd(t, expm1_reduced(r), f32x4.sub(t, f32x4.splat(1)));
  return v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(EXP_HI)));
}

/** Scalar e^x through the vector code (lane 0), for tails and per-row scalars. */
@global @inline function exp_f32(x: f32): f32 {
  return f32x4.extract_lane(exp_f32x4(f32x4.splat(x)), 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Per-lane activation math (forward from x, backward as documented per kernel).

@inline function relu_x4(x: v128): v128 {
  return f32x4.pmax(x, f32x4.splat(0)); // x < 0 ? 0 : x: NaN propagates, as in TensorFlow
}

@inline function leaky_relu_x4(x: v128, alpha: v128): v128 {
  return v128.bitselect(x, f32x4.mul(x, alpha), f32x4.gt(x, f32x4.splat(0)));
}

/** ELU: x > 0 ? x : α·(e^x − 1). expm1 runs on min(x, 0) so large x never reaches inf. */
@inline function elu_x4(x: v128, alpha: v128): v128 {
  const neg = f32x4.mul(alpha, expm1_f32x4(f32x4.pmin(x, f32x4.splat(0))));
  return v128.bitselect(x, neg, f32x4.gt(x, f32x4.splat(0)));
}

/** σ(x) = 1 / (1 + e^−x): e^−x = inf for x < −88.7 gives exactly 0, never NaN. */
@global @inline function sigmoid_x4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp_f32x4(f32x4.neg(x))));
}

/** tanh(x) = sign(x)·m/(m + 2), m = e^{2|x|} − 1; |x| is capped at 9.5 where tanh already rounds to 1. */
@global @inline function tanh_x4(x: v128): v128 {
  const a = f32x4.pmin(f32x4.abs(x), f32x4.splat(9.5));
  const m = expm1_f32x4(f32x4.add(a, a));
  const t = f32x4.div(m, f32x4.add(m, f32x4.splat(2)));
  return v128.or(t, v128.and(x, i32x4.splat(<i32>0x80000000)));
}

// ---------------------------------------------------------------------------------------------------------------
// Bias: x, y [rows, cols] row-major, b [cols]. Conv (NHWC: rows = n·h·w, cols = channels) and dense layers.

/** y[r, c] = x[r, c] + b[c]. y may be x (in place). */
export function bias_add_f32(rows: i32, cols: i32, x: usize, b: usize, y: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    let c = 0;
    for (; c + 4 <= cols; c += 4) v128.store(at(yr, c), f32x4.add(v128.load(at(xr, c)), v128.load(at(b, c))));
    for (; c < cols; c++) store<f32>(at(yr, c), load<f32>(at(xr, c)) + load<f32>(at(b, c)));
  }
}

/** db[c] = (accumulate ? db[c] : 0) + Σ_r dy[r, c]; dy [rows, cols], db [cols]. Summed row by row in f32. */
export function bias_grad_f32(rows: i32, cols: i32, dy: usize, db: usize, accumulate: i32): void {
  if (!accumulate) memory.fill(db, 0, <usize>cols << 2);
  for (let r = 0; r < rows; r++) {
    const dr = at(dy, r * cols);
    let c = 0;
    for (; c + 4 <= cols; c += 4) v128.store(at(db, c), f32x4.add(v128.load(at(db, c)), v128.load(at(dr, c))));
    for (; c < cols; c++) store<f32>(at(db, c), load<f32>(at(db, c)) + load<f32>(at(dr, c)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Activations: x, y, dy, dx all [n]. Backward reads the input x where the derivative needs only its sign
// (ReLU, LeakyReLU) and the saved output y where that is cheaper than recomputing (ELU, sigmoid, tanh).

/** y = max(x, 0). */
export function relu_forward_f32(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), relu_x4(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), f32x4.extract_lane(relu_x4(f32x4.splat(load<f32>(at(x, i)))), 0));
}

/** From the input x: dx = x > 0 ? dy : 0 (0 at x = 0, as TensorFlow). */
export function relu_backward_f32(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(x, i)), f32x4.splat(0))));
  }
  for (; i < n; i++) store<f32>(at(dx, i), load<f32>(at(x, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}

/** y = x > 0 ? x : α·x. */
export function leaky_relu_forward_f32(n: i32, alpha: f32, x: usize, y: usize): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), leaky_relu_x4(v128.load(at(x, i)), a));
  for (; i < n; i++) store<f32>(at(y, i), f32x4.extract_lane(leaky_relu_x4(f32x4.splat(load<f32>(at(x, i))), a), 0));
}

/** From the input x: dx = x > 0 ? dy : α·dy. */
export function leaky_relu_backward_f32(n: i32, alpha: f32, x: usize, dy: usize, dx: usize): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const g = v128.load(at(dy, i));
    v128.store(at(dx, i), v128.bitselect(g, f32x4.mul(g, a), f32x4.gt(v128.load(at(x, i)), f32x4.splat(0))));
  }
  for (; i < n; i++) {
    const g = load<f32>(at(dy, i));
    store<f32>(at(dx, i), load<f32>(at(x, i)) > 0 ? g : g * alpha);
  }
}

/** y = x > 0 ? x : α·(e^x − 1), α > 0. */
export function elu_forward_f32(n: i32, alpha: f32, x: usize, y: usize): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), elu_x4(v128.load(at(x, i)), a));
  for (; i < n; i++) store<f32>(at(y, i), f32x4.extract_lane(elu_x4(f32x4.splat(load<f32>(at(x, i))), a), 0));
}

/** From the output y (α > 0, so y > 0 ⇔ x > 0): dx = y > 0 ? dy : dy·(y + α), since d/dx α(e^x − 1) = y + α. */
export function elu_backward_f32(n: i32, alpha: f32, y: usize, dy: usize, dx: usize): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const yv = v128.load(at(y, i)), g = v128.load(at(dy, i));
    v128.store(at(dx, i), v128.bitselect(g, f32x4.mul(g, f32x4.add(yv, a)), f32x4.gt(yv, f32x4.splat(0))));
  }
  for (; i < n; i++) {
    const yv = load<f32>(at(y, i)), g = load<f32>(at(dy, i));
    store<f32>(at(dx, i), yv > 0 ? g : g * (yv + alpha));
  }
}

/** y = 1 / (1 + e^−x). */
export function sigmoid_forward_f32(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), sigmoid_x4(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), f32x4.extract_lane(sigmoid_x4(f32x4.splat(load<f32>(at(x, i)))), 0));
}

/** From the output y: dx = dy·y·(1 − y). */
export function sigmoid_backward_f32(n: i32, y: usize, dy: usize, dx: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const yv = v128.load(at(y, i));
    v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.mul(yv, f32x4.sub(f32x4.splat(1), yv))));
  }
  for (; i < n; i++) {
    const yv = load<f32>(at(y, i));
    store<f32>(at(dx, i), load<f32>(at(dy, i)) * (yv * (1 - yv)));
  }
}

/** y = tanh(x). */
export function tanh_forward_f32(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), tanh_x4(v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), f32x4.extract_lane(tanh_x4(f32x4.splat(load<f32>(at(x, i)))), 0));
}

/** From the output y: dx = dy·(1 − y²), computed as (1 − y)(1 + y): 1 − y is exact near |y| = 1, 1 − y·y is not. */
export function tanh_backward_f32(n: i32, y: usize, dy: usize, dx: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const yv = v128.load(at(y, i));
    const one = f32x4.splat(1);
    v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.mul(f32x4.sub(one, yv), f32x4.add(one, yv))));
  }
  for (; i < n; i++) {
    const yv = load<f32>(at(y, i));
    store<f32>(at(dx, i), load<f32>(at(dy, i)) * ((1 - yv) * (1 + yv)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Elementwise vector ops: every operand [n]; y may be any of the inputs. Argument order as the other vector
// kernels (reduce.ts, optim.ts): pointers, then n, then the scalar.

/** y = a + b. */
export function add_f32(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}

/** y += x (gradient accumulation). */
export function add_acc_f32(x: usize, y: usize, n: i32): void {
  add_f32(y, x, y, n);
}

/** y = a · b. */
export function mul_f32(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(a, i)) * load<f32>(at(b, i)));
}

/** y = α·x (a scaled copy; scale_inplace_f32 in reduce.ts is the in-place form). */
export function scale_copy_f32(x: usize, y: usize, n: i32, alpha: f32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(x, i)), a));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) * alpha);
}

/** y += α·x (fused multiply-add in the relaxed-SIMD build, so the last bit may differ between builds). */
export function axpy_f32(x: usize, y: usize, n: i32, alpha: f32): void {
  const a = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), madd(v128.load(at(x, i)), a, v128.load(at(y, i))));
  for (; i < n; i++) store<f32>(at(y, i), f32x4.extract_lane(madd(f32x4.splat(load<f32>(at(x, i))), a, f32x4.splat(load<f32>(at(y, i)))), 0));
}
