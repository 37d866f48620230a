// Direct convolution for groups = 1, dilation 1 and any cin: the 16–64-channel 3×3 convs of ResNet-20/CIFAR.
// There the GEMM path (assembly/conv.ts) spends as long moving data as multiplying: with N = cout = 16 and
// K = 144, each output pixel's col row is written by im2col (144 floats), read and transposed by the GEMM's
// A packing (144 more), and then used by only two 8-wide B panels. These kernels are the GEMM's 5×8 register
// tile (assembly/gemm.ts) with A read in place from a zero-padded image: no col matrix, no A packing.
//
// Shapes as in assembly/conv.ts: x, dx [n, h, w, cin]; y, dy [n, oh, ow, cout]; w, dw [kh, kw, cin, cout]
// viewed as [K, cout], K = kh·kw·cin. x̃ is one image zero-padded into scratch, Hp × Wp × cin with
// Hp = (oh−1)·sh + kh, Wp = (ow−1)·sw + kw, so that every window lies inside it and the inner loops have no
// bounds. With dilation 1 a window row ky is one contiguous run of kw·cin floats of x̃, which is what makes
// the taps of a row consecutive addresses. Per image:
//   forward  y[p, :] = bias + Σ_ky Σ_j x̃[origin(p) + ky·Wp·cin + j]·w[ky·kw·cin + j, :]      j < kw·cin
//            micro-tile: 4 pixels × 8 channels (8 f32x4 accumulators), a packed [K, 8] weight panel
//   data     (stride 1) the same correlation, of dỹ = dy zero-padded by kh−1−padTop rows and kw−1−padLeft
//            columns (Hp = h + kh − 1, Wp = w + kw − 1, cout channels) with the flipped, transposed weights
//            w̃[ky', kx', o, c] = w[kh−1−ky', kw−1−kx', c, o], giving dx [h, w, cin]
//   filter   dw[t, :] += Σ_p x̃[origin(p) + off(t)]·dy[p, :]; micro-tile: 4 consecutive taps of one window row
//            (4 consecutive floats of x̃) × 8 channels of dy packed into [P, 8] panels, summed over a chunk of
//            output rows that stays in L1, then added into dw
// origin(p) = (oy·sh·Wp + ox·sw)·cin for p = oy·ow + ox. Channels past cout in the last 8-block run on zero
// weights or zero dy and are not stored; a remainder micro-tile repeats its last pixel (forward) or reads the
// floats after its last tap (filter: SLACK bytes of zeros past x̃ keep that inside scratch) and stores only the
// real rows. Scratch holds one image's worth (conv_direct_scratch_bytes), never the batch.
import { descI32, CONV_N, CONV_H, CONV_W, CONV_CIN, CONV_OH, CONV_OW, CONV_COUT, CONV_KH, CONV_KW, CONV_STRIDE_H,
  CONV_STRIDE_W, CONV_PAD_TOP, CONV_PAD_LEFT, CONV_DILATION_H, CONV_DILATION_W, CONV_GROUPS } from './abi';
import { madd, at, align64 } from './simd';
import { NB, packPanels, storeLanes, addLanes } from './panel';

/** Pixels (forward, data) or taps (filter) per micro-tile. 4, not the GEMM's 5: with five, TurboFan keeps all five
 *  splats live at once and spills two of the ten accumulators to the stack on every step (seen in --print-wasm-code). */
const MR: i32 = 4;
/** Zero bytes after a padded image: a filter remainder tile reads up to (MR − 1) floats past its last tap. */
const SLACK: usize = 64;
/** Output pixels per filter-gradient chunk (at least one output row): its x̃ rows and dy panel stay in L1. */
const FILTER_CHUNK_PIXELS: i32 = 128;

/** Whether the direct kernels take this geometry (forward and filter gradient). */
export function conv_direct_applies(desc: usize): bool {
  return descI32(desc, CONV_GROUPS) == 1 && descI32(desc, CONV_DILATION_H) == 1 && descI32(desc, CONV_DILATION_W) == 1;
}

/** The data gradient also needs stride 1 (it is then a correlation of padded dy). */
export function conv_direct_data_applies(desc: usize): bool {
  return conv_direct_applies(desc) && descI32(desc, CONV_STRIDE_H) == 1 && descI32(desc, CONV_STRIDE_W) == 1;
}

