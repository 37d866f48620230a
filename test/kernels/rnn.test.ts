// Recurrent, embedding and masking kernels against the reference (src/ref/rnn.ts, which recomputes the gates
// per step in f64 where the wasm kernels keep them and run GEMMs over all steps): every cell and option, units
// below/at/above the 4-lane vectors, 1–6 steps, masked steps in the middle and at the ends, and sentinels past
// every output. Gradients themselves are checked by finite differences in test/layers/rnn.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { RNN_DESC_BYTES, writeRnnDesc, type RnnDesc } from '../../src/engine/generated/abi';

const SENTINEL = 12345.5;

interface Case { cell: number; act: number; ract: number; returnSeq: number; backwards: number; resetAfter: number; masked: number; returnState: number; init: number; n: number; t: number; f: number; u: number }

function cases(rng: Rng): Case[] {
  const out: Case[] = [];
  for (const cell of [0, 1, 2]) for (const u of [1, 3, 4, 5, 8, 9]) for (const returnSeq of [0, 1]) {
    for (const backwards of [0, 1]) for (const masked of [0, 1]) {
      const resetAfter = cell === 2 ? rng.int(0, 2) : 0;
      const act = [0, 0, 1, 2, 3][rng.int(0, 5)], ract = rng.next() < 0.7 ? 2 : 4;
      // returnState and an initial state (h0, c0 given, dh0, dc0 wanted) on a random half each.
      const returnState = rng.int(0, 2), init = rng.int(0, 2);
      out.push({ cell, act, ract, returnSeq, backwards, resetAfter, masked, returnState, init, n: rng.int(1, 4), t: rng.int(1, 7), f: [1, 3, 4, 7][rng.int(0, 4)], u });
    }
  }
  // GRU both ways at a larger size, and reset_after on each side explicitly.
  for (const resetAfter of [0, 1]) out.push({ cell: 2, act: 0, ract: 2, returnSeq: 1, backwards: 0, resetAfter, masked: 1, returnState: 1, init: 1, n: 3, t: 5, f: 6, u: 13 });
  // u past the GEMM's k block (KC = 256): the packed recurrent weights span several k panels.
  out.push({ cell: 1, act: 0, ract: 2, returnSeq: 0, backwards: 0, resetAfter: 0, masked: 0, returnState: 1, init: 1, n: 2, t: 3, f: 3, u: 260 });
  out.push({ cell: 2, act: 0, ract: 2, returnSeq: 1, backwards: 1, resetAfter: 1, masked: 0, returnState: 0, init: 1, n: 2, t: 2, f: 2, u: 257 });
  return out;
}

