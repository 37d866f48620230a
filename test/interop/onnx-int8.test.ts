// An int8 rede model as an ONNX QDQ graph: onnxruntime-web runs it on rede's own integers (int8 kernels per
// output channel, int32 biases, every int8 value's scale and zero point) and its classes match rede int8's on
// ≥ 99 % of 500 held-out digits for LeNet-5 trained briefly; ResNet-20 (folded batch norm, residual adds in
// int8) stays within a few quantization steps of rede int8's outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { mnistDigits } from '../../src/data/mnist';
import { lenet5, resnet20 } from '../../src/zoo/index';
import { quantize } from '../../src/quant/index';
import { exportOnnxInt8 } from '../../src/interop/onnx/int8';
import { Rng } from '../helpers/rand';
import { onnx, ortRun, perturb, randomArray, toNchw } from './onnx-helpers';

const argmax = (a: Float32Array, k: number) => Int32Array.from({ length: a.length / k }, (_, i) => {
  let b = 0;
  for (let j = 1; j < k; j++) if (a[i * k + j] > a[i * k + b]) b = j;
  return b;
});

test('int8 LeNet-5 as QDQ ONNX: onnxruntime-web picks rede int8\'s class on ≥ 99 % of 500 test digits', async () => {
  const { train, test: held } = await mnistDigits();
  const m = await Model.create(lenet5(), { seed: 3 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.02, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  await m.fit(train.x.subarray(0, 1000 * 784), train.y.subarray(0, 1000), { epochs: 1, batchSize: 32, verbose: 0 });
  const qm = quantize(m, train.x.subarray(0, 200 * 784));
  const q = await qm.compile();
  const n = 500, xs = held.x.subarray(0, n * 784);
  const bytes = exportOnnxInt8(qm);
  const r = await ortRun(bytes, toNchw(xs, n, 28, 28, 1), [n, 1, 28, 28]);
  const ours = q.predictClasses(xs), theirs = argmax(r.get('output')!, 10);
  const agree = ours.reduce((s, c, i) => s + (c === theirs[i] ? 1 : 0), 0) / n;
  assert.ok(agree >= 0.99, `agreement ${agree}`);
  // The file holds rede's integers: int8 kernels dequantized per output channel, Q/DQ pairs on the activations.
  const pm = onnx.ModelProto.decode(bytes), ops = pm.graph!.node!.map((k) => k.opType);
  assert.ok(ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear') && ops.includes('Conv') && ops.includes('MatMul'));
  const k1 = pm.graph!.initializer!.find((t) => t.name === 'c1/kernel_q')!;
  assert.equal(k1.dataType, onnx.TensorProto.DataType.INT8);
  assert.deepEqual(k1.dims!.map(Number), [6, 1, 5, 5]);
  assert.equal(Number(pm.opsetImport![0].version), 13);
});

test('int8 ResNet-20 as QDQ ONNX: onnxruntime-web within a few quantization steps of rede int8', async () => {
  const m = await Model.create(resnet20([16, 16, 3]), { seed: 8 });
  perturb(m, 9);
  const n = 6, xs = randomArray(new Rng(10), n * 16 * 16 * 3, 0, 1);
  const qm = quantize(m, randomArray(new Rng(11), 16 * 16 * 16 * 3, 0, 1));
  const q = await qm.compile();
  const ours = q.predict(xs), f32 = m.predict(xs);
  const r = (await ortRun(exportOnnxInt8(qm), toNchw(xs, n, 16, 16, 3), [n, 3, 16, 16])).get('output')!;
  let dOrt = 0, dF32 = 0, scale = 0;
  for (let i = 0; i < ours.length; i++) { dOrt = Math.max(dOrt, Math.abs(r[i] - ours[i])); dF32 = Math.max(dF32, Math.abs(f32[i] - ours[i])); scale = Math.max(scale, Math.abs(f32[i])); }
  // onnxruntime differs from rede int8 by less than rede int8 differs from f32 (their requantizations round apart).
  assert.ok(dOrt <= Math.max(dF32, 0.02 * scale), `ort vs rede int8 ${dOrt}, rede int8 vs f32 ${dF32}, output scale ${scale}`);
});
