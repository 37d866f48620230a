// Loss kernels: softmax (alone and fused with cross-entropy, sparse labels and soft targets), binary
// cross-entropy on logits and MSE, against the reference on each wasm build (class counts below/at/above the
// 4-lane vectors, extreme logits), every backward by finite differences, softmax cross-entropy against tfjs,
// and bad labels: a RedeError from the wrapper, no trap and no out-of-bounds access from the raw kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { gradcheck } from '../helpers/gradcheck';
import { tfjs } from '../helpers/tfjs';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { RedeError } from '../../src/engine/errors';
import type { Engine } from '../../src/engine/engine';
import * as ops from '../../src/ops/loss';

const CLASSES = [1, 3, 4, 5, 8, 17, 64, 67];
const EXTREMES = [100, -100, 0, 88, -88, 50, -50];

function logitsOf(rng: Rng, n: number, extremes: boolean): Float32Array {
  const x = rng.array(n, -5, 5);
  if (extremes) for (let i = 0; i < n; i++) if (rng.next() < 0.3) x[i] = EXTREMES[rng.int(0, EXTREMES.length)];
  return x;
}

/** Rows of random non-negative targets summing to 1 (soft labels). */
function softTargets(rng: Rng, rows: number, classes: number): Float32Array {
  const t = rng.array(rows * classes, 0, 1);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < classes; j++) s += t[r * classes + j];
    for (let j = 0; j < classes; j++) t[r * classes + j] /= s;
  }
  return t;
}

const labelsTensor = (e: Engine, labels: number[]) => {
  const t = e.tensor([labels.length]);
  e.i32.set(labels, t.ptr >>> 2);
  return t;
};

test('softmax and softmax cross-entropy match the reference, extreme logits included', async () => {
  const rng = new Rng(31);
  for (const { name, e, ref } of await testEngines()) {
    for (const classes of CLASSES) for (const rows of [1, 3, 5]) {
      const n = rows * classes, what = `${name} rows=${rows} classes=${classes}`, mark = e.mark();
      const x = e.tensor([rows, classes], logitsOf(rng, n, true));
      const labels = labelsTensor(e, Array.from({ length: rows }, () => rng.int(0, classes)));
      const tgt = e.tensor([rows, classes], softTargets(rng, rows, classes));
      const p = e.tensor([n]), pr = e.tensor([n]), l = e.tensor([rows]), lr = e.tensor([rows]);
      const d = e.tensor([n]), dr = e.tensor([n]), g = e.tensor([n], rng.array(n));
      const tol = { rtol: 1e-5, atol: 1e-6 };

      e.k.softmax_forward_f32(rows, classes, x.ptr, p.ptr);
      ref.softmax_forward_f32(rows, classes, x.ptr, pr.ptr);
      assertClose(e.read(p.ptr, n), e.read(pr.ptr, n), `softmax ${what}`, tol);
      e.k.softmax_backward_f32(rows, classes, pr.ptr, g.ptr, d.ptr);
      ref.softmax_backward_f32(rows, classes, pr.ptr, g.ptr, dr.ptr);
      assertClose(e.read(d.ptr, n), e.read(dr.ptr, n), `softmax backward ${what}`, tol);

      const mean = e.k.softmax_xent_sparse_forward_f32(rows, classes, x.ptr, labels.ptr, p.ptr, l.ptr);
      const meanRef = ref.softmax_xent_sparse_forward_f32(rows, classes, x.ptr, labels.ptr, pr.ptr, lr.ptr);
      assertClose(e.read(p.ptr, n), e.read(pr.ptr, n), `sparse xent probs ${what}`, tol);
      assertClose(e.read(l.ptr, rows), e.read(lr.ptr, rows), `sparse xent losses ${what}`, tol);
      assertClose([mean], [meanRef], `sparse xent mean ${what}`, tol);
      e.k.softmax_xent_sparse_backward_f32(rows, classes, pr.ptr, labels.ptr, 0.25, d.ptr);
      ref.softmax_xent_sparse_backward_f32(rows, classes, pr.ptr, labels.ptr, 0.25, dr.ptr);
      assertClose(e.read(d.ptr, n), e.read(dr.ptr, n), `sparse xent backward ${what}`, tol);

      const meanSoft = e.k.softmax_xent_forward_f32(rows, classes, x.ptr, tgt.ptr, p.ptr, l.ptr);
      const meanSoftRef = ref.softmax_xent_forward_f32(rows, classes, x.ptr, tgt.ptr, pr.ptr, lr.ptr);
      assertClose(e.read(p.ptr, n), e.read(pr.ptr, n), `soft xent probs ${what}`, tol);
      assertClose(e.read(l.ptr, rows), e.read(lr.ptr, rows), `soft xent losses ${what}`, { rtol: 1e-5, atol: 1e-5 });
      assertClose([meanSoft], [meanSoftRef], `soft xent mean ${what}`, { rtol: 1e-5, atol: 1e-5 });
      e.k.softmax_xent_backward_f32(rows, classes, pr.ptr, tgt.ptr, 0.5, d.ptr);
      ref.softmax_xent_backward_f32(rows, classes, pr.ptr, tgt.ptr, 0.5, dr.ptr);
      assertClose(e.read(d.ptr, n), e.read(dr.ptr, n), `soft xent backward ${what}`, tol);

      for (const v of [...e.read(p.ptr, n), ...e.read(l.ptr, rows)]) assert.ok(Number.isFinite(v), `${what}: non-finite output`);
      // in place: probs over the logits
      const x2 = e.tensor([rows, classes], e.read(x.ptr, n));
      e.k.softmax_xent_sparse_forward_f32(rows, classes, x2.ptr, labels.ptr, x2.ptr, l.ptr);
      e.k.softmax_xent_sparse_forward_f32(rows, classes, x.ptr, labels.ptr, p.ptr, lr.ptr);
      assertClose(e.read(x2.ptr, n), e.read(p.ptr, n), `sparse xent in place ${what}`, { rtol: 0, atol: 0 });
      assertClose(e.read(l.ptr, rows), e.read(lr.ptr, rows), `sparse xent in place losses ${what}`, { rtol: 0, atol: 0 });
      e.release(mark);
    }
  }
});

