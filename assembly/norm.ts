// Normalization: batch norm and local response normalization (LRN), forward and backward side by side.
// Activations are NHWC viewed as rows × channels: x, y, dy, dx: [rows, c] with rows = n·h·w (dense: rows = n),
// channel fastest. Per-channel vectors gamma, beta, mean, invstd, running_mean, running_var, dgamma, dbeta: [c].
//
// Sizes and coefficients travel in a descriptor of 4-byte slots, as for convolution (assembly/conv.ts), and the
// call carries only tensor pointers (plus the per-call accumulate flag): batch norm's 13 positional arguments
// put two f32 coefficients among eleven pointers and sizes, where a swap type-checks. Slot orders:
// scripts/abi.mjs, generated into assembly/abi.ts and src/engine/generated/abi.ts (writeBatchnormDesc,
// writeLrnDesc); a layer writes its descriptors at plan time. Each kernel loads its fields once, at the top.
//   batchnorm desc = rows, c (i32), eps, momentum (f32)        lrn desc = rows, c, radius (i32), bias, alpha, beta (f32)
import {
  descI32, descF32, BATCHNORM_ROWS, BATCHNORM_C, BATCHNORM_EPS, BATCHNORM_MOMENTUM,
  LRN_ROWS, LRN_C, LRN_RADIUS, LRN_BIAS, LRN_ALPHA, LRN_BETA,
} from './abi';
import { madd } from './simd';

@inline function hi2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 2, 3);
}

// ---------------------------------------------------------------------------------------------------------
// Batch norm. Scratch (batchnorm_scratch_bytes(c), 8-byte aligned): two f64 [c] sums, then three f32 [c].
// Per-channel sums run row by row (streaming x once per pass) into the f64 sums, so the mean and variance
// keep f64 accuracy at any batch size; the variance is two-pass, Σ(x - μ)², never E[x²] - μ².

/** Bytes of scratch every batchnorm_* kernel needs for c channels. */
export function batchnorm_scratch_bytes(c: i32): i32 {
  return 28 * c;
}

@inline function sumA(scratch: usize, ch: i32): usize { return scratch + (<usize>ch << 3); }
@inline function sumB(scratch: usize, c: i32, ch: i32): usize { return scratch + (<usize>(c + ch) << 3); }
@inline function vec(scratch: usize, c: i32, which: i32, ch: i32): usize {
  return scratch + (<usize>c << 4) + (<usize>(which * c + ch) << 2);
}

/** f64 acc[ch..ch+3] += the four lanes of v (f32), at acc. */
@inline function accumulate4(acc: usize, v: v128): void {
  v128.store(acc, f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(v)));
  v128.store(acc + 16, f64x2.add(v128.load(acc + 16), f64x2.promote_low_f32x4(hi2(v))));
}

/** f64 acc[ch..ch+3] += a·b lane by lane, the product taken in f64 (exact for f32 inputs). */
@inline function accumulateProduct4(acc: usize, a: v128, b: v128): void {
  v128.store(acc, f64x2.add(v128.load(acc), f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b))));
  v128.store(acc + 16, f64x2.add(v128.load(acc + 16), f64x2.mul(f64x2.promote_low_f32x4(hi2(a)), f64x2.promote_low_f32x4(hi2(b)))));
}

function zeroF64(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 3);
}

/**
 * Training forward. mean, invstd ← the batch's per-channel mean and 1/sqrt(biased var + eps) (saved for
 * backward); y = gamma·(x - mean)·invstd + beta. Running statistics follow PyTorch's convention:
 *   running_mean = (1 - momentum)·running_mean + momentum·mean
 *   running_var  = (1 - momentum)·running_var  + momentum·var·rows/(rows - 1)   (unbiased; rows = 1: var)
 * (Keras' momentum is 1 - PyTorch's; momentum = 0 leaves the running statistics as they are.) y may be x.
 */
