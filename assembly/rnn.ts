// Recurrent layers: simple RNN, LSTM (Hochreiter & Schmidhuber 1997, with forget gate) and GRU (Cho et al.
// 2014), forward and backpropagation through time, in Keras's weight layout and gate order.
//
// Shapes (n examples, t steps, f input features, u units, G gates: 1 simple, 4 LSTM (i, f, c, o), 3 GRU
// (z, r, h); GU = G·u; rows are batch-major, row (b, τ) = b·t + τ):
//   x, dx  [n, t, f]      y, dy  [n, S, u]: S = t (returnSeq) or 1 (the last state), then with returnState the
//                         last h and (LSTM) the last c as rows: Keras's [output, h, c], per example back to back
//   h0, dh0, c0, dc0 [n, u]  the initial state (0: zeros) and its gradient (0: not wanted)
//   w, dw  [f, GU]        r, dr  [u, GU]   (recurrent_kernel)
//   b, db  [GU]; GRU with resetAfter: [2, GU] (input bias, then recurrent bias)
// The algebra, per step with h₋ = the previous state (h0 before the first step) and P = x·W + b:
//   simple  h = act(P + h₋·R)
//   LSTM    i, f, o = ract(P_· + h₋·R_·), g = act(P_c + h₋·R_c), c = f⊙c₋ + i⊙g, h = o⊙act(c)
//   GRU     z, r = ract(P_· + h₋·R_· + b_r·), ĥ = act(P_h + r⊙(h₋·R_h + b_rh))   (resetAfter, Keras 2's default)
//           ĥ = act(P_h + (r⊙h₋)·R_h)                                            (resetAfter = 0)
//           h = z⊙h₋ + (1 − z)⊙ĥ
// so the input projection of every step is one GEMM (n·t × GU × f) before the loop, each step one recurrent
// GEMM (n × GU × u; a GRU without resetAfter two, since R_h acts on r⊙h₋), and the gates one fused pass.
// Backward walks the steps in reverse: per step a fused pass turns dh (and dc) into dP, the gradient of the
// gates' pre-activations, and one GEMM dP·Rᵀ carries it to h₋. dW = xᵀ·dP, dR = h₋ᵀ·dP and dx = dP·Wᵀ are then
// one GEMM each over all steps, because every step's h₋ was kept (`hp` below).
//
// go_backwards (Keras): the steps run from τ = t−1 down to 0, and y's sequence is in that (reversed) order.
// Masking: with `masked`, a step whose f inputs are all exactly 0 (an embedding's padding id with mask_zero,
// a masking layer) is skipped per example: the state carries through, its output is 0, and no gradient flows
// through its gates — Keras's mask semantics with zero output for masked steps.
//
// The recurrent weights are packed into GEMM panels once per call (forward: R; backward: Rᵀ), so the t per-step
// GEMMs skip gemm_f32's packing of B (at u = 256 a 1 MiB repack per step).
// Memory: the layer plans `work` (kept from forward to backward, rnn_work_bytes) and shared `scratch`
// (rnn_scratch_bytes: [backward's buffers | packed R | packed R_h | GEMM scratch]); nothing is allocated. Work, by time index τ (not step order), each region 64-byte aligned:
//   a  [n, t, GU]  the gates after their nonlinearity (P before the loop)
//   h  [n, t, u]   the state after the step at τ          hp [n, t, u]  the state before it (h₋)
//   c  [n, t, u]   LSTM: the cell after the step           hr [n, t, u]  GRU: h₋·R_h + b_rh (resetAfter) or r⊙h₋
//   m  [n, t]      masked: 1 where the step runs, 0 where it is skipped
//   c0 [n, u]      LSTM: the initial cell (c0 or zeros), c₋ of the first step
// Why h0, c0, dh0, dc0 are arguments and not descriptor slots: they are activations of other layers, whose
// addresses differ between the training arena and an inference arena; the descriptor holds only sizes.
// The descriptor (scripts/abi.mjs 'rnn', why a descriptor: assembly/conv.ts) is written once by the layer.
import { gemm_f32, gemm_scratch_bytes, gemm_f32_packed_b, gemm_pack_b, gemm_packed_b_bytes } from './gemm';
import './act'; // exp_f32x4, sigmoid_x4, tanh_x4 are declared @global there
import {
  descI32, RNN_N, RNN_T, RNN_F, RNN_U, RNN_CELL, RNN_ACT, RNN_RACT, RNN_RETURN_SEQ, RNN_BACKWARDS, RNN_RESET_AFTER, RNN_MASKED,
  RNN_RETURN_STATE,
} from './abi';
import { at } from './simd';

