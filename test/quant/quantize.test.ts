// Post-training int8 quantization end to end: per-channel weight round trips; an int8 LeNet-5 trained briefly
// on the digits agrees with its f32 self on ≥ 99 % of held-out digits and keeps its accuracy; int8 ResNet-20
// (batch norm folded, residual adds in int8) tracks f32 and gives the same outputs with 1 and 2 threads, in
// batched plans and on the TypeScript reference kernels; grouped, depthwise and unsupported layers (concat,
// tanh) run in the right domain; bad options and files are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { InferenceModel } from '../../src/infer/model';
import { mnistDigits } from '../../src/data/mnist';
import { lenet5 } from '../../src/zoo/lenet5';
import { resnet20 } from '../../src/zoo/small';
import { BatchNorm } from '../../src/layers/norm';
import type { ModelConfig } from '../../src/model/config';
import { quantize, QuantizedModel, quantizeChannels, dequantizeChannels } from '../../src/quant/index';
import { RedeError } from '../../src/engine/errors';
import { Rng } from '../helpers/rand';

const agreement = (a: Int32Array, b: Int32Array): number => a.reduce((s, v, i) => s + (v === b[i] ? 1 : 0), 0) / a.length;
function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
}

test('per-channel weights: |w − deq(q)| ≤ scale/2, q = quant(deq(q)), the channel maximum maps to ±127', () => {
  const rng = new Rng(1), c = 7, w = rng.array(9 * 5 * c, -2, 2);
  for (let i = 0; i < 9 * 5; i++) w[i * c + 3] = 0; // an all-zero channel
  const q = quantizeChannels(w, c), d = dequantizeChannels(q);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i] - d[i]) <= q.scale[i % c] / 2 + 1e-7, `element ${i}`);
  assert.deepEqual(quantizeChannels(d, c).q, q.q, 'quantizing the dequantized weights gives the same integers');
  assert.equal(q.scale[3], 1);
  for (let j = 0; j < c; j++) if (j !== 3) assert.ok(q.q.some((v, i) => i % c === j && Math.abs(v) === 127), `channel ${j} reaches ±127`);
});

