// Reference recurrent, embedding and masking kernels, same signatures as assembly/rnn.ts and assembly/embed.ts.
// Written as the textbook loops, one example and one step at a time in f64: forward keeps only each step's
// incoming state (h₋, c₋) and mask, and backward recomputes the gates from them — a different route from the
// wasm kernels (which keep the gates and run GEMMs over all steps), so agreement means something.
import type { Heap } from './heap';
import { readRnnDesc, type RnnDesc } from '../engine/generated/abi';

const SIMPLE = 0, LSTM = 1, GRU = 2;

/** The activation with code `k` (assembly/rnn.ts): 0 tanh, 1 relu, 2 sigmoid, 3 linear, 4 hard sigmoid. */
function act(k: number, v: number): number {
  switch (k) {
    case 0: return Math.tanh(v);
    case 1: return v > 0 ? v : 0;
    case 2: return 1 / (1 + Math.exp(-v));
    case 4: return Math.min(1, Math.max(0, 0.2 * v + 0.5));
    default: return v;
  }
}
/** Its derivative, from the output y. */
function dact(k: number, y: number): number {
  switch (k) {
    case 0: return 1 - y * y;
    case 1: return y > 0 ? 1 : 0;
    case 2: return y * (1 - y);
    case 4: return y > 0 && y < 1 ? 0.2 : 0;
    default: return 1;
  }
}

const gatesOf = (cell: number): number => (cell === LSTM ? 4 : cell === GRU ? 3 : 1);
/** Rows of y per example (assembly/rnn.ts): the output (t or 1), then with returnState h and (LSTM) c. */
const yRows = (d: RnnDesc): number => (d.returnSeq ? d.t : 1) + (d.returnState ? (d.cell === LSTM ? 2 : 1) : 0);
/** Work: h₋ [n, t, u] | c₋ [n, t, u] | mask [n, t]. */
const workFloats = (d: RnnDesc): number => 2 * d.n * d.t * d.u + d.n * d.t;

/** One step of one example: everything backward needs, from x_τ, h₋, c₋ (f64). */
interface StepValues { pre: Float64Array; rec: Float64Array; gates: Float64Array; h: Float64Array; c: Float64Array; rh: Float64Array }

