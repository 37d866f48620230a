// The direct convolutions' 8-channel panels (assembly/conv_direct.ts, conv_small.ts): a weight or dy matrix packed
// as ⌈cols/8⌉ panels of rows × 8 so that a micro-tile reads one panel row as two vectors, and the stores of a
// tile's last panel, which may hold fewer than 8 channels.
import { at } from './simd';

/** Channels per panel and per micro-tile: two f32x4 vectors (the GEMM's NR). */
export const NB: i32 = 8;

/** Stores the first n (1..8) lanes of [lo, hi] at dst. */
// @ts-ignore: decorator
@inline export function storeLanes(dst: usize, lo: v128, hi: v128, n: i32): void {
  if (n >= 8) { v128.store(dst, lo); v128.store(dst, hi, 16); return; }
  let v = lo;
  if (n >= 4) { v128.store(dst, lo); v = hi; dst += 16; n -= 4; }
  if (n > 0) v128.store32_lane(dst, v, 0);
  if (n > 1) v128.store32_lane(dst, v, 1, 4);
  if (n > 2) v128.store32_lane(dst, v, 2, 8);
}

/** dst[0..n) += the first n (1..8) lanes of [lo, hi]. */
// @ts-ignore: decorator
@inline export function addLanes(dst: usize, lo: v128, hi: v128, n: i32): void {
  if (n >= 8) {
    v128.store(dst, f32x4.add(v128.load(dst), lo)); v128.store(dst, f32x4.add(v128.load(dst, 16), hi), 16);
    return;
  }
  let v = lo;
  if (n >= 4) { v128.store(dst, f32x4.add(v128.load(dst), lo)); v = hi; dst += 16; n -= 4; }
  if (n > 0) store<f32>(dst, load<f32>(dst) + f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(dst, load<f32>(dst, 4) + f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(dst, load<f32>(dst, 8) + f32x4.extract_lane(v, 2), 8);
}

/** dst[q][r][j] = src[r·ld + q·8 + j] for j < 8 (0 past cols): rows × cols → ⌈cols/8⌉ panels of rows × 8. */
export function packPanels(src: usize, rows: i32, cols: i32, ld: i32, dst: usize): void {
  for (let q = 0; q < cols; q += NB) {
    const nr = min(NB, cols - q);
    // A short panel (cout 6: every filter-gradient call's dy) loads whole vectors and clears the lanes past nr;
    // those loads read up to 7 floats past the row, so the last rows, where that would leave src, go one by one.
    const keepLo = lanesBelow(nr), keepHi = lanesBelow(nr - 4), end = <usize>rows * ld;
    for (let r = 0; r < rows; r++) {
      const s = at(src, <usize>r * ld + q);
      if (nr == NB) { v128.store(dst, v128.load(s)); v128.store(dst, v128.load(s, 16), 16); } else if (<usize>r * ld + q + NB <= end) {
        v128.store(dst, v128.and(v128.load(s), keepLo)); v128.store(dst, v128.and(v128.load(s, 16), keepHi), 16);
      } else {
        for (let j = 0; j < NB; j++) store<f32>(dst + (<usize>j << 2), j < nr ? load<f32>(s + (<usize>j << 2)) : 0);
      }
      dst += NB << 2;
    }
  }
}

/** All-ones in the first clamp(n, 0, 4) 32-bit lanes, zero in the rest. */
export function lanesBelow(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}
