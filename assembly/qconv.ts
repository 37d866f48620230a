// Quantized (int8) convolution helpers and the element-wise int8 ops of quantized inference. NHWC, per-tensor
// activation parameters (real = scale·(q − zero)), per-output-channel weights (see assembly/qgemm.ts for the
// algebra, the QPARAM record and MulQ).
//   im2col_s8     col [G, P, K] int8 from x [n, h, w, cin] int8 (the conv descriptor of assembly/conv.ts; padding
//                 taps are the input's zero point zx, so they stand for real 0 and the GEMM needs no correction)
//   dwconv_s8     depthwise conv (groups == cin, output channel j reads input channel j / mult), direct:
//                 acc_j = bias_j + Σ_taps (qx − zx)·qw_j over the taps inside the image, then requant as the GEMM
//   maxpool_s8    max over each window's real cells (the pool descriptor; input and output share their parameters)
//   avgpool_s8    mean over each window's real cells, rounded half away from zero (TFLite), same parameters
//   add_s8        TFLite's int8 add (the qadd descriptor): both inputs brought to a common 2^left-scaled integer
//                 scale by their multipliers, summed, requantized to the output, clamped (a fused ReLU: lo = zy)
//   quantize_f32_s8 / dequantize_s8_f32   the graph's edges: q = clamp(nearest(x·(1/scale)) + zero), r = (q − zero)·scale
// Every kernel here is exact integer arithmetic (the f32 ones: one f32 multiply, then ties-to-even), so the
// TypeScript references (src/ref/qconv.ts) match them bit for bit.
import {
  descI32, CONV_N, CONV_H, CONV_W, CONV_CIN, CONV_OH, CONV_OW, CONV_COUT, CONV_KH, CONV_KW, CONV_STRIDE_H, CONV_STRIDE_W,
  CONV_PAD_TOP, CONV_PAD_LEFT, CONV_DILATION_H, CONV_DILATION_W, CONV_GROUPS,
  POOL_N, POOL_H, POOL_W, POOL_C, POOL_KH, POOL_KW, POOL_STRIDE_H, POOL_STRIDE_W, POOL_PAD_TOP, POOL_PAD_LEFT, POOL_OH, POOL_OW,
  QADD_ZA, QADD_MULT_A, QADD_SHIFT_A, QADD_ZB, QADD_MULT_B, QADD_SHIFT_B, QADD_ZY, QADD_MULT_Y, QADD_SHIFT_Y, QADD_LO, QADD_HI, QADD_LEFT,
  QPARAM_BYTES,
} from './abi';
import { mulq } from './qmath';

// @ts-ignore: decorator
@inline function clampI8(v: i32, lo: i32, hi: i32): i8 { return <i8>(v < lo ? lo : v > hi ? hi : v); }

/**
 * Copies n bytes from s to d (regions apart) with v128 moves, the last 16 (or 8, 4) bytes overlapping the run
 * before them. im2col copies runs of kw·cin bytes (21 in ResNet-18's first conv, 48 in ResNet-20's), where a
 * memory.copy costs a call out of the compiled code per run (docs/int8.md, Speed).
 */
// @ts-ignore: decorator
@inline function copyRun(d: usize, s: usize, n: usize): void {
  if (n >= 16) {
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) v128.store(d + i, v128.load(s + i));
    if (i < n) v128.store(d + n - 16, v128.load(s + n - 16));
  } else if (n >= 8) {
    store<u64>(d, load<u64>(s)); store<u64>(d + n - 8, load<u64>(s + n - 8));
  } else if (n >= 4) {
    store<u32>(d, load<u32>(s)); store<u32>(d + n - 4, load<u32>(s + n - 4));
  } else {
    for (let i: usize = 0; i < n; i++) store<u8>(d + i, load<u8>(s + i));
  }
}

/** Fills n bytes at d with byte v, as copyRun copies. */
// @ts-ignore: decorator
@inline function fillRun(d: usize, v: i32, n: usize): void {
  if (n >= 16) {
    const x = i8x16.splat(<i8>v);
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) v128.store(d + i, x);
    if (i < n) v128.store(d + n - 16, x);
  } else {
    for (let i: usize = 0; i < n; i++) store<u8>(d + i, <u8>v);
  }
}

