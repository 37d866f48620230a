// ONNX → rede: conv nets written as ONNX files (by hand through rede's writer, and one by onnx-proto, an
// independent writer using float_data instead of raw_data) import into rede models that predict what
// onnxruntime-web predicts within 1e-4, and then train: a few steps of fit lower the loss, which onnxruntime-web
// itself cannot do. Every supported op appears; unsupported ops are one error listing them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeModel, DT, type AttrValue, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../src/interop/onnx/schema';
import { importOnnx, onnxToConfig } from '../../src/interop/onnx/import';
import { decodeModel } from '../../src/interop/onnx/schema';
import { RedeError } from '../../src/engine/errors';
import { buildGraph } from '../../src/model/graph';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { onnx, ortRun, randomArray, toNchw } from './onnx-helpers';

const TOL = { rtol: 1e-4, atol: 1e-4 };

/** A small builder of ONNX graphs (NCHW), weights drawn from a seeded generator. */
class G {
  nodes: OnnxNode[] = []; inits: OnnxTensor[] = []; private k = 0;
  constructor(readonly rng: Rng) {}
  w(dims: number[], lo = -0.5, hi = 0.5): string {
    const name = `w${this.k++}`, n = dims.reduce((a, b) => a * b, 1);
    this.inits.push({ name, dataType: DT.FLOAT, dims, data: randomArray(this.rng, n, lo, hi) });
    return name;
  }
  i64(v: number[]): string { const name = `s${this.k++}`; this.inits.push({ name, dataType: DT.INT64, dims: [v.length], data: Float64Array.from(v) }); return name; }
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outs = 1): string {
    const out = `t${this.k++}`;
    this.nodes.push({ name: `${opType.toLowerCase()}_${this.k}`, opType, domain: '', inputs, outputs: [out, ...Array.from({ length: outs - 1 }, (_, j) => `${out}_${j}`)], attrs: new Map(Object.entries(attrs)) });
    return out;
  }
  model(input: number[], outputs: string[], opset = 13, outDims: (number | string)[][] = []): OnnxModel {
    return { irVersion: 7, producerName: 'test', producerVersion: '', opsets: [{ domain: '', version: opset }], metadata: new Map(),
      graph: { name: 'g', nodes: this.nodes, initializers: this.inits, inputs: [{ name: 'x', elemType: DT.FLOAT, dims: ['N', ...input] }],
        outputs: outputs.map((name, i) => ({ name, elemType: DT.FLOAT, dims: outDims[i] ?? [] })) } };
  }
}
const ints = (...v: number[]): AttrValue => ({ type: 'ints', ints: v });
const int = (i: number): AttrValue => ({ type: 'int', i });
const float = (f: number): AttrValue => ({ type: 'float', f });
const str = (s: string): AttrValue => ({ type: 'string', s });

/** Every supported op in one net on [N, 3, 10, 9]. */
function everyOp(): { bytes: Uint8Array; outputs: string[] } {
  const g = new G(new Rng(31));
  let x = g.op('Conv', ['x', g.w([8, 3, 3, 3]), g.w([8])], { kernel_shape: ints(3, 3), pads: ints(1, 1, 1, 1) });
  x = g.op('BatchNormalization', [x, g.w([8], 0.5, 1.5), g.w([8]), g.w([8]), g.w([8], 0.5, 1.5)], { epsilon: float(1e-3), momentum: float(0.9) });
  x = g.op('Relu', [x]);
  // Max pool with asymmetric explicit pads [top, left, bottom, right] (rede's pool padding option).
  const p = g.op('MaxPool', [x], { kernel_shape: ints(3, 2), strides: ints(2, 2), pads: ints(1, 0, 2, 1) });
  const a = g.op('LeakyRelu', [g.op('Conv', [p, g.w([4, 8, 1, 1])], { kernel_shape: ints(1, 1) })], { alpha: float(0.1) });
  const b = g.op('Elu', [g.op('Conv', [p, g.w([4, 4, 3, 3]), g.w([4])], { group: int(2), auto_pad: str('SAME_UPPER'), dilations: ints(1, 1) })], { alpha: float(0.5) });
  const s = g.op('Add', [a, b]);
  const c = g.op('Concat', [s, p, g.op('Sigmoid', [b])], { axis: int(1) });
  const l = g.op('LRN', [c], { size: int(3), alpha: float(3e-4), beta: float(0.75), bias: float(1.5) });
  const ap = g.op('AveragePool', [l], { kernel_shape: ints(2, 2), strides: ints(1, 1), pads: ints(0, 1, 1, 0) });
  const gap = g.op('GlobalAveragePool', [g.op('Tanh', [ap])]);
  const head1 = g.op('Softmax', [g.op('Gemm', [g.op('Flatten', [gap], { axis: int(1) }), g.w([16, 5])], { alpha: float(0.5) })], { axis: int(1) });
  // The flattened NCHW map (c, h, w order) into MatMul + Add, through Dropout and Identity.
  const f = g.op('Identity', [g.op('Dropout', [g.op('Reshape', [ap, g.i64([0, -1])]), g.w([], 0.25, 0.25)])]);
  const fc = g.op('Add', [g.op('MatMul', [f, g.w([16 * 6 * 5, 7])]), g.w([7])]);
  const head2 = g.op('Gemm', [g.op('Relu', [fc]), g.w([3, 7]), g.w([3])], { transB: int(1), beta: float(2) });
  return { bytes: encodeModel(g.model([3, 10, 9], [head1, head2], 13, [['N', 5], ['N', 3]])), outputs: [head1, head2] };
}

