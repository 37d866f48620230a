// rede → ONNX, checked by onnxruntime-web itself (the outputs of the exported file equal rede's predict within
// 1e-4) and decoded by onnx-proto (an independent reader of the schema): LeNet-5, and a model with every exported
// layer in inference form (batch norm with non-trivial statistics, dropout, LRN, explicit and 'same' pads, pools
// with asymmetric padding, groups, dilation, reshape, concat, add, softmax), in both input layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { lenet5 } from '../../src/zoo/index';
import { exportOnnx } from '../../src/interop/onnx/export';
import { RedeError } from '../../src/engine/errors';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { onnx, ortRun, perturb, randomArray, toNchw, toNhwc } from './onnx-helpers';

const TOL = { rtol: 1e-4, atol: 1e-4 };

export const EVERY_LAYER: ModelConfig = { name: 'every-layer', input: [9, 8, 3], outputs: ['probs', 'map_out'], layers: [
  { type: 'conv2d', name: 'c1', filters: 6, kernel: 3, padding: 'same', activation: 'relu' },
  { type: 'batchnorm', name: 'bn1', epsilon: 1e-3 },
  { type: 'conv2d', name: 'c2', filters: 6, kernel: [3, 2], padding: [1, 0, 2, 1], groups: 2, dilation: [1, 2], useBias: false, activation: 'leaky_relu', alpha: 0.2 },
  { type: 'maxpool2d', name: 'mp', pool: [3, 2], stride: 2, padding: [1, 2, 0, 1] },
  { type: 'lrn', name: 'lrn', radius: 1, alpha: 1e-3, beta: 0.75, bias: 1 },
  { type: 'conv2d', name: 'b1', filters: 4, kernel: 1, activation: 'elu', alpha: 0.7 },
  { type: 'conv2d', name: 'b2', filters: 4, kernel: 3, padding: 'same', inputs: ['lrn'], activation: 'tanh' },
  { type: 'add', name: 'sum', inputs: ['b1', 'b2'] },
  { type: 'concat', name: 'cat', inputs: ['sum', 'lrn', 'b2'] },
  { type: 'avgpool2d', name: 'ap', pool: 3, stride: 2, padding: 'same' },
  { type: 'sigmoid', name: 'sig' },
  { type: 'conv2d', name: 'map_out', filters: 3, kernel: 1, activation: 'softmax' },
  { type: 'reshape', name: 'rs', shape: [9, 14, 1], inputs: ['sig'] },
  { type: 'avgpool2d', name: 'ap2', pool: 2, padding: [1, 0, 0, 1] },
  { type: 'flatten', name: 'flat' },
  { type: 'dropout', name: 'drop', rate: 0.3 },
  { type: 'dense', name: 'fc1', units: 12 },
  { type: 'batchnorm', name: 'bn2' },
  { type: 'relu', name: 'act' },
  { type: 'dense', name: 'fc2', units: 5 },
  { type: 'softmax', name: 'probs' },
] };

test('LeNet-5 exported to ONNX: onnxruntime-web gives rede\'s logits within 1e-4', async () => {
  const m = await Model.create(lenet5(), { seed: 3 });
  const n = 3, x = randomArray(new Rng(4), n * 28 * 28, 0, 1);
  const bytes = exportOnnx(m);
  const out = await ortRun(bytes, toNchw(x, n, 28, 28, 1), [n, 1, 28, 28]);
  assertClose(out.get('logits')!, m.predict(x), 'lenet5 logits', TOL);
  // The same file read by onnx-proto: opset 13, the layers as nodes, OIHW kernels.
  const pm = onnx.ModelProto.decode(bytes);
  assert.equal(Number(pm.opsetImport![0].version), 13);
  assert.deepEqual(pm.graph!.node!.map((k) => k.opType), ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  const c1 = pm.graph!.initializer!.find((t) => t.name === 'c1/kernel')!;
  assert.deepEqual(c1.dims!.map(Number), [6, 1, 5, 5]);
  assert.equal(c1.dataType, onnx.TensorProto.DataType.FLOAT);
  const w = m.getWeights({ layout: 'pytorch' }).get('c1/kernel')!;
  assert.deepEqual(new Float32Array(c1.rawData!.slice().buffer), w.data);
  assert.deepEqual(pm.graph!.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimValue ? Number(d.dimValue) : d.dimParam), ['N', 1, 28, 28]);
});

test('every exported layer in inference form (batch norm statistics, dropout, LRN, asymmetric pads): onnxruntime-web agrees, NCHW and NHWC input', async () => {
  const m = await Model.create(EVERY_LAYER, { seed: 5 });
  perturb(m, 6);
  const n = 2, x = randomArray(new Rng(7), n * 9 * 8 * 3);
  const probs = m.predict(x);
  // The second output (a feature map [3, 3, 3], NHWC in rede), read where the forward of predict left it.
  const map = m.e.read(m.act[m.outputs[1]], n * 3 * 3 * 3).slice();
  for (const inputLayout of ['nchw', 'nhwc'] as const) {
    const bytes = exportOnnx(m, { inputLayout });
    const r = await ortRun(bytes, inputLayout === 'nchw' ? toNchw(x, n, 9, 8, 3) : x, inputLayout === 'nchw' ? [n, 3, 9, 8] : [n, 9, 8, 3]);
    assertClose(r.get('probs')!, probs, `${inputLayout}: probs`, TOL);
    const got = r.get(inputLayout === 'nchw' ? 'map_out' : 'map_out/nhwc')!;
    assertClose(inputLayout === 'nchw' ? toNhwc(got, n, 3, 3, 3) : got, map, `${inputLayout}: map_out`, TOL);
  }
});

test('export refuses layers without an ONNX form, naming them', async () => {
  const m = await Model.create({ input: [4, 3], layers: [{ type: 'lstm', name: 'rnn', units: 2 }, { type: 'dense', units: 2 }] }, { seed: 1 });
  assert.throws(() => exportOnnx(m), (e: unknown) => e instanceof RedeError && /no ONNX form for 'rnn' \(lstm\)/.test(e.message));
  const m2 = await Model.create(lenet5(), { seed: 1 });
  assert.throws(() => exportOnnx(m2, { inputLayout: 'hwc' as never }), RedeError);
});