test('binary cross-entropy on logits and MSE match the reference', async () => {
  const rng = new Rng(32);
  for (const { name, e, ref } of await testEngines()) {
    for (const n of [1, 3, 4, 5, 8, 17, 64, 67]) {
      const mark = e.mark(), what = `${name} n=${n}`;
      const x = e.tensor([n], logitsOf(rng, n, true)), t = e.tensor([n], rng.array(n, 0, 1));
      const l = e.tensor([n]), lr = e.tensor([n]), d = e.tensor([n]), dr = e.tensor([n]);
      const m = e.k.bce_logits_forward_f32(n, x.ptr, t.ptr, l.ptr), mr = ref.bce_logits_forward_f32(n, x.ptr, t.ptr, lr.ptr);
      assertClose(e.read(l.ptr, n), e.read(lr.ptr, n), `bce losses ${what}`, { rtol: 1e-5, atol: 1e-6 });
      assertClose([m], [mr], `bce mean ${what}`, { rtol: 1e-5, atol: 1e-6 });
      e.k.bce_logits_backward_f32(n, x.ptr, t.ptr, 0.3, d.ptr);
      ref.bce_logits_backward_f32(n, x.ptr, t.ptr, 0.3, dr.ptr);
      assertClose(e.read(d.ptr, n), e.read(dr.ptr, n), `bce backward ${what}`, { rtol: 1e-5, atol: 1e-7 });
      const q = e.k.mse_forward_f32(n, x.ptr, t.ptr, l.ptr), qr = ref.mse_forward_f32(n, x.ptr, t.ptr, lr.ptr);
      assertClose(e.read(l.ptr, n), e.read(lr.ptr, n), `mse losses ${what}`, { rtol: 1e-6, atol: 1e-6 });
      assertClose([q], [qr], `mse mean ${what}`, { rtol: 1e-6, atol: 1e-6 });
      e.k.mse_backward_f32(n, x.ptr, t.ptr, 0.3, d.ptr);
      ref.mse_backward_f32(n, x.ptr, t.ptr, 0.3, dr.ptr);
      assertClose(e.read(d.ptr, n), e.read(dr.ptr, n), `mse backward ${what}`, { rtol: 1e-6, atol: 1e-7 });
      e.release(mark);
    }
  }
});

