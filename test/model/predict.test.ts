// What predict gives, as people expect from Keras: probabilities when the model ends in a softmax (a softmax
// layer or a layer's softmax activation), its last layer's values (logits) otherwise; predictClasses and topK
// over them; class names from a Dataset, kept through save/load, and in InferenceModel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { makeDataset } from '../../src/data/dataset';
import { FASHION_MNIST_CLASS_NAMES } from '../../src/data/fashion-mnist';
import { InferenceModel } from '../../src/infer/model';
import { softmaxRows } from '../../src/cli/commands/predict';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';

const body: LayerConfig[] = [{ type: 'conv2d', name: 'c', filters: 3, kernel: 3, activation: 'relu' }, { type: 'flatten' }];
const logits: ModelConfig = { input: [5, 5, 1], layers: [...body, { type: 'dense', name: 'o', units: 4 }] };
const softmaxLayer: ModelConfig = { input: [5, 5, 1], layers: [...body, { type: 'dense', name: 'o', units: 4 }, { type: 'softmax' }] };
const softmaxAct: ModelConfig = { input: [5, 5, 1], layers: [...body, { type: 'dense', name: 'o', units: 4, activation: 'softmax' }] };

const isRede = (re: RegExp) => (e: unknown) => e instanceof RedeError && re.test(e.message);

test('predict: probabilities when the model ends in a softmax (layer or activation), logits otherwise', async () => {
  const e = await Engine.create(), x = new Rng(1).array(6 * 25, 0, 1);
  const [a, b, c] = await Promise.all([logits, softmaxLayer, softmaxAct].map((cfg) => Model.create(cfg, { engine: e, seed: 5 })));
  for (const m of [b, c]) for (const en of a.entries) m.setWeight(en.key, a.getWeight(en.key));
  const z = a.predict(x), expected = softmaxRows(z, 4);
  assert.ok(Array.from({ length: 6 }, (_, r) => z.subarray(4 * r, 4 * r + 4).reduce((s, v) => s + v, 0)).some((s) => Math.abs(s - 1) > 1e-3), 'logits are not normalized');
  for (const [m, what] of [[b, 'softmax layer'], [c, 'softmax activation']] as const) {
    const p = m.predict(x);
    assertClose(p, expected, `${what}: predict is softmax(logits)`, { rtol: 1e-5, atol: 1e-6 });
    for (let r = 0; r < 6; r++) assert.ok(Math.abs(p.subarray(4 * r, 4 * r + 4).reduce((s, v) => s + v, 0) - 1) < 1e-5, `${what}: row ${r} sums to 1`);
    const inf = await InferenceModel.from(m);
    assertClose(inf.predict(x), p, `${what}: InferenceModel`, { rtol: 1e-5, atol: 1e-6 });
    assert.equal(inf.endsInSoftmax, true);
    await inf.close();
  }
});

