// Convolution, ggml style: forward is im2col + one GEMM, backward-data is a GEMM + col2im, backward-filter is
// a GEMM of im2colᵀ with dy. All the SIMD effort then lives in gemm_f32; the copies here are SIMD runs of
// contiguous channels. Two paths skip im2col: 1×1 stride-1 unpadded convolution (x already is the col
// matrix) and depthwise convolution (groups == cin > 1), which is direct, SIMD over channels. Convs with few
// input channels (groups 1, cin ≤ CONV_SMALL_CIN_MAX) run the direct kernels of assembly/conv_small.ts per pass
// where they measured faster (smallWins), or as the descriptor's path slot says; with more input channels (groups 1,
// dilation 1) the direct kernels of assembly/conv_direct.ts take their place on the same terms (directWins).
//
// Shapes (NHWC activations, HWIO weights); G = groups, cinG = cin/G, coutG = cout/G, P = n·oh·ow output
// pixels, K = kh·kw·cinG:
//   x, dx   [n, h, w, cin]            y, dy   [n, oh, ow, cout]
//   w, dw   [kh, kw, cinG, cout]      bias    [cout]
//   col     [G, P, K]: col[g, p, (ky·kw + kx)·cinG + c] = x[b, oy·sh − padTop + ky·dh, ox·sw − padLeft + kx·dw,
//           g·cinG + c] for p = (b·oh + oy)·ow + ox, and 0 where that falls outside the image (padding).
// Per group g, with w_g = columns [g·coutG, (g+1)·coutG) of w viewed as a [K, cout] matrix:
//   y_g = col_g · w_g          dcol_g = dy_g · w_gᵀ, dx = col2im(dcol)          dw_g (+)= col_gᵀ · dy_g
// Depthwise (G == cin): output channel j = c·mult + q reads input channel c = j / mult, mult = cout / cin
// (TensorFlow's depthwiseConv2d with filter [kh, kw, cin, mult] has exactly this memory layout).
//
// Geometry travels as a pointer to an i32 descriptor rather than as arguments: every kernel here needs the
// same 17 numbers, and 17 positional arguments in several signatures (tfjs's mistake) invite a swapped
// stride and padding that no type checker sees. The order is fixed once, in scripts/abi.mjs, from which the
// build generates the slot indices read here (assembly/abi.ts) and the one TypeScript writer
// (writeConvDesc in src/engine/generated/abi.ts); a layer writes its descriptor once at plan time.
//   desc[0..16] = n, h, w, cin, oh, ow, cout, kh, kw, strideH, strideW, padTop, padLeft, dilationH,
//                 dilationW, groups, tileRows, path
// padBottom/padRight are implied by oh/ow. tileRows is the number of output pixels handled per GEMM call
// (0: chosen here, see tileRows below); it only bounds scratch and never changes results.
//
// The full col matrix can be huge (3×3, batch 8, 56×56×64: 58 MB), so the GEMM paths work over tiles of
// tileRows output pixels with a bounded scratch: [gemm scratch | col tile (tileRows × K f32)].
import { gemm_f32, gemm_scratch_bytes } from './gemm';
import {
  descI32, CONV_N, CONV_H, CONV_W, CONV_CIN, CONV_OH, CONV_OW, CONV_COUT, CONV_KH, CONV_KW, CONV_STRIDE_H, CONV_STRIDE_W,
  CONV_PAD_TOP, CONV_PAD_LEFT, CONV_DILATION_H, CONV_DILATION_W, CONV_GROUPS, CONV_TILE_ROWS, CONV_PATH,
  CONV_PATH_GEMM, CONV_PATH_DIRECT,
} from './abi';
import {
  conv_small_applies, conv_small_data_applies, conv_small_scratch_bytes, conv_small_forward, conv_small_backward_data,
  conv_small_backward_filter,
} from './conv_small';
import {
  conv_direct_applies, conv_direct_data_applies, conv_direct_scratch_bytes, conv_direct_forward, conv_direct_backward_data,
  conv_direct_backward_filter,
} from './conv_direct';
import { madd, at } from './simd';


/**
 * Default col tile: 2 MiB (910 rows at K = 576). Each tile GEMM repacks w_g, so bigger tiles amortize that;
 * measured with a packed 6×8 GEMM on 3×3 56×56×64→64 batch 8, 227-row tiles ran ~6% (forward) to ~20%
 * (backward-filter) slower than 910, and 1820 rows gained nothing. The tile comes back from L3, not memory.
 */
const COL_TILE_BYTES: i32 = 2 << 20;
/** ...and never fewer rows than this (large K), so each GEMM stays big enough to run at full speed. */
const MIN_TILE_ROWS: i32 = 128;
const ALIGN: usize = 64;

function isDepthwise(desc: usize): bool {
  const g = descI32(desc, CONV_GROUPS);
  return g > 1 && g == descI32(desc, CONV_CIN);
}

