// GEMM: C[m×n] (row stride ldc) = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], f32, row-major.
// op(A) = A (m×k, stride lda) or Aᵀ (A stored k×m, stride lda); op(B) = B (k×n, stride ldb) or Bᵀ (B stored n×k).
//
// The BLIS/XNNPACK design: op(B) is packed into NR-wide k-panels and op(A) into MR-high k-panels (packing
// absorbs the transposes, so all four forms run one micro-kernel), and a generated MR×NR micro-kernel
// (assembly/gemm_kernels.ts, from scripts/gen-gemm-kernels.mjs) keeps the C tile in registers.
// Cache blocks: a KC×NR B panel (8 KiB) stays in L1 while the MR-high panels of an MC×KC A block (100 KiB)
// stream from L2; the KC×NC packed B block (≤ 512 KiB) comes from L2/L3.
// Loop order, outer to inner: jc (NC) → pc (KC; pack B) → ic (MC; pack A) → jr (NR) → ir (MR).
// Tiles on the m or n edge are computed into a scratch tile and copied, so any m, n, k ≥ 1 works; callers
// may split C's rows across threads (offset a and c): every row slice is a valid call.
// Prepacked weights: gemm_pack_b packs all of op(B) once (ceil(n/NR) panels of k×NR floats), and
// gemm_f32_packed_b runs the same blocks over it without packing B again.
import { gemm_micro_kernel } from './gemm_kernels';
import { GEMM_MR, GEMM_NR } from './abi';

/** Micro-tile: MR rows × NR columns of C (5×8 measured fastest; see the generator). NR is also the
 *  packed-B panel width, so it is part of gemm_pack_b's format: both come from the ABI (scripts/abi.mjs),
 *  which TypeScript reads as well (src/engine/generated/abi.ts). */
const MR: i32 = GEMM_MR;
const NR: i32 = GEMM_NR;
/** Cache-block ceilings; each dimension is split into near-equal blocks no larger than these. */
const KC: i32 = 256;
const MC: i32 = 100;
const NC: i32 = 512;

/** The block for a dimension of `total`: ceil(total / parts) rounded up to `unit`, parts = ceil(total / max). */
function block_size(total: i32, max: i32, unit: i32): i32 {
  const parts = (total + max - 1) / max;
  const size = (total + parts - 1) / parts;
  return (size + unit - 1) / unit * unit;
}

// @ts-ignore: decorator
@inline function align64(bytes: i32): i32 {
  return (bytes + 63) & ~63;
}

/** Address of element (i, p) of op(X), X row-major with stride ld (transposed: X[p, i]). */
// @ts-ignore: decorator
@inline function op_at(trans: i32, x: usize, ld: i32, i: i32, p: i32): usize {
  return x + ((trans ? <usize>p * ld + i : <usize>i * ld + p) << 2);
}

/**
 * The largest block_size(t, max, unit) over every t ≤ total. Scratch is sized with this bound, not with
 * block_size itself, which is not monotonic (a 96-row product takes one 96-row block, a 128-row one two of 64):
 * memory planned for a batch must hold every smaller batch, such as an epoch's last.
 */
function block_bound(total: i32, max: i32, unit: i32): i32 {
  const t = min(total, max);
  return (t + unit - 1) / unit * unit;
}

/** Bytes of scratch gemm_f32 needs for every product no larger than m × n × k: a packed KC×NC block of B, then gemm_f32_packed_b's scratch. */
export function gemm_scratch_bytes(m: i32, n: i32, k: i32): i32 {
  return align64(block_bound(k, KC, 1) * block_bound(n, NC, NR) * 4) + gemm_f32_packed_b_scratch_bytes(m, n, k);
}

/** Bytes of scratch gemm_f32_packed_b needs for any smaller or equal m, n, k: a packed MC×KC block of A and one MR×NR tile. */
export function gemm_f32_packed_b_scratch_bytes(m: i32, n: i32, k: i32): i32 {
  return align64(block_bound(m, MC, MR) * block_bound(k, KC, 1) * 4) + MR * NR * 4;
}

/** Bytes of a packed op(B) (k×n): ceil(n/NR) panels of k×NR floats, zero-padded past column n. */
export function gemm_packed_b_bytes(k: i32, n: i32): i32 {
  return (n + NR - 1) / NR * NR * k * 4;
}

