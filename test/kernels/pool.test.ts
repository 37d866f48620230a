// Pooling kernels: max (with argmax), average and global average, forward and backward, against the reference
// on each wasm build over channels below/at/above the 4-lane vectors, windows 1–3, strides 1–3, 'valid' and
// 'same'; backward by finite differences; max/avg pooling and their gradients against tfjs; bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { gradcheck } from '../helpers/gradcheck';
import { tfjs } from '../helpers/tfjs';
import type { Tensor as TfTensor, Tensor4D } from '@tensorflow/tfjs';
import { RedeError } from '../../src/engine/errors';
import { numel } from '../../src/engine/tensor';
import * as ops from '../../src/ops/pool';
import { POOL_DESC_BYTES, writePoolDesc } from '../../src/engine/generated/abi';

const CHANNELS = [1, 3, 4, 5, 6, 7, 8, 17, 64];

/** Distinct values spaced ≥ 0.05 apart in random order: no ties, and no max changes under a 1e-2 nudge. */
function distinct(rng: Rng, n: number): Float32Array {
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  for (let i = n - 1; i > 0; i--) { const j = rng.int(0, i + 1); [v[i], v[j]] = [v[j], v[i]]; }
  return v;
}

test('max and average pooling match the reference over channels, windows, strides and padding', async () => {
  const rng = new Rng(21);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CHANNELS) for (const k of [1, 2, 3]) for (const s of [1, 2, 3]) for (const padding of ['valid', 'same'] as const) {
      const kh = k, kw = s === 2 ? k : rng.int(1, 4); // non-square windows too; square at stride 2, so 2×2 windows (the kernel's unrolled path) come up for every c
      const n = 2, h = rng.int(kh, 8), w = rng.int(kw, 8);
      const o = { size: [kh, kw] as [number, number], strides: [s, rng.int(1, 4)] as [number, number], padding };
      const g = ops.pool2dGeom('test', [n, h, w, c], o);
      const xn = n * h * w * c, yn = n * g.oh * g.ow * c, what = `${name} c=${c} x=[${n},${h},${w},${c}] ${JSON.stringify(o)}`;
      const mark = e.mark();
      // ties in half the cases: values on a coarse grid (the first of equals must win on both sides)
      const xs = rng.next() < 0.5 ? rng.array(xn) : rng.array(xn).map((v) => Math.round(v * 3) / 3);
      const x = e.tensor([xn], xs), dy = e.tensor([yn], rng.array(yn));
      const y = e.tensor([yn]), yr = e.tensor([yn]), am = e.tensor([yn]), amr = e.tensor([yn]);
      const desc = e.reserve(POOL_DESC_BYTES, 'pool descriptor');
      writePoolDesc(e, desc, ops.poolDesc(g));
      e.k.maxpool2d_forward_f32(desc, x.ptr, y.ptr, am.ptr);
      ref.maxpool2d_forward_f32(desc, x.ptr, yr.ptr, amr.ptr);
      assertClose(e.read(y.ptr, yn), e.read(yr.ptr, yn), `max fwd ${what}`, { rtol: 0, atol: 0 });
      assert.deepEqual(e.i32.slice(am.ptr >>> 2, (am.ptr >>> 2) + yn), e.i32.slice(amr.ptr >>> 2, (amr.ptr >>> 2) + yn), `argmax ${what}`);
      for (const acc of [0, 1]) {
        const d0 = rng.array(xn), dx = e.tensor([xn], d0), dxr = e.tensor([xn], d0);
        e.k.maxpool2d_backward_f32(desc, am.ptr, dy.ptr, dx.ptr, acc);
        ref.maxpool2d_backward_f32(desc, amr.ptr, dy.ptr, dxr.ptr, acc);
        assertClose(e.read(dx.ptr, xn), e.read(dxr.ptr, xn), `max bwd acc=${acc} ${what}`, { rtol: 1e-6, atol: 1e-6 });
        e.k.avgpool2d_backward_f32(desc, dy.ptr, dx.ptr, acc);
        ref.avgpool2d_backward_f32(desc, dy.ptr, dxr.ptr, acc);
        assertClose(e.read(dx.ptr, xn), e.read(dxr.ptr, xn), `avg bwd acc=${acc} ${what}`, { rtol: 1e-5, atol: 1e-6 });
      }
      e.k.avgpool2d_forward_f32(desc, x.ptr, y.ptr);
      ref.avgpool2d_forward_f32(desc, x.ptr, yr.ptr);
      assertClose(e.read(y.ptr, yn), e.read(yr.ptr, yn), `avg fwd ${what}`, { rtol: 1e-5, atol: 1e-6 });
      e.release(mark);
    }
  }
});

