// Direct convolution for few input channels (groups = 1, cin ≤ CONV_SMALL_CIN_MAX): LeNet's 28×28×1 5×5 and
// the 3-channel first convs. There im2col + GEMM is a poor fit: K = kh·kw·cin is short (25 for 5×5×1), so
// every GEMM call packs more than it multiplies, and im2col copies each input float kh·kw times. These
// kernels read x (or dy) in place through tables of offsets, with the weights (a few KiB) packed once per call.
//
// Shapes as in assembly/conv.ts: x, dx [n, h, w, cin]; y, dy [n, oh, ow, cout]; w, dw [kh, kw, cin, cout]
// viewed as [K, cout] with K = kh·kw·cin, tap t = (ky·kw + kx)·cin + c. Per image (P = oh·ow pixels):
//   forward   y[p, :]  = bias + Σ_t x̃[base(p) + off(t)]·w[t, :]        (4 pixels × 8 channels per micro-tile)
//   filter    dw[t, :] += Σ_p x̃[base(p) + off(t)]·dy[p, :]              (4 taps × 8 channels per micro-tile)
//   data      dx[iy, ix, c] = Σ_{o, ky, kx} dỹ[o, iy + (kh−1−ky)·dh, ix + (kw−1−kx)·dw]·w[ky, kx, c, o]
//             (stride 1 only; micro-tile: 16 consecutive ix of rows iy and iy + dh, which share dỹ rows)
// x̃ is the image zero-padded into scratch (Hp × Wp × cin, Hp = (oh−1)·sh + (kh−1)·dh + 1, Wp likewise; x
// itself when there is no padding), so every window lies inside it and the inner loops have no bounds:
// base(p) = (oy·sh·Wp + ox·sw)·cin, off(t) = (ky·dh·Wp + kx·dw)·cin + c. Forward and filter gradient are the
// same product, A[i, k] = x̃[rowOff(i) + colOff(k)] times a [k, 8] panel, with rows and columns swapped: the
// GEMM's 5×8 register tile (assembly/gemm.ts) without a col matrix or packing of A.
// dỹ is dy of one image transposed to channel-major [cout, Hd, Wd] and zero-padded by (kh−1)·dh − padTop
// rows and (kw−1)·dw − padLeft columns, so the data gradient is a correlation that runs SIMD along a dx row
// (cin ≤ 4: vectors over channels would be mostly empty). Hd = h + kh·dh, Wd = ⌈w/16⌉·16 + (kw−1)·dw.
//
// Channels past cout in the last 8-block are computed on zero weights (forward) or zero dy (filter) and not
// stored. Remainder micro-tiles repeat their last pixel or tap and store only the real ones. Scratch holds
// one image's worth (conv_small_scratch_bytes), never the batch.
import { descI32, CONV_N, CONV_H, CONV_W, CONV_CIN, CONV_OH, CONV_OW, CONV_COUT, CONV_KH, CONV_KW, CONV_STRIDE_H, CONV_STRIDE_W,
  CONV_PAD_TOP, CONV_PAD_LEFT, CONV_DILATION_H, CONV_DILATION_W, CONV_GROUPS, CONV_SMALL_CIN_MAX } from './abi';
import { madd, at, align64 } from './simd';
import { NB, packPanels, storeLanes, addLanes } from './panel';

/** Pixels (forward) or taps (filter gradient) per micro-tile; a micro-tile's channels are one panel (NB). */
const TILE: i32 = 4;
/** dx pixels along a row per data-gradient micro-tile (four vectors, for each of two rows). */
const XB: i32 = 16;

/** Whether the direct kernels take this geometry at all (the data gradient also needs stride 1). */
export function conv_small_applies(desc: usize): bool {
  return descI32(desc, CONV_GROUPS) == 1 && descI32(desc, CONV_CIN) <= CONV_SMALL_CIN_MAX;
}

export function conv_small_data_applies(desc: usize): bool {
  return conv_small_applies(desc) && descI32(desc, CONV_STRIDE_H) == 1 && descI32(desc, CONV_STRIDE_W) == 1;
}