function paddedH(desc: usize): i32 {
  return (descI32(desc, CONV_OH) - 1) * descI32(desc, CONV_STRIDE_H) + descI32(desc, CONV_KH);
}
function paddedW(desc: usize): i32 {
  return (descI32(desc, CONV_OW) - 1) * descI32(desc, CONV_STRIDE_W) + descI32(desc, CONV_KW);
}
function blocksOf(channels: i32): i32 {
  return (channels + NB - 1) / NB;
}
function imageBytes(hp: i32, wp: i32, c: i32): usize {
  return align64(<usize>hp * wp * c * 4 + SLACK);
}

// Scratch layouts (each region 64-byte aligned):
//   forward  [x̃ | packed w (⌈cout/8⌉·K·8) | packed bias (⌈cout/8⌉·8)]
//   data     [dỹ | packed w̃ (⌈cin/8⌉·K·8) | zero bias (⌈cin/8⌉·8)]
//   filter   [x̃ | packed dy of one image (⌈cout/8⌉·P·8)]
/** Scratch bytes of the direct kernels: forward (which 0), backward-data (1), backward-filter (2). */
export function conv_direct_scratch_bytes(desc: usize, which: i32): usize {
  const cin = descI32(desc, CONV_CIN), cout = descI32(desc, CONV_COUT), kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const k = <usize>kh * kw * cin;
  if (which == 0) {
    const nb = <usize>blocksOf(cout);
    return imageBytes(paddedH(desc), paddedW(desc), cin) + align64(nb * k * NB * 4) + align64(nb * NB * 4);
  }
  if (which == 1) {
    const nb = <usize>blocksOf(cin);
    return imageBytes(descI32(desc, CONV_H) + kh - 1, descI32(desc, CONV_W) + kw - 1, cout) + align64(nb * k * NB * 4) + align64(nb * NB * 4);
  }
  const p = <usize>descI32(desc, CONV_OH) * descI32(desc, CONV_OW);
  return imageBytes(paddedH(desc), paddedW(desc), cin) + align64(<usize>blocksOf(cout) * p * NB * 4);
}

/**
 * dst [hp, wp, c] (+ SLACK zero bytes) = src [h, w, c] shifted down by top rows and right by left columns
 * (either may be negative: then leading rows/columns of src are dropped), zero where no src pixel lands.
 */
function padImage(src: usize, h: i32, w: i32, c: i32, top: i32, left: i32, hp: i32, wp: i32, dst: usize): void {
  memory.fill(dst, 0, <usize>hp * wp * c * 4 + SLACK);
  const ixLo = max(0, -left), ixHi = min(w, wp - left);
  if (ixHi <= ixLo) return;
  const bytes = <usize>(ixHi - ixLo) * c * 4;
  for (let r = max(0, top); r < min(hp, h + top); r++) {
    memory.copy(at(dst, (<usize>r * wp + ixLo + left) * c), at(src, (<usize>(r - top) * w + ixLo) * c), bytes);
  }
}

/**
 * One correlation micro-tile: 4 window origins x0..x3 (byte addresses) × one packed [K, 8] panel wq, from the
 * panel's bias bq; kh window rows rowBytes apart, each runBytes long. Stores `rows` outputs (yRow bytes apart)
 * of `cols` channels at dst.
 */
