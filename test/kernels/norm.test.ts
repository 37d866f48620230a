// Batch norm and LRN: sweeps against the reference on every engine, finite differences through the wasm
// kernels, and agreement with tfjs (tf.moments + tf.batchNorm, tf.localResponseNormalization) and its grads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { gradcheck } from '../helpers/gradcheck';
import { tfjs } from '../helpers/tfjs';
import { batchNormTrainForward, batchNormInferForward, batchNormBackward, lrnForward, lrnBackward } from '../../src/ops/norm';
import type { Engine } from '../../src/engine/engine';
import type { Kernels } from '../../src/engine/generated/kernels';
import { BATCHNORM_DESC_BYTES, LRN_DESC_BYTES, writeBatchnormDesc, writeLrnDesc } from '../../src/engine/generated/abi';

const CHANNELS = [1, 3, 4, 5, 17, 64];
const ROWS = [1, 2, 7, 100];

/** Batch norm buffers for rows × c: inputs random (x offset by 3 to exercise the two-pass variance). */
function bnBuffers(e: Engine, rng: Rng, rows: number, c: number) {
  const v = (lo: number, hi: number) => e.tensor([c], rng.array(c, lo, hi));
  return {
    x: e.tensor([rows, c], rng.array(rows * c, 2, 4)), y: e.tensor([rows, c]), dy: e.tensor([rows, c], rng.array(rows * c)), dx: e.tensor([rows, c]),
    gamma: v(0.5, 1.5), beta: v(-1, 1), mean: e.tensor([c]), invstd: e.tensor([c]), runningMean: v(-1, 1), runningVar: v(0.5, 2),
    dgamma: v(-1, 1), dbeta: v(-1, 1),
  };
}
type BN = ReturnType<typeof bnBuffers>;

/** A batch norm descriptor in the arena (until the caller's release). */
function bnDesc(e: Engine, rows: number, c: number, eps = 1e-3, momentum = 0.1): number {
  const d = e.reserve(BATCHNORM_DESC_BYTES, 'batchnorm descriptor');
  writeBatchnormDesc(e, d, { rows, c, eps, momentum });
  return d;
}
function lrnDesc(e: Engine, rows: number, c: number, radius: number, bias: number, alpha: number, beta: number): number {
  const d = e.reserve(LRN_DESC_BYTES, 'lrn descriptor');
  writeLrnDesc(e, d, { rows, c, radius, bias, alpha, beta });
  return d;
}

function bnTrain(k: Kernels, b: BN, desc: number, scratch: number): void {
  k.batchnorm_train_forward_f32(desc, b.x.ptr, b.y.ptr, b.gamma.ptr, b.beta.ptr, b.mean.ptr, b.invstd.ptr, b.runningMean.ptr, b.runningVar.ptr, scratch);
}
function bnBackward(k: Kernels, b: BN, desc: number, acc: number, scratch: number): void {
  k.batchnorm_backward_f32(desc, b.x.ptr, b.dy.ptr, b.dx.ptr, b.gamma.ptr, b.mean.ptr, b.invstd.ptr, b.dgamma.ptr, b.dbeta.ptr, acc, scratch);
}