/** 1×1, stride 1, no padding: x [P, cin] is already the col matrix (each group a column block of it). */
function isPointwise(desc: usize): bool {
  return descI32(desc, CONV_KH) == 1 && descI32(desc, CONV_KW) == 1 && descI32(desc, CONV_STRIDE_H) == 1 && descI32(desc, CONV_STRIDE_W) == 1 &&
    descI32(desc, CONV_PAD_TOP) == 0 && descI32(desc, CONV_PAD_LEFT) == 0 &&
    descI32(desc, CONV_OH) == descI32(desc, CONV_H) && descI32(desc, CONV_OW) == descI32(desc, CONV_W);
}

function pixels(desc: usize): i32 {
  return descI32(desc, CONV_N) * descI32(desc, CONV_OH) * descI32(desc, CONV_OW);
}

/** K: columns of one group's col matrix. */
function colWidth(desc: usize): i32 {
  return descI32(desc, CONV_KH) * descI32(desc, CONV_KW) * (descI32(desc, CONV_CIN) / descI32(desc, CONV_GROUPS));
}

/** Output pixels per tile: desc's tileRows, or enough rows to fill COL_TILE_BYTES (at least MIN_TILE_ROWS). */
function tileRows(desc: usize): i32 {
  let t = descI32(desc, CONV_TILE_ROWS);
  if (t <= 0) t = max(MIN_TILE_ROWS, COL_TILE_BYTES / (colWidth(desc) << 2));
  return min(t, pixels(desc));
}

/** Bytes at the start of scratch reserved for gemm_f32: the most any of the three tile GEMMs asks for. */
function gemmScratchBytes(desc: usize): usize {
  const t = tileRows(desc), k = colWidth(desc), coutG = descI32(desc, CONV_COUT) / descI32(desc, CONV_GROUPS);
  const fwd = gemm_scratch_bytes(t, coutG, k); // y tile = col tile · w_g
  const bwdData = gemm_scratch_bytes(t, k, coutG); // dcol tile = dy tile · w_gᵀ
  const bwdFilter = gemm_scratch_bytes(k, coutG, t); // dw_g += col tileᵀ · dy tile
  const most = <usize>max(fwd, max(bwdData, bwdFilter));
  return (most + ALIGN - 1) & ~(ALIGN - 1);
}

/** Passes, as conv_small_scratch_bytes and conv_direct_scratch_bytes number them. */
const FORWARD: i32 = 0, BACKWARD_DATA: i32 = 1, BACKWARD_FILTER: i32 = 2;
/** Which kernels run a pass: im2col + GEMM, the small-channel kernels (conv_small.ts) or the direct ones (conv_direct.ts). */
const RUN_GEMM: i32 = 0, RUN_SMALL: i32 = 1, RUN_DIRECT: i32 = 2;

/**
 * The kernels that run pass `which`: the descriptor's path where it names one (CONV_PATH_DIRECT takes the
 * small-channel kernels for cin ≤ CONV_SMALL_CIN_MAX, else the direct ones, where they apply; GEMM otherwise),
 * or where it is CONV_PATH_AUTO, the rules measured in docs/benchmarks.md (kernels, conv-paths).
 */
function runner(desc: usize, which: i32): i32 {
  // The inference-only module (assembly/infer.ts) calls these kernels for grouped convs alone, where neither
  // direct family applies: GEMM here lets asc and binaryen leave both families out of that binary.
  if (isDefined(REDE_INFER_MODULE)) return RUN_GEMM;
  const path = descI32(desc, CONV_PATH);
  if (path == CONV_PATH_GEMM) return RUN_GEMM;
  if (conv_small_applies(desc)) {
    if (which == BACKWARD_DATA && !conv_small_data_applies(desc)) return RUN_GEMM;
    return path == CONV_PATH_DIRECT || smallWins(desc, which) ? RUN_SMALL : RUN_GEMM;
  }
  if (which == BACKWARD_DATA ? !conv_direct_data_applies(desc) : !conv_direct_applies(desc)) return RUN_GEMM;
  return path == CONV_PATH_DIRECT || directWins(desc, which) ? RUN_DIRECT : RUN_GEMM;
}

/**
 * CONV_PATH_AUTO's choice where the direct kernels apply (groups 1, cin ≤ CONV_SMALL_CIN_MAX), from
 * bench/kernels.ts (docs/benchmarks.md, kernels): direct forward and backward-data ran 1.2–3.4× the GEMM path on
 * 3×3 and 5×5 stride-1 convs and matched it on 7×7/2 and 11×11/4 stems; 1×1 convs stay on GEMM (x already is
 * the col matrix there: direct ran 0.3–0.55×). The direct filter gradient won at stride 1 (1.3–3.4×) and lost
 * on the strided stems (0.7×: its per-pixel windows barely overlap, so the GEMM's packed panels read less).
 */
function smallWins(desc: usize, which: i32): bool {
  const pointlike = descI32(desc, CONV_KH) * descI32(desc, CONV_KW) == 1;
  if (which == BACKWARD_FILTER) return descI32(desc, CONV_STRIDE_H) == 1 && descI32(desc, CONV_STRIDE_W) == 1;
  return !pointlike;
}

