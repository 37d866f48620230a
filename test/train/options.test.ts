// Bad options are refused before any work, in the "where: what, got X" voice: unknown keys (with the closest
// known one), values out of range, schedules whose rate would not be a finite number, labels a model cannot
// output, batch sizes that are not positive integers. The Keras/tfjs spellings people type are accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { Optimizer } from '../../src/optim/optimizer';
import { checkSchedule } from '../../src/optim/schedules';
import type { ModelConfig } from '../../src/model/config';
import type { Dataset } from '../../src/data/dataset';

const NET: ModelConfig = { input: [4], layers: [{ type: 'dense', units: 3 }] };
const rede = (re: RegExp) => (err: Error) => { assert.equal(err.name, 'RedeError', `${err.name}: ${err.message}`); assert.match(err.message, re); return true; };
const x = Float32Array.from({ length: 32 }, (_, i) => (i % 7) / 7), y = Int32Array.from({ length: 8 }, (_, i) => i % 3);

test('optimizer options: an unknown key names the closest one; ranges are checked; Keras spellings are aliases', () => {
  assert.throws(() => new Optimizer({ type: 'sgd', momentom: 0.9 } as never), rede(/optimizer sgd: unknown option 'momentom' \(did you mean 'momentum'\?\)/));
  assert.throws(() => new Optimizer({ type: 'adam', beta1: 'x' } as never), rede(/optimizer adam: beta1 must be a finite number ≥ 0 and < 1, got 'x'/));
  assert.throws(() => new Optimizer({ type: 'sgd', momentum: -5 }), rede(/momentum must be a finite number ≥ 0 and < 1, got -5/));
  assert.throws(() => new Optimizer({ type: 'sgd', lr: 1e300 }), rede(/lr must be a positive number \(finite in float32\), got 1e\+300/));
  assert.throws(() => new Optimizer({ type: 'sgd', nesterov: 1 } as never), rede(/nesterov must be true or false/));
  // tfjs's learningRate used to be ignored (training at the default 0.001): now it is the rate.
  assert.equal(new Optimizer({ type: 'adam', learningRate: 0.5 } as never).lr, 0.5);
  assert.equal((new Optimizer({ type: 'adam', epsilon: 1e-7 } as never).cfg as { eps?: number }).eps, 1e-7);
  assert.throws(() => new Optimizer({ type: 'adam', lr: 0.1, learningRate: 0.2 } as never), rede(/option 'lr' given twice/));
});

test('schedules whose rate would be Infinity or NaN are refused at compile', async () => {
  for (const [s, re] of [
    [{ type: 'step', every: 0 }, /schedule step: every must be an integer ≥ 1, got 0/],
    [{ type: 'cosine', totalSteps: 0 }, /schedule cosine: totalSteps must be an integer ≥ 1, got 0/],
    [{ type: 'poly', maxSteps: 10, power: -1 }, /schedule poly: power must be a finite number > 0, got -1/],
    [{ type: 'exponential', gamma: 0.5 }, /schedule exponential: decaySteps is required/],
    [{ type: 'cosine', totalSteps: 10, totalstep: 3 }, /unknown option 'totalstep' \(did you mean 'totalSteps'\?\)/],
    [{ type: 'linear' }, /schedule: unknown type "linear"/],
  ] as const) {
    assert.throws(() => checkSchedule(s), rede(re), JSON.stringify(s));
    const m = await Model.create(NET);
    assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', schedule: s as never }), rede(re));
  }
});

test('compile and fit options: required keys, typos with the closest name, Keras spellings accepted', async () => {
  const m = await Model.create(NET, { seed: 1 });
  assert.throws(() => m.compile({ loss: 'mse' } as never), rede(/compile: optimizer is required/));
  assert.throws(() => m.compile({ optimizer: 'sgd' } as never), rede(/compile: loss is required/));
  assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: {} } as never), rede(/compile: metrics must be a list/));
  assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'mse', schedul: {} } as never), rede(/compile: unknown option 'schedul' \(did you mean 'schedule'\?\)/));
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
  const before = m.e.read(m.params, m.paramFloats);
  await assert.rejects(m.fit(x, y, { batchsize: 4 } as never), rede(/fit: unknown option 'batchsize' \(did you mean 'batchSize'\?\)/));
  await assert.rejects(m.fit(x, y, { epoch: 2 } as never), rede(/fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/));
  await assert.rejects(m.fit(x, y, { verbos: 1 } as never), rede(/fit: unknown option 'verbos'/));
  await assert.rejects(m.fit(x, y, { epochs: 2, initialEpoch: -1 }), rede(/initialEpoch must be an integer in \[0, epochs = 2\], got -1/));
  await assert.rejects(m.fit(x, y, { epochs: 2, initialEpoch: 3 }), rede(/initialEpoch must be an integer in \[0, epochs = 2\], got 3/));
  assert.deepEqual(m.e.read(m.params, m.paramFloats), before, 'nothing trained');
  const h = await m.fit(x, y, { epochs: 1, batch_size: 4 } as never);
  assert.equal(h.history.loss.length, 1, "Keras's batch_size is batchSize");
  await assert.rejects(Model.create(NET, { sed: 1 } as never), rede(/Model.create: unknown option 'sed' \(did you mean 'seed'\?\)/));
});

test('predict and evaluate: batchSize 0, -1 or NaN is a RedeError, not a wasm trap', async () => {
  const m = await Model.create(NET, { seed: 1 });
  m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  for (const b of [0, -1, NaN, 1.5]) {
    assert.throws(() => m.predict(x, { batchSize: b }), rede(/predict: batchSize must be a positive integer/));
    assert.throws(() => m.evaluate(x, y, { batchSize: b }), rede(/evaluate: batchSize must be a positive integer/));
  }
});

test('a Dataset whose labels the model cannot output is refused before training (not a NaN loss later)', async () => {
  const ds: Dataset = { x: new Float32Array(8 * 4), y: Int32Array.from({ length: 8 }, (_, i) => i), shape: [2, 2, 1], classes: 10 };
  for (const smoothing of [0, 0.1]) {
    const m = await Model.create(NET, { seed: 1 });
    m.compile({ optimizer: 'sgd', loss: { type: 'sparse_categorical_crossentropy', labelSmoothing: smoothing } });
    await assert.rejects(m.fit(ds, undefined, { batchSize: 4 }), rede(/fit: the dataset has 10 classes, the model's output has 3 values \[3\]/));
    assert.throws(() => m.evaluate(ds), rede(/the dataset has 10 classes/));
  }
});

test('fit plans activations for the examples there are, not for a larger batchSize', async () => {
  const m = await Model.create(NET, { seed: 1 });
  m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  await m.fit(x, y, { batchSize: 4096, epochs: 1 });
  assert.equal(m.capacity, 8);
});

test('a rate that overflows float32 mid-training stops fit before the kernels see it; the weights are those before', async () => {
  const m = await Model.create(NET, { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 1e37 }, loss: 'sparse_categorical_crossentropy', schedule: { type: 'exponential', gamma: 1000, decaySteps: 1 } });
  let weights: Float32Array | null = null;
  await assert.rejects(m.fit(x, y, { batchSize: 8, epochs: 3, shuffle: false, callbacks: [{ onBatchEnd: () => { weights = m.e.read(m.params, m.paramFloats); } }] }),
    rede(/fit: the learning rate at epoch 2, step 1 \(global step 1\) is (1e\+40|9\.9+\d*e\+39)/));
  assert.ok(weights, 'one step ran');
  assert.deepEqual(m.e.read(m.params, m.paramFloats), weights);
});