export function batchnorm_train_forward_f32(desc: usize, x: usize, y: usize, gamma: usize, beta: usize,
  mean: usize, invstd: usize, running_mean: usize, running_var: usize, scratch: usize): void {
  const rows = descI32(desc, BATCHNORM_ROWS), c = descI32(desc, BATCHNORM_C), eps = descF32(desc, BATCHNORM_EPS);
  const momentum = descF32(desc, BATCHNORM_MOMENTUM);
  const rowBytes = <usize>c << 2;
  const c4 = c & ~3;
  // pass 1: Σ x per channel
  zeroF64(scratch, c);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let ch = 0;
    for (; ch < c4; ch += 4) accumulate4(sumA(scratch, ch), v128.load(xr + (<usize>ch << 2)));
    for (; ch < c; ch++) store<f64>(sumA(scratch, ch), load<f64>(sumA(scratch, ch)) + <f64>load<f32>(xr + (<usize>ch << 2)));
  }
  for (let ch = 0; ch < c; ch++) store<f32>(mean + (<usize>ch << 2), <f32>(load<f64>(sumA(scratch, ch)) / rows));
  // pass 2: Σ (x - mean)² per channel
  zeroF64(scratch, c);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let ch = 0;
    for (; ch < c4; ch += 4) {
      const d = f32x4.sub(v128.load(xr + (<usize>ch << 2)), v128.load(mean + (<usize>ch << 2)));
      accumulateProduct4(sumA(scratch, ch), d, d);
    }
    for (; ch < c; ch++) {
      const d = <f64>(load<f32>(xr + (<usize>ch << 2)) - load<f32>(mean + (<usize>ch << 2)));
      store<f64>(sumA(scratch, ch), load<f64>(sumA(scratch, ch)) + d * d);
    }
  }
  const m = <f64>momentum, unbias = rows > 1 ? <f64>rows / <f64>(rows - 1) : 1.0;
  for (let ch = 0; ch < c; ch++) {
    const o = <usize>ch << 2;
    const variance = load<f64>(sumA(scratch, ch)) / rows;
    const is = 1.0 / Math.sqrt(variance + <f64>eps);
    store<f32>(invstd + o, <f32>is);
    store<f32>(vec(scratch, c, 0, ch), <f32>(<f64>load<f32>(gamma + o) * is));
    store<f32>(running_mean + o, <f32>((1 - m) * load<f32>(running_mean + o) + m * load<f32>(mean + o)));
    store<f32>(running_var + o, <f32>((1 - m) * load<f32>(running_var + o) + m * variance * unbias));
  }
  normalizeRows(x, y, rows, c, mean, vec(scratch, c, 0, 0), beta);
}

/** y = (x - mean)·scale + beta per channel; y may be x. */
function normalizeRows(x: usize, y: usize, rows: i32, c: i32, mean: usize, scale: usize, beta: usize): void {
  const rowBytes = <usize>c << 2;
  const c4 = c & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, yr = y + <usize>r * rowBytes;
    let ch = 0;
    for (; ch < c4; ch += 4) {
      const o = <usize>ch << 2;
      const d = f32x4.sub(v128.load(xr + o), v128.load(mean + o));
      v128.store(yr + o, madd(d, v128.load(scale + o), v128.load(beta + o)));
    }
    for (; ch < c; ch++) {
      const o = <usize>ch << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - load<f32>(mean + o)) * load<f32>(scale + o) + load<f32>(beta + o));
    }
  }
}

/** Inference forward: y = gamma·(x - running_mean)/sqrt(running_var + eps) + beta. y may be x. */
export function batchnorm_infer_forward_f32(desc: usize, x: usize, y: usize, gamma: usize, beta: usize,
  running_mean: usize, running_var: usize, scratch: usize): void {
  const rows = descI32(desc, BATCHNORM_ROWS), c = descI32(desc, BATCHNORM_C), eps = descF32(desc, BATCHNORM_EPS);
  for (let ch = 0; ch < c; ch++) {
    const o = <usize>ch << 2;
    const is = 1.0 / Math.sqrt(<f64>load<f32>(running_var + o) + <f64>eps);
    store<f32>(vec(scratch, c, 0, ch), <f32>(<f64>load<f32>(gamma + o) * is));
  }
  normalizeRows(x, y, rows, c, running_mean, vec(scratch, c, 0, 0), beta);
}