test('every supported op: the imported model predicts what onnxruntime-web does, both heads, and trains', async () => {
  const { bytes, outputs } = everyOp();
  const m = await importOnnx(bytes, { source: 'every-op.onnx', seed: 1 });
  assert.deepEqual(m.inputShape, [10, 9, 3]);
  const types = m.graph.nodes.map((n) => n.layer.type);
  for (const t of ['conv2d', 'batchnorm', 'maxpool2d', 'add', 'concat', 'lrn', 'avgpool2d', 'globalavgpool2d', 'dense', 'softmax', 'flatten', 'dropout', 'sigmoid', 'tanh']) assert.ok(types.includes(t as never), t);
  const n = 4, x = randomArray(new Rng(2), n * 10 * 9 * 3);
  const r = await ortRun(bytes, toNchw(x, n, 10, 9, 3), [n, 3, 10, 9], 'x');
  assertClose(m.predict(x), r.get(outputs[0])!, 'head 1', TOL);
  m.predict(x);
  assertClose(m.e.read(m.act[m.outputs[1]], n * 3), r.get(outputs[1])!, 'head 2', TOL);
  // Fine-tuning the imported model: both heads, a loss each; the loss falls.
  const rng = new Rng(9), N = 32, xs = randomArray(rng, N * 270), ys = Float32Array.from({ length: N }, () => rng.int(0, 3));
  m.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: ['sparse_categorical_crossentropy', 'sparse_categorical_crossentropy'] });
  const h = await m.fit(xs, ys, { epochs: 6, batchSize: 8, seed: 1, shuffle: false, verbose: 0 });
  const loss = h.history.loss;
  assert.ok(loss[loss.length - 1] < 0.8 * loss[0], `loss ${loss.map((v) => v.toFixed(3)).join(' → ')}`);
});