/** Padded image rows/columns every window fits in. */
function paddedH(desc: usize): i32 {
  return (descI32(desc, CONV_OH) - 1) * descI32(desc, CONV_STRIDE_H) + (descI32(desc, CONV_KH) - 1) * descI32(desc, CONV_DILATION_H) + 1;
}
function paddedW(desc: usize): i32 {
  return (descI32(desc, CONV_OW) - 1) * descI32(desc, CONV_STRIDE_W) + (descI32(desc, CONV_KW) - 1) * descI32(desc, CONV_DILATION_W) + 1;
}
/** x can be read in place (row stride w): no padding on the top/left and every window inside the image. */
function inPlace(desc: usize): bool {
  return descI32(desc, CONV_PAD_TOP) == 0 && descI32(desc, CONV_PAD_LEFT) == 0 &&
    paddedH(desc) <= descI32(desc, CONV_H) && paddedW(desc) <= descI32(desc, CONV_W);
}
function taps(desc: usize): i32 {
  return descI32(desc, CONV_KH) * descI32(desc, CONV_KW) * descI32(desc, CONV_CIN);
}
function blocks(desc: usize): i32 {
  return (descI32(desc, CONV_COUT) + NB - 1) / NB;
}

// Scratch layouts (each region 64-byte aligned):
//   forward  [padded image | tap offsets (K i32) | packed w (blocks·K·8) | packed bias (blocks·8) | pixel offsets (P + 4 i32)]
//   filter   [padded image | tap offsets | pixel offsets (P i32) | packed dy (blocks·P·8; cout % 8 ≠ 0 only)]
//   data     [dỹ (cout·Hd·Wd) | two XB-float row tiles | per channel c a tap table (cout·(kh+1)·kw entries of 16 bytes)]
function imageBytes(desc: usize): usize {
  return inPlace(desc) ? 0 : align64(<usize>paddedH(desc) * paddedW(desc) * descI32(desc, CONV_CIN) * 4);
}
function forwardBytes(desc: usize): usize {
  const k = <usize>taps(desc), nb = <usize>blocks(desc), p = <usize>descI32(desc, CONV_OH) * descI32(desc, CONV_OW);
  return imageBytes(desc) + align64(k * 4) + align64(nb * k * NB * 4) + align64(nb * NB * 4) + align64((p + TILE) * 4);
}
function filterBytes(desc: usize): usize {
  const k = <usize>taps(desc), p = <usize>descI32(desc, CONV_OH) * descI32(desc, CONV_OW);
  const packDy = descI32(desc, CONV_COUT) % NB != 0 ? align64(<usize>blocks(desc) * p * NB * 4) : 0;
  return imageBytes(desc) + align64(k * 4) + align64(p * 4) + packDy;
}
function dataHd(desc: usize): i32 {
  return descI32(desc, CONV_H) + descI32(desc, CONV_KH) * descI32(desc, CONV_DILATION_H); // + dh: row pairs' B rows
}
function dataWd(desc: usize): i32 {
  return (descI32(desc, CONV_W) + XB - 1) / XB * XB + (descI32(desc, CONV_KW) - 1) * descI32(desc, CONV_DILATION_W);
}
function dataBytes(desc: usize): usize {
  const cout = <usize>descI32(desc, CONV_COUT);
  return align64(cout * dataHd(desc) * dataWd(desc) * 4) + XB * 8 +
    <usize>descI32(desc, CONV_CIN) * cout * (descI32(desc, CONV_KH) + 1) * descI32(desc, CONV_KW) * 16;
}

/** Scratch bytes of the direct kernels: forward (which 0), backward-data (1), backward-filter (2). */
export function conv_small_scratch_bytes(desc: usize, which: i32): usize {
  return which == 0 ? forwardBytes(desc) : which == 1 ? dataBytes(desc) : filterBytes(desc);
}

/** Image b of x zero-padded into dst (Hp × Wp × cin), or x's own image when it can be read in place. Row stride out. */
function paddedImage(desc: usize, x: usize, b: i32, dst: usize): usize {
  const h = descI32(desc, CONV_H), w = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const src = at(x, <usize>b * h * w * cin);
  if (inPlace(desc)) return src;
  const hp = paddedH(desc), wp = paddedW(desc), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const rowFloats = wp * cin;
  memory.fill(dst, 0, <usize>hp * rowFloats * 4);
  const cols = min(w, wp - pl); // input columns inside the padded width (bottom/right windows may stop short)
  for (let r = 0; r < hp; r++) {
    const iy = r - pt;
    if (iy < 0 || iy >= h || cols <= 0) continue;
    memory.copy(at(dst, (<usize>r * wp + pl) * cin), at(src, <usize>iy * w * cin), <usize>cols * cin * 4);
  }
  return dst;
}

/** The padded image's row stride in floats/cin: Wp, or w when x is read in place. */
function rowStride(desc: usize): i32 {
  return inPlace(desc) ? descI32(desc, CONV_W) : paddedW(desc);
}