/**
 * Backward of the training forward, from its saved mean and invstd. With x̂ = (x - mean)·invstd, N = rows:
 *   dbeta = Σ_rows dy,  dgamma = Σ_rows dy·x̂        (added to dgamma/dbeta when accumulate ≠ 0)
 *   dx = gamma·invstd·(dy - dbeta/N - x̂·dgamma/N)   (this batch's dgamma/dbeta; the running stats' update
 *                                                     has no gradient). dx may be dy.
 */
export function batchnorm_backward_f32(desc: usize, x: usize, dy: usize, dx: usize, gamma: usize,
  mean: usize, invstd: usize, dgamma: usize, dbeta: usize, accumulate: i32, scratch: usize): void {
  const rows = descI32(desc, BATCHNORM_ROWS), c = descI32(desc, BATCHNORM_C);
  const rowBytes = <usize>c << 2;
  const c4 = c & ~3;
  zeroF64(scratch, 2 * c);
  // Σ dy and Σ dy·(x - mean) per channel, in f64
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, dyr = dy + <usize>r * rowBytes;
    let ch = 0;
    for (; ch < c4; ch += 4) {
      const o = <usize>ch << 2;
      const g = v128.load(dyr + o);
      accumulate4(sumA(scratch, ch), g);
      accumulateProduct4(sumB(scratch, c, ch), g, f32x4.sub(v128.load(xr + o), v128.load(mean + o)));
    }
    for (; ch < c; ch++) {
      const o = <usize>ch << 2;
      const g = <f64>load<f32>(dyr + o), d = <f64>(load<f32>(xr + o) - load<f32>(mean + o));
      store<f64>(sumA(scratch, ch), load<f64>(sumA(scratch, ch)) + g);
      store<f64>(sumB(scratch, c, ch), load<f64>(sumB(scratch, c, ch)) + g * d);
    }
  }
  // dx = k·(dy - a - (x - mean)·b) with k = gamma·invstd, a = Σdy/N, b = invstd²·Σdy(x - mean)/N
  for (let ch = 0; ch < c; ch++) {
    const o = <usize>ch << 2;
    const is = <f64>load<f32>(invstd + o);
    const sdy = load<f64>(sumA(scratch, ch)), sdyd = load<f64>(sumB(scratch, c, ch));
    const dg = <f32>(sdyd * is), db = <f32>sdy;
    store<f32>(dgamma + o, accumulate ? load<f32>(dgamma + o) + dg : dg);
    store<f32>(dbeta + o, accumulate ? load<f32>(dbeta + o) + db : db);
    store<f32>(vec(scratch, c, 0, ch), <f32>(<f64>load<f32>(gamma + o) * is));
    store<f32>(vec(scratch, c, 1, ch), <f32>(sdy / rows));
    store<f32>(vec(scratch, c, 2, ch), <f32>(is * is * sdyd / rows));
  }
  const kp = vec(scratch, c, 0, 0), ap = vec(scratch, c, 1, 0), bp = vec(scratch, c, 2, 0);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, dyr = dy + <usize>r * rowBytes, dxr = dx + <usize>r * rowBytes;
    let ch = 0;
    for (; ch < c4; ch += 4) {
      const o = <usize>ch << 2;
      const d = f32x4.sub(v128.load(xr + o), v128.load(mean + o));
      const t = f32x4.sub(f32x4.sub(v128.load(dyr + o), v128.load(ap + o)), f32x4.mul(d, v128.load(bp + o)));
      v128.store(dxr + o, f32x4.mul(v128.load(kp + o), t));
    }
    for (; ch < c; ch++) {
      const o = <usize>ch << 2;
      const d = load<f32>(xr + o) - load<f32>(mean + o);
      store<f32>(dxr + o, load<f32>(kp + o) * (load<f32>(dyr + o) - load<f32>(ap + o) - d * load<f32>(bp + o)));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// LRN, TensorFlow's tf.nn.local_response_normalization: across channels within each row (pixel),
//   s[i] = bias + alpha·Σ_{j=max(0,i-r)}^{min(c-1,i+r)} x[j]²,   y[i] = x[i]·s[i]^(-beta)
// (alpha is not divided by the window size, unlike Caffe/PyTorch).
// SIMD over 4 channels i..i+3 of a row: the window sum is 2r+1 unaligned loads of x (squared) where the
// whole window lies inside the row, per-lane bounded sums at the row's ends; f32 sums of 2r+1 squares
// (relative error ≤ (2r+1)·2⁻²⁴, the old f64 sliding sums measured 0.4 GFLOP/s on AlexNet's LRN).
// s^(-beta) (powNegV): exact special cases beta = 0.75 (AlexNet: r·√r with r = 1/√s, which cannot overflow
// the way (s·√s) does), 0.5 and 1; otherwise exp(−beta·ln s) with f32 Cephes-style polynomials (about
// 2 ulp each), and the f64 scalar path below for any lane outside their range (s subnormal,
// |beta·ln s| > 87) and for a whole vector whose f32 s overflowed (its sums then redone in f64).
// AssemblyScript's Math.pow/exp/log use lookup tables (static data), hence our own.

const LN2_HI: f64 = 6.93147180369123816490e-01, LN2_LO: f64 = 1.90821492927058770002e-10;

/** ln s for finite s > 0, to about 1e-15 relative: s = m·2^e, m ∈ [√½, √2), ln m = 2·atanh((m-1)/(m+1)). */
function lnPositive(s: f64): f64 {
  let e: i64 = 0;
  if (s < 2.2250738585072014e-308) { s *= 18014398509481984.0; e = -54; } // subnormal: scale by 2^54
  const bits = reinterpret<u64>(s);
  e += <i64>(bits >> 52) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) { m *= 0.5; e++; }
  const f = (m - 1) / (m + 1), f2 = f * f;
  const series = 1 + f2 * (1.0 / 3 + f2 * (1.0 / 5 + f2 * (1.0 / 7 + f2 * (1.0 / 9 + f2 * (1.0 / 11 + f2 * (1.0 / 13 + f2 * (1.0 / 15 + f2 / 17)))))));
  const k = <f64>e;
  return k * LN2_HI + (2 * f * series + k * LN2_LO);
}