test('global average pooling matches the reference', async () => {
  const rng = new Rng(22);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CHANNELS) for (const hw of [1, 3, 49]) {
      const n = 3, xn = n * hw * c, mark = e.mark();
      const x = e.tensor([xn], rng.array(xn)), y = e.tensor([n * c]), yr = e.tensor([n * c]), dy = e.tensor([n * c], rng.array(n * c));
      e.k.global_avgpool_forward_f32(n, hw, c, x.ptr, y.ptr);
      ref.global_avgpool_forward_f32(n, hw, c, x.ptr, yr.ptr);
      assertClose(e.read(y.ptr, n * c), e.read(yr.ptr, n * c), `${name} global fwd c=${c} hw=${hw}`, { rtol: 1e-5, atol: 1e-6 });
      for (const acc of [0, 1]) {
        const d0 = rng.array(xn), dx = e.tensor([xn], d0), dxr = e.tensor([xn], d0);
        e.k.global_avgpool_backward_f32(n, hw, c, dy.ptr, dx.ptr, acc);
        ref.global_avgpool_backward_f32(n, hw, c, dy.ptr, dxr.ptr, acc);
        assertClose(e.read(dx.ptr, xn), e.read(dxr.ptr, xn), `${name} global bwd c=${c} hw=${hw} acc=${acc}`, { rtol: 1e-6, atol: 1e-7 });
      }
      e.release(mark);
    }
  }
});

test('pooling backward agrees with finite differences (wasm kernels)', async () => {
  const { e } = (await testEngines())[0];
  const rng = new Rng(23);
  for (const [c, k, s, padding] of [[5, 3, 2, 'same'], [8, 2, 2, 'valid'], [3, 3, 1, 'same'], [4, 2, 3, 'valid']] as const) {
    const n = 2, h = 7, w = 6, o = { size: k, strides: s, padding };
    const g = ops.pool2dGeom('test', [n, h, w, c], o);
    const xn = n * h * w * c, yn = n * g.oh * g.ow * c, mark = e.mark();
    const x = e.tensor([n, h, w, c], distinct(rng, xn)), y = e.tensor([n, g.oh, g.ow, c]), am = e.tensor([n, g.oh, g.ow, c]);
    const dy = e.tensor([n, g.oh, g.ow, c]), dx = e.tensor([n, h, w, c]);
    const common = { e, inputs: [{ name: `x c=${c} ${JSON.stringify(o)}`, ptr: x.ptr, n: xn, grad: dx.ptr }], y: { ptr: y.ptr, n: yn }, dy: dy.ptr };
    gradcheck({ ...common, forward: () => ops.maxPool2dForward(e, x, y, am, o), backward: () => ops.maxPool2dBackward(e, dy, am, dx, o) });
    gradcheck({ ...common, forward: () => ops.avgPool2dForward(e, x, y, o), backward: () => ops.avgPool2dBackward(e, dy, dx, o) });
    const gy = e.tensor([n, c]), gdy = e.tensor([n, c]);
    gradcheck({
      ...common, y: { ptr: gy.ptr, n: n * c }, dy: gdy.ptr,
      forward: () => ops.globalAvgPoolForward(e, x, gy), backward: () => ops.globalAvgPoolBackward(e, gdy, dx),
    });
    e.release(mark);
  }
});