export const rnnRef = (heap: Heap) => {
  /** The step's values; W, R, b are f32 offsets (b: −1 without bias). */
  function step(d: RnnDesc, f: Float32Array, xr: number, W: number, R: number, B: number, hp: Float64Array, cp: Float64Array): StepValues {
    const { u } = d, F = d.f, gu = gatesOf(d.cell) * u;
    const pre = new Float64Array(gu), rec = new Float64Array(gu), gates = new Float64Array(gu);
    const h = new Float64Array(u), c = new Float64Array(u), rh = new Float64Array(u);
    for (let g = 0; g < gu; g++) {
      let s = B >= 0 ? f[B + g] : 0;
      for (let k = 0; k < F; k++) s += f[xr + k] * f[W + k * gu + g];
      pre[g] = s;
      let q = d.cell === GRU && d.resetAfter && B >= 0 ? f[B + gu + g] : 0;
      if (!(d.cell === GRU && !d.resetAfter && g >= 2 * u)) for (let k = 0; k < u; k++) q += hp[k] * f[R + k * gu + g];
      rec[g] = q;
    }
    if (d.cell === SIMPLE) {
      for (let j = 0; j < u; j++) gates[j] = h[j] = act(d.act, pre[j] + rec[j]);
    } else if (d.cell === LSTM) {
      for (let j = 0; j < u; j++) {
        const i = act(d.ract, pre[j] + rec[j]), fg = act(d.ract, pre[u + j] + rec[u + j]);
        const g = act(d.act, pre[2 * u + j] + rec[2 * u + j]), o = act(d.ract, pre[3 * u + j] + rec[3 * u + j]);
        gates[j] = i; gates[u + j] = fg; gates[2 * u + j] = g; gates[3 * u + j] = o;
        c[j] = fg * cp[j] + i * g;
        h[j] = o * act(d.act, c[j]);
      }
    } else {
      for (let j = 0; j < u; j++) {
        gates[j] = act(d.ract, pre[j] + rec[j]);
        gates[u + j] = act(d.ract, pre[u + j] + rec[u + j]);
        rh[j] = gates[u + j] * hp[j];
      }
      if (!d.resetAfter) for (let g = 0; g < u; g++) { let q = 0; for (let k = 0; k < u; k++) q += rh[k] * f[R + k * gu + 2 * u + g]; rec[2 * u + g] = q; }
      for (let j = 0; j < u; j++) {
        const inner = d.resetAfter ? gates[u + j] * rec[2 * u + j] : rec[2 * u + j];
        const hh = gates[2 * u + j] = act(d.act, pre[2 * u + j] + inner);
        h[j] = gates[j] * hp[j] + (1 - gates[j]) * hh;
      }
    }
    return { pre, rec, gates, h, c, rh };
  }

  const runs = (d: RnnDesc, f: Float32Array, xr: number): boolean => {
    if (!d.masked) return true;
    for (let k = 0; k < d.f; k++) if (f[xr + k] !== 0) return true;
    return false;
  };

  return {
    rnn_work_bytes(desc: number): number { return 4 * workFloats(readRnnDesc(heap, desc)); },
    rnn_scratch_bytes(_desc: number): number { return 0; },

    rnn_forward_f32(desc: number, x: number, h0: number, c0: number, w: number, r: number, b: number, y: number, work: number, _scratch: number): void {
      const d = readRnnDesc(heap, desc), f = heap.f32, { n, t, u } = d;
      const X = x >>> 2, W = w >>> 2, R = r >>> 2, B = b ? b >>> 2 : -1, Y = y >>> 2, ys = yRows(d) * u;
      const HP = work >>> 2, CP = HP + n * t * u, M = CP + n * t * u;
      const start = (at: number, bi: number): Float64Array => (at ? Float64Array.from(f.subarray((at >>> 2) + bi * u, (at >>> 2) + bi * u + u)) : new Float64Array(u));
      for (let bi = 0; bi < n; bi++) {
        let hp = start(h0, bi), cp = d.cell === LSTM ? start(c0, bi) : new Float64Array(u);
        for (let s = 0; s < t; s++) {
          const tau = d.backwards ? t - 1 - s : s, row = bi * t + tau, xr = X + row * d.f;
          for (let j = 0; j < u; j++) { f[HP + row * u + j] = hp[j]; f[CP + row * u + j] = cp[j]; }
          const on = runs(d, f, xr);
          f[M + row] = on ? 1 : 0;
          if (on) { const v = step(d, f, xr, W, R, B, hp, cp); hp = v.h; cp = v.c; }
          if (d.returnSeq) for (let j = 0; j < u; j++) f[Y + bi * ys + s * u + j] = on ? hp[j] : 0;
        }
        const out = d.returnSeq ? t : 1;
        if (!d.returnSeq) for (let j = 0; j < u; j++) f[Y + bi * ys + j] = hp[j];
        if (d.returnState) {
          for (let j = 0; j < u; j++) f[Y + bi * ys + out * u + j] = hp[j];
          if (d.cell === LSTM) for (let j = 0; j < u; j++) f[Y + bi * ys + (out + 1) * u + j] = cp[j];
        }
      }
    },

    rnn_backward_f32(desc: number, x: number, w: number, r: number, b: number, dy: number, work: number, dx: number,
      dh0: number, dc0: number, dw: number, dr: number, db: number, accumulate: number, dhs: number, _scratch: number): void {
      const d = readRnnDesc(heap, desc), f = heap.f32, { n, t, u } = d, F = d.f, gu = gatesOf(d.cell) * u;
      const X = x >>> 2, W = w >>> 2, R = r >>> 2, B = b ? b >>> 2 : -1, DY = dy >>> 2, HP = work >>> 2, CP = HP + n * t * u, M = CP + n * t * u;
      const biasGu = d.cell === GRU && d.resetAfter ? 2 * gu : gu;
      const dW = new Float64Array(F * gu), dR = new Float64Array(u * gu), dB = new Float64Array(biasGu);
      const dX = new Float64Array(n * t * F);
      for (let bi = 0; bi < n; bi++) {
        let dh: Float64Array = new Float64Array(u), dc: Float64Array = new Float64Array(u);
        const ys = yRows(d) * u, out = d.returnSeq ? t : 1;
        if (!d.returnSeq) for (let j = 0; j < u; j++) dh[j] = f[DY + bi * ys + j];
        if (d.returnState) {
          for (let j = 0; j < u; j++) dh[j] += f[DY + bi * ys + out * u + j];
          if (d.cell === LSTM) for (let j = 0; j < u; j++) dc[j] = f[DY + bi * ys + (out + 1) * u + j];
        }
        for (let s = t - 1; s >= 0; s--) {
          const tau = d.backwards ? t - 1 - s : s, row = bi * t + tau, xr = X + row * F;
          const on = f[M + row] !== 0;
          if (d.returnSeq && on) for (let j = 0; j < u; j++) dh[j] += f[DY + bi * ys + s * u + j];
          if (dhs) for (let j = 0; j < u; j++) f[(dhs >>> 2) + (bi * t + s) * u + j] = dh[j];
          if (!on) continue; // h = h₋, c = c₋: dh and dc pass through unchanged
          const hp = Float64Array.from(f.subarray(HP + row * u, HP + row * u + u));
          const cp = Float64Array.from(f.subarray(CP + row * u, CP + row * u + u));
          const v = step(d, f, xr, W, R, B, hp, cp);
          const dpre = new Float64Array(gu), drec = new Float64Array(gu), dhp = new Float64Array(u), dcp = new Float64Array(u);
          const G = v.gates;
          if (d.cell === SIMPLE) {
            for (let j = 0; j < u; j++) dpre[j] = drec[j] = dh[j] * dact(d.act, G[j]);
          } else if (d.cell === LSTM) {
            for (let j = 0; j < u; j++) {
              const i = G[j], fg = G[u + j], g = G[2 * u + j], o = G[3 * u + j], tc = act(d.act, v.c[j]);
              const dct = dc[j] + dh[j] * o * dact(d.act, tc);
              dpre[j] = dct * g * dact(d.ract, i);
              dpre[u + j] = dct * cp[j] * dact(d.ract, fg);
              dpre[2 * u + j] = dct * i * dact(d.act, g);
              dpre[3 * u + j] = dh[j] * tc * dact(d.ract, o);
              dcp[j] = dct * fg;
            }
            drec.set(dpre);
          } else {
            const drh = new Float64Array(u);
            for (let j = 0; j < u; j++) {
              const z = G[j], hh = G[2 * u + j];
              dpre[j] = dh[j] * (hp[j] - hh) * dact(d.ract, z);
              dpre[2 * u + j] = dh[j] * (1 - z) * dact(d.act, hh);
              dhp[j] += dh[j] * z;
            }
            if (d.resetAfter) {
              for (let j = 0; j < u; j++) {
                const rg = G[u + j];
                dpre[u + j] = dpre[2 * u + j] * v.rec[2 * u + j] * dact(d.ract, rg);
                drec[2 * u + j] = dpre[2 * u + j] * rg;
              }
            } else {
              for (let k = 0; k < u; k++) { let q = 0; for (let g = 0; g < u; g++) q += f[R + k * gu + 2 * u + g] * dpre[2 * u + g]; drh[k] = q; }
              for (let j = 0; j < u; j++) {
                dpre[u + j] = drh[j] * hp[j] * dact(d.ract, G[u + j]);
                dhp[j] += drh[j] * G[u + j];
                for (let g = 0; g < u; g++) dR[j * gu + 2 * u + g] += v.rh[j] * dpre[2 * u + g];
              }
            }
            for (let j = 0; j < 2 * u; j++) drec[j] = dpre[j];
          }
          // The linear parts: pre = x·W + b, rec = h₋·R (+ b_r); GRU without resetAfter: its h block went above.
          const recCols = d.cell === GRU && !d.resetAfter ? 2 * u : gu;
          for (let g = 0; g < gu; g++) {
            dB[g] += dpre[g];
            for (let k = 0; k < F; k++) { dW[k * gu + g] += f[xr + k] * dpre[g]; dX[row * F + k] += f[W + k * gu + g] * dpre[g]; }
            if (g < recCols) for (let k = 0; k < u; k++) { dR[k * gu + g] += hp[k] * drec[g]; dhp[k] += f[R + k * gu + g] * drec[g]; }
            if (biasGu > gu) dB[gu + g] += drec[g];
          }
          dh = dhp; dc = d.cell === LSTM ? dcp : dc;
        }
        for (let j = 0; j < u; j++) {
          if (dh0) f[(dh0 >>> 2) + bi * u + j] = dh[j];
          if (dc0) f[(dc0 >>> 2) + bi * u + j] = d.cell === LSTM ? dc[j] : 0;
        }
      }
      const put = (at: number, vals: Float64Array): void => { const o = at >>> 2; for (let i = 0; i < vals.length; i++) f[o + i] = accumulate ? f[o + i] + vals[i] : vals[i]; };
      put(dw, dW); put(dr, dR);
      if (db) put(db, dB);
      if (dx) { const o = dx >>> 2; for (let i = 0; i < dX.length; i++) f[o + i] = dX[i]; }
    },
  };
};

