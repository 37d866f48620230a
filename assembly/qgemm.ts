// int8 GEMM for quantized inference: C[m×n] (row stride ldc) = requant(A[m×k] · B[k×n] + bias), A and B int8,
// accumulated exactly in int32, then per output column j either requantized to int8 or scaled to f32.
//
// The quantization algebra (TFLite / gemmlowp): a real value is r = s·(q − z). With activations x (scale sx,
// zero point zx) and per-output-channel symmetric weights w (scale sw_j, zero point 0),
//   y_j = Σ_p x_p·w_pj + b_j = sx·sw_j·(Σ_p (qx_p − zx)·qw_pj + qb_j),     qb_j = round(b_j / (sx·sw_j))
//       = sx·sw_j·(Σ_p qx_p·qw_pj + bias_j),                              bias_j = qb_j − zx·Σ_p qw_pj
// so the kernel runs a plain integer product and adds one int32 bias per column: the caller folds the zero
// point into bias (im2col pads with zx, so padding still contributes 0). Output, per column j:
//   int8:  qy = clamp(zy + MulQ(acc + bias_j, mult_j, shift_j), lo, hi)   (sx·sw_j / sy = mult_j·2^(shift_j − 31))
//   f32:   y  = f32(acc + bias_j) · scale_j                                (scale_j = sx·sw_j)
// MulQ is TFLite's MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul(x·2^left, mult) then
// RoundingDivideByPOT(·, right), left = max(shift, 0), right = max(−shift, 0). A fused ReLU is the clamp
// lo = zy (ReLU6 would be hi = zy + round(6/sy)).
//
// Per-channel parameters travel as one 16-byte record per output column, so a column slice is an offset:
//   q[j] = { i32 bias, i32 mult, i32 shift, f32 scale }          (QPARAM_BYTES = 16)
//
// Layout and micro-kernel: i32x4.dot_i16x8_s multiplies 8 int16 lane pairs and adds each pair into one int32
// lane, so two consecutive k go into one lane. B is packed once into panels of NR = 8 columns, sign-extended to
// int16 and k-pair interleaved: per k-pair p, 16 int16 = [b(2p, j), b(2p+1, j)] for j = 0..7 (32 bytes), k
// padded to even and columns past n zero. A is packed per call into MR = 4 row panels of k-pairs: per k-pair,
// 4 × (a(i, 2p), a(i, 2p+1)) as int16 (16 bytes: a 4×4 transpose of 32-bit lanes). The 4×8 tile is then 8
// accumulators; per k-pair: 2 B loads, 4 splats of one A pair, 8 dots, 8 adds (64 multiply-adds in 22
// instructions; the f32 5×8 kernel does 40 in 17 with FMA, 27 without). Products of int8 fit int16·int16 → the
// i32 pair sum exactly (|2·128·128| < 2^31), and k ≤ 2^16 keeps the accumulator exact.
// k is blocked in KC_PAIRS k-pairs: a B panel's block (KC_PAIRS × 32 bytes, 8 KiB) stays in L1 while every
// 4-row tile of the A block runs over it, each tile's int32 partial sums kept in the A block's accumulator
// buffer (rows × 8 int32) between k blocks; the tile is requantized once its last k block is in. Without it a
// k = 4608 panel (72 KiB, ResNet-18's widest) streamed from L2 for every tile, at half the rate of the
// L1-resident small-k layers (docs/int8.md, Speed). A is packed in blocks of rows that fit A_BLOCK_BYTES, the
// whole k at once, and each B panel is reused across that block.
// In the relaxed-SIMD build the tile is the same: relaxed_dot_i8x16_i7x16_add_s needs one operand in [0, 127]
// (x86 lowers it to pmaddubsw, whose first operand is unsigned), which neither int8 weights nor asymmetric
// int8 activations are, so every build runs dot_i16x8_s and every build gives the same integers.
import { QPARAM_BYTES } from './abi';
import { mulq } from './qmath';

const MR: i32 = 4;
const NR: i32 = 8;
/** Bytes of one packed A block (rows × k-pairs × 4 bytes): kept in L2 while every B panel streams past it. */
const A_BLOCK_BYTES: i32 = 256 << 10;
/** k-pairs per k block: one B panel block is KC_PAIRS × 32 bytes (L1), one tile's A block KC_PAIRS × 16. */
const KC_PAIRS: i32 = 256;

// @ts-ignore: decorator
@inline function align64(bytes: i32): i32 { return (bytes + 63) & ~63; }