/**
 * CONV_PATH_AUTO's choice for the direct kernels of conv_direct.ts (groups 1, dilation 1, cin > CONV_SMALL_CIN_MAX),
 * from bench/conv-paths.ts (docs/benchmarks.md, conv-paths; ResNet-20's convs at batch 64): with cout ≤ 32 direct
 * forward and backward-data ran 1.3–1.6× the GEMM path on 3×3 convs and the filter gradient 1.2–1.9× where output
 * rows are ≥ 16 pixels long, 1.2–1.3× on 10- and 13-pixel rows (LeNet-5's c3, an odd 15×13 case); at cout = 64
 * both were even (0.95–1.06×), and the filter gradient lost on 8-pixel rows (0.7×: its inner loop runs along one
 * output row). The direct data gradient correlates dy zero-padded to h × w, so when dx has many more pixels than
 * dy ('valid' padding on a small image: LeNet-5's c3, 14×14 from 10×10) it multiplies that many zeros (0.58× the
 * GEMM path there, which does the nominal work). A pointwise conv has no im2col to save.
 */
function directWins(desc: usize, which: i32): bool {
  if (isPointwise(desc) || descI32(desc, CONV_COUT) > DIRECT_COUT_MAX) return false;
  if (which == BACKWARD_FILTER) return descI32(desc, CONV_OW) >= DIRECT_FILTER_MIN_OW;
  if (which == BACKWARD_DATA) return 4 * pixelsIn(desc) <= 5 * pixels(desc);
  return true;
}
/** Widest cout and shortest output row AUTO sends to the direct kernels (see directWins). */
const DIRECT_COUT_MAX: i32 = 32;
const DIRECT_FILTER_MIN_OW: i32 = 10;
/** Input pixels over the batch, n·h·w (pixels(desc) counts the output's, n·oh·ow). */
function pixelsIn(desc: usize): i32 {
  return descI32(desc, CONV_N) * descI32(desc, CONV_H) * descI32(desc, CONV_W);
}

/** Scratch bytes every conv kernel here needs for this descriptor (0 for depthwise): the most any pass's path asks for. */
export function conv2d_scratch_bytes(desc: usize): i32 {
  if (isDepthwise(desc)) return 0;
  let bytes: usize = 0, gemm = false;
  for (let which = FORWARD; which <= BACKWARD_FILTER; which++) {
    const run = runner(desc, which);
    if (run == RUN_SMALL) bytes = max(bytes, conv_small_scratch_bytes(desc, which));
    else if (run == RUN_DIRECT) bytes = max(bytes, conv_direct_scratch_bytes(desc, which));
    else gemm = true;
  }
  if (gemm) {
    const colTile: usize = isPointwise(desc) ? 0 : <usize>tileRows(desc) * colWidth(desc) * 4;
    bytes = max(bytes, gemmScratchBytes(desc) + colTile);
  }
  return <i32>bytes;
}

// ---------------------------------------------------------------------------------------------------------
// Copies over contiguous f32 runs (SIMD, unaligned).