/** col [G, P, K] = im2col(x) in int8, padding taps = zx; K = kh·kw·cin/G, col[g, p, (ky·kw + kx)·cinG + c]. */
export function im2col_s8(desc: usize, x: usize, col: usize, zx: i32): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), w = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W), groups = descI32(desc, CONV_GROUPS);
  const cinG = cin / groups, k = kh * kw * cinG, contiguous = groups == 1 && dw == 1;
  let dst = col;
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
      for (let ky = 0; ky < kh; ky++) {
        const iy = iy0 + ky * dh, d = dst + <usize>(ky * kw * cinG);
        if (iy < 0 || iy >= h) { fillRun(d, zx, <usize>(kw * cinG)); continue; }
        const row = x + <usize>((b * h + iy) * w) * cin;
        if (contiguous) {
          // taps kx in [lo, hi) are inside: one run of (hi − lo)·cin bytes
          let lo = 0, hi = kw;
          while (lo < kw && ix0 + lo < 0) lo++;
          while (hi > lo && ix0 + hi - 1 >= w) hi--;
          if (lo > 0) fillRun(d, zx, <usize>(lo * cin));
          if (hi > lo) copyRun(d + <usize>(lo * cin), row + <usize>((ix0 + lo) * cin), <usize>((hi - lo) * cin));
          if (hi < kw) fillRun(d + <usize>(hi * cin), zx, <usize>((kw - hi) * cin));
        } else {
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * dw, dk = d + <usize>(kx * cinG);
            if (ix < 0 || ix >= w) fillRun(dk, zx, <usize>cinG);
            else copyRun(dk, row + <usize>(ix * cin + g * cinG), <usize>cinG);
          }
        }
      }
      dst += <usize>k;
    }
  }
}

/**
 * Depthwise conv in int8 (groups == cin; mult = cout / cin): w [kh, kw, 1, cout] int8, q: cout QPARAM records
 * (bias without any zero-point fold: the taps are (qx − zx)), y [n, oh, ow, cout] int8 (zy, clamp [lo, hi]).
 */
export function dwconv_s8(desc: usize, x: usize, w: usize, q: usize, zx: i32, zy: i32, lo: i32, hi: i32, y: usize): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W), mult = cout / cin;
  let out = y;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    for (let j = 0; j < cout; j++) {
      const qj = q + <usize>j * QPARAM_BYTES, c = j / mult;
      let acc = load<i32>(qj);
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dw;
          if (ix < 0 || ix >= wd) continue;
          const xv = <i32>load<i8>(x + <usize>(((b * h + iy) * wd + ix) * cin + c)) - zx;
          acc += xv * <i32>load<i8>(w + <usize>((ky * kw + kx) * cout + j));
        }
      }
      store<i8>(out + <usize>j, clampI8(zy + mulq(acc, load<i32>(qj, 4), load<i32>(qj, 8)), lo, hi));
    }
    out += <usize>cout;
  }
}

/** y = max of each window's real cells (int8; an empty window gives −128, never from a valid geometry). */
export function maxpool_s8(desc: usize, x: usize, y: usize): void {
  const n = descI32(desc, POOL_N), h = descI32(desc, POOL_H), w = descI32(desc, POOL_W), c = descI32(desc, POOL_C);
  const kh = descI32(desc, POOL_KH), kw = descI32(desc, POOL_KW), sh = descI32(desc, POOL_STRIDE_H), sw = descI32(desc, POOL_STRIDE_W);
  const pt = descI32(desc, POOL_PAD_TOP), pl = descI32(desc, POOL_PAD_LEFT), oh = descI32(desc, POOL_OH), ow = descI32(desc, POOL_OW);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + kh, h), x0 = max(ox * sw - pl, 0), x1 = min(ox * sw - pl + kw, w);
    const o = y + <usize>(((b * oh + oy) * ow + ox) * c);
    let ch = 0;
    for (; ch + 16 <= c; ch += 16) {
      let m = i8x16.splat(-128);
      for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) {
        m = i8x16.max_s(m, v128.load(x + <usize>(((b * h + iy) * w + ix) * c + ch)));
      }
      v128.store(o + <usize>ch, m);
    }
    for (; ch < c; ch++) {
      let m: i32 = -128;
      for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) {
        m = max(m, <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch)));
      }
      store<i8>(o + <usize>ch, <i8>m);
    }
  }
}