/** 2^j for j in [-1022, 1023]. */
@inline function pow2(j: i32): f64 {
  return reinterpret<f64>(<u64>(j + 1023) << 52);
}

/** e^t to about 1e-15 relative: t = k·ln2 + r, |r| ≤ ln2/2, e^r by its Taylor series to r^13. */
function expSmall(t: f64): f64 {
  if (t > 709.782712893384) return Infinity;
  if (t < -745.2) return 0;
  if (t != t) return t;
  const k = Math.floor(t * 1.4426950408889634 + 0.5);
  const r = (t - k * LN2_HI) - k * LN2_LO;
  let p = 1.0 / 6227020800; // 1/13!
  p = p * r + 1.0 / 479001600; p = p * r + 1.0 / 39916800; p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880; p = p * r + 1.0 / 40320; p = p * r + 1.0 / 5040; p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120; p = p * r + 1.0 / 24; p = p * r + 1.0 / 6; p = p * r + 0.5; p = p * r + 1; p = p * r + 1;
  const ki = <i32>k, half = ki >> 1;
  return p * pow2(half) * pow2(ki - half);
}

/** s^(-beta) for s ≥ 0, in f64 (the scalar tail and the lanes powNegV leaves to it). */
function powNeg(s: f64, beta: f64): f64 {
  if (beta == 0.75) return 1 / Math.sqrt(s * Math.sqrt(s));
  if (beta == 0.5) return 1 / Math.sqrt(s);
  if (beta == 1) return 1 / s;
  if (s == 0) return beta > 0 ? Infinity : beta == 0 ? 1 : 0;
  if (!(s < Infinity)) return beta > 0 ? 0 : beta == 0 ? 1 : Infinity; // +inf, or NaN → NaN below
  return expSmall(-beta * lnPositive(s));
}

