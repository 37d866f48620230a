// Dropout: the wasm mask equals the reference hash bit for bit; it depends only on (seed, step, global index),
// so slicing a tensor across workers draws the same mask; kept fractions sit within a binomial bound; steps
// and seeds give independent masks; backward applies the forward's mask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { dropoutForward, dropoutBackward } from '../../src/ops/dropout';
import type { Engine } from '../../src/engine/engine';

/** The forward's output for x = 1: 1/(1-p) where kept, 0 where dropped. */
function maskOf(e: Engine, n: number, p: number, seed: number, step: number, firstIndex = 0): Float32Array {
  const mark = e.mark();
  const x = e.tensor([n]);
  e.f32.fill(1, x.ptr >>> 2, (x.ptr >>> 2) + n);
  dropoutForward(e, x, x, { p, seed, step, firstIndex });
  const m = e.read(x.ptr, n);
  e.release(mark);
  return m;
}

test('dropout forward and backward equal the reference bit for bit', async () => {
  const rng = new Rng(3);
  for (const { name, e, ref } of await testEngines()) {
    for (const n of [1, 2, 3, 4, 5, 7, 17, 100, 1001]) {
      for (const [p, seed, step, first] of [[0.5, 1, 0, 0], [0.1, -7, 3, 12345], [0.9, 2 ** 31 - 1, -1, -5], [0, 9, 9, 2 ** 31 - 3], [0.3, 0, 1e6, 77]]) {
        const data = rng.array(n, -2, 2);
        const mark = e.mark();
        const x = e.tensor([n], data), y = e.tensor([n]), yr = e.tensor([n]);
        dropoutForward(e, x, y, { p, seed, step, firstIndex: first });
        ref.dropout_forward_f32(x.ptr, yr.ptr, n, p, seed, step, first);
        assert.deepEqual(e.read(y.ptr, n), e.read(yr.ptr, n), `${name} forward n=${n} p=${p} seed=${seed} step=${step} first=${first}`);
        dropoutBackward(e, x, y, { p, seed, step, firstIndex: first });
        ref.dropout_backward_f32(x.ptr, yr.ptr, n, p, seed, step, first);
        assert.deepEqual(e.read(y.ptr, n), e.read(yr.ptr, n), `${name} backward n=${n}`);
        // kept elements are x/(1-p), exactly x·fround(1/(1-p)) in f32
        const scale = Math.fround(1 / Math.fround(1 - Math.fround(p)));
        const out = e.read(y.ptr, n);
        for (let i = 0; i < n; i++) assert.ok(out[i] === 0 || out[i] === Math.fround(data[i] * scale), `${name} value at ${i}`);
        e.release(mark);
      }
    }
  }
});

test('the mask is the same whatever slicing computes it, and backward regenerates it', async () => {
  for (const { name, e } of await testEngines()) {
    const n = 1000, p = 0.4, seed = 42, step = 17;
    const whole = maskOf(e, n, p, seed, step);
    for (const cuts of [[0, 37, 500, 1000], [0, 1, 2, 3, 999, 1000], [0, 333, 334, 1000]]) {
      const pieced = new Float32Array(n);
      for (let s = 0; s + 1 < cuts.length; s++) {
        pieced.set(maskOf(e, cuts[s + 1] - cuts[s], p, seed, step, cuts[s]), cuts[s]);
      }
      assert.deepEqual(pieced, whole, `${name} slices ${cuts.join(',')}`);
    }
    // a slice at a global offset equals the matching part of a tensor starting there
    assert.deepEqual(maskOf(e, 50, p, seed, step, 123456 + 10), maskOf(e, 100, p, seed, step, 123456).subarray(10, 60));
    // backward: dx = dy·mask/(1-p), with the forward's mask, in place
    const mark = e.mark();
    const dy = e.tensor([n], new Rng(4).array(n));
    const expected = e.read(dy.ptr, n).map((v, i) => (whole[i] === 0 ? 0 : v * whole[i])); // dropped: +0
    dropoutBackward(e, dy, dy, { p, seed, step });
    assert.deepEqual(e.read(dy.ptr, n), expected, `${name} backward mask`);
    e.release(mark);
  }
});

test('kept fraction is 1-p within a binomial bound; steps and seeds give independent masks', async () => {
  const [{ e }] = await testEngines();
  const n = 200000;
  for (const p of [0.05, 0.2, 0.5, 0.8]) {
    const bound = 5 * Math.sqrt(n * p * (1 - p)); // 5σ
    const a = maskOf(e, n, p, 1, 0), b = maskOf(e, n, p, 1, 1), c = maskOf(e, n, p, 2, 0);
    const kept = (m: Float32Array) => m.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0);
    for (const [what, m] of [['step 0', a], ['step 1', b], ['seed 2', c]] as const) {
      assert.ok(Math.abs(kept(m) - n * (1 - p)) <= bound, `p=${p} ${what}: kept ${kept(m)} of ${n}, expected ${n * (1 - p)} ± ${bound.toFixed(0)}`);
    }
    // independence: both kept with probability (1-p)², for another step, another seed, and the next element
    const both = (m1: Float32Array, m2: Float32Array, lag = 0) => {
      let s = 0;
      for (let i = 0; i + lag < n; i++) if (m1[i] !== 0 && m2[i + lag] !== 0) s++;
      return s;
    };
    const q = (1 - p) ** 2, bq = 5 * Math.sqrt(n * q * (1 - q));
    for (const [what, s] of [['steps 0,1', both(a, b)], ['seeds 1,2', both(a, c)], ['neighbours', both(a, a, 1)]] as const) {
      assert.ok(Math.abs(s - n * q) <= bq, `p=${p} ${what}: both kept ${s}, expected ${(n * q).toFixed(0)} ± ${bq.toFixed(0)}`);
    }
    assert.notDeepEqual(a, b);
  }
});

test('dropout wrappers refuse bad input with RedeErrors', async () => {
  const [{ e }] = await testEngines();
  const x = e.tensor([2, 8]), y = e.tensor([16]), z = e.tensor([15]);
  const o = { p: 0.5, seed: 1, step: 0 };
  assert.throws(() => dropoutForward(e, x, y, { ...o, p: 1 }), /dropout_forward: p must be in \[0, 1\), got 1 \(x \[2, 8\]\)/);
  assert.throws(() => dropoutForward(e, x, y, { ...o, p: -0.1 }), /p must be in \[0, 1\)/);
  assert.throws(() => dropoutForward(e, x, z, o), /dropout_forward: y \[15\] must have as many elements as x \[2, 8\]/);
  assert.throws(() => dropoutBackward(e, x, y, { ...o, step: 0.5 }), /dropout_backward: step must be a 32-bit integer, got 0.5/);
  assert.throws(() => dropoutForward(e, x, { shape: [16], ptr: x.ptr + 4 }, o), /dropout_forward: x .* and y .* partly overlap/);
  assert.throws(() => dropoutForward(e, { shape: [16], ptr: 0 }, y, o), /dropout_forward: x at byte 0 .* outside the arena/);
});