// @ts-ignore: decorator
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(src + o), b = v128.load(src + o, 16), c = v128.load(src + o, 32), d = v128.load(src + o, 48);
    v128.store(dst + o, a); v128.store(dst + o, b, 16); v128.store(dst + o, c, 32); v128.store(dst + o, d, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** dst[i] += src[i], i < n. */
// @ts-ignore: decorator
@inline function addF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const a = f32x4.add(v128.load(dst + o), v128.load(src + o));
    const b = f32x4.add(v128.load(dst + o, 16), v128.load(src + o, 16));
    v128.store(dst + o, a); v128.store(dst + o, b, 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** dst[i] += s·src[i], i < n (a depthwise channel's multiplier outputs: forward and filter gradient). */
// @ts-ignore: decorator
@inline function maddScalarF32(dst: usize, s: f32, src: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = dst + (<usize>i << 2);
    v128.store(o, madd(sv, v128.load(src + (<usize>i << 2)), v128.load(o)));
  }
  for (; i < n; i++) {
    const o = dst + (<usize>i << 2);
    store<f32>(o, load<f32>(o) + s * load<f32>(src + (<usize>i << 2)));
  }
}

/**
 * Copies n floats as whole vectors: may write up to 3 floats past dst + n and read up to 3 past src + n. Only
 * for places where those extra floats are rewritten afterwards and the source has room (see im2colRows).
 */
// @ts-ignore: decorator
@inline function copyF32Over(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
}

function zeroF32(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/** First tap k with i0 + k·d >= 0. */
// @ts-ignore: decorator
@inline function firstTap(i0: i32, d: i32): i32 {
  return i0 >= 0 ? 0 : d == 1 ? -i0 : (d - 1 - i0) / d; // no division in the common undilated case
}

/** One past the last tap k < taps with i0 + k·d < size (may be below firstTap: then no tap is inside). */
// @ts-ignore: decorator
@inline function endTap(i0: i32, d: i32, size: i32, taps: i32): i32 {
  const room = size - 1 - i0;
  return room < 0 ? 0 : min(taps, d == 1 ? room + 1 : room / d + 1);
}

// ---------------------------------------------------------------------------------------------------------
// im2col / col2im over a range of output pixels [p0, p0 + rows) of group g; col rows are K floats apart.
// Per output pixel and kernel row ky, the in-image taps [kxLo, kxHi) are copied and the rest zeroed; with one
// group and no horizontal dilation those taps are one contiguous run of (kxHi − kxLo)·cin floats in x.

function im2colRows(desc: usize, x: usize, col: usize, p0: i32, rows: i32, g: i32): void {
  const h = descI32(desc, CONV_H), w = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN), oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW);
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW), sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W);
  const pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT), dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W);
  const cinG = cin / descI32(desc, CONV_GROUPS), k = kh * kw * cinG, tapRun = kw * cinG;
  const contiguous = cinG == cin && dw == 1;
  // Short runs (small cin) are copied as whole vectors: the spill lands on floats written later in this
  // loop (the rest of this col row, or the next row), so not on the last row; reads stay inside x.
  const xEnd = at(x, <usize>descI32(desc, CONV_N) * h * w * cin);
  let ox = p0 % ow, oy = (p0 / ow) % oh, b = p0 / (ow * oh);
  let dst = col;
  for (let r = 0; r < rows; r++) {
    const spillOk = r + 1 < rows;
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    const kyLo = min(firstTap(iy0, dh), kh), kyHi = max(kyLo, endTap(iy0, dh, h, kh));
    const kxLo = min(firstTap(ix0, dw), kw), kxHi = max(kxLo, endTap(ix0, dw, w, kw));
    if (contiguous && tapRun < 16 && spillOk && kyLo == 0 && kyHi == kh && kxLo == 0 && kxHi == kw) {
      // The whole window is inside the image, here and for the next `run` pixels of this output row (the
      // last row of the tile excluded: its spill would leave the tile): kh runs of kw·cin floats each,
      // nothing to zero, no bounds to recompute. Reads grow with ox, so checking the last pixel's suffices.
      const interiorEnd = min(ow, (w - kw + pl) / sw + 1); // first ox whose window leaves the image
      const run = min(interiorEnd - ox, rows - 1 - r);
      const rowFloats = <usize>dh * w * cin, step = <usize>sw * cin;
      const src0 = at(x, (<usize>(b * h + iy0) * w + <usize>ix0) * cin);
      const lastEnd = src0 + ((<usize>(run - 1) * step + <usize>(kh - 1) * rowFloats + <usize>tapRun + 4) << 2);
      if (run > 0 && lastEnd <= xEnd) {
        let src = src0;
        for (let i = 0; i < run; i++) {
          for (let ky = 0; ky < kh; ky++) copyF32Over(at(dst, <usize>ky * tapRun), at(src, <usize>ky * rowFloats), tapRun);
          dst = at(dst, k);
          src = at(src, step);
        }
        r += run - 1;
        ox += run;
        if (ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
        continue;
      }
    }
    zeroF32(dst, kyLo * tapRun);
    for (let ky = kyLo; ky < kyHi; ky++) {
      const rowStart = <usize>(b * h + iy0 + ky * dh) * w; // pixel index of (b, iy, 0)
      const d = at(dst, <usize>ky * tapRun);
      zeroF32(d, kxLo * cinG);
      if (contiguous) {
        const n = (kxHi - kxLo) * cin, src = at(x, (rowStart + <usize>(ix0 + kxLo)) * cin);
        if (n < 16 && spillOk && src + 16 + (<usize>n << 2) <= xEnd) copyF32Over(at(d, <usize>kxLo * cinG), src, n);
        else copyF32(at(d, <usize>kxLo * cinG), src, n);
      } else {
        for (let kx = kxLo; kx < kxHi; kx++) {
          copyF32(at(d, <usize>kx * cinG), at(x, (rowStart + <usize>(ix0 + kx * dw)) * cin + g * cinG), cinG);
        }
      }
      zeroF32(at(d, <usize>kxHi * cinG), (kw - kxHi) * cinG);
    }
    zeroF32(at(dst, <usize>kyHi * tapRun), (kh - kyHi) * tapRun);
    dst = at(dst, k);
    if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
  }
}

/** dx += scatter of col rows [p0, p0 + rows) of group g (the adjoint of im2colRows; padding taps dropped). */
function col2imRows(desc: usize, col: usize, dx: usize, p0: i32, rows: i32, g: i32): void {
  const h = descI32(desc, CONV_H), w = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN), oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW);
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW), sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W);
  const pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT), dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W);
  const cinG = cin / descI32(desc, CONV_GROUPS), k = kh * kw * cinG, tapRun = kw * cinG;
  const contiguous = cinG == cin && dw == 1;
  let ox = p0 % ow, oy = (p0 / ow) % oh, b = p0 / (ow * oh);
  let src = col;
  for (let r = 0; r < rows; r++) {
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    const kyLo = min(firstTap(iy0, dh), kh), kyHi = max(kyLo, endTap(iy0, dh, h, kh));
    const kxLo = min(firstTap(ix0, dw), kw), kxHi = max(kxLo, endTap(ix0, dw, w, kw));
    for (let ky = kyLo; ky < kyHi; ky++) {
      const rowStart = <usize>(b * h + iy0 + ky * dh) * w;
      const s = at(src, <usize>ky * tapRun);
      if (contiguous) {
        addF32(at(dx, (rowStart + <usize>(ix0 + kxLo)) * cin), at(s, <usize>kxLo * cinG), (kxHi - kxLo) * cin);
      } else {
        for (let kx = kxLo; kx < kxHi; kx++) {
          addF32(at(dx, (rowStart + <usize>(ix0 + kx * dw)) * cin + g * cinG), at(s, <usize>kx * cinG), cinG);
        }
      }
    }
    src = at(src, k);
    if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; b++; } }
  }
}