/** ln s, lane-wise, for normal finite s > 0 (Cephes logf: s = m·2^e, m ∈ [√½, √2), degree-9 polynomial in m − 1). */
@inline function logV(s: v128): v128 {
  const bits = s;
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(127));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000)); // [1, 2)
  const big = f32x4.gt(m, f32x4.splat(1.41421356));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are −1: e + 1
  const f = f32x4.sub(m, f32x4.splat(1)), z = f32x4.mul(f, f);
  let p = f32x4.splat(7.0376836292e-2);
  p = madd(p, f, f32x4.splat(-1.1514610310e-1)); p = madd(p, f, f32x4.splat(1.1676998740e-1));
  p = madd(p, f, f32x4.splat(-1.2420140846e-1)); p = madd(p, f, f32x4.splat(1.4249322787e-1));
  p = madd(p, f, f32x4.splat(-1.6668057665e-1)); p = madd(p, f, f32x4.splat(2.0000714765e-1));
  p = madd(p, f, f32x4.splat(-2.4999993993e-1)); p = madd(p, f, f32x4.splat(3.3333331174e-1));
  const ef = f32x4.convert_i32x4_s(e);
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = madd(ef, f32x4.splat(-2.12194440e-4), y);
  y = madd(z, f32x4.splat(-0.5), y);
  return madd(ef, f32x4.splat(0.693359375), f32x4.add(f, y));
}