function correlateTile(wq: usize, bq: usize, x0: usize, x1: usize, x2: usize, x3: usize, kh: i32,
  rowBytes: usize, runBytes: usize, dst: usize, yRow: usize, rows: i32, cols: i32, act: i32): void {
  const b0 = v128.load(bq), b1 = v128.load(bq, 16);
  let c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
  let wp = wq;
  for (let ky = 0; ky < kh; ky++) {
    const o0 = <usize>ky * rowBytes, oEnd = o0 + runBytes;
    for (let o = o0; o < oEnd; o += 4) {
      const w0 = v128.load(wp), w1 = v128.load(wp, 16);
      let a = v128.load32_splat(x0 + o); c00 = madd(a, w0, c00); c01 = madd(a, w1, c01);
      a = v128.load32_splat(x1 + o); c10 = madd(a, w0, c10); c11 = madd(a, w1, c11);
      a = v128.load32_splat(x2 + o); c20 = madd(a, w0, c20); c21 = madd(a, w1, c21);
      a = v128.load32_splat(x3 + o); c30 = madd(a, w0, c30); c31 = madd(a, w1, c31);
      wp += NB << 2;
    }
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

/**
 * One image: out [oh, ow, cout] = bias + correlation of src [Hp, Wp, c] (every window inside) with packed
 * panels wp ([⌈cout/8⌉][kh·kw·c][8]) and bias panels bp, then ReLU when act == 1.
 */
function correlateImage(src: usize, wpad: i32, c: i32, oh: i32, ow: i32, sh: i32, sw: i32, kh: i32, kw: i32,
  wp: usize, bp: usize, out: usize, cout: i32, act: i32): void {
  const rowBytes = <usize>wpad * c * 4, pixStep = <usize>sw * c * 4, runBytes = <usize>kw * c * 4;
  const tileRowStep = <usize>sh * rowBytes;
  const p = oh * ow, panelBytes = <usize>kh * kw * c * NB * 4, yRow = <usize>cout << 2;
  for (let q = 0; q < blocksOf(cout); q++) {
    const wq = wp + <usize>q * panelBytes, bq = bp + (<usize>q << 5), cols = min(NB, cout - q * NB);
    // window origins of the next pixel to place, walked in output order (no division per pixel)
    let ox = 0, rowStart = src;
    for (let p0 = 0; p0 < p; p0 += MR) {
      const rows = min(MR, p - p0);
      const x0 = rowStart + <usize>ox * pixStep;
      if (++ox == ow) { ox = 0; rowStart += tileRowStep; }
      const x1 = rows > 1 ? rowStart + <usize>ox * pixStep : x0;
      if (rows > 1 && ++ox == ow) { ox = 0; rowStart += tileRowStep; }
      const x2 = rows > 2 ? rowStart + <usize>ox * pixStep : x1;
      if (rows > 2 && ++ox == ow) { ox = 0; rowStart += tileRowStep; }
      const x3 = rows > 3 ? rowStart + <usize>ox * pixStep : x2;
      if (rows > 3 && ++ox == ow) { ox = 0; rowStart += tileRowStep; }
      correlateTile(wq, bq, x0, x1, x2, x3, kh, rowBytes, runBytes, out + <usize>p0 * yRow + (<usize>q << 5), yRow, rows, cols, act);
    }
  }
}

/** y = conv(x, w) (+ bias) then ReLU when act == 1; the direct form of conv2d_forward_f32. */
export function conv_direct_forward(desc: usize, x: usize, w: usize, bias: usize, y: usize, act: i32, scratch: usize): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT);
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW), sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W);
  const hp = paddedH(desc), wpad = paddedW(desc), k = kh * kw * cin, nb = <usize>blocksOf(cout);
  const img = scratch, wp = img + imageBytes(hp, wpad, cin), bp = wp + align64(nb * k * NB * 4);
  packPanels(w, k, cout, cout, wp);
  if (bias) packPanels(bias, 1, cout, cout, bp); else memory.fill(bp, 0, nb * NB * 4);
  for (let b = 0; b < n; b++) {
    padImage(at(x, <usize>b * h * wd * cin), h, wd, cin, descI32(desc, CONV_PAD_TOP), descI32(desc, CONV_PAD_LEFT), hp, wpad, img);
    correlateImage(img, wpad, cin, oh, ow, sh, sw, kh, kw, wp, bp, at(y, <usize>b * oh * ow * cout), cout, act);
  }
}

/** dx = ∂(Σ y·dy)/∂x for stride 1 (conv_direct_data_applies); the direct form of conv2d_backward_data_f32. */
export function conv_direct_backward_data(desc: usize, dy: usize, w: usize, dx: usize, scratch: usize): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT);
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW);
  const hp = h + kh - 1, wpad = wd + kw - 1, k = kh * kw * cout, nb = <usize>blocksOf(cin);
  const img = scratch, wp = img + imageBytes(hp, wpad, cout), bp = wp + align64(nb * k * NB * 4);
  // panel q of w̃: row t' = (ky'·kw + kx')·cout + o holds w[kh−1−ky', kw−1−kx', q·8 + j, o] for j < 8
  let dst = wp;
  for (let q = 0; q < cin; q += NB) {
    const nr = min(NB, cin - q);
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const tap = at(w, (<usize>((kh - 1 - ky) * kw + (kw - 1 - kx)) * cin + q) * cout);
      for (let o = 0; o < cout; o++) {
        for (let j = 0; j < NB; j++) store<f32>(dst + (<usize>j << 2), j < nr ? load<f32>(at(tap, <usize>j * cout + o)) : 0);
        dst += NB << 2;
      }
    }
  }
  memory.fill(bp, 0, nb * NB * 4);
  const top = kh - 1 - descI32(desc, CONV_PAD_TOP), left = kw - 1 - descI32(desc, CONV_PAD_LEFT);
  for (let b = 0; b < n; b++) {
    padImage(at(dy, <usize>b * oh * ow * cout), oh, ow, cout, top, left, hp, wpad, img);
    correlateImage(img, wpad, cout, h, wd, 1, 1, kh, kw, wp, bp, at(dx, <usize>b * h * wd * cin), cin, 0);
  }
}