/**
 * Packs op(B) rows [0, kc) × columns [0, nc) (b at op(B)[0, 0]) into NR-wide panels:
 * dst[q·kc·NR + p·NR + j] = op(B)[p, q·NR + j], zero where q·NR + j ≥ nc.
 */
function pack_b_panels(transB: i32, kc: i32, nc: i32, b: usize, ldb: i32, dst: usize): void {
  const ld = <usize>ldb << 2;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = min(NR, nc - j0);
    if (!transB) {
      let src = b + (<usize>j0 << 2);
      if (nr == NR) {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ld; dst += NR << 2;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let j = 0; j < NR; j++) store<f32>(dst + (<usize>j << 2), j < nr ? load<f32>(src + (<usize>j << 2)) : 0);
          src += ld; dst += NR << 2;
        }
      }
    } else {
      // Bᵀ stored n×k: column j of op(B) is row j of B, contiguous in p.
      for (let j = 0; j < NR; j++) {
        const src = b + <usize>(j0 + j) * ld;
        const out = dst + (<usize>j << 2);
        if (j < nr) for (let p = 0; p < kc; p++) store<f32>(out + <usize>p * (NR << 2), load<f32>(src + (<usize>p << 2)));
        else for (let p = 0; p < kc; p++) store<f32>(out + <usize>p * (NR << 2), 0);
      }
      dst += <usize>kc * (NR << 2);
    }
  }
}

/** Packs op(A) rows [0, mr), mr ≤ MR, × columns [0, kc) into one MR-high panel: dst[p·MR + i], zero for i ≥ mr. */
function pack_a_edge(transA: i32, mr: i32, kc: i32, a: usize, lda: i32, dst: usize): void {
  for (let p = 0; p < kc; p++) {
    for (let i = 0; i < MR; i++) {
      store<f32>(dst + (<usize>(p * MR + i) << 2), i < mr ? load<f32>(op_at(transA, a, lda, i, p)) : 0);
    }
  }
}

/**
 * Packs op(A) rows [0, mc) × columns [0, kc) (a at op(A)[0, 0]) into MR-high panels, the last one
 * zero-padded: dst[q·kc·MR + p·MR + i] = op(A)[q·MR + i, p]. With MR = 5, a panel step p is 20 bytes.
 * A stored m×k: 4 columns at a time, a 4×4 transpose of rows 0–3 plus lane stores of row 4 (a scalar
 * copy measured a third of the time of the conv-shape GEMMs). Aᵀ stored k×m: op(A)'s column p is
 * contiguous, one vector and one scalar per step.
 */
function pack_a_panels(transA: i32, mc: i32, kc: i32, a: usize, lda: i32, dst: usize): void {
  const ld = <usize>lda << 2;
  let i0 = 0;
  for (; i0 + MR <= mc; i0 += MR) {
    let d = dst;
    if (transA) {
      let src = a + (<usize>i0 << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(src));
        store<f32>(d, load<f32>(src, 16), 16);
        src += ld; d += MR << 2;
      }
    } else {
      const r0 = a + <usize>i0 * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld, r4 = r3 + ld;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p << 2;
        const v0 = v128.load(r0 + o), v1 = v128.load(r1 + o), v2 = v128.load(r2 + o), v3 = v128.load(r3 + o);
        const v4 = v128.load(r4 + o);
        const lo01 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), hi01 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
        const lo23 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), hi23 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5)); v128.store32_lane(d, v4, 0, 16);
        v128.store(d, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7), 20); v128.store32_lane(d, v4, 1, 36);
        v128.store(d, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5), 40); v128.store32_lane(d, v4, 2, 56);
        v128.store(d, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7), 60); v128.store32_lane(d, v4, 3, 76);
        d += (4 * MR) << 2;
      }
      for (; p < kc; p++) {
        const o = <usize>p << 2;
        store<f32>(d, load<f32>(r0 + o)); store<f32>(d, load<f32>(r1 + o), 4); store<f32>(d, load<f32>(r2 + o), 8);
        store<f32>(d, load<f32>(r3 + o), 12); store<f32>(d, load<f32>(r4 + o), 16);
        d += MR << 2;
      }
    }
    dst += <usize>kc * (MR << 2);
  }
  if (i0 < mc) pack_a_edge(transA, mc - i0, kc, op_at(transA, a, lda, i0, 0), lda, dst);
}