/** e^t, lane-wise, for |t| ≤ 87 (Cephes expf: t = n·ln2 + r, degree-5 polynomial, then 2^n into the exponent). */
@inline function expV(t: v128): v128 {
  const n = f32x4.nearest(f32x4.mul(t, f32x4.splat(1.44269504088896341)));
  let r = madd(n, f32x4.splat(-0.693359375), t);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3)); p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2)); p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(madd(p, f32x4.mul(r, r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

/** s^(-beta) lane-wise for s ≥ 0 (see the section header). */
@inline function powNegV(s: v128, beta: f32): v128 {
  if (beta == 0.75) { const r = f32x4.div(f32x4.splat(1), f32x4.sqrt(s)); return f32x4.mul(r, f32x4.sqrt(r)); }
  if (beta == 0.5) return f32x4.div(f32x4.splat(1), f32x4.sqrt(s));
  if (beta == 1) return f32x4.div(f32x4.splat(1), s);
  const inRange = v128.and(f32x4.ge(s, f32x4.splat(1.17549435e-38)), f32x4.le(s, f32x4.splat(3.40282347e38)));
  if (i32x4.all_true(inRange)) {
    const t = f32x4.mul(f32x4.splat(-beta), logV(s));
    if (i32x4.all_true(f32x4.le(f32x4.abs(t), f32x4.splat(87)))) return expV(t);
  }
  let out = f32x4.splat(0);
  out = f32x4.replace_lane(out, 0, <f32>powNeg(<f64>f32x4.extract_lane(s, 0), beta));
  out = f32x4.replace_lane(out, 1, <f32>powNeg(<f64>f32x4.extract_lane(s, 1), beta));
  out = f32x4.replace_lane(out, 2, <f32>powNeg(<f64>f32x4.extract_lane(s, 2), beta));
  out = f32x4.replace_lane(out, 3, <f32>powNeg(<f64>f32x4.extract_lane(s, 3), beta));
  return out;
}

/** s[i] = bias + alpha·Σ_window x² for one channel, in f64 (the scalar tail, and vectors whose f32 s overflowed). */
function lrnS64(xr: usize, i: i32, c: i32, r: i32, bias: f32, alpha: f32): f64 {
  let w = 0.0;
  const hi = min(c - 1, i + r);
  for (let j = max(0, i - r); j <= hi; j++) { const a = <f64>load<f32>(xr + (<usize>j << 2)); w += a * a; }
  return <f64>bias + <f64>alpha * w;
}

/** Whether every lane of s is below +∞ (a window of huge x can overflow f32's x², where f64 does not). */
@inline function allFinite(s: v128): bool {
  return i32x4.all_true(f32x4.lt(s, f32x4.splat(Infinity)));
}

/** Σ_{j=max(0,i-r)}^{min(c-1,i+r)} v[j]·v[j] (square) or v[j] (plain), one channel i, in f32 like the vector sums. */
@inline function windowAt(v: usize, i: i32, c: i32, r: i32, square: bool): f32 {
  let s: f32 = 0;
  const hi = min(c - 1, i + r);
  for (let j = max(0, i - r); j <= hi; j++) {
    const a = load<f32>(v + (<usize>j << 2));
    s += square ? a * a : a;
  }
  return s;
}

/**
 * The window sums of channels i..i+3 of one row v (squared when `square`): 2r+1 vector loads where
 * i − r ≥ 0 and i + 3 + r < c, per-lane bounded sums otherwise. Lanes past c are not read (i + 4 ≤ c).
 */
@inline function windowV(v: usize, i: i32, c: i32, r: i32, square: bool): v128 {
  if (i >= r && i + 3 + r < c) {
    let p = v + (<usize>(i - r) << 2);
    const end = v + (<usize>(i + r) << 2);
    let acc = f32x4.splat(0);
    for (; p <= end; p += 4) {
      const a = v128.load(p);
      acc = square ? madd(a, a, acc) : f32x4.add(acc, a);
    }
    return acc;
  }
  let out = f32x4.splat(windowAt(v, i, c, r, square));
  out = f32x4.replace_lane(out, 1, windowAt(v, i + 1, c, r, square));
  out = f32x4.replace_lane(out, 2, windowAt(v, i + 2, c, r, square));
  out = f32x4.replace_lane(out, 3, windowAt(v, i + 3, c, r, square));
  return out;
}

/** Bytes of scratch lrn_backward_f32 needs for c channels (one f32 [c] row of t, and room to spare). */
export function lrn_scratch_bytes(c: i32): i32 {
  return 8 * c;
}

/** Channels [i0, i1) of one LRN row in f64. */
function lrnForwardScalar(xr: usize, yr: usize, i0: i32, i1: i32, c: i32, r: i32, bias: f32, alpha: f32, beta: f32): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(yr + o, <f32>(<f64>load<f32>(xr + o) * powNeg(lrnS64(xr, i, c, r, bias, alpha), beta)));
  }
}

/** Pass 1 of the backward for channels [i0, i1) in f64: dx = dy·s^(-beta), t = dy·x·s^(-beta)/s. */
function lrnBackwardScalar(xr: usize, dyr: usize, dxr: usize, t: usize, i0: i32, i1: i32, c: i32, r: i32, bias: f32, alpha: f32, beta: f32): void {
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const s = lrnS64(xr, i, c, r, bias, alpha), p = powNeg(s, beta), g = <f64>load<f32>(dyr + o);
    store<f32>(t + o, <f32>(g * <f64>load<f32>(xr + o) * p / s));
    store<f32>(dxr + o, <f32>(g * p));
  }
}

