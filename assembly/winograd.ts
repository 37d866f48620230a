// Winograd F(2×2, 3×3) for stride-1 3×3 convolutions at inference (Lavin & Gray 2016, "Fast Algorithms for
// Convolutional Neural Networks"): 2×2 outputs from a 4×4 input tile with 16 multiplies per (cin, cout) pair
// instead of 36, so the GEMMs do 4/9 of im2col's work. Per tile (origin 2·ty − padTop, 2·tx − padLeft), input
// channel c and output channel o:
//   V_c = Bᵀ d_c B          Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   U_co = G g_co Gᵀ        G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]          (once, at compile: src/infer/winograd.ts)
//   M_o = Σ_c V_c ⊙ U_co    → for each of the 16 positions ξ a GEMM over tiles: M[ξ] = V[ξ] · U[ξ]
//   Y_o = Aᵀ M_o A          Aᵀ = [1 1 1 0; 0 1 −1 −1]
// The caller (src/infer/model.ts) runs the 16 GEMMs with gemm_f32_packed_b between the two kernels here.
// Shapes, for tile rows [ty0, ty1) of one example (T = (ty1 − ty0)·tilesW tiles, tilesW = ⌈ow/2⌉):
//   x [h, w, cin]    v [16, T, cin]    m [16, T, cout]    y [oh, ow, cout] (rows 2·ty0 .. min(oh, 2·ty1))
// Channels run 4 to a v128, so cin and cout must be multiples of 4 (the caller's rule, winogradApplies).
// Accuracy: the transforms only add and subtract (U's halves are exact), so the error is the GEMM's plus a
// few roundings of sums of up to 4 terms; the tests hold it within 1e-4 of the direct definition.
import { descI32, CONV_H, CONV_W, CONV_CIN, CONV_OH, CONV_OW, CONV_COUT, CONV_PAD_TOP, CONV_PAD_LEFT } from './abi';

/** V[ξ] for one tile and 4 channels, reading d[r][s] at base + r·rs + s·ps; ξ = 4i + j at out + ξ·vs. */
// Not inlined: its two callers (inner and border tiles) share one copy, which keeps rede/infer's binary small.
function inputTile(base: usize, rs: usize, ps: usize, out: usize, vs: usize): void {
  for (let j = 0; j < 4; j++) {
    // a_r = (d B)[r][j] = Σ_s d[r][s]·Bᵀ[j][s], row j of Bᵀ: (1,0,−1,0), (0,1,1,0), (0,−1,1,0), (0,1,0,−1) for j = 0..3.
    let a0: v128, a1: v128, a2: v128, a3: v128;
    const r0 = base, r1 = base + rs, r2 = base + 2 * rs, r3 = base + 3 * rs;
    if (j == 0) {
      a0 = f32x4.sub(v128.load(r0), v128.load(r0 + 2 * ps)); a1 = f32x4.sub(v128.load(r1), v128.load(r1 + 2 * ps));
      a2 = f32x4.sub(v128.load(r2), v128.load(r2 + 2 * ps)); a3 = f32x4.sub(v128.load(r3), v128.load(r3 + 2 * ps));
    } else if (j == 1) {
      a0 = f32x4.add(v128.load(r0 + ps), v128.load(r0 + 2 * ps)); a1 = f32x4.add(v128.load(r1 + ps), v128.load(r1 + 2 * ps));
      a2 = f32x4.add(v128.load(r2 + ps), v128.load(r2 + 2 * ps)); a3 = f32x4.add(v128.load(r3 + ps), v128.load(r3 + 2 * ps));
    } else if (j == 2) {
      a0 = f32x4.sub(v128.load(r0 + 2 * ps), v128.load(r0 + ps)); a1 = f32x4.sub(v128.load(r1 + 2 * ps), v128.load(r1 + ps));
      a2 = f32x4.sub(v128.load(r2 + 2 * ps), v128.load(r2 + ps)); a3 = f32x4.sub(v128.load(r3 + 2 * ps), v128.load(r3 + ps));
    } else {
      a0 = f32x4.sub(v128.load(r0 + ps), v128.load(r0 + 3 * ps)); a1 = f32x4.sub(v128.load(r1 + ps), v128.load(r1 + 3 * ps));
      a2 = f32x4.sub(v128.load(r2 + ps), v128.load(r2 + 3 * ps)); a3 = f32x4.sub(v128.load(r3 + ps), v128.load(r3 + 3 * ps));
    }
    const o = out + <usize>j * vs;
    v128.store(o, f32x4.sub(a0, a2));
    v128.store(o + 4 * vs, f32x4.add(a1, a2));
    v128.store(o + 8 * vs, f32x4.sub(a2, a1));
    v128.store(o + 12 * vs, f32x4.sub(a1, a3));
  }
}

/** Stores t (+ res at byte offset `at`, when res ≠ 0), ReLU'd when relu ≠ 0, at q. */
// @ts-ignore: decorator
@inline function finish(q: usize, t: v128, res: usize, at: usize, relu: i32): void {
  if (res) t = f32x4.add(t, v128.load(res + at));
  if (relu) t = f32x4.max(t, f32x4.splat(0));
  v128.store(q, t);
}

/** Bytes of v (or, with cout, of m) for `tiles` tiles: 16 · tiles · channels f32. */
export function winograd_buffer_bytes(tiles: i32, channels: i32): i32 {
  return 16 * tiles * channels * 4;
}