test('a LeNet-style file written by onnx-proto (float_data, auto_pad VALID, Reshape to [-1, 400], opset 11) imports and agrees', async () => {
  const rng = new Rng(5), T = onnx.TensorProto;
  const fl = (name: string, dims: number[]) => T.create({ name, dims, dataType: T.DataType.FLOAT, floatData: [...randomArray(rng, dims.reduce((a, b) => a * b, 1), -0.3, 0.3)] });
  const at = onnx.AttributeProto, A = at.AttributeType;
  const node = (opType: string, input: string[], output: string, attribute: InstanceType<typeof at>[] = []) => onnx.NodeProto.create({ opType, input, output: [output], name: output, attribute });
  const ints = (name: string, v: number[]) => at.create({ name, ints: v, type: A.INTS });
  const vi = (name: string, dims: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: T.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const graph = onnx.GraphProto.create({ name: 'lenet', initializer: [fl('k1', [6, 1, 5, 5]), fl('b1', [6]), fl('k2', [16, 6, 5, 5]), fl('b2', [16]), fl('f1', [120, 400]), fl('fb', [120]), fl('f2', [120, 10]),
    T.create({ name: 'shape', dims: [2], dataType: T.DataType.INT64, int64Data: [-1, 400] })],
    node: [node('Conv', ['img', 'k1', 'b1'], 'c1', [ints('kernel_shape', [5, 5]), ints('pads', [2, 2, 2, 2])]), node('Relu', ['c1'], 'r1'),
      node('MaxPool', ['r1'], 'p1', [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]),
      node('Conv', ['p1', 'k2', 'b2'], 'c2', [at.create({ name: 'auto_pad', s: new TextEncoder().encode('VALID'), type: A.STRING })]), node('Relu', ['c2'], 'r2'),
      node('MaxPool', ['r2'], 'p2', [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]), node('Reshape', ['p2', 'shape'], 'flat'),
      node('Gemm', ['flat', 'f1', 'fb'], 'h', [at.create({ name: 'transB', i: 1, type: A.INT })]), node('Relu', ['h'], 'hr'), node('MatMul', ['hr', 'f2'], 'logits'), node('Softmax', ['logits'], 'probs', [at.create({ name: 'axis', i: 1, type: A.INT })])],
    input: [vi('img', [1, 1, 28, 28])], output: [vi('probs', [1, 10])] });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 6, opsetImport: [{ domain: '', version: 11 }], producerName: 'onnx-proto', graph })).finish();
  const m = await importOnnx(bytes, { source: 'lenet.onnx' });
  // Conv+Relu fused as rede writes LeNet; the flatten's c, h, w order absorbed into the dense kernel.
  assert.deepEqual(m.config.layers.map((l) => `${l.type}${'activation' in l && l.activation ? `:${l.activation}` : ''}`),
    ['conv2d:relu', 'maxpool2d', 'conv2d:relu', 'maxpool2d', 'flatten', 'dense:relu', 'dense', 'softmax']);
  for (let i = 0; i < 3; i++) {
    const x = randomArray(new Rng(40 + i), 784, 0, 1);
    const r = await ortRun(bytes, x, [1, 1, 28, 28], 'img');
    assertClose(m.predict(x), r.get('probs')!, `example ${i}`, TOL);
  }
});

test('unsupported ops are one error listing each with its count, before anything is built', async () => {
  const g = new G(new Rng(1));
  let x = g.op('Conv', ['x', g.w([2, 1, 3, 3])], { kernel_shape: ints(3, 3) });
  x = g.op('HardSwish', [x]); x = g.op('Resize', [x]); x = g.op('HardSwish', [x]);
  x = g.op('GlobalAveragePool', [x]);
  const bytes = encodeModel(g.model([1, 8, 8], [x]));
  await assert.rejects(importOnnx(bytes, { source: 'bad.onnx' }), (e: unknown) => e instanceof RedeError && /^bad\.onnx: unsupported ONNX ops: HardSwish \(×2\), Resize \(×1\) \(rede imports Conv, Gemm/.test(e.message));
});

test('semantics rede lacks are named: count_include_pad with pads, ceil_mode, an NCHW reshape, a broadcast add, a pool pad as large as its window', () => {
  const cases: [(g: G) => string, RegExp][] = [
    [(g) => g.op('AveragePool', ['x'], { kernel_shape: ints(2, 2), pads: ints(1, 1, 1, 1), count_include_pad: int(1) }), /count_include_pad = 1 with padding/],
    [(g) => g.op('MaxPool', ['x'], { kernel_shape: ints(2, 2), ceil_mode: int(1) }), /ceil_mode = 1/],
    [(g) => g.op('Reshape', ['x', g.i64([0, 2, 2, 16])]), /reshape of an NCHW map/],
    [(g) => g.op('Add', ['x', g.op('GlobalAveragePool', ['x'])]), /same shape/],
    [(g) => g.op('MaxPool', ['x'], { kernel_shape: ints(2, 2), pads: ints(2, 0, 0, 0) }), /smaller than the 2×2 window/],
    [(g) => g.op('Conv', ['x', 'nowhere'], {}), /must be an initializer or a Constant/],
    [(g) => g.op('Softmax', ['x'], { axis: int(2) }), /softmax over axis 2/],
    [(g) => g.op('Transpose', ['x'], { perm: ints(0, 1, 3, 2) }), /rede transposes only between NCHW and NHWC/],
    [(g) => g.op('Softmax', [g.op('GlobalAveragePool', ['x'])]), /softmax over axis 3 of a 4-D/],
  ];
  for (const [build, re] of cases) {
    const g = new G(new Rng(2)), y = build(g), m = g.model([4, 4, 4], [y]);
    assert.throws(() => {
      // Layer checks (the pool padding rule) run when the graph is built.
      buildGraph(onnxToConfig(decodeModel(encodeModel(m), 'c.onnx'), 'c.onnx').config);
    }, (e: unknown) => e instanceof RedeError && re.test(e.message), String(re));
  }
});