test('every loss backward agrees with finite differences of its mean loss (wasm kernels)', async () => {
  const { e } = (await testEngines())[0];
  const rng = new Rng(33);
  const rows = 4, classes = 7, n = rows * classes, mark = e.mark();
  const x = e.tensor([rows, classes], rng.array(n, -3, 3)), p = e.tensor([rows, classes]), dx = e.tensor([rows, classes]);
  const labels = labelsTensor(e, [0, 6, 3, 3]), tgt = e.tensor([rows, classes], softTargets(rng, rows, classes));
  const t = e.tensor([rows, classes], rng.array(n, 0, 1));
  const mean = e.tensor([1]), dmean = e.tensor([1]), y = e.tensor([rows, classes]), dy = e.tensor([rows, classes]);
  // y = the mean loss (one float); the backward gets dL/dmean from the dy slot and passes it on as scale/count
  const meanOf = (fwd: () => number) => () => e.write(mean.ptr, [fwd()]);
  const dL = () => e.f32[dmean.ptr >>> 2];
  const cases: [string, () => number, (s: number) => void, number][] = [
    ['sparse xent', () => ops.softmaxCrossEntropySparseForward(e, x, labels, p), (s) => ops.softmaxCrossEntropySparseBackward(e, p, labels, dx, s), rows],
    ['soft xent', () => ops.softmaxCrossEntropyForward(e, x, tgt, p), (s) => ops.softmaxCrossEntropyBackward(e, p, tgt, dx, s), rows],
    ['bce', () => ops.bceWithLogitsForward(e, x, t), (s) => ops.bceWithLogitsBackward(e, x, t, dx, s), n],
    ['mse', () => ops.mseForward(e, x, t), (s) => ops.mseBackward(e, x, t, dx, s), n],
  ];
  for (const [what, fwd, bwd, count] of cases) {
    gradcheck({
      e, inputs: [{ name: `${what} x`, ptr: x.ptr, n, grad: dx.ptr }], y: { ptr: mean.ptr, n: 1 }, dy: dmean.ptr,
      forward: meanOf(fwd), backward: () => bwd(dL() / count), eps: 1e-2, rtol: 1e-2, atol: 1e-4,
    });
  }
  gradcheck({
    e, inputs: [{ name: 'softmax x', ptr: x.ptr, n, grad: dx.ptr }], y: { ptr: y.ptr, n }, dy: dy.ptr,
    forward: () => ops.softmaxForward(e, x, y), backward: () => ops.softmaxBackward(e, y, dy, dx), eps: 1e-2, rtol: 1e-2, atol: 1e-4,
  });
  e.release(mark);
});

test('softmax cross-entropy (sparse, one-hot and label-smoothed) and its gradient agree with tfjs', async () => {
  const tf = await tfjs();
  const { e } = (await testEngines())[0];
  const rng = new Rng(34);
  for (const [rows, classes] of [[5, 10], [3, 67], [8, 3]] as const) {
    const n = rows * classes, mark = e.mark();
    const xs = logitsOf(rng, n, false);
    xs[0] = 100; xs[1] = -100; // extreme logits in the first row
    const ls = Array.from({ length: rows }, () => rng.int(0, classes));
    const x = e.tensor([rows, classes], xs), p = e.tensor([rows, classes]), dx = e.tensor([rows, classes]);
    const labels = labelsTensor(e, ls);
    const onehot = new Float32Array(n);
    ls.forEach((c, r) => { onehot[r * classes + c] = 1; });
    const smoothing = 0.1, smooth = onehot.map((v) => v * (1 - smoothing) + smoothing / classes);
    const tx = tf.tensor2d(xs, [rows, classes]);
    const what = `rows=${rows} classes=${classes}`;
    for (const [form, targets, ls2] of [['sparse', onehot, 0], ['one-hot', onehot, 0], ['label-smoothed', onehot, smoothing]] as const) {
      const ty = tf.tensor2d(targets, [rows, classes]);
      const lossFn = (t: TfTensor) => tf.losses.softmaxCrossEntropy(ty, t, undefined, ls2) as TfTensor;
      const expectLoss = lossFn(tx).dataSync()[0];
      const expectGrad = tf.grad(lossFn)(tx).dataSync();
      let loss: number;
      if (form === 'sparse') {
        loss = ops.softmaxCrossEntropySparseForward(e, x, labels, p);
        ops.softmaxCrossEntropySparseBackward(e, p, labels, dx);
      } else {
        const tgt = e.tensor([rows, classes], form === 'one-hot' ? targets : smooth);
        loss = ops.softmaxCrossEntropyForward(e, x, tgt, p);
        ops.softmaxCrossEntropyBackward(e, p, tgt, dx);
      }
      assertClose([loss], [expectLoss], `${form} loss vs tfjs ${what}`, { rtol: 1e-4, atol: 1e-6 });
      assertClose(e.read(dx.ptr, n), expectGrad, `${form} gradient vs tfjs ${what}`, { rtol: 1e-4, atol: 1e-6 });
      tf.dispose(ty);
    }
    const tp = tf.softmax(tx);
    assertClose(e.read(p.ptr, n), tp.dataSync(), `softmax vs tfjs ${what}`, { rtol: 1e-4, atol: 1e-7 });
    tf.dispose([tx, tp]);
    e.release(mark);
  }
});

