// profileStep (src/bench/profile.ts) on a small conv net: the per-layer rows add up to the measured plain step
// within 10 % (training and inference), FLOPs are the layers' own, the probe leaves the network as it was, the
// worker-group path reports each worker, and bad options fail before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';
import type { ModelConfig } from '../../src/model/config';
import { profileStep, stepFlops, type StepProfile } from '../../src/bench/profile';

const NET: ModelConfig = {
  name: 'small', input: [12, 12, 3], layers: [
    { type: 'conv2d', name: 'conv1', filters: 8, kernel: 3, padding: 'same', activation: 'relu' },
    { type: 'maxpool2d', name: 'pool1', pool: 2 },
    { type: 'conv2d', name: 'conv2', filters: 16, kernel: 3, padding: 'same' },
    { type: 'batchnorm', name: 'bn2' },
    { type: 'relu', name: 'relu2' },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'fc', units: 10 },
  ],
};

// The test machines are shared (load averages of 10+ on 2 cores): wall-clock blocks taken a few ms apart differ
// by far more than 10 %. This process's CPU time leaves other processes out, so the accounting is checked on it;
// the wall clock runs the same code with another clock function.
const CLOCK = 'cpu' as const;

async function compiled(): Promise<Model> {
  const m = await Model.create(NET, { seed: 3 });
  return m.compile({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
}

function checkRows(p: StepProfile, m: Model, what: string): void {
  assert.equal(p.layers.length, m.layers.length, `${what}: one row per layer`);
  for (const l of p.layers) {
    assert.ok(Number.isFinite(l.forwardMs) && l.forwardMs >= 0 && Number.isFinite(l.backwardMs) && l.backwardMs >= 0, `${what} ${l.name}: ${l.forwardMs} / ${l.backwardMs}`);
    assert.equal(l.forwardFlops, m.layers[l.node].flops() * p.profiledBatch, `${what} ${l.name}: forward FLOPs`);
  }
  // The claim of the profiler: its rows are the step (median over interleaved rounds of Σ rows ÷ plain step).
  assert.ok(Math.abs(p.accountedRatio - 1) <= 0.1, `${what}: the rows add up to ${(100 * p.accountedRatio).toFixed(1)} % of the step (${p.accountedMs.toFixed(3)} of ${p.stepMs.toFixed(3)} ms)`);
  assert.ok(p.examplesPerS > 0 && Number.isFinite(p.examplesPerS), `${what}: examples/s`);
}

test('profileStep train: per-layer forward + backward, loss and update add up to the plain step within 10 %', async () => {
  const m = await compiled();
  const p = await profileStep(m, { mode: 'train', batchSize: 48, seconds: 1.5, rounds: 15, clock: CLOCK });
  checkRows(p, m, 'train');
  assert.ok(p.lossMs > 0 && p.updateMs > 0, 'loss and update are timed');
  const conv1 = p.layers.find((l) => l.name === 'conv1')!, conv2 = p.layers.find((l) => l.name === 'conv2')!;
  assert.equal(conv1.backwardFlops, conv1.forwardFlops, 'the first conv computes no input gradient: weight gradient only');
  assert.equal(conv2.backwardFlops, 2 * conv2.forwardFlops, 'a later conv: weight and data gradients');
  assert.ok(p.layers.every((l) => l.backwardMs > 0 || l.type === 'flatten'), 'every layer with a backward is timed');
  assert.equal(m.probe, null, 'the probe is detached afterwards');
});

test('profileStep infer: forward rows add up to the plain forward within 10 %, and the compiled model is timed', async () => {
  const m = await Model.create(NET, { seed: 3 });
  const p = await profileStep(m, { mode: 'infer', batchSize: 48, seconds: 1, rounds: 15, clock: CLOCK });
  checkRows(p, m, 'infer');
  assert.ok(p.layers.every((l) => l.backwardMs === 0 && l.backwardFlops === 0), 'no backward in inference');
  assert.ok(p.compiled && p.compiled.stepMs > 0 && p.compiled.threads === 1, 'compiled InferenceModel timed');
  // The network still predicts what it predicted before profiling (inference changes nothing).
  const x = new Float32Array(2 * 12 * 12 * 3).fill(0.25);
  const before = m.predict(x);
  await profileStep(m, { mode: 'infer', batchSize: 4, seconds: 0.2, rounds: 2 });
  assert.deepEqual(m.predict(x), before);
});

test('profileStep with 2 workers: the group step and each worker; layers are one shard', async () => {
  const m = await compiled();
  const p = await profileStep(m, { mode: 'train', batchSize: 16, workers: 2, seconds: 0.5, rounds: 2 });
  assert.equal(p.profiledBatch, 8);
  assert.ok(p.group && p.group.stepMs > 0 && p.group.perWorker.length === 2, 'group step and two workers');
  assert.ok(Math.abs(p.examplesPerS - (16 * 1000) / p.group.stepMs) < 1e-6, 'examples/s is the group\'s');
});

test('profileStep on a model with a target loss (MSE): targets are filled, on 1 and 2 workers', async () => {
  const m = await Model.create({ name: 'mlp', input: [6], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 3 }] }, { seed: 2 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.01 }, loss: 'mse' });
  for (const workers of [1, 2]) {
    const p = await profileStep(m, { mode: 'train', batchSize: 8, workers, seconds: 0.2, rounds: 2 });
    assert.ok(p.lossMs > 0 && Number.isFinite(p.stepMs) && p.examplesPerS > 0, `workers ${workers}`);
  }
});

test('profileStep options are checked like layer configs, before any work', async () => {
  const m = await Model.create(NET, { seed: 3 });
  const bad: [object, RegExp][] = [
    [{ batchsize: 4 }, /profileStep: unknown option 'batchsize' \(did you mean 'batchSize'\?\)/],
    [{ mode: 'learn' }, /profileStep: mode must be 'train' or 'infer', got "learn"/],
    [{ batchSize: 0 }, /profileStep: batchSize must be an integer ≥ 1/],
    [{ batchSize: 2, workers: 3, mode: 'infer' }, /profileStep: 3 workers need a batch of at least 3 examples, got batchSize 2/],
    [{ seconds: -1, mode: 'infer' }, /profileStep: seconds must be/],
    [{ mode: 'train' }, /profileStep: mode 'train' needs a compiled model/],
    [{ mode: 'infer', clock: 'tsc' }, /profileStep: clock must be 'wall' or 'cpu', got "tsc"/],
  ];
  for (const [o, re] of bad) await assert.rejects(profileStep(m, o as never), (e: unknown) => e instanceof RedeError && re.test(e.message), JSON.stringify(o));
});

test('stepFlops: a conv → flatten → dense net, counted by hand (forward; backward with and without the input conv’s data gradient)', async () => {
  const m = await Model.create({ name: 'count', input: [4, 4, 1], layers: [
    { type: 'conv2d', name: 'c', filters: 2, kernel: 3, padding: 'same' }, { type: 'flatten', name: 'f' }, { type: 'dense', name: 'd', units: 3 }] }, { seed: 1 });
  const conv = 2 * 4 * 4 * 2 * 9 * 1, dense = 2 * 32 * 3; // 2·oh·ow·cout·kh·kw·cin, 2·in·out
  assert.equal(stepFlops(m, 'infer'), conv + dense);
  // The conv reads the model input: its backward is the filter gradient alone; the dense layer's is both products.
  assert.equal(stepFlops(m, 'train'), conv + dense + conv + 2 * dense);
});
