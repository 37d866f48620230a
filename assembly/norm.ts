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

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  else return f32x4.add(f32x4.mul(a, b), c);
}

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
// (alpha is not divided by the window size, unlike Caffe/PyTorch). Window sums run in f64, added and
// removed as the window slides (each f32 square is exact in f64). Scalar: LRN is AlexNet's, and rare.
// s^(-beta) has exact fast paths for beta = 0.5, 0.75 (AlexNet), 1; otherwise exp(-beta·ln s) below,
// written out here because AssemblyScript's Math.pow/exp/log use lookup tables (static data).

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

/** s^(-beta) for s ≥ 0. */
@inline function powNeg(s: f64, beta: f64): f64 {
  if (beta == 0.75) return 1 / Math.sqrt(s * Math.sqrt(s));
  if (beta == 0.5) return 1 / Math.sqrt(s);
  if (beta == 1) return 1 / s;
  if (s == 0) return beta > 0 ? Infinity : beta == 0 ? 1 : 0;
  if (!(s < Infinity)) return beta > 0 ? 0 : beta == 0 ? 1 : Infinity; // +inf, or NaN → NaN below
  return expSmall(-beta * lnPositive(s));
}

@inline function sq(p: usize): f64 {
  const v = <f64>load<f32>(p);
  return v * v;
}

/** Bytes of scratch lrn_backward_f32 needs for c channels (one f64 [c] row). */
export function lrn_scratch_bytes(c: i32): i32 {
  return 8 * c;
}

/** y = x·(bias + alpha·Σ_window x²)^(-beta), window = channels i-radius..i+radius; x, y: [rows, c]; y must not overlap x. */
export function lrn_forward_f32(desc: usize, x: usize, y: usize): void {
  const rows = descI32(desc, LRN_ROWS), c = descI32(desc, LRN_C), radius = descI32(desc, LRN_RADIUS);
  const bias = descF32(desc, LRN_BIAS), alpha = descF32(desc, LRN_ALPHA), beta = descF32(desc, LRN_BETA);
  const rowBytes = <usize>c << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, yr = y + <usize>r * rowBytes;
    let window = 0.0; // Σ x[j]² for j in [i - radius, i + radius] ∩ [0, c)
    for (let j = 0; j <= radius && j < c; j++) window += sq(xr + (<usize>j << 2));
    for (let i = 0; i < c; i++) {
      const o = <usize>i << 2;
      const xi = load<f32>(xr + o);
      const s = <f64>bias + <f64>alpha * Math.max(window, 0);
      const add = i + radius + 1, drop = i - radius;
      if (add < c) window += sq(xr + (<usize>add << 2));
      if (drop >= 0) window -= sq(xr + (<usize>drop << 2));
      store<f32>(yr + o, <f32>(<f64>xi * powNeg(s, beta)));
    }
  }
}

/**
 * LRN backward: with s as in the forward and t[i] = dy[i]·x[i]·s[i]^(-beta-1),
 *   dx[j] = dy[j]·s[j]^(-beta) - 2·alpha·beta·x[j]·Σ_{i=j-radius}^{j+radius} t[i]
 * x, dy, dx: [rows, c]; dx may be dy. scratch: lrn_scratch_bytes(c), 8-byte aligned (t, one row, f64).
 */
export function lrn_backward_f32(desc: usize, x: usize, dy: usize, dx: usize, scratch: usize): void {
  const rows = descI32(desc, LRN_ROWS), c = descI32(desc, LRN_C), radius = descI32(desc, LRN_RADIUS);
  const bias = descF32(desc, LRN_BIAS), alpha = descF32(desc, LRN_ALPHA), beta = descF32(desc, LRN_BETA);
  const rowBytes = <usize>c << 2;
  const k = 2.0 * <f64>alpha * <f64>beta;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes, dyr = dy + <usize>r * rowBytes, dxr = dx + <usize>r * rowBytes;
    // pass 1: dx[i] = dy[i]·s^(-beta), t[i] = dy[i]·x[i]·s^(-beta)/s
    let window = 0.0;
    for (let j = 0; j <= radius && j < c; j++) window += sq(xr + (<usize>j << 2));
    for (let i = 0; i < c; i++) {
      const o = <usize>i << 2;
      const s = <f64>bias + <f64>alpha * Math.max(window, 0);
      const add = i + radius + 1, drop = i - radius;
      if (add < c) window += sq(xr + (<usize>add << 2));
      if (drop >= 0) window -= sq(xr + (<usize>drop << 2));
      const pw = powNeg(s, beta), g = <f64>load<f32>(dyr + o);
      store<f64>(scratch + (<usize>i << 3), g * <f64>load<f32>(xr + o) * pw / s);
      store<f32>(dxr + o, <f32>(g * pw));
    }
    // pass 2: dx[j] -= 2·alpha·beta·x[j]·Σ_window t
    let tw = 0.0;
    for (let j = 0; j <= radius && j < c; j++) tw += load<f64>(scratch + (<usize>j << 3));
    for (let i = 0; i < c; i++) {
      const o = <usize>i << 2;
      const v = <f64>load<f32>(dxr + o) - k * <f64>load<f32>(xr + o) * tw;
      const add = i + radius + 1, drop = i - radius;
      if (add < c) tw += load<f64>(scratch + (<usize>add << 3));
      if (drop >= 0) tw -= load<f64>(scratch + (<usize>drop << 3));
      store<f32>(dxr + o, <f32>v);
    }
  }
}