/** off[t] in bytes for every tap t = (ky·kw + kx)·cin + c. */
function tapOffsets(desc: usize, off: usize): void {
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW), cin = descI32(desc, CONV_CIN);
  const dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W), rs = rowStride(desc);
  let t = 0;
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) for (let c = 0; c < cin; c++) {
    store<i32>(off + (<usize>t << 2), ((ky * dh * rs + kx * dw) * cin + c) << 2);
    t++;
  }
}

/** Byte offset of output pixel p's window origin in the padded image. */
// @ts-ignore: decorator
@inline function pixelOffset(p: i32, ow: i32, sh: i32, sw: i32, rs: i32, cin: i32): i32 {
  const oy = p / ow, ox = p - oy * ow;
  return ((oy * sh * rs + ox * sw) * cin) << 2;
}

/**
 * One forward micro-tile: pixels at x0..x3 (byte addresses of their window origins) × one 8-channel panel
 * wq [K, 8], starting from the panel's bias; stores `rows` pixel rows (y rows yRow bytes apart) of `cols` channels.
 */
function forwardTile(off: usize, offEnd: usize, wq: usize, bq: usize, x0: usize, x1: usize, x2: usize, x3: usize,
  dst: usize, yRow: usize, rows: i32, cols: i32, act: i32): void {
  const b0 = v128.load(bq), b1 = v128.load(bq, 16);
  let c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
  for (let t = off; t < offEnd; t += 4) {
    const o = <usize>load<i32>(t);
    const w0 = v128.load(wq), w1 = v128.load(wq, 16);
    let a = v128.load32_splat(x0 + o); c00 = madd(a, w0, c00); c01 = madd(a, w1, c01);
    a = v128.load32_splat(x1 + o); c10 = madd(a, w0, c10); c11 = madd(a, w1, c11);
    a = v128.load32_splat(x2 + o); c20 = madd(a, w0, c20); c21 = madd(a, w1, c21);
    a = v128.load32_splat(x3 + o); c30 = madd(a, w0, c30); c31 = madd(a, w1, c31);
    wq += NB << 2;
  }
  if (act == 1) {
    const zero = f32x4.splat(0);
    c00 = f32x4.max(c00, zero); c01 = f32x4.max(c01, zero); c10 = f32x4.max(c10, zero); c11 = f32x4.max(c11, zero);
    c20 = f32x4.max(c20, zero); c21 = f32x4.max(c21, zero); c30 = f32x4.max(c30, zero); c31 = f32x4.max(c31, zero);
  }
  storeLanes(dst, c00, c01, cols);
  if (rows > 1) storeLanes(dst + yRow, c10, c11, cols);
  if (rows > 2) storeLanes(dst + 2 * yRow, c20, c21, cols);
  if (rows > 3) storeLanes(dst + 3 * yRow, c30, c31, cols);
}

/** y = conv(x, w) (+ bias) then ReLU when act == 1; the direct form of conv2d_forward_f32. */
export function conv_small_forward(desc: usize, x: usize, w: usize, bias: usize, y: usize, act: i32, scratch: usize): void {
  const n = descI32(desc, CONV_N), cin = descI32(desc, CONV_CIN), oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW);
  const cout = descI32(desc, CONV_COUT), sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W);
  const k = taps(desc), nb = blocks(desc), p = oh * ow, rs = rowStride(desc);
  const img = scratch, off = img + imageBytes(desc), wp = off + align64(<usize>k * 4), bp = wp + align64(<usize>nb * k * NB * 4);
  const pix = bp + align64(<usize>nb * NB * 4);
  tapOffsets(desc, off);
  // Window origins once per call (four divisions per tile cost as much as LeNet c1's 25-tap tile itself); the
  // last tile's missing pixels repeat the last one.
  for (let i = 0; i < p + TILE; i++) store<i32>(pix + (<usize>i << 2), pixelOffset(min(i, p - 1), ow, sh, sw, rs, cin));
  packPanels(w, k, cout, cout, wp);
  if (bias) packPanels(bias, 1, cout, cout, bp); else memory.fill(bp, 0, <usize>nb * NB * 4);
  const offEnd = off + (<usize>k << 2), panelBytes = <usize>k * NB * 4;
  const yRow = <usize>cout << 2;
  for (let b = 0; b < n; b++) {
    const src = paddedImage(desc, x, b, img);
    let yImg = at(y, <usize>b * p * cout);
    for (let p0 = 0; p0 < p; p0 += TILE) {
      const rows = min(TILE, p - p0);
      const pp = pix + (<usize>p0 << 2);
      const x0 = src + <usize>load<i32>(pp), x1 = src + <usize>load<i32>(pp, 4);
      const x2 = src + <usize>load<i32>(pp, 8), x3 = src + <usize>load<i32>(pp, 12);
      for (let q = 0; q < nb; q++) {
        forwardTile(off, offEnd, wp + <usize>q * panelBytes, bp + (<usize>q << 5), x0, x1, x2, x3,
          yImg + (<usize>q << 5), yRow, rows, min(NB, cout - q * NB), act);
      }
      yImg += <usize>rows * yRow;
    }
  }
}