/** col [G, P, K] = im2col(x [n, h, w, cin]): the whole matrix (the conv kernels below tile it instead). */
export function im2col_f32(desc: usize, x: usize, col: usize): void {
  const groups = descI32(desc, CONV_GROUPS), p = pixels(desc), k = colWidth(desc);
  for (let g = 0; g < groups; g++) im2colRows(desc, x, at(col, <usize>g * p * k), 0, p, g);
}

/** dx [n, h, w, cin] = col2im(col [G, P, K]): each col entry added back to the x element it was copied from;
 *  dx is overwritten. */
export function col2im_f32(desc: usize, col: usize, dx: usize): void {
  const groups = descI32(desc, CONV_GROUPS), p = pixels(desc), k = colWidth(desc);
  zeroF32(dx, descI32(desc, CONV_N) * descI32(desc, CONV_H) * descI32(desc, CONV_W) * descI32(desc, CONV_CIN));
  for (let g = 0; g < groups; g++) col2imRows(desc, at(col, <usize>g * p * k), dx, 0, p, g);
}

// ---------------------------------------------------------------------------------------------------------
// conv2d through tiles of output pixels: forward, backward-data, backward-filter.

/** y rows [rows, cout] += bias (when bias != 0), then max(0, ·) when act == 1. */
function biasActRows(y: usize, rows: i32, cout: i32, bias: usize, act: i32): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = at(y, <usize>r * cout);
    let c = 0;
    for (; c + 4 <= cout; c += 4) {
      const o = <usize>c << 2;
      let v = v128.load(row + o);
      if (bias) v = f32x4.add(v, v128.load(bias + o));
      if (act == 1) v = f32x4.max(v, zero);
      v128.store(row + o, v);
    }
    for (; c < cout; c++) {
      const o = <usize>c << 2;
      let v = load<f32>(row + o);
      if (bias) v += load<f32>(bias + o);
      if (act == 1) v = max<f32>(v, 0);
      store<f32>(row + o, v);
    }
  }
}

/**
 * y [n, oh, ow, cout] = conv(x [n, h, w, cin], w [kh, kw, cinG, cout]) (+ bias [cout] when bias != 0), then
 * ReLU when act == 1 (act 0: none). scratch: conv2d_scratch_bytes(desc) bytes.
 */
export function conv2d_forward_f32(desc: usize, x: usize, w: usize, bias: usize, y: usize, act: i32, scratch: usize): void {
  if (isDepthwise(desc)) { depthwiseForward(desc, x, w, bias, y, act); return; }
  const run = runner(desc, FORWARD);
  if (run == RUN_SMALL) { conv_small_forward(desc, x, w, bias, y, act, scratch); return; }
  if (run == RUN_DIRECT) { conv_direct_forward(desc, x, w, bias, y, act, scratch); return; }
  const cin = descI32(desc, CONV_CIN), cout = descI32(desc, CONV_COUT), groups = descI32(desc, CONV_GROUPS);
  const cinG = cin / groups, coutG = cout / groups, k = colWidth(desc), p = pixels(desc), t = tileRows(desc);
  const pointwise = isPointwise(desc);
  const col = scratch + gemmScratchBytes(desc);
  for (let p0 = 0; p0 < p; p0 += t) {
    const rows = min(t, p - p0);
    for (let g = 0; g < groups; g++) {
      let a = col, lda = k;
      if (pointwise) { a = at(x, <usize>p0 * cin + g * cinG); lda = cin; } else im2colRows(desc, x, col, p0, rows, g);
      gemm_f32(0, 0, rows, coutG, k, a, lda, at(w, <usize>g * coutG), cout, at(y, <usize>p0 * cout + g * coutG), cout, 0, scratch);
    }
    if (bias || act) biasActRows(at(y, <usize>p0 * cout), rows, cout, bias, act);
  }
}