/** The most rows of A per packed block for m rows: a multiple of MR, at least MR; never less for a larger m. */
function maxBlockRows(m: i32, k: i32): i32 {
  const kp = (k + 1) >> 1;
  return min(max(MR, A_BLOCK_BYTES / (kp * MR * 4) * MR), (m + MR - 1) / MR * MR);
}

/** Rows of A per packed block: m split into blocks of about equal rows (49 → 28 + 21, not 48 + 1), each ≤ maxBlockRows. */
function blockRows(m: i32, k: i32): i32 {
  const rows = maxBlockRows(m, k), blocks = (m + rows - 1) / rows;
  return min(rows, ((m + blocks - 1) / blocks + MR - 1) / MR * MR);
}

/** Bytes of packed B (k×n): ceil(n/8) panels of ceil(k/2) k-pairs × 8 columns × 2 int16. */
export function qgemm_packed_b_bytes(k: i32, n: i32): i32 {
  return (n + NR - 1) / NR * ((k + 1) >> 1) * NR * 4;
}

/** Scratch for qgemm_s8 on any product no larger than m × n × k: one packed A block and its int32 tiles (rows × 8). */
export function qgemm_scratch_bytes(m: i32, n: i32, k: i32): i32 {
  const kp = (k + 1) >> 1, rows = maxBlockRows(m, k); // blockRows(m', k) ≤ rows for every m' ≤ m
  return align64(rows * kp * 4) + rows * NR * 4;
}

/** Packs B (int8, k×n, row stride ldb bytes) into qgemm_packed_b_bytes(k, n) bytes at `packed` (format above). */
export function qgemm_pack_b(k: i32, n: i32, b: usize, ldb: i32, packed: usize): void {
  const kp = (k + 1) >> 1;
  let dst = packed;
  for (let j0 = 0; j0 < n; j0 += NR) {
    for (let p = 0; p < kp; p++) {
      for (let j = 0; j < NR; j++) {
        const col = j0 + j, k0 = 2 * p;
        const v0: i32 = col < n ? <i32>load<i8>(b + <usize>k0 * ldb + col) : 0;
        const v1: i32 = col < n && k0 + 1 < k ? <i32>load<i8>(b + <usize>(k0 + 1) * ldb + col) : 0;
        store<i16>(dst, <i16>v0);
        store<i16>(dst, <i16>v1, 2);
        dst += 4;
      }
    }
  }
}

/**
 * Packs rows [0, mc) of A (int8, stride lda bytes) × k into MR-row panels of k-pairs (int16), zero rows past mc
 * and a zero k past an odd k: dst[q·kp·16 + p·16 + i·4] = (a(qMR + i, 2p), a(qMR + i, 2p + 1)).
 */
function pack_a(mc: i32, k: i32, a: usize, lda: i32, dst: usize): void {
  const kp = (k + 1) >> 1, ld = <usize>lda;
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const full = i0 + MR <= mc;
    const r0 = a + <usize>i0 * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
    let p = 0;
    if (full) {
      // 8 k-pairs at a time: each row's 16 bytes sign-extend to two i16x8 (4 pairs each), then a 4×4
      // transpose of 32-bit lanes gives per k-pair the 4 rows' pairs.
      for (; 2 * p + 16 <= k; p += 8) {
        const o = <usize>(2 * p);
        const v0 = v128.load(r0 + o), v1 = v128.load(r1 + o), v2 = v128.load(r2 + o), v3 = v128.load(r3 + o);
        const d = dst + (<usize>p << 4);
        transpose_store(d, i16x8.extend_low_i8x16_s(v0), i16x8.extend_low_i8x16_s(v1), i16x8.extend_low_i8x16_s(v2), i16x8.extend_low_i8x16_s(v3));
        transpose_store(d + 64, i16x8.extend_high_i8x16_s(v0), i16x8.extend_high_i8x16_s(v1), i16x8.extend_high_i8x16_s(v2), i16x8.extend_high_i8x16_s(v3));
      }
    }
    for (; p < kp; p++) {
      const k0 = 2 * p, d = dst + (<usize>p << 4);
      for (let i = 0; i < MR; i++) {
        const row = a + <usize>(i0 + i) * ld;
        const inside = i0 + i < mc;
        store<i16>(d + (<usize>i << 2), inside ? <i16>load<i8>(row + k0) : 0);
        store<i16>(d + (<usize>i << 2), inside && k0 + 1 < k ? <i16>load<i8>(row + k0 + 1) : 0, 2);
      }
    }
    dst += <usize>kp << 4;
  }
}