test('batch norm train/infer forward and backward match the reference', async () => {
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CHANNELS) {
      for (const rows of ROWS) {
        const mark = e.mark();
        const seed = c * 1000 + rows;
        const w = bnBuffers(e, new Rng(seed), rows, c), r = bnBuffers(e, new Rng(seed), rows, c);
        const scratch = e.reserve(e.k.batchnorm_scratch_bytes(c)), desc = bnDesc(e, rows, c);
        const acc = rows & 1;
        bnTrain(e.k, w, desc, scratch); bnTrain(ref, r, desc, 0);
        bnBackward(e.k, w, desc, acc, scratch); bnBackward(ref, r, desc, acc, 0);
        const what = `${name} batchnorm rows=${rows} c=${c}`;
        for (const key of ['y', 'dx'] as const) assertClose(e.read(w[key].ptr, rows * c), e.read(r[key].ptr, rows * c), `${what} ${key}`, { rtol: 1e-4, atol: 1e-4 });
        for (const key of ['mean', 'invstd', 'runningMean', 'runningVar', 'dgamma', 'dbeta'] as const) {
          assertClose(e.read(w[key].ptr, c), e.read(r[key].ptr, c), `${what} ${key} (accumulate ${acc})`, { rtol: 1e-4, atol: 1e-4 });
        }
        e.k.batchnorm_infer_forward_f32(desc, w.x.ptr, w.y.ptr, w.gamma.ptr, w.beta.ptr, w.runningMean.ptr, w.runningVar.ptr, scratch);
        ref.batchnorm_infer_forward_f32(desc, r.x.ptr, r.y.ptr, r.gamma.ptr, r.beta.ptr, r.runningMean.ptr, r.runningVar.ptr, 0);
        assertClose(e.read(w.y.ptr, rows * c), e.read(r.y.ptr, rows * c), `${what} inference y`, { rtol: 1e-4, atol: 1e-4 });
        e.release(mark);
      }
    }
  }
});

test('batch norm statistics stay accurate for a large offset (f64 sums, two-pass variance)', async () => {
  for (const { name, e } of await testEngines()) {
    const rows = 4096, c = 5, rng = new Rng(11);
    const mark = e.mark();
    const b = bnBuffers(e, rng, rows, c);
    const xs = rng.array(rows * c, -1, 1).map((v) => 1000 + v * 0.01); // mean ~1000, std ~0.006
    e.write(b.x.ptr, xs);
    e.write(b.runningMean.ptr, new Float32Array(c)); e.write(b.runningVar.ptr, new Float32Array(c).fill(1));
    batchNormTrainForward(e, b.x, b.y, b, { eps: 1e-8, momentum: 1 });
    for (let ch = 0; ch < c; ch++) {
      let s = 0, s2 = 0;
      for (let r = 0; r < rows; r++) s += xs[r * c + ch];
      const mu = s / rows;
      for (let r = 0; r < rows; r++) s2 += (xs[r * c + ch] - mu) ** 2;
      const variance = s2 / rows;
      assertClose(e.read(b.mean.ptr + ch * 4, 1), [mu], `${name} mean ch ${ch}`, { rtol: 1e-7, atol: 0 });
      assertClose(e.read(b.invstd.ptr + ch * 4, 1), [1 / Math.sqrt(variance + 1e-8)], `${name} invstd ch ${ch}`, { rtol: 1e-4, atol: 0 });
      assertClose(e.read(b.runningVar.ptr + ch * 4, 1), [variance * rows / (rows - 1)], `${name} unbiased running var ch ${ch}`, { rtol: 1e-4, atol: 0 });
    }
    e.release(mark);
  }
});

test('batch norm backward passes finite differences (dx, dgamma, dbeta) through the wasm kernels', async () => {
  for (const { e } of await testEngines()) {
    for (const [rows, c] of [[7, 5], [12, 4]]) {
      const mark = e.mark();
      const b = bnBuffers(e, new Rng(rows + c), rows, c);
      e.write(b.x.ptr, new Rng(3).array(rows * c, -1, 1));
      const scratch = e.reserve(e.k.batchnorm_scratch_bytes(c)), desc = bnDesc(e, rows, c, 1e-3, 0);
      gradcheck({
        e, y: { ptr: b.y.ptr, n: rows * c }, dy: b.dy.ptr,
        inputs: [{ name: 'x', ptr: b.x.ptr, n: rows * c, grad: b.dx.ptr }, { name: 'gamma', ptr: b.gamma.ptr, n: c, grad: b.dgamma.ptr }, { name: 'beta', ptr: b.beta.ptr, n: c, grad: b.dbeta.ptr }],
        forward: () => bnTrain(e.k, b, desc, scratch),
        backward: () => bnBackward(e.k, b, desc, 0, scratch),
        eps: 1e-2, rtol: 3e-2, atol: 3e-3,
      });
      e.release(mark);
    }
  }
});