/**
 * One filter-gradient micro-tile: taps at o0..o3 (image address + tap offset) × one 8-channel dy panel (rows
 * dyStep bytes apart), summed over the pixels whose window offsets are pix[..]; adds `rows` × `cols` into dw.
 */
function filterTile(pix: usize, pixEnd: usize, d: usize, dyStep: usize, o0: usize, o1: usize, o2: usize, o3: usize,
  dst: usize, dwRow: usize, rows: i32, cols: i32): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
  for (let pp = pix; pp < pixEnd; pp += 4) {
    const base = <usize>load<i32>(pp);
    const d0 = v128.load(d), d1 = v128.load(d, 16);
    let a = v128.load32_splat(o0 + base); c00 = madd(a, d0, c00); c01 = madd(a, d1, c01);
    a = v128.load32_splat(o1 + base); c10 = madd(a, d0, c10); c11 = madd(a, d1, c11);
    a = v128.load32_splat(o2 + base); c20 = madd(a, d0, c20); c21 = madd(a, d1, c21);
    a = v128.load32_splat(o3 + base); c30 = madd(a, d0, c30); c31 = madd(a, d1, c31);
    d += dyStep;
  }
  addLanes(dst, c00, c01, cols);
  if (rows > 1) addLanes(dst + dwRow, c10, c11, cols);
  if (rows > 2) addLanes(dst + 2 * dwRow, c20, c21, cols);
  if (rows > 3) addLanes(dst + 3 * dwRow, c30, c31, cols);
}

/** dw [K, cout] (+)= Σ_p x̃[base(p) + off(t)]·dy[p, :]; the direct form of conv2d_backward_filter_f32. */
export function conv_small_backward_filter(desc: usize, x: usize, dy: usize, dw: usize, accumulate: i32, scratch: usize): void {
  const n = descI32(desc, CONV_N), cin = descI32(desc, CONV_CIN), oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW);
  const cout = descI32(desc, CONV_COUT), sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W);
  const k = taps(desc), nb = blocks(desc), p = oh * ow, rs = rowStride(desc);
  const img = scratch, off = img + imageBytes(desc), pix = off + align64(<usize>k * 4), packed = pix + align64(<usize>p * 4);
  const packDy = cout % NB != 0;
  if (!accumulate) memory.fill(dw, 0, <usize>k * cout * 4);
  tapOffsets(desc, off);
  for (let i = 0; i < p; i++) store<i32>(pix + (<usize>i << 2), pixelOffset(i, ow, sh, sw, rs, cin));
  const pixEnd = pix + (<usize>p << 2);
  const dwRow = <usize>cout << 2;
  for (let b = 0; b < n; b++) {
    const src = paddedImage(desc, x, b, img);
    const dyImg = at(dy, <usize>b * p * cout);
    if (packDy) packPanels(dyImg, p, cout, cout, packed);
    // dy panel q: packed rows of 8, or dy itself (row stride cout) when cout is a multiple of 8
    const dyStep: usize = packDy ? <usize>(NB << 2) : dwRow;
    for (let t0 = 0; t0 < k; t0 += TILE) {
      const rows = min(TILE, k - t0);
      const o0 = src + <usize>load<i32>(off + (<usize>t0 << 2));
      const o1 = src + <usize>load<i32>(off + (<usize>min(t0 + 1, k - 1) << 2));
      const o2 = src + <usize>load<i32>(off + (<usize>min(t0 + 2, k - 1) << 2));
      const o3 = src + <usize>load<i32>(off + (<usize>min(t0 + 3, k - 1) << 2));
      for (let q = 0; q < nb; q++) {
        filterTile(pix, pixEnd, packDy ? packed + <usize>q * p * (NB << 2) : dyImg + (<usize>q << 5), dyStep, o0, o1, o2, o3,
          at(dw, <usize>t0 * cout + q * NB), dwRow, rows, min(NB, cout - q * NB));
      }
    }
  }
}