test('predictClasses is the argmax; topK is sorted, best first, with k = 1 the classes', async () => {
  const m = await Model.create(softmaxAct, { seed: 2 }), x = new Rng(3).array(9 * 25, 0, 1);
  const p = m.predict(x), classes = m.predictClasses(x), top = m.topK(x, 3);
  assert.equal(classes.length, 9);
  assert.equal(top.indices.length, 27); assert.equal(top.values.length, 27);
  assert.equal(top.names, undefined, 'no names before classNames are known');
  for (let r = 0; r < 9; r++) {
    const row = Array.from(p.subarray(4 * r, 4 * r + 4)), order = [0, 1, 2, 3].sort((i, j) => row[j] - row[i] || i - j);
    assert.equal(classes[r], order[0], `example ${r}: argmax`);
    assert.deepEqual(Array.from(top.indices.subarray(3 * r, 3 * r + 3)), order.slice(0, 3), `example ${r}: top 3`);
    assert.deepEqual(Array.from(top.values.subarray(3 * r, 3 * r + 3)), order.slice(0, 3).map((i) => Math.fround(row[i])));
  }
  assert.deepEqual(m.topK(x, 1).indices, classes);
  assert.throws(() => m.topK(x, 5), isRede(/topK: k must be an integer in \[1, 4\] \(the model's classes\), got 5/));
  assert.throws(() => m.topK(x, 0), isRede(/got 0/));
});

test('topK and predictClasses give ties to the lower class index', async () => {
  const m = await Model.create({ input: [3], layers: [{ type: 'dense', name: 'o', units: 4, useBias: true }] }, { seed: 1 });
  m.setWeight('o/kernel', new Float32Array(12));
  m.setWeight('o/bias', [1, 3, 3, 2]);
  assert.deepEqual(Array.from(m.predictClasses([[0, 0, 0]])), [1]);
  assert.deepEqual(Array.from(m.topK([[0, 0, 0]], 4).indices), [1, 2, 3, 0]);
});

test('a model fit on a Dataset with classNames keeps them: topK names, save/load, InferenceModel', async () => {
  const rng = new Rng(4), n = 40;
  const ds = makeDataset(rng.array(n * 25, 0, 1), Int32Array.from({ length: n }, (_, i) => i % 10), [5, 5, 1], 10,
    { classNames: FASHION_MNIST_CLASS_NAMES, name: 'tiny fashion' });
  const m = await Model.create({ input: [5, 5, 1], layers: [...body, { type: 'dense', name: 'o', units: 10, activation: 'softmax' }] }, { seed: 1 });
  assert.equal(m.classNames, null);
  m.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: 'sparse_categorical_crossentropy' });
  await m.fit(ds, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.deepEqual(m.classNames, FASHION_MNIST_CLASS_NAMES);
  assert.equal(m.classNames![1], 'Trouser');
  const x = ds.x.subarray(0, 3 * 25), top = m.topK(x, 2);
  assert.deepEqual(top.names, Array.from(top.indices, (i) => FASHION_MNIST_CLASS_NAMES[i]));
  const back = await Model.fromBytes(m.toBytes());
  assert.deepEqual(back.classNames, FASHION_MNIST_CLASS_NAMES, 'classNames saved in the .rede header');
  assert.deepEqual(back.topK(x, 2), top);
  const inf = await InferenceModel.from(back);
  assert.deepEqual(inf.classNames, FASHION_MNIST_CLASS_NAMES);
  assert.deepEqual(inf.topK(x, 2).names, top.names);
  assert.deepEqual(inf.predictClasses(x), back.predictClasses(x));
  await inf.close();
  const none = await Model.fromBytes((await Model.create(logits, { seed: 1 })).toBytes());
  assert.equal(none.classNames, null, 'no names saved, none loaded');
});

test('classNames are checked: one string per output value, from code and from a file', async () => {
  const m = await Model.create(logits, { seed: 1 });
  assert.throws(() => { m.classNames = ['a', 'b']; }, isRede(/model: 2 classNames for a model with 4 outputs/));
  assert.throws(() => { m.classNames = [1, 2, 3, 4] as never; }, isRede(/classNames must be a list of strings, got \[1,2,3,4\]/));
  m.classNames = ['a', 'b', 'c', 'd'];
  const ok = m.toBytes();
  // A file whose header names 3 classes for 4 outputs: the same check, naming the file.
  const { decodeRedeFile, encodeRedeFile } = await import('../../src/io/file');
  const f = decodeRedeFile(ok);
  const bad = encodeRedeFile({ header: { ...f.header, classNames: ['a', 'b', 'c'] }, tensors: f.tensors, shapes: f.shapes });
  await assert.rejects(Model.fromBytes(bad), isRede(/model bytes: model: 3 classNames for a model with 4 outputs/));
  const notStrings = encodeRedeFile({ header: { ...f.header, classNames: 'abcd' }, tensors: f.tensors, shapes: f.shapes });
  await assert.rejects(Model.fromBytes(notStrings), isRede(/header field 'classNames' must be a list of strings, got "abcd"/));
  await assert.rejects(InferenceModel.from(m, { classNames: ['x'] }), isRede(/infer: 1 classNames for a model with 4 outputs/));
});