test('bad labels: RedeError from the wrapper naming row, label and class count; the raw kernel neither traps nor reads out of bounds', async () => {
  for (const { name, e } of await testEngines()) {
    const mark = e.mark();
    const x = e.tensor([3, 4], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]), p = e.tensor([3, 4]), l = e.tensor([3]);
    for (const bad of [4, -1, 1 << 30, -(2 ** 31)]) {
      const labels = labelsTensor(e, [0, bad, 2]);
      assert.throws(() => ops.softmaxCrossEntropySparseForward(e, x, labels, p),
        (err: unknown) => err instanceof RedeError && /softmax_xent_sparse_forward_f32: labels\[1\] = -?\d+ is not a class index in \[0, 4\)/.test(err.message), `${name} label ${bad}`);
      assert.throws(() => ops.softmaxCrossEntropySparseBackward(e, p, labels, p),
        (err: unknown) => err instanceof RedeError && err.message.includes(`labels[1] = ${bad}`), `${name} backward label ${bad}`);
      const mean = e.k.softmax_xent_sparse_forward_f32(3, 4, x.ptr, labels.ptr, p.ptr, l.ptr);
      const losses = e.read(l.ptr, 3);
      assert.ok(Number.isNaN(mean) && Number.isNaN(losses[1]) && Number.isFinite(losses[0]) && Number.isFinite(losses[2]), `${name}: a bad label's loss is NaN, the others finite`);
      const guard = e.tensor([4], [7, 7, 7, 7]);
      e.k.softmax_xent_sparse_backward_f32(3, 4, p.ptr, labels.ptr, 1, p.ptr);
      assert.deepEqual([...e.read(guard.ptr, 4)], [7, 7, 7, 7], `${name}: wrote past dlogits`);
    }
    e.release(mark);
  }
});

test('checked wrappers reject bad shapes with a RedeError naming the kernel and shapes', async () => {
  const { e } = (await testEngines())[0];
  const mark = e.mark();
  const x = e.tensor([3, 4]), p = e.tensor([3, 4]), wrong = e.tensor([4, 3]), labels = labelsTensor(e, [0, 1, 2]);
  const bad = (fn: () => void, ...parts: string[]): void =>
    assert.throws(fn, (err: unknown) => err instanceof RedeError && parts.every((q) => err.message.includes(q)), parts.join(' '));
  bad(() => ops.softmaxCrossEntropySparseForward(e, x, labelsTensor(e, [0, 1]), p), 'softmax_xent_sparse_forward_f32', 'labels', '[3]', '[2]');
  bad(() => ops.softmaxCrossEntropySparseForward(e, x, labels, wrong), 'softmax_xent_sparse_forward_f32', 'probs', '[3, 4]', '[4, 3]');
  bad(() => ops.softmaxCrossEntropySparseForward(e, e.tensor([12]), labels, p), 'softmax_xent_sparse_forward_f32', '[rows, classes]', '[12]');
  bad(() => ops.softmaxCrossEntropyForward(e, x, wrong, p), 'softmax_xent_forward_f32', 'targets', '[4, 3]');
  bad(() => ops.softmaxCrossEntropyBackward(e, p, x, p, Infinity), 'softmax_xent_backward_f32', 'scale');
  bad(() => ops.softmaxForward(e, x, { shape: [3, 4], ptr: x.ptr + 8 }), 'softmax_forward_f32', 'overlaps');
  bad(() => ops.bceWithLogitsForward(e, x, wrong), 'bce_logits_forward_f32', '[4, 3]', '[3, 4]');
  bad(() => ops.mseBackward(e, x, p, { shape: [3, 4], ptr: 1 << 30 }), 'mse_backward_f32', 'outside the arena');
  bad(() => ops.softmaxCrossEntropySparseForward(e, x, labels, p, e.tensor([4])), 'softmax_xent_sparse_forward_f32', 'losses', '[3]', '[4]');
  e.release(mark);
});