/** Stores the 4×4 transpose of 32-bit lanes of rows v0..v3 as 4 vectors at d, d+16, d+32, d+48. */
// @ts-ignore: decorator
@inline function transpose_store(d: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const lo01 = v128.shuffle<i32>(v0, v1, 0, 4, 1, 5), hi01 = v128.shuffle<i32>(v0, v1, 2, 6, 3, 7);
  const lo23 = v128.shuffle<i32>(v2, v3, 0, 4, 1, 5), hi23 = v128.shuffle<i32>(v2, v3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<i32>(lo01, lo23, 0, 1, 4, 5));
  v128.store(d, v128.shuffle<i32>(lo01, lo23, 2, 3, 6, 7), 16);
  v128.store(d, v128.shuffle<i32>(hi01, hi23, 0, 1, 4, 5), 32);
  v128.store(d, v128.shuffle<i32>(hi01, hi23, 2, 3, 6, 7), 48);
}

/**
 * tile[4×8] (int32, row stride 32 bytes) (+)= packed A panel (4 rows) · packed B panel (8 columns) over kp ≥ 1
 * k-pairs: `accumulate` adds to the tile's partial sums of the earlier k blocks, else overwrites it.
 */
function qgemm_4x8_kernel(kp: i32, a: usize, b: usize, tile: usize, accumulate: bool): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  if (accumulate) {
    c00 = v128.load(tile); c01 = v128.load(tile, 16); c10 = v128.load(tile, 32); c11 = v128.load(tile, 48);
    c20 = v128.load(tile, 64); c21 = v128.load(tile, 80); c30 = v128.load(tile, 96); c31 = v128.load(tile, 112);
  }
  const end = b + (<usize>kp << 5);
  while (b < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = i32x4.add(c00, i32x4.dot_i16x8_s(a0, b0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(a0, b1));
    const a1 = v128.load32_splat(a, 4);
    c10 = i32x4.add(c10, i32x4.dot_i16x8_s(a1, b0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(a1, b1));
    const a2 = v128.load32_splat(a, 8);
    c20 = i32x4.add(c20, i32x4.dot_i16x8_s(a2, b0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(a2, b1));
    const a3 = v128.load32_splat(a, 12);
    c30 = i32x4.add(c30, i32x4.dot_i16x8_s(a3, b0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(a3, b1));
    a += 16;
    b += 32;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
}

/** Writes rows [0, mr) × columns [0, nr) of int32 sums (row stride 32 bytes) to C: int8 requantized, or f32 (f32out); one element at a time. */
function store_tile_scalar(tile: usize, mr: i32, nr: i32, q: usize, zy: i32, lo: i32, hi: i32, c: usize, ldc: i32, f32out: i32): void {
  for (let j = 0; j < nr; j++) {
    const qj = q + <usize>j * QPARAM_BYTES;
    const bias = load<i32>(qj), mult = load<i32>(qj, 4), shift = load<i32>(qj, 8), scale = load<f32>(qj, 12);
    for (let i = 0; i < mr; i++) {
      const acc = load<i32>(tile + (<usize>(i * NR + j) << 2)) + bias;
      if (f32out) {
        store<f32>(c + ((<usize>i * ldc + j) << 2), <f32>acc * scale);
      } else {
        const v = zy + mulq(acc, mult, shift);
        store<i8>(c + <usize>i * ldc + j, <i8>(v < lo ? lo : v > hi ? hi : v));
      }
    }
  }
}

/**
 * Writes a panel's rows [0, mr) × columns [0, nr) from its int32 sums (row stride 32 bytes) to C, 4 columns at a
 * time when the panel is full (nr = 8): the 4 QPARAM records of a column quad transpose into bias, mult, shift
 * and scale vectors once per panel, then every row is requantized with them. int8: when the quad's 4 shifts are
 * equal (lowerQuantized gives a layer one shift and per-channel multipliers, so they always are) MulQ runs on
 * vectors, bit for bit as mulq: x << left, the 64-bit products (extmul), + 2^30, the low 32 bits of >> 31, then
 * RoundingDivideByPOT with one exponent; else the scalar loop.
 */
function store_panel(tile: usize, mr: i32, nr: i32, q: usize, zy: i32, lo: i32, hi: i32, c: usize, ldc: i32, f32out: i32): void {
  if (nr < NR) { store_tile_scalar(tile, mr, nr, q, zy, lo, hi, c, ldc, f32out); return; }
  for (let h = 0; h < 2; h++) {
    const qh = q + <usize>(h * 4) * QPARAM_BYTES;
    const r0 = v128.load(qh), r1 = v128.load(qh, 16), r2 = v128.load(qh, 32), r3 = v128.load(qh, 48);
    const l01 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), h01 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
    const l23 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5), h23 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
    const bias = v128.shuffle<i32>(l01, l23, 0, 1, 4, 5), mult = v128.shuffle<i32>(l01, l23, 2, 3, 6, 7);
    const shifts = v128.shuffle<i32>(h01, h23, 0, 1, 4, 5), scale = v128.shuffle<i32>(h01, h23, 2, 3, 6, 7);
    const shift = i32x4.extract_lane(shifts, 0), t = tile + (<usize>(h * 4) << 2);
    if (f32out) {
      const cf = c + (<usize>(h * 4) << 2);
      for (let i = 0; i < mr; i++) {
        const acc = i32x4.add(v128.load(t + (<usize>i << 5)), bias);
        v128.store(cf + ((<usize>i * ldc) << 2), f32x4.mul(f32x4.convert_i32x4_s(acc), scale));
      }
      continue;
    }
    if (!i32x4.all_true(i32x4.eq(shifts, i32x4.splat(shift)))) {
      store_tile_scalar(t, mr, 4, qh, zy, lo, hi, c + <usize>(h * 4), ldc, f32out);
      continue;
    }
    const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const mask = <i32>((<i64>1 << right) - 1), half = i32x4.splat(mask >> 1), vmask = i32x4.splat(mask);
    const nudge = i64x2.splat(<i64>1 << 30), vzy = i32x4.splat(zy), vlo = i32x4.splat(lo), vhi = i32x4.splat(hi);
    const cq = c + <usize>(h * 4);
    for (let i = 0; i < mr; i++) {
      const acc = i32x4.add(v128.load(t + (<usize>i << 5)), bias);
      const x = i32x4.shl(acc, left);
      const plo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(x, mult), nudge), 31);
      const phi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(x, mult), nudge), 31);
      const r = v128.shuffle<i32>(plo, phi, 0, 2, 4, 6); // srdhm: the low halves
      const threshold = i32x4.sub(half, i32x4.lt_s(r, i32x4.splat(0))); // lt_s is −1 where r < 0
      const d = i32x4.sub(i32x4.shr_s(r, right), i32x4.gt_s(v128.and(r, vmask), threshold));
      const y = i32x4.min_s(i32x4.max_s(i32x4.add(d, vzy), vlo), vhi);
      const b8 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(y, y), i16x8.narrow_i32x4_s(y, y));
      v128.store32_lane(cq + <usize>i * ldc, b8, 0);
    }
  }
}