test('maxPool and avgPool, forward and gradient, agree with tfjs', async () => {
  const tf = await tfjs();
  const { e } = (await testEngines())[0];
  const rng = new Rng(24);
  for (const [c, k, s, padding, h, w] of [[3, 2, 2, 'valid', 8, 8], [5, 3, 2, 'same', 7, 9], [17, 3, 1, 'same', 6, 5], [4, 2, 3, 'same', 8, 7], [8, 3, 3, 'valid', 9, 10]] as const) {
    const n = 2, o = { size: k, strides: s, padding };
    const g = ops.pool2dGeom('test', [n, h, w, c], o);
    const shape = [n, h, w, c] as [number, number, number, number], yShape = [n, g.oh, g.ow, c];
    const xs = distinct(rng, numel(shape)), gs = rng.array(numel(yShape));
    const mark = e.mark();
    const x = e.tensor(shape, xs), y = e.tensor(yShape), am = e.tensor(yShape), dy = e.tensor(yShape, gs), dx = e.tensor(shape);
    const tx = tf.tensor4d(xs, shape), tg = tf.tensor(gs, yShape);
    const what = `c=${c} x=${JSON.stringify(shape)} ${JSON.stringify(o)}`;
    const pools = [
      ['maxPool', (t: TfTensor) => tf.maxPool(t as Tensor4D, k, s, padding), () => ops.maxPool2dForward(e, x, y, am, o), () => ops.maxPool2dBackward(e, dy, am, dx, o)],
      ['avgPool', (t: TfTensor) => tf.avgPool(t as Tensor4D, k, s, padding), () => ops.avgPool2dForward(e, x, y, o), () => ops.avgPool2dBackward(e, dy, dx, o)],
    ] as const;
    for (const [pool, tfPool, fwd, bwd] of pools) {
      fwd();
      bwd();
      const ty = tfPool(tx);
      assert.deepEqual(ty.shape, yShape, `${pool} ${what}: output shape`);
      assertClose(e.read(y.ptr, numel(yShape)), ty.dataSync(), `${pool} vs tfjs ${what}`, { rtol: 1e-4, atol: 1e-6 });
      tf.dispose(ty);
      if (pool === 'avgPool' && padding === 'same') {
        // tfjs-backend-cpu's AvgPoolGrad divides by the full window (kh·kw) even where its forward divided by the
        // real cells, so its gradient is not the gradient of its own forward at the borders. Check ours against
        // tfjs's forward instead: average pooling is linear, so ⟨avgPool(z), dy⟩ = ⟨z, dx⟩ for every z.
        const dxv = e.read(dx.ptr, numel(shape));
        for (let trial = 0; trial < 3; trial++) {
          const zs = rng.array(numel(shape)), tz = tf.tensor4d(zs, shape), tyz = tfPool(tz);
          const lhs = tf.sum(tf.mul(tyz, tg)).dataSync()[0];
          let rhs = 0;
          for (let i = 0; i < zs.length; i++) rhs += zs[i] * dxv[i];
          assertClose([rhs], [lhs], `avgPool gradient: adjoint of the tfjs forward ${what}`, { rtol: 1e-4, atol: 1e-5 });
          tf.dispose([tz, tyz]);
        }
        continue;
      }
      const tdx = tf.grad((t: TfTensor) => tf.sum(tf.mul(tfPool(t), tg)))(tx);
      assertClose(e.read(dx.ptr, numel(shape)), tdx.dataSync(), `${pool} gradient vs tfjs ${what}`, { rtol: 1e-4, atol: 1e-6 });
      tf.dispose(tdx);
    }
    tf.dispose([tx, tg]);
    e.release(mark);
  }
});

test('explicit asymmetric padding: padded cells never win and are not averaged', async () => {
  const { e } = (await testEngines())[0];
  const mark = e.mark();
  // one all-negative 3×3 image, 1 channel; pads [top 1, bottom 0, left 0, right 2] with a 2×3 window
  const x = e.tensor([1, 3, 3, 1], [-9, -8, -7, -6, -5, -4, -3, -2, -1]);
  const o = { size: [2, 3] as [number, number], strides: 1, padding: [1, 0, 0, 2] as const };
  const g = ops.pool2dGeom('test', x.shape, o);
  assert.deepEqual([g.oh, g.ow], [3, 3]);
  const y = e.tensor([1, 3, 3, 1]), am = e.tensor([1, 3, 3, 1]);
  ops.maxPool2dForward(e, x, y, am, o);
  assert.deepEqual([...e.read(y.ptr, 9)], [-7, -7, -7, -4, -4, -4, -1, -1, -1]);
  ops.avgPool2dForward(e, x, y, o);
  assertClose(e.read(y.ptr, 9), [-8, -7.5, -7, -6.5, -6, -5.5, -3.5, -3, -2.5], 'avg with asymmetric padding', { rtol: 0, atol: 1e-6 });
  e.release(mark);
});