const LRN_CASES: [radius: number, bias: number, alpha: number, beta: number][] = [[0, 1, 0.5, 0.5], [1, 2, 1e-1, 0.75], [2, 1, 1e-2, 0.75], [2, 0.5, 0.3, 1], [5, 1.5, 0.2, 0.6]];

test('LRN forward and backward match the reference', async () => {
  const rng = new Rng(12);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CHANNELS) {
      for (const rows of [1, 2, 7]) {
        for (const [radius, bias, alpha, beta] of LRN_CASES) {
          const n = rows * c, mark = e.mark();
          const x = e.tensor([n], rng.array(n, -2, 2)), dy = e.tensor([n], rng.array(n));
          const y = e.tensor([n]), yr = e.tensor([n]), dx = e.tensor([n]), dxr = e.tensor([n]);
          const scratch = e.reserve(e.k.lrn_scratch_bytes(c)), desc = lrnDesc(e, rows, c, radius, bias, alpha, beta);
          // both sides read the f32 coefficients from the descriptor
          e.k.lrn_forward_f32(desc, x.ptr, y.ptr);
          ref.lrn_forward_f32(desc, x.ptr, yr.ptr);
          e.k.lrn_backward_f32(desc, x.ptr, dy.ptr, dx.ptr, scratch);
          ref.lrn_backward_f32(desc, x.ptr, dy.ptr, dxr.ptr, 0);
          const what = `${name} lrn rows=${rows} c=${c} radius=${radius} beta=${beta}`;
          assertClose(e.read(y.ptr, n), e.read(yr.ptr, n), `${what} y`, { rtol: 1e-6, atol: 1e-7 });
          assertClose(e.read(dx.ptr, n), e.read(dxr.ptr, n), `${what} dx`, { rtol: 1e-5, atol: 1e-6 });
          e.release(mark);
        }
      }
    }
  }
});

test('LRN SIMD paths match the reference: channel remainders, radius ≥ c, general beta, out-of-range lanes, sentinels', async () => {
  const rng = new Rng(15);
  const SENTINEL = 12345.5, GUARD = 8;
  // [radius, bias, alpha, beta, x scale]: AlexNet's 0.75 and the other exact cases; general beta through the
  // vector exp/log; x² overflowing f32 (s = ∞ in f32, finite in f64); s subnormal (tiny bias, x = 0);
  // |beta·ln s| > 87 (huge beta). (t = dy·x·s^(-beta-1) is kept in f32: inputs whose t overflows f32 are out of range.)
  const cases: [number, number, number, number, number][] = [[2, 2, 1e-4, 0.75, 3], [3, 1, 0.1, 0.5, 2], [1, 0.5, 0.3, 1, 2],
    [2, 1, 0.2, 0.6, 2], [5, 1.5, 1, 2.5, 10], [7, 1, 0.05, 0.3, 1], [20, 0.7, 0.02, 1.7, 1], [2, 1, 1, 0.75, 3e19],
    [1, 1, 1, 0.6, 3e19], [0, 1e-39, 1, 0.6, 0], [1, 1, 1, 30, 100]];
  for (const { name, e, ref } of await testEngines()) {
    for (const c of [1, 2, 4, 5, 7, 8, 11, 16, 19, 96]) {
      for (const [radius, bias, alpha, beta, scale] of cases) {
        const rows = 3, n = rows * c, mark = e.mark();
        const xs = rng.array(n, -scale, scale);
        if (scale === 0) xs.fill(0);
        const x = e.tensor([n], xs), dy = e.tensor([n], rng.array(n));
        const guarded = () => { const t = e.tensor([n + GUARD]); e.f32.fill(SENTINEL, t.ptr >>> 2, (t.ptr >>> 2) + n + GUARD); return t; };
        const y = guarded(), yr = e.tensor([n]), dx = guarded(), dxr = e.tensor([n]);
        const scratch = e.reserve(e.k.lrn_scratch_bytes(c)), desc = lrnDesc(e, rows, c, radius, bias, alpha, beta);
        e.k.lrn_forward_f32(desc, x.ptr, y.ptr);
        ref.lrn_forward_f32(desc, x.ptr, yr.ptr);
        e.k.lrn_backward_f32(desc, x.ptr, dy.ptr, dx.ptr, scratch);
        ref.lrn_backward_f32(desc, x.ptr, dy.ptr, dxr.ptr, 0);
        const what = `${name} lrn c=${c} radius=${radius} bias=${bias} beta=${beta} |x|≤${scale}`;
        assertClose(e.read(y.ptr, n), e.read(yr.ptr, n), `${what} y`, { rtol: 2e-6, atol: 1e-7 });
        assertClose(e.read(dx.ptr, n), e.read(dxr.ptr, n), `${what} dx`, { rtol: 1e-5, atol: 1e-6 });
        for (const [t, nm] of [[y, 'y'], [dx, 'dx']] as const) {
          assert.ok(e.read(t.ptr + n * 4, GUARD).every((v) => v === SENTINEL), `${what}: ${nm} written past its end`);
        }
        e.release(mark);
      }
    }
  }
});

