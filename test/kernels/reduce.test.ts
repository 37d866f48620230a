// Reductions against the reference: the slice sum is bit-exact (same f32 adds, same slice order), scale and
// fill exact, the sum of squares within f64 rounding; bad input is a RedeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { RedeError } from '../../src/engine/errors';
import { sumSlices, scaleInPlace, sumSquares, fillTensor } from '../../src/ops/reduce';

const LENGTHS = [1, 2, 3, 4, 5, 7, 8, 17, 64, 101, 1001];

test('sum_slices_f32 equals the reference bit for bit, in place and out of place', async () => {
  const rng = new Rng(1);
  for (const { name, e, ref } of await testEngines()) {
    for (const n of LENGTHS) {
      for (const k of [1, 2, 3, 7]) {
        const stride = n + rng.int(0, 5);
        const data = rng.array((k - 1) * stride + n, -100, 100);
        const mark = e.mark();
        const src = e.tensor([data.length], data), srcRef = e.tensor([data.length], data);
        const dst = e.tensor([n]), dstRef = e.tensor([n]);
        sumSlices(e, dst, src, k, stride);
        ref.sum_slices_f32(dstRef.ptr, srcRef.ptr, n, k, stride);
        assert.deepEqual(e.read(dst.ptr, n), e.read(dstRef.ptr, n), `${name} sum_slices n=${n} k=${k} stride=${stride}`);
        // in place: dst is slice 0
        sumSlices(e, { shape: [n], ptr: src.ptr }, src, k, stride);
        assert.deepEqual(e.read(src.ptr, n), e.read(dstRef.ptr, n), `${name} in-place sum_slices n=${n} k=${k}`);
        // slice order: ((s0 + s1) + s2) + …, in f32
        for (let i = 0; i < n; i++) {
          let acc = data[i];
          for (let s = 1; s < k; s++) acc = Math.fround(acc + data[s * stride + i]);
          assert.equal(e.read(dst.ptr + i * 4, 1)[0], acc, `${name} slice order at ${i}`);
        }
        e.release(mark);
      }
    }
  }
});

test('scale_inplace_f32, fill_f32 and sum_squares_f32 match the reference', async () => {
  const rng = new Rng(2);
  for (const { name, e, ref } of await testEngines()) {
    for (const n of LENGTHS) {
      const data = rng.array(n, -3, 3);
      const mark = e.mark();
      const x = e.tensor([n], data), xr = e.tensor([n], data);
      scaleInPlace(e, x, 0.37);
      ref.scale_inplace_f32(xr.ptr, n, 0.37);
      assert.deepEqual(e.read(x.ptr, n), e.read(xr.ptr, n), `${name} scale n=${n}`);
      let exact = 0;
      for (const v of e.read(x.ptr, n)) exact += v * v;
      const s = sumSquares(e, x);
      assert.ok(Math.abs(s - exact) <= 1e-13 * exact, `${name} sum_squares n=${n}: ${s} vs ${exact}`);
      assert.ok(Math.abs(s - ref.sum_squares_f32(xr.ptr, n)) <= 1e-13 * exact);
      fillTensor(e, x, -2.5);
      assert.ok(e.read(x.ptr, n).every((v) => v === -2.5), `${name} fill n=${n}`);
      e.release(mark);
    }
    // f64 accumulation: 1e6 ones plus tiny squares that an f32 sum would lose
    const mark = e.mark();
    const n = 1 << 20;
    const x = e.tensor([n]);
    fillTensor(e, x, 1);
    e.f32[(x.ptr >>> 2) + 5] = 1e-3;
    const s = sumSquares(e, x), expected = n - 1 + Math.fround(1e-3) ** 2;
    assert.ok(Math.abs(s - expected) < 1e-9, `${name} f64 sum of squares: ${s} vs ${expected}`);
    e.release(mark);
  }
});

test('reduce wrappers refuse bad input with RedeErrors naming the kernel', async () => {
  const [{ e }] = await testEngines();
  const a = e.tensor([10]), b = e.tensor([4]);
  assert.throws(() => sumSlices(e, b, a, 3, 4), (err: Error) => err instanceof RedeError && /sum_slices: src \[10\] holds 10 floats, but 3 slices of 4 floats at stride 4 span 12/.test(err.message));
  assert.throws(() => sumSlices(e, b, a, 2, 3), /sum_slices: stride must be an integer >= 4, got 3/);
  assert.throws(() => sumSlices(e, b, { shape: [2, 1 << 27], ptr: a.ptr }, 2, 1 << 27), /sum_slices: src .* outside the arena/);
  assert.throws(() => sumSlices(e, { shape: [4], ptr: a.ptr + 8 }, a, 2, 4), /sum_slices: dst .* overlaps slice 0/);
  assert.throws(() => scaleInPlace(e, b, NaN), /scale: factor must be finite, got NaN \(x \[4\]\)/);
  assert.throws(() => sumSquares(e, { shape: [2, 0], ptr: a.ptr }), /sum_squares: x must have positive integer dims, got \[2, 0\]/);
  assert.throws(() => fillTensor(e, { shape: [4], ptr: 3 }, 0), /fill: x at byte 3/);
});