test('checked wrappers reject bad input with a RedeError naming the kernel and shapes', async () => {
  const { e } = (await testEngines())[0];
  const mark = e.mark();
  const x = e.tensor([2, 5, 5, 3]), y = e.tensor([2, 2, 2, 3]), am = e.tensor([2, 2, 2, 3]), wrong = e.tensor([2, 3, 3, 3]);
  const bad = (fn: () => void, ...parts: string[]): void =>
    assert.throws(fn, (err: unknown) => err instanceof RedeError && parts.every((p) => err.message.includes(p)), parts.join(' '));
  bad(() => ops.maxPool2dForward(e, x, wrong, am, { size: 2 }), 'maxpool2d_forward_f32', '[2, 2, 2, 3]', '[2, 3, 3, 3]');
  bad(() => ops.maxPool2dForward(e, e.tensor([2, 5, 3]), y, am, { size: 2 }), 'maxpool2d_forward_f32', 'NHWC', '[2, 5, 3]');
  bad(() => ops.avgPool2dForward(e, x, y, { size: 6 }), 'avgpool2d_forward_f32', 'does not fit', '[2, 5, 5, 3]');
  bad(() => ops.avgPool2dForward(e, x, y, { size: 2, padding: [2, 0, 0, 0] }), 'avgpool2d_forward_f32', 'padding top');
  bad(() => ops.avgPool2dForward(e, x, y, { size: 2, strides: 0 }), 'avgpool2d_forward_f32', 'strides');
  bad(() => ops.maxPool2dBackward(e, wrong, am, x, { size: 2 }), 'maxpool2d_backward_f32', 'dy');
  bad(() => ops.maxPool2dForward(e, x, { shape: y.shape, ptr: x.ptr + 16 }, am, { size: 2 }), 'maxpool2d_forward_f32', 'overlap');
  bad(() => ops.globalAvgPoolForward(e, x, e.tensor([2, 4])), 'global_avgpool_forward_f32', '[2, 3]', '[2, 4]');
  bad(() => ops.globalAvgPoolBackward(e, e.tensor([2, 3]), { shape: x.shape, ptr: 1 << 30 }), 'global_avgpool_backward_f32', 'outside the arena');
  e.release(mark);
});

test('a corrupt argmax cannot make the max-pool backward write outside dx', async () => {
  for (const { name, e } of await testEngines()) {
    const mark = e.mark();
    const guard = e.tensor([8], new Float32Array(8).fill(7)), dx = e.tensor([4]), after = e.tensor([8], new Float32Array(8).fill(7));
    const am = e.tensor([4]), dy = e.tensor([4], [1, 2, 3, 4]);
    e.i32.set([-1, 4, 1 << 30, 2], am.ptr >>> 2);
    // a 1×4 image, 1×1 windows: xCount = yCount = 4
    const desc = e.reserve(POOL_DESC_BYTES, 'pool descriptor');
    writePoolDesc(e, desc, { n: 1, h: 1, w: 4, c: 1, kh: 1, kw: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, oh: 1, ow: 4 });
    e.k.maxpool2d_backward_f32(desc, am.ptr, dy.ptr, dx.ptr, 0);
    assert.deepEqual([...e.read(dx.ptr, 4)], [0, 0, 4, 0], name);
    assert.ok(e.read(guard.ptr, 8).every((v) => v === 7) && e.read(after.ptr, 8).every((v) => v === 7), `${name}: wrote outside dx`);
    e.release(mark);
  }
});