const SIMPLE: i32 = 0;
const LSTM: i32 = 1;
const GRU: i32 = 2;
const TANH: i32 = 0;
const RELU: i32 = 1;
const SIGMOID: i32 = 2;
const HARD_SIGMOID: i32 = 4; // tfjs's and Keras 2's: clip(0.2·x + 0.5, 0, 1)

/** Floats rounded up to 16 (64 bytes), so every region starts on a cache line. */
// @ts-ignore: decorator
@inline function al(floats: i32): i32 { return (floats + 15) & ~15; }

/** Four lanes from p, or the first `rem` (< 4) and zeros: a row's tail never reads past the row. */
// @ts-ignore: decorator
@inline function ld(p: usize, rem: i32): v128 {
  if (rem >= 4) return v128.load(p);
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, rem: i32): void {
  if (rem >= 4) { v128.store(p, v); return; }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (rem > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (rem > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** The activation `kind` per lane. */
// @ts-ignore: decorator
@inline function act_x4(kind: i32, x: v128): v128 {
  if (kind == TANH) return tanh_x4(x);
  if (kind == SIGMOID) return sigmoid_x4(x);
  if (kind == RELU) return f32x4.pmax(x, f32x4.splat(0));
  if (kind == HARD_SIGMOID) return f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.mul(x, f32x4.splat(0.2)), f32x4.splat(0.5)), f32x4.splat(0)), f32x4.splat(1));
  return x; // linear
}

/** Its derivative, from the output y. */
// @ts-ignore: decorator
@inline function dact_x4(kind: i32, y: v128): v128 {
  const one = f32x4.splat(1);
  if (kind == TANH) return f32x4.sub(one, f32x4.mul(y, y));
  if (kind == SIGMOID) return f32x4.mul(y, f32x4.sub(one, y));
  if (kind == RELU) return v128.and(one, f32x4.gt(y, f32x4.splat(0)));
  if (kind == HARD_SIGMOID) return v128.and(f32x4.splat(0.2), v128.and(f32x4.gt(y, f32x4.splat(0)), f32x4.lt(y, one)));
  return one;
}

function gatesOf(cell: i32): i32 { return cell == LSTM ? 4 : cell == GRU ? 3 : 1; }

// ---------------------------------------------------------------------------------------------------------------
// Work and scratch layout (offsets in floats).

function workA(_desc: usize): i32 { return 0; }
function workH(desc: usize): i32 {
  return al(descI32(desc, RNN_N) * descI32(desc, RNN_T) * gatesOf(descI32(desc, RNN_CELL)) * descI32(desc, RNN_U));
}
function workHp(desc: usize): i32 { return workH(desc) + al(descI32(desc, RNN_N) * descI32(desc, RNN_T) * descI32(desc, RNN_U)); }
/** c (LSTM) or hr (GRU): the same slot, a cell has one or the other. */
function workC(desc: usize): i32 { return workHp(desc) + al(descI32(desc, RNN_N) * descI32(desc, RNN_T) * descI32(desc, RNN_U)); }
function workM(desc: usize): i32 {
  const extra = descI32(desc, RNN_CELL) == SIMPLE ? 0 : al(descI32(desc, RNN_N) * descI32(desc, RNN_T) * descI32(desc, RNN_U));
  return workC(desc) + extra;
}

/** Bytes of the work region kept from forward to backward. */
function workC0(desc: usize): i32 { return workM(desc) + (descI32(desc, RNN_MASKED) ? al(descI32(desc, RNN_N) * descI32(desc, RNN_T)) : 0); }
export function rnn_work_bytes(desc: usize): i32 {
  const c0 = descI32(desc, RNN_CELL) == LSTM ? al(descI32(desc, RNN_N) * descI32(desc, RNN_U)) : 0;
  return (workC0(desc) + c0) << 2;
}
/** Rows of y per example: the output (t or 1), then with returnState h and (LSTM) c. */
function yRows(desc: usize): i32 {
  const out = descI32(desc, RNN_RETURN_SEQ) ? descI32(desc, RNN_T) : 1;
  return out + (descI32(desc, RNN_RETURN_STATE) ? (descI32(desc, RNN_CELL) == LSTM ? 2 : 1) : 0);
}