/** C[mr×nr] (row stride ldc bytes) = (accumulate ? C : 0) + tile[mr×nr] (row stride NR floats). */
function add_tile(tile: usize, mr: i32, nr: i32, c: usize, ldc: usize, accumulate: i32): void {
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const t = load<f32>(tile + (<usize>(i * NR + j) << 2));
      const cp = c + <usize>i * ldc + (<usize>j << 2);
      store<f32>(cp, accumulate ? load<f32>(cp) + t : t);
    }
  }
}

/**
 * C[mc×nc] (+)= packed A block (mc×kc, MR-high panels) · packed B block (kc×nc, NR-wide panels
 * `panelBytes` apart). Full tiles go straight to C; edge tiles through `tile` (MR×NR floats).
 */
function macro_kernel(mc: i32, nc: i32, kc: i32, pa: usize, pb: usize, panelBytes: usize,
  c: usize, ldc: i32, accumulate: i32, tile: usize): void {
  const ldcBytes = <usize>ldc << 2;
  const aPanelBytes = <usize>kc * (MR << 2);
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const nr = min(NR, nc - j0);
    let a = pa, cij = c + (<usize>j0 << 2);
    for (let i0 = 0; i0 < mc; i0 += MR) {
      const mr = min(MR, mc - i0);
      if (mr == MR && nr == NR) {
        gemm_micro_kernel(kc, a, pb, cij, ldcBytes, accumulate);
      } else {
        gemm_micro_kernel(kc, a, pb, tile, NR << 2, 0);
        add_tile(tile, mr, nr, cij, ldcBytes, accumulate);
      }
      a += aPanelBytes;
      cij += <usize>MR * ldcBytes;
    }
    pb += panelBytes;
  }
}

export function gemm_f32(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32,
  c: usize, ldc: i32, accumulate: i32, scratch: usize,
): void {
  const kcMax = block_size(k, KC, 1), mcMax = block_size(m, MC, MR), ncMax = block_size(n, NC, NR);
  const pb = scratch;
  const pa = pb + align64(kcMax * ncMax * 4);
  const tile = pa + align64(mcMax * kcMax * 4);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = min(kcMax, k - pc);
      pack_b_panels(transB, kc, nc, op_at(transB, b, ldb, pc, jc), ldb, pb);
      const acc = pc > 0 ? 1 : accumulate;
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic);
        pack_a_panels(transA, mc, kc, op_at(transA, a, lda, ic, pc), lda, pa);
        macro_kernel(mc, nc, kc, pa, pb, <usize>kc * (NR << 2), c + ((<usize>ic * ldc + jc) << 2), ldc, acc, tile);
      }
    }
  }
}

/** Packs op(B) (k×n) once for gemm_f32_packed_b, into gemm_packed_b_bytes(k, n) bytes at `packed`. */
export function gemm_pack_b(transB: i32, k: i32, n: i32, b: usize, ldb: i32, packed: usize): void {
  pack_b_panels(transB, k, n, b, ldb, packed);
}

/** gemm_f32 with op(B) (k×n) packed by gemm_pack_b; scratch: gemm_f32_packed_b_scratch_bytes(m, n, k). */
export function gemm_f32_packed_b(
  transA: i32, m: i32, n: i32, k: i32, a: usize, lda: i32, packed: usize,
  c: usize, ldc: i32, accumulate: i32, scratch: usize,
): void {
  const kcMax = block_size(k, KC, 1), mcMax = block_size(m, MC, MR);
  const pa = scratch;
  const tile = pa + align64(mcMax * kcMax * 4);
  for (let pc = 0; pc < k; pc += kcMax) {
    const kc = min(kcMax, k - pc);
    const acc = pc > 0 ? 1 : accumulate;
    for (let ic = 0; ic < m; ic += mcMax) {
      const mc = min(mcMax, m - ic);
      pack_a_panels(transA, mc, kc, op_at(transA, a, lda, ic, pc), lda, pa);
      macro_kernel(mc, n, kc, pa, packed + (<usize>pc * (NR << 2)), <usize>k * (NR << 2), c + ((<usize>ic * ldc) << 2), ldc, acc, tile);
    }
  }
}