/** dx = ∂(Σ y·dy)/∂x for stride 1 (conv_small_data_applies); the direct form of conv2d_backward_data_f32. */
export function conv_small_backward_data(desc: usize, dy: usize, w: usize, dx: usize, scratch: usize): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT);
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), ddw = descI32(desc, CONV_DILATION_W);
  const hd = dataHd(desc), wdd = dataWd(desc), ty = (kh - 1) * dh - pt, tx = (kw - 1) * ddw - pl;
  const plane = <usize>hd * wdd; // floats of one channel of dỹ
  const dyt = scratch, tile = scratch + align64(<usize>cout * plane * 4), tables = tile + XB * 8;
  const sect = <usize>cout * kw * 16, tableBytes = <usize>cout * (kh + 1) * kw * 16;
  // Per channel c, per tap (o, m, kx) with m = 0..kh: dỹ row iy + m·dh feeds row A = iy through ky = kh−1−m and
  // row B = iy + dh through ky = kh−m. Entry: [dỹ byte offset from dỹ[0, iy, ix0], wA, wB, unused], in three
  // sections so that no FMA multiplies a zero weight: m = 0 (A only), m = 1..kh−1 (both), m = kh (B only).
  for (let c = 0; c < cin; c++) {
    const t0 = tables + <usize>c * tableBytes;
    for (let o = 0; o < cout; o++) for (let m = 0; m <= kh; m++) for (let kx = 0; kx < kw; kx++) {
      const e = m == 0 ? t0 + <usize>(o * kw + kx) * 16 : m == kh ? t0 + tableBytes - sect + <usize>(o * kw + kx) * 16
        : t0 + sect + <usize>((o * (kh - 1) + m - 1) * kw + kx) * 16;
      store<i32>(e, <i32>((<usize>o * plane + <usize>m * dh * wdd + (kw - 1 - kx) * ddw) << 2));
      store<f32>(e, m < kh ? load<f32>(at(w, (<usize>((kh - 1 - m) * kw + kx) * cin + c) * cout + o)) : 0, 4);
      store<f32>(e, m > 0 ? load<f32>(at(w, (<usize>((kh - m) * kw + kx) * cin + c) * cout + o)) : 0, 8);
      store<f32>(e, 0, 12);
    }
  }
  for (let b = 0; b < n; b++) {
    // dỹ[o, oy + ty, ox + tx] = dy[b, oy, ox, o] where that lies inside [0, Hd) × [0, Wd); 0 elsewhere
    memory.fill(dyt, 0, <usize>cout * plane * 4);
    const oyLo = max(0, -ty), oyHi = min(oh, hd - ty), oxLo = max(0, -tx), oxHi = min(ow, wdd - tx);
    for (let oy = oyLo; oy < oyHi; oy++) {
      transposeRow(at(dy, ((<usize>b * oh + oy) * ow + oxLo) * cout), at(dyt, <usize>(oy + ty) * wdd + (oxLo + tx)), oxHi - oxLo, cout, plane << 2);
    }
    const dxImg = at(dx, <usize>b * h * wd * cin);
    for (let c = 0; c < cin; c++) {
      const table = tables + <usize>c * tableBytes;
      for (let iy = 0; iy < h; iy++) {
        if ((iy / dh) & 1) continue; // rows iy and iy + dh go together
        const pairB = iy + dh < h;
        for (let ix0 = 0; ix0 < wd; ix0 += XB) {
          const row = at(dyt, <usize>iy * wdd + ix0), cols = min(XB, wd - ix0);
          // the row's last tile computes only the vectors it stores (28 columns: 16 + 12)
          if (cols > 12) dataTile(row, table, sect, tableBytes, tile, 4);
          else if (cols > 8) dataTile(row, table, sect, tableBytes, tile, 3);
          else if (cols > 4) dataTile(row, table, sect, tableBytes, tile, 2);
          else dataTile(row, table, sect, tableBytes, tile, 1);
          storeRow(at(dxImg, (<usize>iy * wd + ix0) * cin + c), tile, cols, cin);
          if (pairB) storeRow(at(dxImg, (<usize>(iy + dh) * wd + ix0) * cin + c), tile + XB * 4, cols, cin);
        }
      }
    }
  }
}

