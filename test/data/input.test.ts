// The one conversion of what people pass as inputs and labels (src/data/input.ts): nested arrays batch first,
// flat number[], any typed array; through predict, fit, evaluate, forward and InferenceModel.predict alike;
// errors that name the call, the shape given and the shapes accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';
import { InferenceModel } from '../../src/infer/model';
import { toExamples, toLabels } from '../../src/data/input';
import type { ModelConfig } from '../../src/model/config';
import { Rng } from '../helpers/rand';

const isRede = (re: RegExp) => (e: unknown) => e instanceof RedeError && re.test(e.message);
const image: ModelConfig = { input: [28, 28, 1], layers: [{ type: 'conv2d', filters: 2, kernel: 5, stride: 4 }, { type: 'flatten' }, { type: 'dense', units: 3 }] };

/** x [n, 28, 28, 1] as nested arrays, in the three accepted nestings. */
function nestings(x: Float32Array, n: number): { name: string; v: unknown }[] {
  const at = (i: number, r: number, c: number) => x[(i * 28 + r) * 28 + c];
  const rows = (i: number) => Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => at(i, r, c)));
  return [
    { name: '[n, 28, 28, 1]', v: Array.from({ length: n }, (_, i) => rows(i).map((row) => row.map((v) => [v]))) },
    { name: '[n, 28, 28]', v: Array.from({ length: n }, (_, i) => rows(i)) },
    { name: '[n, 784] of Float32Array rows', v: Array.from({ length: n }, (_, i) => x.slice(i * 784, (i + 1) * 784)) },
    { name: 'flat number[]', v: Array.from(x) },
    { name: 'Float64Array', v: Float64Array.from(x) },
  ];
}

test('predict, forward and InferenceModel.predict take nested arrays, number[] and any typed array', async () => {
  const m = await Model.create(image, { seed: 1 }), n = 3, x = new Rng(2).array(n * 784, 0, 1), expected = m.predict(x);
  const inf = await InferenceModel.from(m);
  for (const { name, v } of nestings(x, n)) {
    assert.deepEqual(m.predict(v as number[]), expected, `predict: ${name}`);
    assert.deepEqual(m.forward(v as number[]), expected, `forward: ${name}`);
    assert.deepEqual(inf.predict(v as number[]), inf.predict(x), `InferenceModel: ${name}`);
  }
  // Pixels as bytes: values unchanged (no implicit /255).
  const bytes = Uint8Array.from({ length: 784 }, (_, i) => i % 256);
  assert.deepEqual(m.predict(bytes), m.predict(Float32Array.from(bytes)));
  await inf.close();
});

test('a wrong shape is an error naming the shape given and the shapes accepted', async () => {
  const m = await Model.create(image, { seed: 1 });
  const ex = (rows: number, cols: number) => Array.from({ length: rows }, () => new Array(cols).fill(0));
  assert.throws(() => m.predict([ex(27, 28), ex(27, 28)]), isRede(/^predict: x has shape \[2, 27, 28\], expected \[n, 28, 28, 1\] or \[n, 28, 28\] or \[n, 784\]$/));
  assert.throws(() => m.predict(ex(28, 28)), isRede(/x has shape \[28, 28\], expected .* \(one example\? batch first: wrap it in \[ \]\)/));
  assert.throws(() => m.predict([ex(28, 28), ex(27, 28)]), isRede(/predict: x\[1\] has 27 entries, expected 28 like x\[0\] \(ragged nested arrays\)/));
  const withText = ex(28, 28); withText[3][4] = 'a';
  assert.throws(() => m.predict([withText]), isRede(/predict: x\[0\]\[3\]\[4\] is 'a', expected a number/));
  const withNaN = ex(28, 28); withNaN[1][2] = NaN;
  assert.throws(() => m.predict([ex(28, 28), withNaN]), isRede(/predict: x value 814 \(example 1\) is NaN/));
  assert.throws(() => m.predict([]), isRede(/predict: x is empty, expected examples of shape \[28, 28, 1\]/));
  assert.throws(() => m.predict(new Array(100).fill(0)), isRede(/predict: x has 100 values, not a whole number of examples of shape \[28, 28, 1\] \(784 values each\)/));
  assert.throws(() => m.predict('pixels' as never), isRede(/predict: x must be a Float32Array, another typed array, a number\[\] or nested arrays \(batch first\), got 'pixels'/));
  assert.throws(() => m.predict(new BigInt64Array(4) as never), isRede(/got BigInt64Array/));
  assert.throws(() => m.forward([ex(28, 27)]), isRede(/^model: input has shape \[1, 28, 27\]/));
});

