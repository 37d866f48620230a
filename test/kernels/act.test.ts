// Activations, bias and elementwise kernels: every export against its reference on each wasm build (sizes below,
// at and above the 4-lane vectors, extreme inputs for the SIMD exp), every backward by finite differences,
// sigmoid/tanh/elu against tfjs, and bad input through the checked wrappers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { gradcheck } from '../helpers/gradcheck';
import { tfjs } from '../helpers/tfjs';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { RedeError } from '../../src/engine/errors';
import * as ops from '../../src/ops/act';

const SIZES = [1, 3, 4, 5, 8, 17, 64, 67];
/** Inputs that stress the exp: saturation on both sides, overflow/underflow edges, zeros of both signs. */
const EXTREMES = [0, -0, 100, -100, 88, -88, 88.7, -88.7, 89, -89, 103, -103, 104, -104, 200, -200, 1e-7, -1e-7, 1e-30, -1e-30, 20, -20, 9.5, -9.5];

function inputs(rng: Rng, n: number, withExtremes: boolean): Float32Array {
  const x = rng.array(n, -6, 6);
  if (withExtremes) for (let i = 0; i < n; i++) if (rng.next() < 0.5) x[i] = EXTREMES[rng.int(0, EXTREMES.length)];
  return x;
}

/** Unary activations: name, forward export, backward export, which forward tensor the backward reads, alpha. */
const UNARY = [
  { name: 'relu', fwd: 'relu_forward_f32', bwd: 'relu_backward_f32', from: 'x', alpha: null },
  { name: 'leaky_relu', fwd: 'leaky_relu_forward_f32', bwd: 'leaky_relu_backward_f32', from: 'x', alpha: 0.2 },
  { name: 'elu', fwd: 'elu_forward_f32', bwd: 'elu_backward_f32', from: 'y', alpha: 0.7 },
  { name: 'sigmoid', fwd: 'sigmoid_forward_f32', bwd: 'sigmoid_backward_f32', from: 'y', alpha: null },
  { name: 'tanh', fwd: 'tanh_forward_f32', bwd: 'tanh_backward_f32', from: 'y', alpha: null },
] as const;

type Fn = (...a: number[]) => void;
const call = (k: object, name: string, ...args: number[]): void => (k as Record<string, Fn>)[name](...args);
/** Activation calls take (n, [alpha], pointers...). */
const actArgs = (n: number, alpha: number | null, ...ptrs: number[]): number[] => (alpha === null ? [n, ...ptrs] : [n, alpha, ...ptrs]);

test('activations match the reference, extreme inputs included, forward and backward', async () => {
  const rng = new Rng(11);
  for (const { name, e, ref } of await testEngines()) {
    for (const a of UNARY) {
      for (const n of [...SIZES, 203]) {
        const mark = e.mark();
        const xs = inputs(rng, n, true), g = rng.array(n);
        const x = e.tensor([n], xs), y = e.tensor([n]), yr = e.tensor([n]), dy = e.tensor([n], g), dx = e.tensor([n]), dxr = e.tensor([n]);
        call(e.k, a.fwd, ...actArgs(n, a.alpha, x.ptr, y.ptr));
        call(ref, a.fwd, ...actArgs(n, a.alpha, x.ptr, yr.ptr));
        const yv = e.read(y.ptr, n);
        assert.ok(yv.every((v) => !Number.isNaN(v)), `${name} ${a.name}: NaN in output for finite input`);
        // exp-based activations: ≤ 1e-6 relative (atol covers outputs that are subnormal or rounded to 0)
        assertClose(yv, e.read(yr.ptr, n), `${name} ${a.fwd} n=${n}`, { rtol: 1e-6, atol: 1e-30 });
        const src = a.from === 'x' ? x : yr; // backward from the same saved tensor on both sides
        call(e.k, a.bwd, ...actArgs(n, a.alpha, src.ptr, dy.ptr, dx.ptr));
        call(ref, a.bwd, ...actArgs(n, a.alpha, src.ptr, dy.ptr, dxr.ptr));
        assertClose(e.read(dx.ptr, n), e.read(dxr.ptr, n), `${name} ${a.bwd} n=${n}`, { rtol: 1e-6, atol: 1e-30 });
        e.release(mark);
      }
    }
  }
});