/**
 * One data-gradient micro-tile: nv (1..4, a constant at each call) vectors of dx rows A and B from the dỹ rows
 * at `row`, through the three table sections (A only: [0, sect); both: [sect, bytes − sect); B only: the rest).
 * Stores row A's vectors at tile and row B's at tile + 64.
 */
// @ts-ignore: decorator
@inline function dataTile(row: usize, table: usize, sect: usize, bytes: usize, tile: usize, nv: i32): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  const both = table + sect, onlyB = table + bytes - sect, end = table + bytes;
  for (let e = table; e < both; e += 16) {
    const s = row + <usize>load<i32>(e), wa = v128.load32_splat(e, 4);
    a0 = madd(wa, v128.load(s), a0);
    if (nv > 1) a1 = madd(wa, v128.load(s, 16), a1);
    if (nv > 2) a2 = madd(wa, v128.load(s, 32), a2);
    if (nv > 3) a3 = madd(wa, v128.load(s, 48), a3);
  }
  for (let e = both; e < onlyB; e += 16) {
    const s = row + <usize>load<i32>(e);
    const wa = v128.load32_splat(e, 4), wb = v128.load32_splat(e, 8);
    const v0 = v128.load(s);
    a0 = madd(wa, v0, a0); b0 = madd(wb, v0, b0);
    if (nv > 1) { const v1 = v128.load(s, 16); a1 = madd(wa, v1, a1); b1 = madd(wb, v1, b1); }
    if (nv > 2) { const v2 = v128.load(s, 32); a2 = madd(wa, v2, a2); b2 = madd(wb, v2, b2); }
    if (nv > 3) { const v3 = v128.load(s, 48); a3 = madd(wa, v3, a3); b3 = madd(wb, v3, b3); }
  }
  for (let e = onlyB; e < end; e += 16) {
    const s = row + <usize>load<i32>(e), wb = v128.load32_splat(e, 8);
    b0 = madd(wb, v128.load(s), b0);
    if (nv > 1) b1 = madd(wb, v128.load(s, 16), b1);
    if (nv > 2) b2 = madd(wb, v128.load(s, 32), b2);
    if (nv > 3) b3 = madd(wb, v128.load(s, 48), b3);
  }
  v128.store(tile, a0); v128.store(tile, a1, 16); v128.store(tile, a2, 32); v128.store(tile, a3, 48);
  v128.store(tile, b0, 64); v128.store(tile, b1, 80); v128.store(tile, b2, 96); v128.store(tile, b3, 112);
}

/**
 * One row of dy into dỹ: dst[o·plane + j] = src[j·cout + o] for j < cols, o < cout — 4 pixels × 4 channels by
 * shuffles, the channels past a multiple of 4 and the last pixels one by one. Scalar, this copy cost a third of
 * the data gradient at 5×5 1 → 32 (one move per 6¼ FMA vectors).
 */
function transposeRow(src: usize, dst: usize, cols: i32, cout: i32, planeBytes: usize): void {
  const c4 = cout & ~3, stride = <usize>cout << 2;
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    const s = src + <usize>j * stride, d = dst + (<usize>j << 2);
    for (let o = 0; o < c4; o += 4) {
      const so = s + (<usize>o << 2), dd = d + <usize>o * planeBytes;
      const r0 = v128.load(so), r1 = v128.load(so + stride), r2 = v128.load(so + 2 * stride), r3 = v128.load(so + 3 * stride);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      v128.store(dd, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(dd + planeBytes, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(dd + 2 * planeBytes, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(dd + 3 * planeBytes, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (let o = c4; o < cout; o++) {
      const so = s + (<usize>o << 2), dd = d + <usize>o * planeBytes;
      store<f32>(dd, load<f32>(so)); store<f32>(dd, load<f32>(so + stride), 4);
      store<f32>(dd, load<f32>(so + 2 * stride), 8); store<f32>(dd, load<f32>(so + 3 * stride), 12);
    }
  }
  for (; j < cols; j++) {
    for (let o = 0; o < cout; o++) store<f32>(dst + <usize>o * planeBytes + (<usize>j << 2), load<f32>(src + <usize>j * stride + (<usize>o << 2)));
  }
}

/** dst[j·cin] = src[j] for j < cols (one channel of a dx row). */
function storeRow(dst: usize, src: usize, cols: i32, cin: i32): void {
  if (cin == 1) { memory.copy(dst, src, <usize>cols << 2); return; }
  for (let j = 0; j < cols; j++) store<f32>(at(dst, <usize>j * cin), load<f32>(at(src, j)));
}