/**
 * C = requant(A · packed B + bias) (see the header). A: int8 m×k, row stride lda bytes; packed: qgemm_pack_b's
 * k×n; q: n QPARAM records; C: int8 (ldc bytes) or, when f32out, f32 (ldc floats); zy, lo, hi: int8 output's
 * zero point and clamp (unused for f32). scratch: qgemm_scratch_bytes(m, n, k). Any row slice (a, c offset by
 * rows) and any column slice at a multiple of 8 (packed offset by panels, q and c by columns) is a valid call.
 */
export function qgemm_s8(m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize, q: usize,
  zy: i32, lo: i32, hi: i32, c: usize, ldc: i32, f32out: i32, scratch: usize): void {
  const kp = (k + 1) >> 1, mcMax = blockRows(m, k);
  const pa = scratch, tiles = scratch + align64(mcMax * kp * 4);
  const panelBytes = <usize>kp << 5, elem: usize = f32out ? 4 : 1;
  for (let ic = 0; ic < m; ic += mcMax) {
    const mc = min(mcMax, m - ic);
    pack_a(mc, k, a + <usize>ic * lda, lda, pa);
    for (let j0 = 0; j0 < n; j0 += NR) {
      const nr = min(NR, n - j0), pb = packed + <usize>(j0 / NR) * panelBytes;
      for (let p0 = 0; p0 < kp; p0 += KC_PAIRS) {
        const kc = min(KC_PAIRS, kp - p0);
        for (let i0 = 0; i0 < mc; i0 += MR) {
          qgemm_4x8_kernel(kc, pa + ((<usize>(i0 / MR) * kp + p0) << 4), pb + (<usize>p0 << 5), tiles + (<usize>i0 * NR << 2), p0 > 0);
        }
      }
      // the block's tiles are its rows × 8 int32 sums, row after row: the panel's mc rows requantize in one pass
      store_panel(tiles, mc, nr, q + <usize>j0 * QPARAM_BYTES, zy, lo, hi, c + (<usize>ic * ldc + j0) * elem, ldc, f32out);
    }
  }
}