test('the SIMD exp is within 1e-6 relative over the useful range (through sigmoid, elu and tanh)', async () => {
  for (const { name, e, ref } of await testEngines()) {
    const n = 4001;
    const mark = e.mark();
    // sigmoid(x) ≈ e^x for x ≪ 0: its relative error is the exp's; x ∈ [−87, 15] keeps the result normal
    const xs = Float32Array.from({ length: n }, (_, i) => -87 + (102 * i) / (n - 1));
    const x = e.tensor([n], xs), y = e.tensor([n]), yr = e.tensor([n]);
    for (const [fwd, args] of [['sigmoid_forward_f32', []], ['elu_forward_f32', [1]], ['tanh_forward_f32', []]] as const) {
      call(e.k, fwd, n, ...args, x.ptr, y.ptr);
      call(ref, fwd, n, ...args, x.ptr, yr.ptr);
      assertClose(e.read(y.ptr, n), e.read(yr.ptr, n), `${name} ${fwd} over [−87, 15]`, { rtol: 1e-6, atol: 0 });
    }
    // small |x|: expm1 and tanh keep full relative precision (no 1 − 1 cancellation)
    const small = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? -1 : 1) * 10 ** (-1 - i / 8));
    const s = e.tensor([64], small), sy = e.tensor([64]), sr = e.tensor([64]);
    for (const [fwd, args] of [['elu_forward_f32', [1]], ['tanh_forward_f32', []]] as const) {
      call(e.k, fwd, 64, ...args, s.ptr, sy.ptr);
      call(ref, fwd, 64, ...args, s.ptr, sr.ptr);
      assertClose(e.read(sy.ptr, 64), e.read(sr.ptr, 64), `${name} ${fwd} near 0`, { rtol: 1e-6, atol: 0 });
    }
    e.release(mark);
  }
});

test('bias add and bias gradient match the reference (in place, accumulate)', async () => {
  const rng = new Rng(12);
  for (const { name, e, ref } of await testEngines()) {
    for (const cols of SIZES) {
      for (const rows of [1, 3, 7, 32]) {
        const mark = e.mark();
        const n = rows * cols, xs = rng.array(n), bs = rng.array(cols), d0 = rng.array(cols);
        const x = e.tensor([n], xs), b = e.tensor([cols], bs), y = e.tensor([n]), yr = e.tensor([n]);
        e.k.bias_add_f32(rows, cols, x.ptr, b.ptr, y.ptr);
        ref.bias_add_f32(rows, cols, x.ptr, b.ptr, yr.ptr);
        assertClose(e.read(y.ptr, n), e.read(yr.ptr, n), `${name} bias_add rows=${rows} cols=${cols}`, { rtol: 0, atol: 0 });
        e.k.bias_add_f32(rows, cols, x.ptr, b.ptr, x.ptr); // in place
        assertClose(e.read(x.ptr, n), e.read(yr.ptr, n), `${name} bias_add in place rows=${rows} cols=${cols}`, { rtol: 0, atol: 0 });
        for (const acc of [0, 1]) {
          const db = e.tensor([cols], d0), dbr = e.tensor([cols], d0);
          e.k.bias_grad_f32(rows, cols, y.ptr, db.ptr, acc);
          ref.bias_grad_f32(rows, cols, y.ptr, dbr.ptr, acc);
          assertClose(e.read(db.ptr, cols), e.read(dbr.ptr, cols), `${name} bias_grad rows=${rows} cols=${cols} acc=${acc}`, { rtol: 1e-5, atol: 1e-5 });
        }
        e.release(mark);
      }
    }
  }
});

test('elementwise add, add_acc, mul, scale_copy, axpy match the reference, aliased outputs included', async () => {
  const rng = new Rng(13);
  for (const { name, e, ref } of await testEngines()) {
    for (const n of SIZES) {
      const mark = e.mark();
      const as = rng.array(n), bs = rng.array(n), alpha = rng.uniform(-2, 2);
      const a = e.tensor([n], as), b = e.tensor([n], bs);
      const cases: [string, (k: typeof ref, y: number) => void, boolean][] = [
        ['add_f32', (k, y) => k.add_f32(a.ptr, b.ptr, y, n), false],
        ['add_acc_f32', (k, y) => k.add_acc_f32(a.ptr, y, n), true],
        ['mul_f32', (k, y) => k.mul_f32(a.ptr, b.ptr, y, n), false],
        ['scale_copy_f32', (k, y) => k.scale_copy_f32(a.ptr, y, n, alpha), false],
        ['axpy_f32', (k, y) => k.axpy_f32(a.ptr, y, n, alpha), true],
      ];
      for (const [kernel, run, readsY] of cases) {
        const y0 = readsY ? bs : rng.array(n);
        const y = e.tensor([n], y0), yr = e.tensor([n], y0);
        run(e.k, y.ptr);
        run(ref, yr.ptr);
        assertClose(e.read(y.ptr, n), e.read(yr.ptr, n), `${name} ${kernel} n=${n}`, { rtol: 1e-6, atol: 1e-7 });
      }
      // y aliasing an input: a = a + b, a = a·b
      const c = e.tensor([n], as);
      e.k.add_f32(c.ptr, b.ptr, c.ptr, n);
      assertClose(e.read(c.ptr, n), as.map((v, i) => Math.fround(v + bs[i])), `${name} add_f32 in place n=${n}`, { rtol: 0, atol: 0 });
      e.write(c.ptr, as);
      e.k.mul_f32(c.ptr, b.ptr, c.ptr, n);
      assertClose(e.read(c.ptr, n), as.map((v, i) => Math.fround(v * bs[i])), `${name} mul_f32 in place n=${n}`, { rtol: 0, atol: 0 });
      e.release(mark);
    }
  }
});