test('LRN backward passes finite differences through the wasm kernels', async () => {
  for (const { e } of await testEngines()) {
    for (const [radius, bias, alpha, beta] of LRN_CASES) {
      const rows = 3, c = 7, n = rows * c, mark = e.mark();
      const x = e.tensor([n], new Rng(radius + 20).array(n, -2, 2)), y = e.tensor([n]), dy = e.tensor([n]), dx = e.tensor([n]);
      const scratch = e.reserve(e.k.lrn_scratch_bytes(c)), desc = lrnDesc(e, rows, c, radius, bias, alpha, beta);
      gradcheck({
        e, y: { ptr: y.ptr, n }, dy: dy.ptr, inputs: [{ name: `x (radius ${radius}, beta ${beta})`, ptr: x.ptr, n, grad: dx.ptr }],
        forward: () => e.k.lrn_forward_f32(desc, x.ptr, y.ptr),
        backward: () => e.k.lrn_backward_f32(desc, x.ptr, dy.ptr, dx.ptr, scratch),
      });
      e.release(mark);
    }
  }
});

test('batch norm (training) and its gradients agree with tf.moments + tf.batchNorm and tf.grads', async () => {
  const tf = await tfjs();
  const [{ e }] = await testEngines();
  const shape = [2, 3, 3, 5], c = 5, rows = 18, eps = 1e-3, rng = new Rng(13);
  const mark = e.mark();
  const b = bnBuffers(e, rng, rows, c);
  const xs = e.read(b.x.ptr, rows * c), dys = e.read(b.dy.ptr, rows * c), gs = e.read(b.gamma.ptr, c), bs = e.read(b.beta.ptr, c);
  const X = { shape, ptr: b.x.ptr }, Y = { shape, ptr: b.y.ptr }, DY = { shape, ptr: b.dy.ptr }, DX = { shape, ptr: b.dx.ptr };
  batchNormTrainForward(e, X, Y, b, { eps });
  batchNormBackward(e, X, DY, DX, b);
  const f = (x: any, g: any, be: any) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.batchNorm(x, mean, variance, be, g, eps);
  };
  const [x, g, be, r] = [tf.tensor(xs, shape), tf.tensor1d(gs), tf.tensor1d(bs), tf.tensor(dys, shape)];
  assertClose(e.read(b.y.ptr, rows * c), f(x, g, be).dataSync(), 'tfjs batchNorm y', { rtol: 1e-4, atol: 1e-5 });
  const [dx, dg, db] = tf.grads((x: any, g: any, be: any) => tf.sum(tf.mul(f(x, g, be), r)))([x, g, be]);
  assertClose(e.read(b.dx.ptr, rows * c), dx.dataSync(), 'tfjs batchNorm dx', { rtol: 1e-4, atol: 1e-4 });
  assertClose(e.read(b.dgamma.ptr, c), dg.dataSync(), 'tfjs batchNorm dgamma', { rtol: 1e-4, atol: 1e-5 });
  assertClose(e.read(b.dbeta.ptr, c), db.dataSync(), 'tfjs batchNorm dbeta', { rtol: 1e-4, atol: 1e-5 });
  e.release(mark);
});