/**
 * One filter-gradient micro-tile over output rows [oy0, oy1): taps at a0 + {0, 4, 8, 12} bytes of each
 * window (a0 = tap's offset in the window of pixel 0) × one 8-channel dy panel dq ([P, 8]); adds `rows` × `cols`
 * into dw (rows dwRow bytes apart).
 */
function filterTile(a0: usize, rowBytes: usize, pixStep: usize, dq: usize, ow: i32, oy0: i32, oy1: i32,
  dst: usize, dwRow: usize, rows: i32, cols: i32): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
  for (let oy = oy0; oy < oy1; oy++) {
    let a = a0 + <usize>oy * rowBytes;
    let d = dq + (<usize>(oy * ow) << 5);
    const dEnd = d + (<usize>ow << 5);
    while (d < dEnd) {
      const d0 = v128.load(d), d1 = v128.load(d, 16);
      let s = v128.load32_splat(a); c00 = madd(s, d0, c00); c01 = madd(s, d1, c01);
      s = v128.load32_splat(a, 4); c10 = madd(s, d0, c10); c11 = madd(s, d1, c11);
      s = v128.load32_splat(a, 8); c20 = madd(s, d0, c20); c21 = madd(s, d1, c21);
      s = v128.load32_splat(a, 12); c30 = madd(s, d0, c30); c31 = madd(s, d1, c31);
      a += pixStep; d += 32;
    }
  }
  addLanes(dst, c00, c01, cols);
  if (rows > 1) addLanes(dst + dwRow, c10, c11, cols);
  if (rows > 2) addLanes(dst + 2 * dwRow, c20, c21, cols);
  if (rows > 3) addLanes(dst + 3 * dwRow, c30, c31, cols);
}

/** dw [K, cout] (+)= Σ_p x̃[origin(p) + off(t)]·dy[p, :]; the direct form of conv2d_backward_filter_f32. */
export function conv_direct_backward_filter(desc: usize, x: usize, dy: usize, dw: usize, accumulate: i32, scratch: usize): void {
  const n = descI32(desc, CONV_N), h = descI32(desc, CONV_H), wd = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT);
  const kh = descI32(desc, CONV_KH), kw = descI32(desc, CONV_KW), sh = descI32(desc, CONV_STRIDE_H), sw = descI32(desc, CONV_STRIDE_W);
  const hp = paddedH(desc), wpad = paddedW(desc), p = oh * ow, nb = blocksOf(cout), run = kw * cin;
  const img = scratch, packed = img + imageBytes(hp, wpad, cin);
  if (!accumulate) memory.fill(dw, 0, <usize>kh * run * cout * 4);
  // x̃ rows of output row oy start at oy·sh·rowBytes: the tile's rowBytes step is sh padded rows
  const rowBytes = <usize>wpad * cin * 4, pixStep = <usize>sw * cin * 4, dwRow = <usize>cout << 2;
  const chunk = max(1, FILTER_CHUNK_PIXELS / ow);
  for (let b = 0; b < n; b++) {
    padImage(at(x, <usize>b * h * wd * cin), h, wd, cin, descI32(desc, CONV_PAD_TOP), descI32(desc, CONV_PAD_LEFT), hp, wpad, img);
    packPanels(at(dy, <usize>b * p * cout), p, cout, cout, packed);
    for (let oy0 = 0; oy0 < oh; oy0 += chunk) {
      const oy1 = min(oh, oy0 + chunk);
      for (let ky = 0; ky < kh; ky++) for (let j0 = 0; j0 < run; j0 += MR) {
        const rows = min(MR, run - j0);
        const a0 = img + <usize>ky * rowBytes + (<usize>j0 << 2);
        for (let q = 0; q < nb; q++) {
          filterTile(a0, <usize>sh * rowBytes, pixStep, packed + <usize>q * p * (NB << 2), ow, oy0, oy1,
            at(dw, (<usize>ky * run + j0) * cout + q * NB), dwRow, rows, min(NB, cout - q * NB));
        }
      }
    }
  }
}