/** dx [n, h, w, cin] = ∂(Σ y·dy)/∂x for dy [n, oh, ow, cout], w [kh, kw, cinG, cout]; dx is overwritten. */
export function conv2d_backward_data_f32(desc: usize, dy: usize, w: usize, dx: usize, scratch: usize): void {
  if (isDepthwise(desc)) { depthwiseBackwardData(desc, dy, w, dx); return; }
  const run = runner(desc, BACKWARD_DATA);
  if (run == RUN_SMALL) { conv_small_backward_data(desc, dy, w, dx, scratch); return; }
  if (run == RUN_DIRECT) { conv_direct_backward_data(desc, dy, w, dx, scratch); return; }
  const cin = descI32(desc, CONV_CIN), cout = descI32(desc, CONV_COUT), groups = descI32(desc, CONV_GROUPS);
  const cinG = cin / groups, coutG = cout / groups, k = colWidth(desc), p = pixels(desc), t = tileRows(desc);
  const pointwise = isPointwise(desc);
  const dcol = scratch + gemmScratchBytes(desc);
  if (!pointwise) zeroF32(dx, descI32(desc, CONV_N) * descI32(desc, CONV_H) * descI32(desc, CONV_W) * cin);
  for (let p0 = 0; p0 < p; p0 += t) {
    const rows = min(t, p - p0);
    for (let g = 0; g < groups; g++) {
      const dyTile = at(dy, <usize>p0 * cout + g * coutG), wG = at(w, <usize>g * coutG);
      if (pointwise) {
        // each dx element is one output pixel's dot product: written straight into dx
        gemm_f32(0, 1, rows, cinG, coutG, dyTile, cout, wG, cout, at(dx, <usize>p0 * cin + g * cinG), cin, 0, scratch);
      } else {
        gemm_f32(0, 1, rows, k, coutG, dyTile, cout, wG, cout, dcol, k, 0, scratch);
        col2imRows(desc, dcol, dx, p0, rows, g);
      }
    }
  }
}

/**
 * dw [kh, kw, cinG, cout] (+)= ∂(Σ y·dy)/∂w for x [n, h, w, cin], dy [n, oh, ow, cout]: accumulate = 1 adds
 * to dw (gradients summed over micro-batches), 0 overwrites it. The bias gradient is bias_grad's job.
 */