/**
 * v [16, T, cin] ← Bᵀ d B of every tile in tile rows [ty0, ty1) of the example x (zeros outside the image).
 * tmp: WINOGRAD_TMP_BYTES (scripts/abi.mjs) of the caller's scratch, 16-aligned, where a border tile is copied with its zero
 * padding so that one transform reads both kinds of tile (per thread: a static buffer would be shared).
 */
export function winograd_input_f32(desc: usize, x: usize, ty0: i32, ty1: i32, v: usize, tmp: usize): void {
  const h = descI32(desc, CONV_H), w = descI32(desc, CONV_W), cin = descI32(desc, CONV_CIN);
  const pt = descI32(desc, CONV_PAD_TOP), pl = descI32(desc, CONV_PAD_LEFT), tilesW = (descI32(desc, CONV_OW) + 1) >> 1;
  const ps = <usize>cin << 2, rs = <usize>w * ps, vs = <usize>(ty1 - ty0) * tilesW * ps;
  for (let ty = ty0; ty < ty1; ty++) {
    const y0 = 2 * ty - pt;
    for (let tx = 0; tx < tilesW; tx++) {
      const x0 = 2 * tx - pl, out = v + (<usize>((ty - ty0) * tilesW + tx) * ps);
      if (y0 >= 0 && y0 + 4 <= h && x0 >= 0 && x0 + 4 <= w) {
        const base = x + <usize>(y0 * w + x0) * ps;
        for (let c: usize = 0; c < ps; c += 16) inputTile(base + c, rs, ps, out + c, vs);
      } else {
        for (let c: usize = 0; c < ps; c += 16) {
          for (let r = 0; r < 4; r++) for (let s = 0; s < 4; s++) {
            const iy = y0 + r, ix = x0 + s, slot = tmp + <usize>(r * 4 + s) * 16;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) v128.store(slot, v128.load(x + <usize>(iy * w + ix) * ps + c));
            else v128.store(slot, f32x4.splat(0));
          }
          inputTile(tmp, 64, 16, out + c, vs);
        }
      }
    }
  }
}

/**
 * y rows [2·ty0, min(oh, 2·ty1)) ← Aᵀ M A of every tile, m [16, T, cout] (the 16 GEMMs' output), then + bias
 * [cout] (0: none), + res (0: none; laid out as y), then ReLU when relu ≠ 0 — the conv's epilogue while the
 * tile is in registers.
 */
export function winograd_output_f32(desc: usize, m: usize, ty0: i32, ty1: i32, y: usize, bias: usize, res: usize, relu: i32): void {
  const oh = descI32(desc, CONV_OH), ow = descI32(desc, CONV_OW), cout = descI32(desc, CONV_COUT), tilesW = (ow + 1) >> 1;
  const ps = <usize>cout << 2, rs = <usize>ow * ps, ms = <usize>(ty1 - ty0) * tilesW * ps;
  for (let ty = ty0; ty < ty1; ty++) {
    const fullRows = 2 * ty + 2 <= oh;
    for (let tx = 0; tx < tilesW; tx++) {
      const src = m + <usize>((ty - ty0) * tilesW + tx) * ps, dst = y + <usize>(2 * ty) * rs + <usize>(2 * tx) * ps;
      const fullCols = 2 * tx + 2 <= ow;
      for (let c: usize = 0; c < ps; c += 16) {
        // b_i,j = (Aᵀ M)[i][j] by columns j, then Y = b A.
        const p = src + c;
        const m00 = v128.load(p), m01 = v128.load(p + ms), m02 = v128.load(p + 2 * ms), m03 = v128.load(p + 3 * ms);
        const m10 = v128.load(p + 4 * ms), m11 = v128.load(p + 5 * ms), m12 = v128.load(p + 6 * ms), m13 = v128.load(p + 7 * ms);
        const m20 = v128.load(p + 8 * ms), m21 = v128.load(p + 9 * ms), m22 = v128.load(p + 10 * ms), m23 = v128.load(p + 11 * ms);
        const s0 = f32x4.add(m10, m20), s1 = f32x4.add(m11, m21), s2 = f32x4.add(m12, m22), s3 = f32x4.add(m13, m23);
        const b00 = f32x4.add(m00, s0), b01 = f32x4.add(m01, s1), b02 = f32x4.add(m02, s2), b03 = f32x4.add(m03, s3);
        const d0 = f32x4.sub(m10, m20), d1 = f32x4.sub(m11, m21), d2 = f32x4.sub(m12, m22), d3 = f32x4.sub(m13, m23);
        const b10 = f32x4.sub(d0, v128.load(p + 12 * ms)), b11 = f32x4.sub(d1, v128.load(p + 13 * ms));
        const b12 = f32x4.sub(d2, v128.load(p + 14 * ms)), b13 = f32x4.sub(d3, v128.load(p + 15 * ms));
        const q = dst + c, bv = bias ? v128.load(bias + c) : f32x4.splat(0);
        finish(q, f32x4.add(f32x4.add(b00, f32x4.add(b01, b02)), bv), res, q - y, relu);
        if (fullCols) finish(q + ps, f32x4.add(f32x4.sub(f32x4.sub(b01, b02), b03), bv), res, q + ps - y, relu);
        if (fullRows) {
          finish(q + rs, f32x4.add(f32x4.add(b10, f32x4.add(b11, b12)), bv), res, q + rs - y, relu);
          if (fullCols) finish(q + rs + ps, f32x4.add(f32x4.sub(f32x4.sub(b11, b12), b13), bv), res, q + rs + ps - y, relu);
        }
      }
    }
  }
}