/** The bidirectional merge (assembly/rnn.ts rnn_merge_f32 / rnn_merge_backward_f32), element by element. */
export const mergeRef = (heap: Heap) => ({
  rnn_merge_f32(mode: number, n: number, t: number, u: number, rows: number, reverse: number, yf: number, yb: number, y: number): void {
    const f = heap.f32, wy = mode === 0 ? 2 * u : u;
    for (let bi = 0; bi < n; bi++) for (let s = 0; s < t; s++) for (let j = 0; j < u; j++) {
      const a = f[(yf >>> 2) + (bi * rows + s) * u + j], b = f[(yb >>> 2) + (bi * rows + (reverse ? t - 1 - s : s)) * u + j], Y = (y >>> 2) + (bi * t + s) * wy;
      if (mode === 0) { f[Y + j] = a; f[Y + u + j] = b; } else f[Y + j] = mode === 1 ? a + b : mode === 2 ? a * b : (a + b) * 0.5;
    }
  },
  rnn_merge_backward_f32(mode: number, n: number, t: number, u: number, rows: number, reverse: number, yf: number, yb: number, dy: number, dyf: number, dyb: number): void {
    const f = heap.f32, wy = mode === 0 ? 2 * u : u;
    for (let bi = 0; bi < n; bi++) for (let s = 0; s < t; s++) for (let j = 0; j < u; j++) {
      const F = (bi * rows + s) * u + j, B = (bi * rows + (reverse ? t - 1 - s : s)) * u + j, D = (dy >>> 2) + (bi * t + s) * wy + j;
      const df = mode === 0 ? f[D] : mode === 2 ? f[D] * f[(yb >>> 2) + B] : mode === 3 ? 0.5 * f[D] : f[D];
      const db = mode === 0 ? f[D + u] : mode === 2 ? f[D] * f[(yf >>> 2) + F] : mode === 3 ? 0.5 * f[D] : f[D];
      f[(dyf >>> 2) + F] = df; f[(dyb >>> 2) + B] = db;
    }
  },
});