export function conv2d_backward_filter_f32(desc: usize, x: usize, dy: usize, dw: usize, accumulate: i32, scratch: usize): void {
  if (isDepthwise(desc)) { depthwiseBackwardFilter(desc, x, dy, dw, accumulate); return; }
  const run = runner(desc, BACKWARD_FILTER);
  if (run == RUN_SMALL) { conv_small_backward_filter(desc, x, dy, dw, accumulate, scratch); return; }
  if (run == RUN_DIRECT) { conv_direct_backward_filter(desc, x, dy, dw, accumulate, scratch); return; }
  const cin = descI32(desc, CONV_CIN), cout = descI32(desc, CONV_COUT), groups = descI32(desc, CONV_GROUPS);
  const cinG = cin / groups, coutG = cout / groups, k = colWidth(desc), p = pixels(desc), t = tileRows(desc);
  const pointwise = isPointwise(desc);
  const col = scratch + gemmScratchBytes(desc);
  for (let p0 = 0; p0 < p; p0 += t) {
    const rows = min(t, p - p0);
    const acc = accumulate || p0 > 0 ? 1 : 0;
    for (let g = 0; g < groups; g++) {
      let a = col, lda = k;
      if (pointwise) { a = at(x, <usize>p0 * cin + g * cinG); lda = cin; } else im2colRows(desc, x, col, p0, rows, g);
      gemm_f32(1, 0, k, coutG, rows, a, lda, at(dy, <usize>p0 * cout + g * coutG), cout, at(dw, <usize>g * coutG), cout, acc, scratch);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Depthwise (groups == cin): direct loops over output pixels and their in-image taps, SIMD over channels.
// With multiplier 1 the channel vectors of x, w and y line up: blocks of 16 channels (4 vectors, so the loop
// overhead of a tap is shared by 4 multiply-adds), then 4, then single channels. With multiplier m each x
// channel feeds m adjacent output channels: x[c] is splat and the m-runs are vectorized when m >= 4 (scalar
// otherwise; rare). Per pixel, only taps [kyLo, kyHi) × [kxLo, kxHi) lie inside the image.

/** Byte address of x[b, iy, ix, 0] (an in-image tap) in an [n, h, w, cin] tensor. */
// @ts-ignore: decorator
@inline function tapPixel(x: usize, b: i32, h: i32, w: i32, cin: i32, iy: i32, ix: i32): usize {
  return at(x, (<usize>(b * h + iy) * w + <usize>ix) * cin);
}

function depthwiseForward(desc: usize, x: usize, w: usize, bias: usize, y: usize, act: i32): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W), mult = cout / cin;
  const xTapStep = <usize>dw * cin << 2, wTapStep = <usize>cout << 2;
  const zero = f32x4.splat(0);
  let yRow = y;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    const kyLo = min(firstTap(iy0, dh), kh), kyHi = max(kyLo, endTap(iy0, dh, h, kh));
    const kxLo = min(firstTap(ix0, dw), kw), kxHi = max(kxLo, endTap(ix0, dw, wd, kw));
    if (mult == 1) {
      let c = 0;
      for (; c + 16 <= cin; c += 16) {
        const o = <usize>c << 2;
        let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        if (bias) { a0 = v128.load(bias + o); a1 = v128.load(bias + o, 16); a2 = v128.load(bias + o, 32); a3 = v128.load(bias + o, 48); }
        for (let ky = kyLo; ky < kyHi; ky++) {
          let xp = tapPixel(x, b, h, wd, cin, iy0 + ky * dh, ix0 + kxLo * dw) + o;
          let wp = at(w, (<usize>ky * kw + kxLo) * cout) + o;
          for (let kx = kxLo; kx < kxHi; kx++) {
            a0 = madd(v128.load(xp), v128.load(wp), a0);
            a1 = madd(v128.load(xp, 16), v128.load(wp, 16), a1);
            a2 = madd(v128.load(xp, 32), v128.load(wp, 32), a2);
            a3 = madd(v128.load(xp, 48), v128.load(wp, 48), a3);
            xp += xTapStep; wp += wTapStep;
          }
        }
        if (act == 1) { a0 = f32x4.max(a0, zero); a1 = f32x4.max(a1, zero); a2 = f32x4.max(a2, zero); a3 = f32x4.max(a3, zero); }
        v128.store(yRow + o, a0); v128.store(yRow + o, a1, 16); v128.store(yRow + o, a2, 32); v128.store(yRow + o, a3, 48);
      }
      for (; c + 4 <= cin; c += 4) {
        const o = <usize>c << 2;
        let a0 = bias ? v128.load(bias + o) : zero;
        for (let ky = kyLo; ky < kyHi; ky++) {
          let xp = tapPixel(x, b, h, wd, cin, iy0 + ky * dh, ix0 + kxLo * dw) + o;
          let wp = at(w, (<usize>ky * kw + kxLo) * cout) + o;
          for (let kx = kxLo; kx < kxHi; kx++) { a0 = madd(v128.load(xp), v128.load(wp), a0); xp += xTapStep; wp += wTapStep; }
        }
        v128.store(yRow + o, act == 1 ? f32x4.max(a0, zero) : a0);
      }
      for (; c < cin; c++) {
        const o = <usize>c << 2;
        let a: f32 = bias ? load<f32>(bias + o) : 0;
        for (let ky = kyLo; ky < kyHi; ky++) {
          let xp = tapPixel(x, b, h, wd, cin, iy0 + ky * dh, ix0 + kxLo * dw) + o;
          let wp = at(w, (<usize>ky * kw + kxLo) * cout) + o;
          for (let kx = kxLo; kx < kxHi; kx++) { a += load<f32>(xp) * load<f32>(wp); xp += xTapStep; wp += wTapStep; }
        }
        store<f32>(yRow + o, act == 1 ? max<f32>(a, 0) : a);
      }
    } else {
      // the y row starts as bias (or 0); every in-image tap adds x[c]·w[tap, c·mult + q] to y[c·mult + q]
      if (bias) copyF32(yRow, bias, cout); else zeroF32(yRow, cout);
      for (let ky = kyLo; ky < kyHi; ky++) for (let kx = kxLo; kx < kxHi; kx++) {
        const xp = tapPixel(x, b, h, wd, cin, iy0 + ky * dh, ix0 + kx * dw);
        const wp = at(w, (<usize>ky * kw + kx) * cout);
        for (let c = 0; c < cin; c++) {
          const base = <usize>c * mult;
          maddScalarF32(at(yRow, base), load<f32>(at(xp, c)), at(wp, base), mult);
        }
      }
      if (act == 1) biasActRows(yRow, 1, cout, 0, 1);
    }
    yRow = at(yRow, cout);
  }
}

/**
 * Multiplier 1 (cout == cin): both backward passes are, per output pixel o, in-image tap and channel c,
 *   acc += dy[o, c]·src      with (acc, src) = (dx[in, c], w[tap, c]) for backward-data
 *                                          or (dw[tap, c], x[in, c]) for backward-filter.
 * One loop serves both: `pix` is the NHWC tensor addressed by input pixel, `taps` the one addressed by tap,
 * and accIsPixel says which of them accumulates. SIMD over channels in blocks of 16, then 4, then 1.
 */