test('every activation backward agrees with finite differences (wasm kernels)', async () => {
  const { e } = (await testEngines())[0];
  const rng = new Rng(14);
  for (const a of UNARY) {
    const n = 37;
    const mark = e.mark();
    // away from the kinks at 0 (ReLU, LeakyReLU, ELU): |x| ≥ 0.1 > eps
    const xs = Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.1, 3));
    const x = e.tensor([n], xs), y = e.tensor([n]), dy = e.tensor([n]), dx = e.tensor([n]);
    const src = a.from === 'x' ? x : y;
    gradcheck({
      e, inputs: [{ name: `${a.name} x`, ptr: x.ptr, n, grad: dx.ptr }], y: { ptr: y.ptr, n }, dy: dy.ptr,
      forward: () => call(e.k, a.fwd, ...actArgs(n, a.alpha, x.ptr, y.ptr)),
      backward: () => call(e.k, a.bwd, ...actArgs(n, a.alpha, src.ptr, dy.ptr, dx.ptr)),
      eps: 1e-3, rtol: 1e-2, atol: 1e-3,
    });
    e.release(mark);
  }
});

test('bias gradient agrees with finite differences of bias add', async () => {
  const { e } = (await testEngines())[0];
  const rng = new Rng(15);
  const rows = 6, cols = 5, mark = e.mark();
  const x = e.tensor([rows * cols], rng.array(rows * cols)), b = e.tensor([cols], rng.array(cols));
  const y = e.tensor([rows * cols]), dy = e.tensor([rows * cols]), db = e.tensor([cols]);
  gradcheck({
    e, inputs: [{ name: 'b', ptr: b.ptr, n: cols, grad: db.ptr }], y: { ptr: y.ptr, n: rows * cols }, dy: dy.ptr,
    forward: () => e.k.bias_add_f32(rows, cols, x.ptr, b.ptr, y.ptr),
    backward: () => e.k.bias_grad_f32(rows, cols, dy.ptr, db.ptr, 0),
  });
  e.release(mark);
});

test('sigmoid, tanh, elu and their gradients agree with tfjs', async () => {
  const tf = await tfjs();
  const { e } = (await testEngines())[0];
  const rng = new Rng(16);
  const n = 103, mark = e.mark();
  const xs = inputs(rng, n, false);
  for (let i = 0; i < 8; i++) xs[i] = EXTREMES[i];
  const g = rng.array(n);
  const x = e.tensor([n], xs), y = e.tensor([n]), dy = e.tensor([n], g), dx = e.tensor([n]);
  const cases = [
    ['sigmoid', (t: TfTensor) => tf.sigmoid(t), () => ops.sigmoidForward(e, x, y), () => ops.sigmoidBackward(e, y, dy, dx)],
    ['tanh', (t: TfTensor) => tf.tanh(t), () => ops.tanhForward(e, x, y), () => ops.tanhBackward(e, y, dy, dx)],
    ['elu', (t: TfTensor) => tf.elu(t), () => ops.eluForward(e, x, y, 1), () => ops.eluBackward(e, y, dy, dx, 1)],
  ] as const;
  for (const [what, tfFn, fwd, bwd] of cases) {
    fwd();
    bwd();
    const tx = tf.tensor1d(xs), tg = tf.tensor1d(g);
    const expectY = tfFn(tx).dataSync();
    const expectDx = tf.grad((t: TfTensor) => tf.sum(tf.mul(tfFn(t), tg)))(tx).dataSync();
    assertClose(e.read(y.ptr, n), expectY, `${what} vs tfjs`, { rtol: 1e-4, atol: 1e-6 });
    assertClose(e.read(dx.ptr, n), expectDx, `${what} gradient vs tfjs`, { rtol: 1e-4, atol: 1e-6 });
    tf.dispose([tx, tg]);
  }
  e.release(mark);
});

test('checked wrappers reject bad input with a RedeError naming the kernel and shapes', async () => {
  const { e } = (await testEngines())[0];
  const mark = e.mark();
  const a = e.tensor([2, 3]), b = e.tensor([3, 2]), c = e.tensor([2, 3]), bias = e.tensor([4]);
  const bad = (fn: () => void, ...parts: string[]): void =>
    assert.throws(fn, (err: unknown) => err instanceof RedeError && parts.every((p) => err.message.includes(p)), parts.join(' '));
  bad(() => ops.add(e, a, b, c), 'add_f32', '[3, 2]', '[2, 3]');
  bad(() => ops.reluForward(e, a, b), 'relu_forward_f32', '[3, 2]');
  bad(() => ops.eluForward(e, a, c, -1), 'elu_forward_f32', 'alpha');
  bad(() => ops.biasAdd(e, a, bias, c), 'bias_add_f32', '[3]', '[4]');
  bad(() => ops.biasGrad(e, a, bias), 'bias_grad_f32', '[3]', '[4]');
  bad(() => ops.sigmoidForward(e, a, { shape: [2, 3], ptr: a.ptr + 4 }), 'sigmoid_forward_f32', 'overlaps');
  bad(() => ops.tanhForward(e, a, { shape: [2, 3], ptr: 1 << 30 }), 'tanh_forward_f32', 'outside the arena');
  bad(() => ops.axpy(e, a, c, NaN), 'axpy_f32', 'alpha');
  ops.sigmoidForward(e, a, a); // exact alias: in place is fine
  e.release(mark);
});