function gemmScratch(desc: usize): i32 {
  const n = descI32(desc, RNN_N), t = descI32(desc, RNN_T), f = descI32(desc, RNN_F), u = descI32(desc, RNN_U);
  const gu = gatesOf(descI32(desc, RNN_CELL)) * u, rows = n * t;
  // Every product below is at most max(rows, f, u) × max(gu, f) × max(f, u, gu, rows).
  return gemm_scratch_bytes(max(rows, max(f, u)), max(gu, f), max(max(f, u), max(gu, rows)));
}

/** Backward's own floats: dP [n·t, GU], dHr [n·t, u] (GRU), dh twice, dc, drh [n, u]. Forward needs only rec [n, GU]. */
function backFloats(desc: usize): i32 {
  const n = descI32(desc, RNN_N), t = descI32(desc, RNN_T), u = descI32(desc, RNN_U), cell = descI32(desc, RNN_CELL);
  return al(n * t * gatesOf(cell) * u) + (cell == GRU ? al(n * t * u) : 0) + 4 * al(n * u);
}

/** Bytes of the packed recurrent weights: all of R or Rᵀ (or GRU's z, r blocks), then GRU's h block. */
function packBytes(desc: usize): i32 {
  const u = descI32(desc, RNN_U), gu = gatesOf(descI32(desc, RNN_CELL)) * u;
  return (max(gemm_packed_b_bytes(u, gu), gemm_packed_b_bytes(gu, u)) + 63 & ~63) + (gemm_packed_b_bytes(u, u) + 63 & ~63);
}

/** Bytes of scratch forward or backward needs. */
export function rnn_scratch_bytes(desc: usize): i32 {
  return (backFloats(desc) << 2) + packBytes(desc) + gemmScratch(desc);
}

// ---------------------------------------------------------------------------------------------------------------
// Forward.

/** Whether example b's step at τ runs: some input is non-zero (always, unless masked). */
function stepRuns(x: usize, f: i32, row: i32): bool {
  const p = at(x, row * f);
  for (let j = 0; j < f; j++) if (load<f32>(at(p, j)) != 0) return true;
  return false;
}

/**
 * y = the layer on x from the initial state h0, c0 (see the header); b, h0, c0 may be 0 (no bias, zero state).
 * Leaves in `work` what rnn_backward_f32 reads.
 */
