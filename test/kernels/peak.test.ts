// The peak loop (assembly/peak.ts) against its reference on each wasm build: it really runs every chain
// `iters` times (the values it leaves depend on the count), leaves the accumulators alone for iters ≤ 0, and
// its measured rate is a positive finite number in GFLOP/s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { measurePeak } from '../../src/bench/peak';

test('peak_madd_f32 matches the reference chains (exactly on plain SIMD, within FMA rounding on relaxed)', async () => {
  const rng = new Rng(5);
  for (const { name, e, ref } of await testEngines()) {
    const lanes = e.k.peak_chains() * 4;
    assert.equal(lanes, ref.peak_chains() * 4, `${name}: chain count`);
    for (const iters of [-3, 0, 1, 2, 3, 7, 100, 1000]) {
      const mark = e.mark();
      const init = rng.array(lanes, -2, 2), a = 0.5 + rng.next() * 0.49, b = rng.next() - 0.5;
      const x = e.tensor([lanes], init), xr = e.tensor([lanes], init);
      e.k.peak_madd_f32(x.ptr, iters, a, b);
      ref.peak_madd_f32(xr.ptr, iters, a, b);
      const got = e.read(x.ptr, lanes), want = e.read(xr.ptr, lanes);
      if (iters <= 0) assert.deepEqual(got, Float32Array.from(init), `${name}: iters ${iters} must leave the accumulators`);
      // Plain SIMD rounds the mul and the add as the reference does; fused rounding drifts by a few ulps.
      if (name === 'simd') assert.deepEqual(got, want, `${name}: iters ${iters}`);
      else assertClose(got, want, `${name}: iters ${iters}`, { rtol: 1e-5, atol: 1e-6 });
      if (iters >= 1) assert.ok(got.some((v, i) => v !== init[i]), `${name}: iters ${iters} changed nothing`);
      e.release(mark);
    }
  }
});

test('measurePeak reports a finite positive rate per build and leaves the arena as it found it', async () => {
  for (const { name, e } of await testEngines()) {
    const top = e.mark();
    const p = measurePeak(e, { ms: 30 });
    assert.equal(p.variant, e.variant);
    assert.equal(p.kind, name === 'relaxed-simd' ? 'fma' : 'mul+add');
    assert.ok(Number.isFinite(p.gflops) && p.gflops > 0, `${name}: ${p.gflops}`);
    assert.equal(e.mark(), top, `${name}: arena top moved`);
  }
});
