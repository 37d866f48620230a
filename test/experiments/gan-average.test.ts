// The GAN's weight average (src/experiments/gan-average.ts): the update is β·avg + (1 − β)·w per parameter,
// `with` runs on the averaged weights with batch norm's running statistics re-estimated for them, and puts the
// trained weights and statistics back bitwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { WeightAverage } from '../../src/experiments/gan-average';
import { Rng } from '../helpers/rand';

async function small() {
  const e = await Engine.create();
  return Model.create({ name: 'g', input: [3], layers: [{ type: 'dense', units: 4 }, { type: 'batchnorm' }, { type: 'relu' }] }, { engine: e, seed: 5 });
}

test('weight average: two updates give β²·w0 + β(1 − β)·w1 + (1 − β)·w2 (β below the warm-up)', async () => {
  const m = await small(), beta = 0.05, avg = new WeightAverage(m, beta);
  const w0 = m.getWeight('dense_0/kernel'), w1 = w0.map((v) => v + 1), w2 = w0.map((v) => 2 * v - 0.5);
  m.setWeight('dense_0/kernel', w1); avg.update();
  m.setWeight('dense_0/kernel', w2); avg.update();
  const got = new WeightAverage(m, beta); // a fresh average starts at the current weights
  assert.deepEqual(got.avg.subarray(0, 12), m.e.f32.subarray(m.params >>> 2, (m.params >>> 2) + 12));
  avg.with(0, () => new Float32Array(3), () => {
    const a = m.getWeight('dense_0/kernel');
    for (let i = 0; i < a.length; i++) {
      const want = beta * beta * w0[i] + beta * (1 - beta) * w1[i] + (1 - beta) * w2[i];
      assert.ok(Math.abs(a[i] - want) < 1e-6, `kernel[${i}]: ${a[i]} vs ${want}`);
    }
  });
  assert.deepEqual(m.getWeight('dense_0/kernel'), w2, 'the trained weights are back');
  // A long memory starts with the warm-up: β_0 = 1/10, β_1 = 2/11.
  const warm = new WeightAverage(m, 0.999), w3 = w2.map((v) => v * v);
  m.setWeight('dense_0/kernel', w3); warm.update();
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(warm.avg[i] - (0.1 * w2[i] + 0.9 * w3[i])) < 1e-6, `warm-up kernel[${i}]`);
  assert.equal(warm.steps, 1);
  assert.throws(() => new WeightAverage(m, 1), /WeightAverage: beta must be in \[0, 1\), got 1/);
});

test('weight average: `with` recalibrates batch norm for the averaged weights and restores the statistics bitwise', async () => {
  const m = await small(), avg = new WeightAverage(m, 0.5), rng = new Rng(9);
  const x = new Float32Array(64 * 3).map(() => rng.uniform(-1, 1));
  m.setWeight('dense_0/kernel', m.getWeight('dense_0/kernel').map((v) => 3 * v)); avg.update(); // avg = 2 × the initial kernel
  const before = { mean: m.getWeight('batchnorm_1/moving_mean'), variance: m.getWeight('batchnorm_1/moving_variance') };
  let inside: Float32Array | null = null;
  avg.with(60, () => x, () => { inside = m.getWeight('batchnorm_1/moving_mean'); });
  // After 60 passes at momentum 0.1 the running mean is within 0.9^60 of the batch mean of x·W_avg + b.
  const kernel = avg.avg.subarray(0, 12), bias = m.getWeight('dense_0/bias');
  for (let c = 0; c < 4; c++) {
    let mean = 0;
    for (let r = 0; r < 64; r++) { let s = bias[c]; for (let k = 0; k < 3; k++) s += x[r * 3 + k] * kernel[k * 4 + c]; mean += s / 64; }
    assert.ok(Math.abs(inside![c] - mean) < 1e-3 * (1 + Math.abs(mean)), `running mean[${c}]: ${inside![c]} vs the batch mean ${mean}`);
  }
  assert.deepEqual(m.getWeight('batchnorm_1/moving_mean'), before.mean);
  assert.deepEqual(m.getWeight('batchnorm_1/moving_variance'), before.variance);
});
