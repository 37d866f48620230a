// The trainer's losses: label smoothing is the dense cross-entropy on (1 − ε)·onehot + ε/classes, and the
// gradient scale is the caller's (1/rows by default; a data-parallel shard passes 1/batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Loss } from '../../src/train/loss';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';

test('sparse cross-entropy with label smoothing equals the dense form on smoothed targets, loss and gradient', async () => {
  const e = await Engine.create(), rng = new Rng(4), rows = 5, cols = 7, eps = 0.1;
  const logits = e.tensor([rows, cols], rng.array(rows * cols, -3, 3));
  const labels = Int32Array.from({ length: rows }, () => rng.int(0, cols));
  const lab = e.reserve(4 * rows); e.i32.set(labels, lab >>> 2);
  const targets = e.tensor([rows, cols]), probs = e.tensor([rows, cols]), losses = e.tensor([rows]);
  const d1 = e.tensor([rows, cols]), d2 = e.tensor([rows, cols]);
  const smoothed = new Loss({ type: 'sparse_categorical_crossentropy', labelSmoothing: eps });
  const L1 = smoothed.run(e, { rows, cols, out: logits.ptr, labels: lab, targets: targets.ptr, probs: probs.ptr, losses: losses.ptr, dout: d1.ptr });
  const hand = new Float32Array(rows * cols).fill(eps / cols);
  labels.forEach((y, r) => { hand[r * cols + y] += 1 - eps; });
  const t2 = e.tensor([rows, cols], hand);
  const L2 = new Loss('categorical_crossentropy').run(e, { rows, cols, out: logits.ptr, labels: 0, targets: t2.ptr, probs: probs.ptr, losses: losses.ptr, dout: d2.ptr });
  assert.ok(Math.abs(L1 - L2) <= 1e-6 * Math.abs(L2), `${L1} vs ${L2}`);
  assertClose(e.read(d1.ptr, rows * cols), e.read(d2.ptr, rows * cols), 'dlogits');
  // And it differs from the unsmoothed loss (the smoothing is applied, not ignored).
  const L0 = new Loss('sparse_categorical_crossentropy').run(e, { rows, cols, out: logits.ptr, labels: lab, targets: targets.ptr, probs: probs.ptr, losses: losses.ptr, dout: 0 });
  assert.ok(Math.abs(L0 - L1) > 1e-3, `${L0} vs ${L1}`);
});

test('the gradient scale is the caller\'s: 1/rows by default, any other on request', async () => {
  const e = await Engine.create(), rng = new Rng(5), rows = 4, cols = 3;
  const logits = e.tensor([rows, cols], rng.array(rows * cols));
  const lab = e.reserve(4 * rows); e.i32.set([0, 1, 2, 1], lab >>> 2);
  const scratch = e.tensor([rows, cols]), probs = e.tensor([rows, cols]), losses = e.tensor([rows]);
  const dMean = e.tensor([rows, cols]), dBatch = e.tensor([rows, cols]);
  const loss = new Loss('sparse_categorical_crossentropy');
  loss.run(e, { rows, cols, out: logits.ptr, labels: lab, targets: scratch.ptr, probs: probs.ptr, losses: losses.ptr, dout: dMean.ptr });
  loss.run(e, { rows, cols, out: logits.ptr, labels: lab, targets: scratch.ptr, probs: probs.ptr, losses: losses.ptr, dout: dBatch.ptr, scale: 1 / 16 });
  const a = e.read(dMean.ptr, rows * cols), b = e.read(dBatch.ptr, rows * cols);
  assertClose(b, Array.from(a, (v) => v * (rows / 16)), 'scaled gradient');
});

// Regression: the per-value losses of BCE and MSE (batch × outputs of them) once went into a region sized for one
// per example, overwriting whatever followed the network's activations — or trapping at the end of memory.
for (const loss of ['binary_crossentropy', 'mse'] as const) {
  test(`${loss} on a wide output (16 → 784, batch 40) writes nothing past the network's regions`, async () => {
    const { Model } = await import('../../src/api/model');
    const rng = new Rng(5), B = 40;
    const m = await Model.create({ name: 'wide', input: [784], layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 784 }] }, { seed: 1 });
    m.compile({ optimizer: 'adam', loss });
    m.ensureCapacity(B);
    const canary = m.e.reserve(4 * B * 784, 'canary after the activations'), at = canary >>> 2;
    for (let i = 0; i < B * 784; i++) m.e.f32[at + i] = i;
    const x = rng.array(B * 784, 0, 1);
    const h = await m.fit(x, x, { epochs: 2, batchSize: B, verbose: 0 });
    assert.ok(h.history.loss.every(Number.isFinite));
    for (let i = 0; i < B * 784; i++) if (m.e.f32[at + i] !== i) assert.fail(`canary value ${i} overwritten`);
  });
}