/** y = mean of each window's real cells, (sum ± count/2) / count truncated (half away from zero), int8. */
export function avgpool_s8(desc: usize, x: usize, y: usize): void {
  const n = descI32(desc, POOL_N), h = descI32(desc, POOL_H), w = descI32(desc, POOL_W), c = descI32(desc, POOL_C);
  const kh = descI32(desc, POOL_KH), kw = descI32(desc, POOL_KW), sh = descI32(desc, POOL_STRIDE_H), sw = descI32(desc, POOL_STRIDE_W);
  const pt = descI32(desc, POOL_PAD_TOP), pl = descI32(desc, POOL_PAD_LEFT), oh = descI32(desc, POOL_OH), ow = descI32(desc, POOL_OW);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + kh, h), x0 = max(ox * sw - pl, 0), x1 = min(ox * sw - pl + kw, w);
    const count = max(1, (y1 - y0) * (x1 - x0));
    const o = y + <usize>(((b * oh + oy) * ow + ox) * c);
    for (let ch = 0; ch < c; ch++) {
      let s: i32 = 0;
      for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += <i32>load<i8>(x + <usize>(((b * h + iy) * w + ix) * c + ch));
      const v = (s + (s >= 0 ? count / 2 : -(count / 2))) / count;
      store<i8>(o + <usize>ch, clampI8(v, -128, 127));
    }
  }
}

/** MulQ of 4 lanes with one multiplier and shift (bit for bit mulq; see assembly/qgemm.ts store_panel). */
// @ts-ignore: decorator
@inline function mulq4(x: v128, mult: v128, left: i32, right: i32): v128 {
  const nudge = i64x2.splat(<i64>1 << 30), mask = <i32>((<i64>1 << right) - 1);
  const xs = i32x4.shl(x, left);
  const plo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(xs, mult), nudge), 31);
  const phi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(xs, mult), nudge), 31);
  const r = v128.shuffle<i32>(plo, phi, 0, 2, 4, 6);
  const threshold = i32x4.sub(i32x4.splat(mask >> 1), i32x4.lt_s(r, i32x4.splat(0)));
  return i32x4.sub(i32x4.shr_s(r, right), i32x4.gt_s(v128.and(r, i32x4.splat(mask)), threshold));
}