test('rnn forward and backward match the reference for every cell and option', async () => {
  const rng = new Rng(31);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of cases(rng)) {
      const G = c.cell === 1 ? 4 : c.cell === 2 ? 3 : 1, gu = G * c.u, bn = c.cell === 2 && c.resetAfter ? 2 * gu : gu;
      const rows = (c.returnSeq ? c.t : 1) + (c.returnState ? (c.cell === 1 ? 2 : 1) : 0);
      const xn = c.n * c.t * c.f, yn = c.n * rows * c.u, sn = c.n * c.u, what = `${name} ${JSON.stringify(c)}`;
      const mark = e.mark();
      const desc = e.reserve(RNN_DESC_BYTES, 'rnn descriptor');
      writeRnnDesc(e, desc, c as RnnDesc);
      const xs = rng.array(xn, -1, 1);
      // Masked steps: whole rows of zeros, at random places (first, middle, last step).
      if (c.masked) for (let r = 0; r < c.n * c.t; r++) if (rng.next() < 0.3) xs.fill(0, r * c.f, (r + 1) * c.f);
      const x = e.tensor([xn], xs), w = e.tensor([c.f * gu], rng.array(c.f * gu, -0.6, 0.6)), r = e.tensor([c.u * gu], rng.array(c.u * gu, -0.6, 0.6));
      const useBias = rng.next() < 0.8, b = e.tensor([bn], rng.array(bn, -0.5, 0.5));
      const dyv = rng.array(yn), dy = e.tensor([yn], dyv);
      const h0 = c.init ? e.tensor([sn], rng.array(sn, -0.8, 0.8)).ptr : 0, c0 = c.init && c.cell === 1 ? e.tensor([sn], rng.array(sn, -0.8, 0.8)).ptr : 0;
      const work = e.reserve(Math.max(e.k.rnn_work_bytes(desc), ref.rnn_work_bytes(desc)), 'work');
      const scratch = e.reserve(e.k.rnn_scratch_bytes(desc), 'scratch');
      const withSentinel = (n: number) => e.tensor([n + 4], new Float32Array(n + 4).fill(SENTINEL));
      const y = withSentinel(yn), yr = withSentinel(yn), hn = c.n * c.t * c.u, dhs = e.tensor([hn]), dhsr = e.tensor([hn]);
      e.k.rnn_forward_f32(desc, x.ptr, h0, c0, w.ptr, r.ptr, useBias ? b.ptr : 0, y.ptr, work, scratch);
      const yw = e.read(y.ptr, yn + 4);
      assert.deepEqual([...yw.subarray(yn)], [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `y sentinel ${what}`);
      // the wasm backward first (it reads its own work), then the reference forward + backward
      for (const acc of [0, 1]) {
        const init = { dw: rng.array(c.f * gu), dr: rng.array(c.u * gu), db: rng.array(bn) };
        const g = { dw: e.tensor([c.f * gu + 4], [...init.dw, SENTINEL, SENTINEL, SENTINEL, SENTINEL]), dr: e.tensor([c.u * gu + 4], [...init.dr, SENTINEL, SENTINEL, SENTINEL, SENTINEL]), db: e.tensor([bn + 4], [...init.db, SENTINEL, SENTINEL, SENTINEL, SENTINEL]), dx: withSentinel(xn) };
        const gr = { dw: e.tensor([c.f * gu], init.dw), dr: e.tensor([c.u * gu], init.dr), db: e.tensor([bn], init.db), dx: e.tensor([xn]) };
        const ds = { dh0: withSentinel(sn), dc0: withSentinel(sn) }, dsr = { dh0: e.tensor([sn]), dc0: e.tensor([sn]) };
        e.k.rnn_forward_f32(desc, x.ptr, h0, c0, w.ptr, r.ptr, useBias ? b.ptr : 0, y.ptr, work, scratch);
        e.k.rnn_backward_f32(desc, x.ptr, w.ptr, r.ptr, useBias ? b.ptr : 0, dy.ptr, work, g.dx.ptr, c.init ? ds.dh0.ptr : 0, c.init ? ds.dc0.ptr : 0, g.dw.ptr, g.dr.ptr, useBias ? g.db.ptr : 0, acc, acc ? dhs.ptr : 0, scratch);
        ref.rnn_forward_f32(desc, x.ptr, h0, c0, w.ptr, r.ptr, useBias ? b.ptr : 0, yr.ptr, work, scratch);
        ref.rnn_backward_f32(desc, x.ptr, w.ptr, r.ptr, useBias ? b.ptr : 0, dy.ptr, work, gr.dx.ptr, c.init ? dsr.dh0.ptr : 0, c.init ? dsr.dc0.ptr : 0, gr.dw.ptr, gr.dr.ptr, useBias ? gr.db.ptr : 0, acc, acc ? dhsr.ptr : 0, scratch);
        if (acc) assertClose(e.read(dhs.ptr, hn), e.read(dhsr.ptr, hn), `dh per step ${what}`, { rtol: 1e-4, atol: 2e-5 });
        assertClose(yw.subarray(0, yn), e.read(yr.ptr, yn), `forward ${what}`, { rtol: 2e-5, atol: 2e-6 });
        if (c.init) {
          for (const k of ['dh0', 'dc0'] as const) {
            const got = e.read(ds[k].ptr, sn + 4);
            assert.deepEqual([...got.subarray(sn)], [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `${k} sentinel ${what}`);
            assertClose(got.subarray(0, sn), e.read(dsr[k].ptr, sn), `${k} ${what}`, { rtol: 1e-4, atol: 2e-5 });
          }
        }
        for (const [k, n] of [['dw', c.f * gu], ['dr', c.u * gu], ['db', bn], ['dx', xn]] as const) {
          if (k === 'db' && !useBias) { assertClose(e.read(g.db.ptr, bn), init.db, `db untouched without bias ${what}`, { rtol: 0, atol: 0 }); continue; }
          const got = e.read(g[k].ptr, n + 4);
          assert.deepEqual([...got.subarray(n)], [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `${k} sentinel acc=${acc} ${what}`);
          assertClose(got.subarray(0, n), e.read(gr[k].ptr, n), `${k} acc=${acc} ${what}`, { rtol: 1e-4, atol: 2e-5 });
        }
      }
      e.release(mark);
    }
  }
});

test('embedding and masking match the reference; bad ids give zero rows and are counted', async () => {
  const rng = new Rng(32);
  for (const { name, e, ref } of await testEngines()) {
    for (const dim of [1, 3, 4, 7, 16]) for (const maskZero of [0, 1]) {
      const rows = 11, vocab = 6, mark = e.mark();
      const idv = Float32Array.from({ length: rows }, () => rng.int(0, vocab));
      idv[2] = 0; idv[3] = 2.0000002; idv[4] = 2.5; // padding; a float that rounds to 2; a tie that rounds to even
      const bad = Float32Array.from(idv); bad[5] = vocab; bad[6] = -1; bad[7] = NaN;
      const table = e.tensor([vocab * dim], rng.array(vocab * dim));
      for (const [ids, nBad] of [[idv, 0], [bad, 3]] as const) {
        const I = e.tensor([rows], ids), y = e.tensor([rows * dim + 1], new Float32Array(rows * dim + 1).fill(SENTINEL)), yr = e.tensor([rows * dim]);
        assert.equal(e.k.embedding_forward_f32(rows, dim, vocab, maskZero, I.ptr, table.ptr, y.ptr), nBad, `${name} bad count`);
        assert.equal(ref.embedding_forward_f32(rows, dim, vocab, maskZero, I.ptr, table.ptr, yr.ptr), nBad);
        assertClose(e.read(y.ptr, rows * dim), e.read(yr.ptr, rows * dim), `${name} embedding fwd dim=${dim} maskZero=${maskZero}`, { rtol: 0, atol: 0 });
        assert.equal(e.f32[(y.ptr >>> 2) + rows * dim], SENTINEL);
        // id 0 at row 2: padding (zeros) with maskZero, else table row 0
        assert.deepEqual([...e.read(y.ptr + 2 * dim * 4, dim)], maskZero ? new Array(dim).fill(0) : [...e.read(table.ptr, dim)]);
        const dyv = rng.array(rows * dim), dy = e.tensor([rows * dim], dyv);
        for (const acc of [0, 1]) {
          const d0 = rng.array(vocab * dim), dt = e.tensor([vocab * dim], d0), dtr = e.tensor([vocab * dim], d0);
          e.k.embedding_backward_f32(rows, dim, vocab, maskZero, I.ptr, dy.ptr, dt.ptr, acc);
          ref.embedding_backward_f32(rows, dim, vocab, maskZero, I.ptr, dy.ptr, dtr.ptr, acc);
          assertClose(e.read(dt.ptr, vocab * dim), e.read(dtr.ptr, vocab * dim), `${name} embedding bwd acc=${acc}`, { rtol: 1e-6, atol: 1e-6 });
        }
      }
      // masking: rows of all `value` (and of all 0) in x
      const cols = dim, xv = rng.array(rows * cols);
      xv.fill(0.5, 0, cols); // row 0: all `value`, masked
      xv.fill(0.5, 4 * cols, 5 * cols); xv[5 * cols - 1] = 0.25; // row 4: all but one, kept
      const x = e.tensor([rows * cols], xv), y = e.tensor([rows * cols]), yr = e.tensor([rows * cols]);
      e.k.masking_forward_f32(rows, cols, 0.5, x.ptr, y.ptr);
      ref.masking_forward_f32(rows, cols, 0.5, x.ptr, yr.ptr);
      assertClose(e.read(y.ptr, rows * cols), e.read(yr.ptr, rows * cols), `${name} masking fwd cols=${cols}`, { rtol: 0, atol: 0 });
      assert.ok(e.read(y.ptr, cols).every((v) => v === 0), 'row 0 is masked');
      const dy = e.tensor([rows * cols], rng.array(rows * cols)), dx = e.tensor([rows * cols]), dxr = e.tensor([rows * cols]);
      e.k.masking_backward_f32(rows, cols, 0.5, x.ptr, dy.ptr, dx.ptr);
      ref.masking_backward_f32(rows, cols, 0.5, x.ptr, dy.ptr, dxr.ptr);
      assertClose(e.read(dx.ptr, rows * cols), e.read(dxr.ptr, rows * cols), `${name} masking bwd cols=${cols}`, { rtol: 0, atol: 0 });
      e.release(mark);
    }
  }
});

test('the bidirectional merge and its backward match the reference: every mode, reversed, with state rows, sentinels', async () => {
  const rng = new Rng(33);
  for (const { name, e, ref } of await testEngines()) {
    for (const mode of [0, 1, 2, 3]) for (const u of [1, 3, 4, 5, 9]) for (const [t, rows, reverse] of [[1, 1, 0], [4, 4, 1], [3, 5, 1], [1, 3, 0]]) {
      const n = rng.int(1, 4), inN = n * rows * u, wy = mode === 0 ? 2 * u : u, yn = n * t * wy, what = `${name} mode=${mode} u=${u} t=${t} rows=${rows}`;
      const mark = e.mark();
      const yf = e.tensor([inN], rng.array(inN)), yb = e.tensor([inN], rng.array(inN)), dy = e.tensor([yn], rng.array(yn));
      const sent = (k: number) => e.tensor([k + 4], new Float32Array(k + 4).fill(SENTINEL));
      const y = sent(yn), yr = sent(yn), dyf = sent(inN), dyb = sent(inN), dyfr = sent(inN), dybr = sent(inN);
      e.k.rnn_merge_f32(mode, n, t, u, rows, reverse, yf.ptr, yb.ptr, y.ptr);
      ref.rnn_merge_f32(mode, n, t, u, rows, reverse, yf.ptr, yb.ptr, yr.ptr);
      assert.deepEqual(e.read(y.ptr, yn + 4), e.read(yr.ptr, yn + 4), `merge ${what}`);
      e.k.rnn_merge_backward_f32(mode, n, t, u, rows, reverse, yf.ptr, yb.ptr, dy.ptr, dyf.ptr, dyb.ptr);
      ref.rnn_merge_backward_f32(mode, n, t, u, rows, reverse, yf.ptr, yb.ptr, dy.ptr, dyfr.ptr, dybr.ptr);
      // rows past t (the states) are left as they were, like the sentinels
      assert.deepEqual(e.read(dyf.ptr, inN + 4), e.read(dyfr.ptr, inN + 4), `merge backward dyf ${what}`);
      assert.deepEqual(e.read(dyb.ptr, inN + 4), e.read(dybr.ptr, inN + 4), `merge backward dyb ${what}`);
      e.release(mark);
    }
  }
});