/** y = x·(bias + alpha·Σ_window x²)^(-beta), window = channels i-radius..i+radius; x, y: [rows, c]; y must not overlap x. */
export function lrn_forward_f32(desc: usize, x: usize, y: usize): void {
  const rows = descI32(desc, LRN_ROWS), c = descI32(desc, LRN_C), radius = min(descI32(desc, LRN_RADIUS), c);
  const bias = descF32(desc, LRN_BIAS), alpha = descF32(desc, LRN_ALPHA), beta = descF32(desc, LRN_BETA);
  const rowBytes = <usize>c << 2, c4 = c & ~3;
  const bv = f32x4.splat(bias), av = f32x4.splat(alpha);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, yr = y + <usize>r * rowBytes;
    let i = 0;
    for (; i < c4; i += 4) {
      const o = <usize>i << 2;
      const s = madd(av, windowV(xr, i, c, radius, true), bv);
      if (!allFinite(s)) { lrnForwardScalar(xr, yr, i, i + 4, c, radius, bias, alpha, beta); continue; }
      v128.store(yr + o, f32x4.mul(v128.load(xr + o), powNegV(s, beta)));
    }
    lrnForwardScalar(xr, yr, i, c, c, radius, bias, alpha, beta);
  }
}

/**
 * LRN backward: with s as in the forward and t[i] = dy[i]·x[i]·s[i]^(-beta-1),
 *   dx[j] = dy[j]·s[j]^(-beta) - 2·alpha·beta·x[j]·Σ_{i=j-radius}^{j+radius} t[i]
 * x, dy, dx: [rows, c]; dx may be dy. scratch: lrn_scratch_bytes(c), 4-byte aligned (t, one row, f32: t must fit
 * f32, which only absurd inputs break, e.g. bias < 1e-30 with |x| > 0).
 */
export function lrn_backward_f32(desc: usize, x: usize, dy: usize, dx: usize, scratch: usize): void {
  const rows = descI32(desc, LRN_ROWS), c = descI32(desc, LRN_C), radius = min(descI32(desc, LRN_RADIUS), c);
  const bias = descF32(desc, LRN_BIAS), alpha = descF32(desc, LRN_ALPHA), beta = descF32(desc, LRN_BETA);
  const rowBytes = <usize>c << 2, c4 = c & ~3;
  const k: f32 = 2 * alpha * beta;
  const bv = f32x4.splat(bias), av = f32x4.splat(alpha), kv = f32x4.splat(k);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, dyr = dy + <usize>r * rowBytes, dxr = dx + <usize>r * rowBytes;
    // pass 1: dx[i] = dy[i]·s^(-beta), t[i] = dy[i]·x[i]·s^(-beta)/s
    let i = 0;
    for (; i < c4; i += 4) {
      const o = <usize>i << 2;
      const s = madd(av, windowV(xr, i, c, radius, true), bv);
      if (!allFinite(s)) { lrnBackwardScalar(xr, dyr, dxr, scratch, i, i + 4, c, radius, bias, alpha, beta); continue; }
      const p = powNegV(s, beta), g = v128.load(dyr + o);
      v128.store(scratch + o, f32x4.div(f32x4.mul(f32x4.mul(g, v128.load(xr + o)), p), s));
      v128.store(dxr + o, f32x4.mul(g, p));
    }
    lrnBackwardScalar(xr, dyr, dxr, scratch, i, c, c, radius, bias, alpha, beta);
    // pass 2: dx[j] -= 2·alpha·beta·x[j]·Σ_window t
    for (i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const tw = windowV(scratch, i, c, radius, false);
      v128.store(dxr + o, f32x4.sub(v128.load(dxr + o), f32x4.mul(kv, f32x4.mul(v128.load(xr + o), tw))));
    }
    for (; i < c; i++) {
      const o = <usize>i << 2;
      store<f32>(dxr + o, load<f32>(dxr + o) - k * load<f32>(xr + o) * windowAt(scratch, i, c, radius, false));
    }
  }
}