/** y = add(a, b) over n int8 elements with the qadd descriptor p (TFLite's int8 add; see the header); 16 lanes a step. */
export function add_s8(p: usize, n: i32, a: usize, b: usize, y: usize): void {
  const za = descI32(p, QADD_ZA), ma = descI32(p, QADD_MULT_A), sa = descI32(p, QADD_SHIFT_A);
  const zb = descI32(p, QADD_ZB), mb = descI32(p, QADD_MULT_B), sb = descI32(p, QADD_SHIFT_B);
  const zy = descI32(p, QADD_ZY), my = descI32(p, QADD_MULT_Y), sy = descI32(p, QADD_SHIFT_Y);
  const lo = descI32(p, QADD_LO), hi = descI32(p, QADD_HI), left = descI32(p, QADD_LEFT);
  const la = sa > 0 ? sa : 0, ra = sa > 0 ? 0 : -sa, lb = sb > 0 ? sb : 0, rb = sb > 0 ? 0 : -sb, ly = sy > 0 ? sy : 0, ry = sy > 0 ? 0 : -sy;
  const vma = i32x4.splat(ma), vmb = i32x4.splat(mb), vmy = i32x4.splat(my), vza = i32x4.splat(za), vzb = i32x4.splat(zb);
  const vzy = i32x4.splat(zy), vlo = i32x4.splat(lo), vhi = i32x4.splat(hi);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const va = v128.load(a + <usize>i), vb = v128.load(b + <usize>i);
    const a16lo = i16x8.extend_low_i8x16_s(va), a16hi = i16x8.extend_high_i8x16_s(va);
    const b16lo = i16x8.extend_low_i8x16_s(vb), b16hi = i16x8.extend_high_i8x16_s(vb);
    const xa0 = i32x4.extend_low_i16x8_s(a16lo), xa1 = i32x4.extend_high_i16x8_s(a16lo), xa2 = i32x4.extend_low_i16x8_s(a16hi), xa3 = i32x4.extend_high_i16x8_s(a16hi);
    const xb0 = i32x4.extend_low_i16x8_s(b16lo), xb1 = i32x4.extend_high_i16x8_s(b16lo), xb2 = i32x4.extend_low_i16x8_s(b16hi), xb3 = i32x4.extend_high_i16x8_s(b16hi);
    const y0 = sum4(xa0, xb0, vza, vzb, vma, vmb, vmy, left, la, ra, lb, rb, ly, ry, vzy, vlo, vhi);
    const y1 = sum4(xa1, xb1, vza, vzb, vma, vmb, vmy, left, la, ra, lb, rb, ly, ry, vzy, vlo, vhi);
    const y2 = sum4(xa2, xb2, vza, vzb, vma, vmb, vmy, left, la, ra, lb, rb, ly, ry, vzy, vlo, vhi);
    const y3 = sum4(xa3, xb3, vza, vzb, vma, vmb, vmy, left, la, ra, lb, rb, ly, ry, vzy, vlo, vhi);
    v128.store(y + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(y0, y1), i16x8.narrow_i32x4_s(y2, y3)));
  }
  for (; i < n; i++) {
    const va = mulq((<i32>load<i8>(a + <usize>i) - za) << left, ma, sa);
    const vb = mulq((<i32>load<i8>(b + <usize>i) - zb) << left, mb, sb);
    store<i8>(y + <usize>i, clampI8(zy + mulq(va + vb, my, sy), lo, hi));
  }
}

// @ts-ignore: decorator
@inline function sum4(xa: v128, xb: v128, za: v128, zb: v128, ma: v128, mb: v128, my: v128, left: i32,
  la: i32, ra: i32, lb: i32, rb: i32, ly: i32, ry: i32, zy: v128, lo: v128, hi: v128): v128 {
  const sa = mulq4(i32x4.shl(i32x4.sub(xa, za), left), ma, la, ra);
  const sb = mulq4(i32x4.shl(i32x4.sub(xb, zb), left), mb, lb, rb);
  return i32x4.min_s(i32x4.max_s(i32x4.add(mulq4(i32x4.add(sa, sb), my, ly, ry), zy), lo), hi);
}

/** y[i] = clamp(nearest(x[i]·inv) + zero, −128, 127), int8 from f32 (NaN → zero; ties to even). */
export function quantize_f32_s8(n: i32, x: usize, y: usize, inv: f32, zero: i32): void {
  const vi = f32x4.splat(inv), vz = i32x4.splat(zero), big = f32x4.splat(1e6), small = f32x4.splat(-1e6);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const src = x + (<usize>i << 2);
    const q0 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.pmax(f32x4.pmin(f32x4.mul(v128.load(src), vi), big), small))), vz);
    const q1 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.pmax(f32x4.pmin(f32x4.mul(v128.load(src, 16), vi), big), small))), vz);
    const q2 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.pmax(f32x4.pmin(f32x4.mul(v128.load(src, 32), vi), big), small))), vz);
    const q3 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.pmax(f32x4.pmin(f32x4.mul(v128.load(src, 48), vi), big), small))), vz);
    v128.store(y + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  for (; i < n; i++) {
    let v = load<f32>(x + (<usize>i << 2)) * inv;
    if (v != v) v = 0;
    v = min<f32>(max<f32>(v, -1e6), 1e6);
    store<i8>(y + <usize>i, clampI8(<i32>nearest<f32>(v) + zero, -128, 127));
  }
}

/** y[i] = f32(x[i] − zero) · scale, f32 from int8. */
export function dequantize_s8_f32(n: i32, x: usize, y: usize, scale: f32, zero: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>(<i32>load<i8>(x + <usize>i) - zero) * scale);
}