test('fit and evaluate take nested x and number[] labels: same training as typed arrays', async () => {
  const cfg: ModelConfig = { input: [4], layers: [{ type: 'dense', name: 'h', units: 5, activation: 'tanh' }, { type: 'dense', name: 'o', units: 3 }] };
  const rng = new Rng(5), n = 24, x = rng.array(n * 4), y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const nestedX = Array.from({ length: n }, (_, i) => Array.from(x.subarray(4 * i, 4 * i + 4)));
  const weights: Float32Array[] = [], losses: number[] = [];
  for (const [xs, ys] of [[x, y], [nestedX, Array.from(y)], [Float64Array.from(x), Float32Array.from(y)], [nestedX, Array.from(y, (v) => [v])]] as const) {
    const m = await Model.create(cfg, { seed: 9 });
    m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await m.fit(xs as number[][], ys as number[], { epochs: 2, batchSize: 8, verbose: 0, validationSplit: 0.25 });
    weights.push(m.getWeight('o/kernel'));
    losses.push(m.evaluate(xs as number[][], ys as number[]).loss);
  }
  for (let i = 1; i < weights.length; i++) {
    assert.deepEqual(weights[i], weights[0], `form ${i}: same weights as typed arrays`);
    assert.equal(losses[i], losses[0]);
  }
  const m = await Model.create(cfg, { seed: 9 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
  await assert.rejects(m.fit(nestedX, Array.from(y, (v, i) => (i === 5 ? 1.5 : v))), isRede(/fit: label of example 5 is 1\.5, expected an integer in \[0, 3\)/));
  await assert.rejects(m.fit(nestedX, Array.from(y).slice(1)), isRede(/fit: y has 23 values, expected 24/));
  await assert.rejects(m.fit(nestedX), isRede(/fit: y is required when x is an array/));
  assert.throws(() => m.evaluate(nestedX, [[0, 1], [1, 2]]), isRede(/evaluate: y has shape \[2, 2\], expected \[24\] class labels \(or \[24, 1\]\)/));
  // A dense loss takes float targets [n, 3]; class labels there get a hint.
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'mse' });
  await assert.rejects(m.fit(nestedX, Array.from(y)), isRede(/fit: y has 24 values, expected 72 \(24 examples × 3\); class labels need sparse_categorical_crossentropy, the loss mse takes targets \[n, 3\]/));
  const targets = Array.from({ length: n }, (_, i) => [0, 1, 2].map((c) => (c === y[i] ? 1 : 0)));
  await m.fit(nestedX, targets, { epochs: 1, verbose: 0 });
});

test('toExamples keeps a Float32Array as it is; toLabels an Int32Array', () => {
  const x = new Float32Array(8), y = Int32Array.of(0, 1);
  assert.equal(toExamples('t', 'x', x, [4]).data, x);
  assert.equal(toLabels('t', y, 2, 2), y);
  assert.deepEqual(toExamples('t', 'x', [[1, 2], [3, 4]], [2]), { data: Float32Array.of(1, 2, 3, 4), n: 2 });
  assert.deepEqual(toLabels('t', Uint8Array.of(1, 0), 2, 2), Int32Array.of(1, 0));
  assert.throws(() => toLabels('t', 'ab', 2, 2), isRede(/t: y must be class labels .* got 'ab'/));
  assert.throws(() => toExamples('t', 'x', [[1, 2], 3], [2]), isRede(/t: x\[1\] is 3, expected an array of 2/));
});