export function rnn_forward_f32(desc: usize, x: usize, h0: usize, c0: usize, w: usize, r: usize, b: usize, y: usize, work: usize, scratch: usize): void {
  const n = descI32(desc, RNN_N), t = descI32(desc, RNN_T), f = descI32(desc, RNN_F), u = descI32(desc, RNN_U);
  const cell = descI32(desc, RNN_CELL), act = descI32(desc, RNN_ACT), ract = descI32(desc, RNN_RACT);
  const back = descI32(desc, RNN_BACKWARDS), masked = descI32(desc, RNN_MASKED), resetAfter = descI32(desc, RNN_RESET_AFTER);
  const G = gatesOf(cell), gu = G * u, rows = n * t;
  const A = at(work, workA(desc)), H = at(work, workH(desc)), HP = at(work, workHp(desc)), C = at(work, workC(desc)), M = at(work, workM(desc));
  const rec = scratch, pr = scratch + (<usize>backFloats(desc) << 2);
  const prh = pr + <usize>(max(gemm_packed_b_bytes(u, gu), gemm_packed_b_bytes(gu, u)) + 63 & ~63), gs = pr + <usize>packBytes(desc);
  const recCols = cell == GRU && !resetAfter ? 2 * u : gu;
  gemm_pack_b(0, u, recCols, r, gu, pr);
  if (cell == GRU && !resetAfter) gemm_pack_b(0, u, u, at(r, 2 * u), gu, prh);
  // P = x·W + b for every step at once.
  gemm_f32(0, 0, rows, gu, f, x, f, w, gu, A, gu, 0, gs);
  if (b) {
    for (let i = 0; i < rows; i++) {
      const ar = at(A, i * gu);
      for (let j = 0; j < gu; j += 4) st(at(ar, j), f32x4.add(ld(at(ar, j), gu - j), ld(at(b, j), gu - j)), gu - j);
    }
  }
  if (masked) for (let i = 0; i < rows; i++) store<f32>(at(M, i), stepRuns(x, f, i) ? 1 : 0);
  const C0 = at(work, workC0(desc));
  if (cell == LSTM) {
    if (c0) memory.copy(C0, c0, <usize>(n * u) << 2);
    else memory.fill(C0, 0, <usize>(n * u) << 2);
  }
  const br = cell == GRU && resetAfter && b ? at(b, gu) : <usize>0; // the recurrent bias
  for (let s = 0; s < t; s++) {
    const tau = back ? t - 1 - s : s, prev = back ? tau + 1 : tau - 1;
    // h₋ into hp[:, τ]; rec = h₋·R (+ b_r).
    for (let bi = 0; bi < n; bi++) {
      const dst = at(HP, (bi * t + tau) * u);
      if (s > 0) memory.copy(dst, at(H, (bi * t + prev) * u), <usize>u << 2);
      else if (h0) memory.copy(dst, at(h0, bi * u), <usize>u << 2);
      else memory.fill(dst, 0, <usize>u << 2);
    }
    if (s == 0 && !h0) memory.fill(rec, 0, <usize>(n * gu) << 2);
    else gemm_f32_packed_b(0, n, recCols, u, at(HP, tau * u), t * u, pr, rec, gu, 0, gs);
    if (br) {
      for (let bi = 0; bi < n; bi++) {
        const rr = at(rec, bi * gu);
        for (let j = 0; j < gu; j += 4) st(at(rr, j), f32x4.add(ld(at(rr, j), gu - j), ld(at(br, j), gu - j)), gu - j);
      }
    }
    if (cell == SIMPLE) {
      for (let bi = 0; bi < n; bi++) {
        const row = bi * t + tau, ar = at(A, row * gu), hr = at(H, row * u), rr = at(rec, bi * gu);
        if (masked && load<f32>(at(M, row)) == 0) { memory.copy(hr, at(HP, row * u), <usize>u << 2); memory.fill(ar, 0, <usize>u << 2); continue; }
        for (let j = 0; j < u; j += 4) {
          const q = u - j, v = act_x4(act, f32x4.add(ld(at(ar, j), q), ld(at(rr, j), q)));
          st(at(ar, j), v, q); st(at(hr, j), v, q);
        }
      }
    } else if (cell == LSTM) {
      for (let bi = 0; bi < n; bi++) {
        const row = bi * t + tau, ar = at(A, row * gu), hr = at(H, row * u), cr = at(C, row * u), rr = at(rec, bi * gu);
        const cp = s == 0 ? at(C0, bi * u) : at(C, (bi * t + prev) * u);
        if (masked && load<f32>(at(M, row)) == 0) {
          memory.copy(hr, at(HP, row * u), <usize>u << 2);
          memory.copy(cr, cp, <usize>u << 2);
          memory.fill(ar, 0, <usize>gu << 2);
          continue;
        }
        for (let j = 0; j < u; j += 4) {
          const q = u - j;
          const ig = act_x4(ract, f32x4.add(ld(at(ar, j), q), ld(at(rr, j), q)));
          const fg = act_x4(ract, f32x4.add(ld(at(ar, u + j), q), ld(at(rr, u + j), q)));
          const gg = act_x4(act, f32x4.add(ld(at(ar, 2 * u + j), q), ld(at(rr, 2 * u + j), q)));
          const og = act_x4(ract, f32x4.add(ld(at(ar, 3 * u + j), q), ld(at(rr, 3 * u + j), q)));
          const c1 = f32x4.add(f32x4.mul(fg, ld(at(cp, j), q)), f32x4.mul(ig, gg));
          st(at(ar, j), ig, q); st(at(ar, u + j), fg, q); st(at(ar, 2 * u + j), gg, q); st(at(ar, 3 * u + j), og, q);
          st(at(cr, j), c1, q); st(at(hr, j), f32x4.mul(og, act_x4(act, c1)), q);
        }
      }
    } else {
      // GRU. z and r first; without resetAfter, r⊙h₋ then feeds the second recurrent GEMM (into rec's h block).
      for (let bi = 0; bi < n; bi++) {
        const row = bi * t + tau, ar = at(A, row * gu), rr = at(rec, bi * gu), hrr = at(C, row * u), hpr = at(HP, row * u);
        if (masked && load<f32>(at(M, row)) == 0) continue;
        for (let j = 0; j < u; j += 4) {
          const q = u - j;
          const zg = act_x4(ract, f32x4.add(ld(at(ar, j), q), ld(at(rr, j), q)));
          const rg = act_x4(ract, f32x4.add(ld(at(ar, u + j), q), ld(at(rr, u + j), q)));
          st(at(ar, j), zg, q); st(at(ar, u + j), rg, q);
          st(at(hrr, j), resetAfter ? ld(at(rr, 2 * u + j), q) : f32x4.mul(rg, ld(at(hpr, j), q)), q);
        }
      }
      if (!resetAfter && (s > 0 || h0)) gemm_f32_packed_b(0, n, u, u, at(C, tau * u), t * u, prh, at(rec, 2 * u), gu, 0, gs);
      for (let bi = 0; bi < n; bi++) {
        const row = bi * t + tau, ar = at(A, row * gu), rr = at(rec, bi * gu), hrr = at(C, row * u), hpr = at(HP, row * u), hr = at(H, row * u);
        if (masked && load<f32>(at(M, row)) == 0) {
          memory.copy(hr, hpr, <usize>u << 2); memory.fill(ar, 0, <usize>gu << 2); memory.fill(hrr, 0, <usize>u << 2);
          continue;
        }
        for (let j = 0; j < u; j += 4) {
          const q = u - j;
          const zg = ld(at(ar, j), q), rg = ld(at(ar, u + j), q);
          const inner = resetAfter ? f32x4.mul(rg, ld(at(hrr, j), q)) : ld(at(rr, 2 * u + j), q); // rec's h block: (r⊙h₋)·R_h
          const hh = act_x4(act, f32x4.add(ld(at(ar, 2 * u + j), q), inner));
          const h0 = ld(at(hpr, j), q);
          st(at(ar, 2 * u + j), hh, q);
          st(at(hr, j), f32x4.add(f32x4.mul(zg, h0), f32x4.mul(f32x4.sub(f32x4.splat(1), zg), hh)), q);
        }
      }
    }
  }
  // y: every step's output in step order (0 where masked), or the last state; then the last h (and c).
  const ys = yRows(desc) * u, last = back ? 0 : t - 1, returnSeq = descI32(desc, RNN_RETURN_SEQ);
  for (let bi = 0; bi < n; bi++) {
    const yr = at(y, bi * ys), lastRow = bi * t + last;
    if (returnSeq) {
      for (let s = 0; s < t; s++) {
        const tau = back ? t - 1 - s : s, row = bi * t + tau, dst = at(yr, s * u);
        if (masked && load<f32>(at(M, row)) == 0) memory.fill(dst, 0, <usize>u << 2);
        else memory.copy(dst, at(H, row * u), <usize>u << 2);
      }
    } else {
      memory.copy(yr, at(H, lastRow * u), <usize>u << 2);
    }
    if (descI32(desc, RNN_RETURN_STATE)) {
      const out = returnSeq ? t : 1;
      memory.copy(at(yr, out * u), at(H, lastRow * u), <usize>u << 2);
      if (cell == LSTM) memory.copy(at(yr, (out + 1) * u), at(C, lastRow * u), <usize>u << 2);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Backward.

/** dst[j] (+)= Σ_i src[i·stride + j] for i < rows, j < cols. */
function colsum(rows: i32, cols: i32, src: usize, stride: i32, dst: usize, accumulate: i32): void {
  if (!accumulate) memory.fill(dst, 0, <usize>cols << 2);
  for (let i = 0; i < rows; i++) {
    const sr = at(src, i * stride);
    for (let j = 0; j < cols; j += 4) st(at(dst, j), f32x4.add(ld(at(dst, j), cols - j), ld(at(sr, j), cols - j)), cols - j);
  }
}

/**
 * From dy (and the work forward left): dw, dr, db (written, or added with accumulate; db may be 0 without
 * bias), dx, dh0 and dc0 (overwritten; 0: not wanted). dy is read only. The initial state need not be
 * passed again: forward kept h0 as the first step's h₋ and c0 in work. x, w, r, b are the forward's operands; this
 * kernel kept the gates and does not read b (the reference, src/ref/rnn.ts, recomputes the gates from it).
 * dhs: 0, or [n, t, u] in step order for ∂L/∂h of every step (a probe: the vanishing gradient over time).
 */
export function rnn_backward_f32(desc: usize, x: usize, w: usize, r: usize, _b: usize, dy: usize, work: usize, dx: usize,
  dh0: usize, dc0: usize, dw: usize, dr: usize, db: usize, accumulate: i32, dhs: usize, scratch: usize): void {
  const n = descI32(desc, RNN_N), t = descI32(desc, RNN_T), f = descI32(desc, RNN_F), u = descI32(desc, RNN_U);
  const cell = descI32(desc, RNN_CELL), act = descI32(desc, RNN_ACT), ract = descI32(desc, RNN_RACT);
  const back = descI32(desc, RNN_BACKWARDS), masked = descI32(desc, RNN_MASKED), resetAfter = descI32(desc, RNN_RESET_AFTER);
  const returnSeq = descI32(desc, RNN_RETURN_SEQ);
  const G = gatesOf(cell), gu = G * u, rows = n * t;
  const A = at(work, workA(desc)), H = at(work, workH(desc)), HP = at(work, workHp(desc)), C = at(work, workC(desc)), M = at(work, workM(desc));
  const DP = scratch;
  const DHR = at(DP, al(rows * gu));
  let dh = at(DHR, cell == GRU ? <usize>al(rows * u) : 0);
  let dhNew = at(dh, al(n * u));
  const dc = at(dhNew, al(n * u)), drh = at(dc, al(n * u));
  const pr = scratch + (<usize>backFloats(desc) << 2);
  const prh = pr + <usize>(max(gemm_packed_b_bytes(u, gu), gemm_packed_b_bytes(gu, u)) + 63 & ~63), gs = pr + <usize>packBytes(desc);
  const one = f32x4.splat(1);
  // Rᵀ over the gates fed by h₋·R directly (GRU: z, r), and GRU's R_hᵀ.
  const direct = cell == GRU ? 2 * u : gu;
  gemm_pack_b(1, direct, u, r, gu, pr);
  if (cell == GRU) gemm_pack_b(1, u, u, at(r, 2 * u), gu, prh);
  // dh, dc entering the last step: from the last-state output row and the returnState rows of dy.
  const ys = yRows(desc) * u, out = returnSeq ? t : 1, returnState = descI32(desc, RNN_RETURN_STATE);
  const C0 = at(work, workC0(desc));
  memory.fill(dh, 0, <usize>(n * u) << 2);
  memory.fill(dc, 0, <usize>(n * u) << 2);
  for (let bi = 0; bi < n; bi++) {
    const dyr = at(dy, bi * ys), dhr = at(dh, bi * u);
    if (!returnSeq) memory.copy(dhr, dyr, <usize>u << 2);
    if (returnState) {
      const dsh = at(dyr, out * u);
      for (let j = 0; j < u; j += 4) st(at(dhr, j), f32x4.add(ld(at(dhr, j), u - j), ld(at(dsh, j), u - j)), u - j);
      if (cell == LSTM) memory.copy(at(dc, bi * u), at(dyr, (out + 1) * u), <usize>u << 2);
    }
  }
  for (let s = t - 1; s >= 0; s--) {
    const tau = back ? t - 1 - s : s, prev = back ? tau + 1 : tau - 1;
    for (let bi = 0; bi < n; bi++) {
      const row = bi * t + tau, dhr = at(dh, bi * u), dnr = at(dhNew, bi * u), dpr = at(DP, row * gu);
      const runs = !masked || load<f32>(at(M, row)) != 0;
      if (returnSeq && runs) {
        const dyr = at(dy, bi * ys + s * u);
        for (let j = 0; j < u; j += 4) st(at(dhr, j), f32x4.add(ld(at(dhr, j), u - j), ld(at(dyr, j), u - j)), u - j);
      }
      if (dhs) memory.copy(at(dhs, (bi * t + s) * u), dhr, <usize>u << 2);
      if (!runs) {
        // h = h₋ (and c = c₋): dh and dc pass through, the gates get nothing.
        memory.copy(dnr, dhr, <usize>u << 2);
        memory.fill(dpr, 0, <usize>gu << 2);
        if (cell == GRU) memory.fill(at(DHR, row * u), 0, <usize>u << 2);
        continue;
      }
      const ar = at(A, row * gu);
      if (cell == SIMPLE) {
        for (let j = 0; j < u; j += 4) {
          const q = u - j;
          st(at(dpr, j), f32x4.mul(ld(at(dhr, j), q), dact_x4(act, ld(at(ar, j), q))), q);
        }
        memory.fill(dnr, 0, <usize>u << 2);
      } else if (cell == LSTM) {
        const cr = at(C, row * u), cp = s == 0 ? at(C0, bi * u) : at(C, (bi * t + prev) * u), dcr = at(dc, bi * u);
        for (let j = 0; j < u; j += 4) {
          const q = u - j;
          const ig = ld(at(ar, j), q), fg = ld(at(ar, u + j), q), gg = ld(at(ar, 2 * u + j), q), og = ld(at(ar, 3 * u + j), q);
          const tc = act_x4(act, ld(at(cr, j), q)), d = ld(at(dhr, j), q);
          const dct = f32x4.add(ld(at(dcr, j), q), f32x4.mul(f32x4.mul(d, og), dact_x4(act, tc)));
          st(at(dpr, j), f32x4.mul(f32x4.mul(dct, gg), dact_x4(ract, ig)), q);
          st(at(dpr, u + j), f32x4.mul(f32x4.mul(dct, ld(at(cp, j), q)), dact_x4(ract, fg)), q);
          st(at(dpr, 2 * u + j), f32x4.mul(f32x4.mul(dct, ig), dact_x4(act, gg)), q);
          st(at(dpr, 3 * u + j), f32x4.mul(f32x4.mul(d, tc), dact_x4(ract, og)), q);
          st(at(dcr, j), f32x4.mul(dct, fg), q);
        }
        memory.fill(dnr, 0, <usize>u << 2);
      } else {
        const hpr = at(HP, row * u), hrr = at(C, row * u), dhrr = at(DHR, row * u);
        for (let j = 0; j < u; j += 4) {
          const q = u - j;
          const zg = ld(at(ar, j), q), rg = ld(at(ar, u + j), q), hh = ld(at(ar, 2 * u + j), q);
          const d = ld(at(dhr, j), q), h0 = ld(at(hpr, j), q);
          const dph = f32x4.mul(f32x4.mul(d, f32x4.sub(one, zg)), dact_x4(act, hh));
          st(at(dpr, j), f32x4.mul(f32x4.mul(d, f32x4.sub(h0, hh)), dact_x4(ract, zg)), q);
          st(at(dpr, 2 * u + j), dph, q);
          st(at(dnr, j), f32x4.mul(d, zg), q);
          if (resetAfter) {
            st(at(dhrr, j), f32x4.mul(dph, rg), q);
            st(at(dpr, u + j), f32x4.mul(f32x4.mul(dph, ld(at(hrr, j), q)), dact_x4(ract, rg)), q);
          }
        }
      }
    }
    if (cell == GRU && !resetAfter) {
      // d(r⊙h₋) = dP_h·R_hᵀ, then dr = d(r⊙h₋)⊙h₋ and dh₋ += d(r⊙h₋)⊙r.
      gemm_f32_packed_b(0, n, u, u, at(DP, tau * gu + 2 * u), t * gu, prh, drh, u, 0, gs);
      for (let bi = 0; bi < n; bi++) {
        const row = bi * t + tau;
        if (masked && load<f32>(at(M, row)) == 0) continue;
        const ar = at(A, row * gu), dpr = at(DP, row * gu), hpr = at(HP, row * u), dnr = at(dhNew, bi * u), dd = at(drh, bi * u);
        for (let j = 0; j < u; j += 4) {
          const q = u - j, rg = ld(at(ar, u + j), q), g = ld(at(dd, j), q);
          st(at(dpr, u + j), f32x4.mul(f32x4.mul(g, ld(at(hpr, j), q)), dact_x4(ract, rg)), q);
          st(at(dnr, j), f32x4.add(ld(at(dnr, j), q), f32x4.mul(g, rg)), q);
        }
      }
    }
    // dh₋ += dP·Rᵀ over the gates whose pre-activation h₋·R feeds directly (before the first step only when
    // dh0 is wanted).
    if (s > 0 || dh0) {
      gemm_f32_packed_b(0, n, u, direct, at(DP, tau * gu), t * gu, pr, dhNew, u, 1, gs);
      if (cell == GRU && resetAfter) gemm_f32_packed_b(0, n, u, u, at(DHR, tau * u), t * u, prh, dhNew, u, 1, gs);
    }
    const tmp = dh; dh = dhNew; dhNew = tmp;
  }
  // After the first step, dh and dc are the gradients of its incoming state: ∂L/∂h0, ∂L/∂c0.
  if (dh0) memory.copy(dh0, dh, <usize>(n * u) << 2);
  if (dc0) {
    if (cell == LSTM) memory.copy(dc0, dc, <usize>(n * u) << 2);
    else memory.fill(dc0, 0, <usize>(n * u) << 2);
  }
  // Over all steps: dW = xᵀ·dP, db = Σ dP, dR = h₋ᵀ·dP (GRU's h block: h₋ᵀ·dHr, or (r⊙h₋)ᵀ·dP_h), dx = dP·Wᵀ.
  gemm_f32(1, 0, f, gu, rows, x, f, DP, gu, dw, gu, accumulate, gs);
  if (db) colsum(rows, gu, DP, gu, db, accumulate);
  if (cell == GRU) {
    gemm_f32(1, 0, u, 2 * u, rows, HP, u, DP, gu, dr, gu, accumulate, gs);
    if (resetAfter) {
      gemm_f32(1, 0, u, u, rows, HP, u, DHR, u, at(dr, 2 * u), gu, accumulate, gs);
      if (db) { colsum(rows, 2 * u, DP, gu, at(db, gu), accumulate); colsum(rows, u, DHR, u, at(db, gu + 2 * u), accumulate); }
    } else {
      gemm_f32(1, 0, u, u, rows, C, u, at(DP, 2 * u), gu, at(dr, 2 * u), gu, accumulate, gs);
    }
  } else {
    gemm_f32(1, 0, u, gu, rows, HP, u, DP, gu, dr, gu, accumulate, gs);
  }
  if (dx) gemm_f32(0, 1, rows, f, gu, DP, gu, w, gu, dx, f, 0, gs);
}

// ---------------------------------------------------------------------------------------------------------------
// The bidirectional wrapper's merge (src/layers/bidirectional.ts, Keras's Bidirectional): the forward direction's
// output yf and the backward direction's yb, the first t rows of u of each example's `rows` (t = 1 for the last
// state; rows > t when the directions also return their states), into y [n, t, ·]. The backward direction ran
// with go_backwards, so its sequence is in reversed time; `reverse` puts row s at t − 1 − s (Keras reverses it
// back when returning sequences). mode: 0 concat (y [n, t, 2u]), 1 sum, 2 mul, 3 ave.

/** y = merge(yf, reversed yb). */
export function rnn_merge_f32(mode: i32, n: i32, t: i32, u: i32, rows: i32, reverse: i32, yf: usize, yb: usize, y: usize): void {
  const half = f32x4.splat(0.5), wy = mode == 0 ? 2 * u : u;
  for (let bi = 0; bi < n; bi++) {
    for (let s = 0; s < t; s++) {
      const fr = at(yf, (bi * rows + s) * u), br = at(yb, (bi * rows + (reverse ? t - 1 - s : s)) * u), yr = at(y, (bi * t + s) * wy);
      if (mode == 0) { memory.copy(yr, fr, <usize>u << 2); memory.copy(at(yr, u), br, <usize>u << 2); continue; }
      for (let j = 0; j < u; j += 4) {
        const q = u - j, a = ld(at(fr, j), q), b = ld(at(br, j), q);
        st(at(yr, j), mode == 1 ? f32x4.add(a, b) : mode == 2 ? f32x4.mul(a, b) : f32x4.mul(f32x4.add(a, b), half), q);
      }
    }
  }
}

/** The first t rows of each example's dyf, dyb (overwritten, yb's own row order) from dy; mul reads yf and yb. */
export function rnn_merge_backward_f32(mode: i32, n: i32, t: i32, u: i32, rows: i32, reverse: i32, yf: usize, yb: usize, dy: usize, dyf: usize, dyb: usize): void {
  const half = f32x4.splat(0.5), wy = mode == 0 ? 2 * u : u;
  for (let bi = 0; bi < n; bi++) {
    for (let s = 0; s < t; s++) {
      const rb = (bi * rows + (reverse ? t - 1 - s : s)) * u, fr = (bi * rows + s) * u, dyr = at(dy, (bi * t + s) * wy);
      if (mode == 0) { memory.copy(at(dyf, fr), dyr, <usize>u << 2); memory.copy(at(dyb, rb), at(dyr, u), <usize>u << 2); continue; }
      for (let j = 0; j < u; j += 4) {
        const q = u - j, d = ld(at(dyr, j), q);
        let df = d, db = d;
        if (mode == 2) { df = f32x4.mul(d, ld(at(yb, rb + j), q)); db = f32x4.mul(d, ld(at(yf, fr + j), q)); }
        else if (mode == 3) { df = f32x4.mul(d, half); db = df; }
        st(at(dyf, fr + j), df, q); st(at(dyb, rb + j), db, q);
      }
    }
  }
}