test('LRN and its gradient agree with tf.localResponseNormalization', async () => {
  const tf = await tfjs();
  const [{ e }] = await testEngines();
  const shape = [2, 2, 3, 9] as [number, number, number, number], n = 108, rng = new Rng(14);
  for (const [radius, bias, alpha, beta] of LRN_CASES) {
    const mark = e.mark();
    const x = e.tensor(shape, rng.array(n, -2, 2)), dy = e.tensor(shape, rng.array(n)), y = e.tensor(shape), dx = e.tensor(shape);
    const o = { depthRadius: radius, bias, alpha, beta };
    lrnForward(e, x, y, o);
    lrnBackward(e, x, dy, dx, o);
    const xt = tf.tensor4d(e.read(x.ptr, n), shape), rt = tf.tensor4d(e.read(dy.ptr, n), shape);
    const f = (v: any) => tf.localResponseNormalization(v, radius, bias, alpha, beta);
    assertClose(e.read(y.ptr, n), f(xt).dataSync(), `tfjs lrn y radius ${radius} beta ${beta}`, { rtol: 1e-4, atol: 1e-6 });
    const dxt = tf.grad((v: any) => tf.sum(tf.mul(f(v), rt)))(xt);
    assertClose(e.read(dx.ptr, n), dxt.dataSync(), `tfjs lrn dx radius ${radius} beta ${beta}`, { rtol: 1e-4, atol: 1e-5 });
    e.release(mark);
  }
});

test('norm wrappers refuse bad input with RedeErrors naming the kernel and shapes', async () => {
  const [{ e }] = await testEngines();
  const b = bnBuffers(e, new Rng(1), 6, 4);
  const x = { shape: [2, 3, 4], ptr: b.x.ptr }, y = { shape: [2, 3, 4], ptr: b.y.ptr };
  assert.throws(() => batchNormTrainForward(e, x, { shape: [6, 4], ptr: b.y.ptr }, b), /batchnorm_train_forward: y \[6, 4\] must have the shape of x \[2, 3, 4\]/);
  assert.throws(() => batchNormTrainForward(e, x, y, { ...b, gamma: e.tensor([5]) }), /batchnorm_train_forward: gamma must hold one value per channel, \[4\], got \[5\]/);
  assert.throws(() => batchNormTrainForward(e, x, y, b, { momentum: 2 }), /batchnorm_train_forward: momentum must be a number in \[0, 1\], got 2/);
  assert.throws(() => batchNormInferForward(e, x, y, b, { eps: 0 }), /batchnorm_infer_forward: eps must be a number in \(0, Infinity\), got 0/);
  assert.throws(() => batchNormBackward(e, x, { shape: [2, 3, 4], ptr: b.dy.ptr }, x, b), /batchnorm_backward: dx .* and x .* overlap/);
  assert.throws(() => batchNormTrainForward(e, { shape: [2, 0, 4], ptr: b.x.ptr }, y, b), /batchnorm_train_forward: x must have positive integer dims, channels last, got \[2, 0, 4\]/);
  assert.throws(() => lrnForward(e, x, x), /lrn_forward: y .* and x .* overlap/);
  assert.throws(() => lrnForward(e, x, y, { depthRadius: -1 }), /lrn_forward: depthRadius must be an integer >= 0, got -1/);
  assert.throws(() => lrnBackward(e, x, { shape: [24], ptr: b.dy.ptr }, y), /lrn_backward: dy \[24\] must have the shape of x \[2, 3, 4\]/);
  assert.throws(() => lrnBackward(e, { shape: [2, 3, 4], ptr: 4 }, y, y), /lrn_backward: x at byte 4 .* outside the arena/);
});