/** Round half to even, as wasm's f32.nearest. */
function nearest(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The table row of an id (assembly/embed.ts): −1 padding (maskZero, id 0), −2 not an id of the table. */
function rowOf(id: number, vocab: number, maskZero: number): number {
  if (!(id > -0.5 && id < vocab - 0.5)) return -2;
  const k = nearest(id);
  return maskZero && k === 0 ? -1 : k;
}

const allEqual = (f: Float32Array, at: number, cols: number, value: number): boolean => {
  for (let j = 0; j < cols; j++) if (f[at + j] !== value) return false;
  return true;
};

export const embedRef = (heap: Heap) => ({
  embedding_forward_f32(rows: number, dim: number, vocab: number, maskZero: number, ids: number, table: number, y: number): number {
    const f = heap.f32, I = ids >>> 2, T = table >>> 2, Y = y >>> 2;
    let bad = 0;
    for (let i = 0; i < rows; i++) {
      const k = rowOf(f[I + i], vocab, maskZero);
      if (k === -2) bad++;
      for (let j = 0; j < dim; j++) f[Y + i * dim + j] = k < 0 ? 0 : f[T + k * dim + j];
    }
    return bad;
  },
  embedding_backward_f32(rows: number, dim: number, vocab: number, maskZero: number, ids: number, dy: number, dtable: number, accumulate: number): void {
    const f = heap.f32, I = ids >>> 2, G = dy >>> 2, D = dtable >>> 2;
    if (!accumulate) f.fill(0, D, D + vocab * dim);
    for (let i = 0; i < rows; i++) {
      const k = rowOf(f[I + i], vocab, maskZero);
      if (k >= 0) for (let j = 0; j < dim; j++) f[D + k * dim + j] += f[G + i * dim + j];
    }
  },
  masking_forward_f32(rows: number, cols: number, value: number, x: number, y: number): void {
    const f = heap.f32, X = x >>> 2, Y = y >>> 2, v = Math.fround(value);
    for (let i = 0; i < rows; i++) {
      const masked = allEqual(f, X + i * cols, cols, v);
      for (let j = 0; j < cols; j++) f[Y + i * cols + j] = masked ? 0 : f[X + i * cols + j];
    }
  },
  masking_backward_f32(rows: number, cols: number, value: number, x: number, dy: number, dx: number): void {
    const f = heap.f32, X = x >>> 2, G = dy >>> 2, D = dx >>> 2, v = Math.fround(value);
    for (let i = 0; i < rows; i++) {
      const masked = allEqual(f, X + i * cols, cols, v);
      for (let j = 0; j < cols; j++) f[D + i * cols + j] = masked ? 0 : f[G + i * cols + j];
    }
  },
});