function depthwiseMaddTaps(desc: usize, dy: usize, pix: usize, taps: usize, accIsPixel: bool): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W);
  const pixStep = <usize>dw * cin << 2, tapStep = <usize>cout << 2;
  const accStep = accIsPixel ? pixStep : tapStep, srcStep = accIsPixel ? tapStep : pixStep;
  let dyRow = dy;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    const kyLo = min(firstTap(iy0, dh), kh), kyHi = max(kyLo, endTap(iy0, dh, h, kh));
    const kxLo = min(firstTap(ix0, dw), kw), kxHi = max(kxLo, endTap(ix0, dw, wd, kw));
    let c = 0;
    for (; c + 16 <= cin; c += 16) {
      const o = <usize>c << 2;
      const g0 = v128.load(dyRow + o), g1 = v128.load(dyRow + o, 16), g2 = v128.load(dyRow + o, 32), g3 = v128.load(dyRow + o, 48);
      for (let ky = kyLo; ky < kyHi; ky++) {
        const pp = tapPixel(pix, b, h, wd, cin, iy0 + ky * dh, ix0 + kxLo * dw) + o, tp = at(taps, (<usize>ky * kw + kxLo) * cout) + o;
        let ap = accIsPixel ? pp : tp, sp = accIsPixel ? tp : pp;
        for (let kx = kxLo; kx < kxHi; kx++) {
          v128.store(ap, madd(g0, v128.load(sp), v128.load(ap)));
          v128.store(ap, madd(g1, v128.load(sp, 16), v128.load(ap, 16)), 16);
          v128.store(ap, madd(g2, v128.load(sp, 32), v128.load(ap, 32)), 32);
          v128.store(ap, madd(g3, v128.load(sp, 48), v128.load(ap, 48)), 48);
          ap += accStep; sp += srcStep;
        }
      }
    }
    for (; c + 4 <= cin; c += 4) {
      const o = <usize>c << 2;
      const g0 = v128.load(dyRow + o);
      for (let ky = kyLo; ky < kyHi; ky++) {
        const pp = tapPixel(pix, b, h, wd, cin, iy0 + ky * dh, ix0 + kxLo * dw) + o, tp = at(taps, (<usize>ky * kw + kxLo) * cout) + o;
        let ap = accIsPixel ? pp : tp, sp = accIsPixel ? tp : pp;
        for (let kx = kxLo; kx < kxHi; kx++) { v128.store(ap, madd(g0, v128.load(sp), v128.load(ap))); ap += accStep; sp += srcStep; }
      }
    }
    for (; c < cin; c++) {
      const o = <usize>c << 2;
      const g = load<f32>(dyRow + o);
      for (let ky = kyLo; ky < kyHi; ky++) {
        const pp = tapPixel(pix, b, h, wd, cin, iy0 + ky * dh, ix0 + kxLo * dw) + o, tp = at(taps, (<usize>ky * kw + kxLo) * cout) + o;
        let ap = accIsPixel ? pp : tp, sp = accIsPixel ? tp : pp;
        for (let kx = kxLo; kx < kxHi; kx++) { store<f32>(ap, load<f32>(ap) + g * load<f32>(sp)); ap += accStep; sp += srcStep; }
      }
    }
    dyRow = at(dyRow, cout);
  }
}

/** dx[in, c] = Σ over output pixels o and in-image taps reading `in` of Σ_q dy[o, c·mult + q]·w[tap, c·mult + q]. */
function depthwiseBackwardData(desc: usize, dy: usize, w: usize, dx: usize): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  zeroF32(dx, n * h * wd * cin);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const mult = cout / cin;
  if (mult == 1) { depthwiseMaddTaps(desc, dy, dx, w, true); return; }
  const sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), dw = descI32(desc, CONV_DILATION_W);
  let dyRow = dy;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    const kyLo = min(firstTap(iy0, dh), kh), kyHi = max(kyLo, endTap(iy0, dh, h, kh));
    const kxLo = min(firstTap(ix0, dw), kw), kxHi = max(kxLo, endTap(ix0, dw, wd, kw));
    for (let ky = kyLo; ky < kyHi; ky++) for (let kx = kxLo; kx < kxHi; kx++) {
      const xp = tapPixel(dx, b, h, wd, cin, iy0 + ky * dh, ix0 + kx * dw);
      const wp = at(w, (<usize>ky * kw + kx) * cout);
      for (let c = 0; c < cin; c++) {
        const base = <usize>c * mult;
        let s: f32 = 0;
        for (let q = 0; q < mult; q++) s += load<f32>(at(dyRow, base + q)) * load<f32>(at(wp, base + q));
        store<f32>(at(xp, c), load<f32>(at(xp, c)) + s);
      }
    }
    dyRow = at(dyRow, cout);
  }
}

/** dw[tap, c·mult + q] (+)= Σ over output pixels o with that tap in the image of x[in, c]·dy[o, c·mult + q]. */
function depthwiseBackwardFilter(desc: usize, x: usize, dy: usize, dw: usize, accumulate: i32): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  if (!accumulate) zeroF32(dw, kh * kw * cout);
  const mult = cout / cin;
  if (mult == 1) { depthwiseMaddTaps(desc, dy, x, dw, false); return; }
  const sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W), pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT);
  const dh = descI32(desc, CONV_DILATION_H), ddw = descI32(desc, CONV_DILATION_W);
  let dyRow = dy;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    const kyLo = min(firstTap(iy0, dh), kh), kyHi = max(kyLo, endTap(iy0, dh, h, kh));
    const kxLo = min(firstTap(ix0, ddw), kw), kxHi = max(kxLo, endTap(ix0, ddw, wd, kw));
    for (let ky = kyLo; ky < kyHi; ky++) for (let kx = kxLo; kx < kxHi; kx++) {
      const xp = tapPixel(x, b, h, wd, cin, iy0 + ky * dh, ix0 + kx * ddw);
      const wp = at(dw, (<usize>ky * kw + kx) * cout);
      for (let c = 0; c < cin; c++) {
        const base = <usize>c * mult;
        maddScalarF32(at(wp, base), load<f32>(at(xp, c)), at(dyRow, base), mult);
      }
    }
    dyRow = at(dyRow, cout);
  }
}