test('int8 LeNet-5 (trained briefly on digits) agrees with f32 on ≥ 99 % of 1000 test digits; save/load is exact', async () => {
  const { train, test: held } = await mnistDigits();
  const m = await Model.create(lenet5(), { seed: 3 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.02, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  const n = 3000;
  await m.fit(train.x.subarray(0, n * 784), train.y.subarray(0, n), { epochs: 2, batchSize: 32, verbose: 0 });
  const xs = held.x.subarray(0, 1000 * 784), ys = held.y.subarray(0, 1000);
  for (const method of ['minmax', 'percentile'] as const) {
    const qm = quantize(m, train.x.subarray(0, 200 * 784), { method });
    const q = await qm.compile(), f = await InferenceModel.from(m);
    assert.ok(q.summary.ops.some((o) => o.kind === 'qconv') && q.summary.ops.some((o) => o.kind === 'qdense'), 'runs int8 ops');
    const cq = q.predictClasses(xs), cf = f.predictClasses(xs);
    const agree = agreement(cq, cf), accQ = agreement(cq, ys), accF = agreement(cf, ys);
    assert.ok(agree >= 0.99, `${method}: int8 agrees with f32 on ${agree}`);
    assert.ok(accF > 0.85 && accQ >= accF - 0.01, `${method}: accuracy f32 ${accF}, int8 ${accQ}`);
    const back = await QuantizedModel.fromBytes(qm.toBytes()).compile();
    assert.deepEqual(back.predict(xs.subarray(0, 50 * 784)), q.predict(xs.subarray(0, 50 * 784)), `${method}: reloaded model, same outputs`);
  }
});

async function randomResnet20(seed: number): Promise<Model> {
  const m = await Model.create(resnet20([16, 16, 3]), { seed });
  const rng = new Rng(seed), f = m.e.f32;
  for (const L of m.layers) {
    if (!(L instanceof BatchNorm)) continue;
    for (let i = 0; i < L.c; i++) {
      f[(L.p.gamma >>> 2) + i] = rng.uniform(0.5, 1.5); f[(L.p.beta >>> 2) + i] = rng.uniform(-0.3, 0.3);
      f[(L.s.running_mean >>> 2) + i] = rng.uniform(-0.2, 0.2); f[(L.s.running_var >>> 2) + i] = rng.uniform(0.5, 2);
    }
  }
  return m;
}

test('int8 ResNet-20 tracks f32 (residual adds in int8), same outputs with 1 and 2 threads', async () => {
  const m = await randomResnet20(5), x = new Rng(6).array(96 * 16 * 16 * 3, 0, 1);
  const qm = quantize(m, x.subarray(0, 64 * 768));
  const q1 = await qm.compile(), q2 = await qm.compile({ workers: 2 }), q4 = await qm.compile({ batchSize: 4 }), f = await InferenceModel.from(m);
  try {
    assert.equal(q1.summary.ops.filter((o) => o.kind === 'qadd').length, 9, 'nine residual adds in int8');
    const held = x.subarray(64 * 768), yq = q1.predict(held), yf = f.predict(held);
    const e = relErr(yq, yf);
    assert.ok(e < 0.05, `relative error of the logits ${e}`);
    const agree = agreement(q1.predictClasses(held), f.predictClasses(held));
    assert.ok(agree >= 0.9, `argmax agreement ${agree}`);
    assert.deepEqual(q2.predict(held), yq, '2 threads: the same bytes');
    assert.deepEqual(q4.predict(held), yq, 'batched plans: the same bytes');
    // The TypeScript reference kernels run the same int8 graph to the same bytes (every kernel is exact).
    const ref = await qm.compile({ variant: 'ref' }), few = held.subarray(0, 3 * 768);
    assert.deepEqual(ref.predict(few), q1.predict(few), 'reference kernels: the same bytes');
  } finally { await q2.close(); }
});

test('a batch norm with nothing to fold into keeps its own weights in the int8 graph and in the file', async () => {
  // conv → maxpool → batchnorm: the batch norm runs in f32 on its trained γ, β and statistics (it once ran on
  // placeholders: γ = 0), and a saved int8 file carries them (a file without them is refused by name).
  const cfg: ModelConfig = { input: [8, 8, 2], layers: [
    { type: 'conv2d', name: 'c', filters: 6, kernel: 3, padding: 'same' },
    { type: 'maxpool2d', name: 'mp', pool: 2 },
    { type: 'batchnorm', name: 'bn' },
    { type: 'flatten', name: 'fl' },
    { type: 'dense', name: 'out', units: 3 },
  ] };
  const m = await Model.create(cfg, { seed: 3 }), rng = new Rng(8), f32 = m.e.f32;
  const bn = m.layers.find((L) => L instanceof BatchNorm) as BatchNorm;
  for (let i = 0; i < bn.c; i++) {
    f32[(bn.p.gamma >>> 2) + i] = rng.uniform(0.5, 1.5); f32[(bn.p.beta >>> 2) + i] = rng.uniform(-0.5, 0.5);
    f32[(bn.s.running_mean >>> 2) + i] = rng.uniform(-0.3, 0.3); f32[(bn.s.running_var >>> 2) + i] = rng.uniform(0.5, 2);
  }
  const x = rng.array(48 * 128, -1, 1), qm = quantize(m, x.subarray(0, 32 * 128));
  const q = await qm.compile(), f = await InferenceModel.from(m), held = x.subarray(32 * 128);
  assert.ok(q.summary.ops.some((o) => o.kind === 'batchnorm' && o.name === 'bn'), 'the batch norm stays unfolded');
  const yf = f.predict(held), e = relErr(q.predict(held), yf);
  assert.ok(e < 0.05, `relative error of the outputs ${e}`);
  const back = await QuantizedModel.fromBytes(qm.toBytes()).compile();
  assert.deepEqual(back.predict(held), q.predict(held), 'the saved file predicts the same bytes');
  const withoutGamma = new QuantizedModel(qm.config, { ...qm.spec, float: Object.fromEntries(Object.entries(qm.spec.float).filter(([k]) => k !== 'bn/gamma')) });
  assert.throws(() => QuantizedModel.fromBytes(withoutGamma.toBytes(), 'old.rede'), (err: Error) => err instanceof RedeError && /old\.rede: tensor 'bn\/gamma' is missing/.test(err.message));
});

test('grouped and depthwise convs, avg pooling in int8; concat and tanh stay f32 between quantize/dequantize', async () => {
  const cfg: ModelConfig = { input: [9, 9, 4], layers: [
    { type: 'conv2d', name: 'g', filters: 8, kernel: 3, padding: 'same', groups: 2, activation: 'relu' },
    { type: 'conv2d', name: 'dw', filters: 16, kernel: 3, padding: 'same', groups: 8, stride: 2 },
    { type: 'avgpool2d', name: 'ap', pool: 2, padding: 'same' },
    { type: 'conv2d', name: 'a', filters: 4, kernel: 1, activation: 'tanh' },
    { type: 'conv2d', name: 'b', filters: 4, kernel: 1, inputs: ['ap'] },
    { type: 'concat', name: 'cat', inputs: ['a', 'b'] },
    { type: 'flatten', name: 'fl' },
    { type: 'dense', name: 'out', units: 5 },
  ] };
  const m = await Model.create(cfg, { seed: 2 }), x = new Rng(4).array(40 * 324, -1, 1);
  const qm = quantize(m, x.subarray(0, 20 * 324), { symmetric: true });
  const q = await qm.compile(), f = await InferenceModel.from(m);
  const kinds = q.summary.ops.map((o) => `${o.kind}:${o.name}`);
  for (const k of ['qconv:g', 'qconv:dw', 'qavgpool:ap', 'qconv:a', 'qconv:b', 'qdense:out']) assert.ok(kinds.includes(k), `${k} in ${kinds.join(' ')}`);
  assert.ok(kinds.some((k) => k.startsWith('concat:')) && kinds.some((k) => k.startsWith('dequantize:')), 'concat runs in f32');
  const e = relErr(q.predict(x.subarray(20 * 324)), f.predict(x.subarray(20 * 324)));
  assert.ok(e < 0.06, `relative error ${e}`);
});

test('quantize and QuantizedModel refuse bad options and files by name', async () => {
  const m = await Model.create(lenet5(), { seed: 1 }), x = new Rng(1).array(4 * 784, 0, 1);
  const refuses = (f: () => unknown, re: RegExp) => assert.throws(f, (e: Error) => e instanceof RedeError && re.test(e.message), String(re));
  refuses(() => quantize(m, x, { method: 'kl' as never }), /quantize: method must be 'minmax' or 'percentile'/);
  refuses(() => quantize(m, x, { percentile: 20 }), /quantize: percentile must be a number in \(50, 100\]/);
  refuses(() => quantize(m, x, { examples: 0 }), /quantize: examples must be a positive integer/);
  refuses(() => quantize(m, x, { method: 'minmax', bins: 3 } as never), /quantize/);
  refuses(() => quantize(m, new Float32Array(10)), /quantize/);
  refuses(() => QuantizedModel.fromBytes(m.toBytes(), 'lenet.rede'), /lenet\.rede: not an int8 model/);
  const good = quantize(m, x);
  const c1 = Int8Array.from(good.spec.weights.c1.q); c1[5] = -128; // outside the symmetric range the kernels assume
  const bad = new QuantizedModel(good.config, { ...good.spec, weights: { ...good.spec.weights, c1: { ...good.spec.weights.c1, q: c1 } } });
  refuses(() => QuantizedModel.fromBytes(bad.toBytes(), 'bad.int8.rede'), /bad\.int8\.rede: tensor 'c1\/kernel_q' value 5 is -128, expected an integer in \[−127, 127\]/);
  const noAct = new QuantizedModel(good.config, { ...good.spec, act: {} });
  refuses(() => QuantizedModel.fromBytes(noAct.toBytes(), 'x.int8.rede'), /x\.int8\.rede: no int8 parameters for the output of 'c1'/);
});
