// GradientMonitor and probeGradients: norms equal to the gradients' own sums of squares, records every N
// steps of a fit, activation statistics, a probe that leaves weights and batch-norm statistics alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { GradientMonitor, activationStats, firstLastRatio, gradientNorms, probeGradients } from '../../src/train/monitor';

const config: ModelConfig = {
  input: [6],
  layers: [
    { type: 'dense', name: 'd1', units: 8, useBias: false }, { type: 'batchnorm', name: 'bn' }, { type: 'relu', name: 'r1' },
    { type: 'dense', name: 'd2', units: 5, activation: 'relu' },
    { type: 'dense', name: 'out', units: 3 },
  ],
};

function batch(n: number): { x: Float32Array; y: Int32Array } {
  const x = Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(i * 1.7) * 2);
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { x, y };
}

async function compiled(e: Engine): Promise<Model> {
  const m = await Model.create(config, { engine: e, seed: 2 });
  return m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
}

const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

test('probeGradients: per-layer norms of the true gradients; weights and BN running statistics untouched', async () => {
  const e = await Engine.create();
  const m = await compiled(e);
  const { x, y } = batch(10);
  const w0 = e.read(m.params, m.paramFloats), s0 = e.read(m.state, m.stateFloats);
  const rec = probeGradients(m, x, y);
  assert.deepEqual(e.read(m.params, m.paramFloats), w0);
  assert.deepEqual(e.read(m.state, m.stateFloats), s0);
  assert.ok(rec.loss > 0 && Number.isFinite(rec.loss));
  assert.deepEqual(rec.grads.map((g) => g.layer), ['d1', 'bn', 'd2', 'out']);
  const d2 = rec.grads.find((g) => g.layer === 'd2')!;
  assert.ok(Math.abs(d2.weightGradNorm - norm(m.getGrad('d2/kernel'))) < 1e-6 * (1 + d2.weightGradNorm));
  assert.ok(Math.abs(d2.gradNorm - Math.hypot(norm(m.getGrad('d2/kernel')), norm(m.getGrad('d2/bias')))) < 1e-6 * (1 + d2.gradNorm));
  assert.ok(Math.abs(d2.weightNorm - norm(m.getWeight('d2/kernel'))) < 1e-6 * d2.weightNorm);
  const bn = rec.grads.find((g) => g.layer === 'bn')!;
  assert.ok(Number.isNaN(bn.weightGradNorm) && bn.gradNorm > 0, 'batch norm: no weights, but gamma/beta gradients');
  assert.equal(firstLastRatio(rec.grads), rec.grads[0].weightGradNorm / rec.grads[3].weightGradNorm);
  // The gradients are the loss's: one SGD step along them lowers the loss on this batch.
  const again = probeGradients(m, x, y);
  assert.equal(again.loss, rec.loss, 'a probe is repeatable');
  const { x: bx, y: by } = batch(10);
  await m.fit(bx, by, { epochs: 1, batchSize: 10, shuffle: false });
  assert.ok(probeGradients(m, x, y).loss < rec.loss);
  assert.throws(() => probeGradients(m, x, y.subarray(1)), /9 labels for 10 examples/);
  assert.throws(() => probeGradients(m, x, Int32Array.from(y, () => 3)), /label 0 is 3/);
});

test('activationStats: mean, std and the fraction of zeros of each node output', async () => {
  const e = await Engine.create();
  const m = await compiled(e);
  const { x, y } = batch(16);
  probeGradients(m, x, y);
  const stats = activationStats(m, 16);
  assert.deepEqual(stats.map((s) => s.layer), ['d1', 'bn', 'r1', 'd2', 'out']);
  const bn = stats[1], relu = stats[2];
  assert.ok(Math.abs(bn.mean) < 1e-5 && Math.abs(bn.std - 1) < 1e-2, `batch norm output: mean ${bn.mean}, std ${bn.std}`);
  const r = e.read(m.act[2], 16 * 8);
  assert.equal(relu.zeros, r.filter((v) => v === 0).length / r.length);
  assert.ok(relu.zeros > 0.2 && relu.zeros < 0.8, `about half of ReLU(BN(x)) is zero, got ${relu.zeros}`);
  assert.throws(() => activationStats(m, 17), /rows must be an integer in \[1, 16\]/);
});

test('GradientMonitor records every N steps of a fit, skipping the short last batch of an epoch', async () => {
  const e = await Engine.create();
  const m = await compiled(e);
  const { x, y } = batch(50); // batch 8: 7 batches per epoch, the 7th holds 2 examples
  const mon = new GradientMonitor(m, { every: 3, examples: 4 });
  await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: [mon] });
  // Due at steps 3, 6, 9, 12; 7 and 14 end an epoch. Step 6 is recorded (not an epoch end), so: 3, 6, 9, 12.
  assert.deepEqual(mon.records.map((r) => r.step), [3, 6, 9, 12]);
  assert.deepEqual(mon.records.map((r) => r.epoch), [0, 0, 1, 1]);
  const t = mon.weightGradTable();
  assert.deepEqual(t.layers, ['d1', 'd2', 'out']);
  assert.equal(t.norms.length, 4);
  assert.ok(t.norms.every((row) => row.length === 3 && row.every((v) => v > 0)));
  assert.ok(mon.records.every((r) => r.activations.length === 5 && Number.isFinite(r.loss)));
  const every7 = new GradientMonitor(m, { every: 7, activations: false });
  await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: [every7] });
  assert.deepEqual(every7.records.map((r) => r.step), [8], 'due at step 7 (an epoch end): recorded at step 8; step 14 ends the fit');
  assert.deepEqual(every7.records[0].activations, []);
  assert.throws(() => new GradientMonitor(m, { every: 0 }), /every must be a positive integer/);
});

test('firstLastRatio needs two weighted layers', () => {
  assert.throws(() => firstLastRatio([]), /at least 2 layers with weights/);
  assert.equal(gradientNorms.length, 1);
});
