// Caffe net prototxt → rede config: LeNet layer by layer, every converted layer type, the data layers and
// Caffe's transform, and the errors (every unsupported layer named at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RedeError } from '../../../src/engine/errors';
import { makeDataset } from '../../../src/data/dataset';
import { buildGraph } from '../../../src/model/graph';
import { netToConfig, parseNet } from '../../../src/interop/caffe/net';
import { caffeTransform, dataSpecFor } from '../../../src/interop/caffe/data';
import { Solver } from '../../../src/interop/caffe/solve';
import { Model } from '../../../src/api/model';

const LENET = readFileSync('examples/caffe/lenet_train_test.prototxt', 'utf8');
const convert = (text: string, shape = [8, 8, 3]) => netToConfig(parseNet(text, 'n.prototxt'), shape);
const input = (c = 3, h = 8, w = 8) => `layer { name: "in" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: ${c} dim: ${h} dim: ${w} } } }\n`;
const loss = (bottom: string) => `layer { name: "loss" type: "SoftmaxWithLoss" bottom: "${bottom}" bottom: "label" top: "loss" }`;
const bad = (text: string, re: RegExp, shape?: number[]) => assert.throws(() => convert(text, shape), (e: unknown) => e instanceof RedeError && re.test(e.message), text.slice(0, 200));

test('caffe net: LeNet converts to Caffe\'s LeNet (20 and 50 5×5 filters, 2×2 max pools, 500 ReLU, 10) with 431,080 parameters', () => {
  const spec = parseNet(LENET, 'lenet_train_test.prototxt');
  assert.equal(spec.name, 'LeNet');
  assert.deepEqual({ ...spec.train, tops: spec.train!.tops }, { layer: 'mnist', type: 'Data', source: 'examples/mnist/mnist_train_lmdb', batchSize: 64, scale: 0.00390625, mean: [], mirror: false, tops: ['data', 'label'] });
  assert.equal(spec.test!.source, 'examples/mnist/mnist_test_lmdb');
  assert.equal(spec.test!.batchSize, 100);
  const c = netToConfig(spec, [28, 28, 1]);
  assert.deepEqual(c.config.layers.map((l) => [l.type, l.name]), [['conv2d', 'conv1'], ['maxpool2d', 'pool1'], ['conv2d', 'conv2'], ['maxpool2d', 'pool2'],
    ['flatten', 'ip1_flatten'], ['dense', 'ip1'], ['dense', 'ip2'], ['softmax', 'loss']]);
  assert.equal((c.config.layers[5] as { activation?: string }).activation, 'relu'); // relu1 is in place on ip1: fused
  assert.deepEqual(c.metrics, ['accuracy']);
  const g = buildGraph(c.config);
  assert.deepEqual(g.nodes.map((n) => n.layer.outShape), [[24, 24, 20], [12, 12, 20], [8, 8, 50], [4, 4, 50], [800], [500], [10], [10]]);
  // Caffe's count: conv1 20·25+20, conv2 50·20·25+50, ip1 500·800+500, ip2 10·500+10.
  const params = g.nodes.flatMap((n) => n.layer.params).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  assert.equal(params, 520 + 25050 + 400500 + 5010);
  // LeNet's param { lr_mult: 1 } param { lr_mult: 2 }, no decay_mult: Caffe decays both.
  assert.deepEqual([...c.params.entries()], ['conv1', 'conv2', 'ip1', 'ip2'].flatMap((l) => [[`${l}/kernel`, { lrMult: 1, decayMult: 1 }], [`${l}/bias`, { lrMult: 2, decayMult: 1 }]]));
  // xavier (FAN_IN) is lecun_uniform and the constant bias filler rede's zeros: nothing differs, no notes.
  assert.deepEqual(c.config.layers.filter((l) => l.type === 'conv2d' || l.type === 'dense').map((l) => (l as { init?: string }).init), Array(4).fill('lecun_uniform'));
  assert.deepEqual(c.notes, []);
});

test('caffe net: the solver puts weight_decay on the weighted layers as l2 (or l1), times decay_mult', () => {
  const solver = 'net: "x" base_lr: 0.01 lr_policy: "fixed" max_iter: 1 weight_decay: 0.001';
  const net = input(1, 6, 6) + `layer { name: "c" type: "Convolution" bottom: "data" top: "c" param { decay_mult: 2 } convolution_param { num_output: 2 kernel_size: 3 } }
layer { name: "ip" type: "InnerProduct" bottom: "c" top: "ip" param { decay_mult: 0 } inner_product_param { num_output: 2 } }\n${loss('ip')}`;
  const l2 = Solver.fromText(solver, net).convert([6, 6, 1]).config.layers as { name?: string; l1?: number; l2?: number }[];
  assert.deepEqual(l2.filter((l) => l.l2 !== undefined || l.l1 !== undefined).map((l) => [l.name, l.l1, l.l2]), [['c', undefined, 0.002]]);
  const l1 = Solver.fromText(`${solver} regularization_type: "L1"`, net).convert([6, 6, 1]).config.layers as { name?: string; l1?: number; l2?: number }[];
  assert.deepEqual(l1.filter((l) => l.l1 !== undefined).map((l) => [l.name, l.l1, l.l2]), [['c', 0.002, undefined]]);
});

test('caffe net: every converted layer type, with blob wiring (in-place, branches, merges)', () => {
  const net = `name: "all"\n${input()}
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 weight_filler { type: "msra" } } }
layer { name: "bn" type: "BatchNorm" bottom: "c1" top: "c1" batch_norm_param { moving_average_fraction: 0.9 eps: 0.001 } }
layer { name: "sc" type: "Scale" bottom: "c1" top: "c1" scale_param { bias_term: true } }
layer { name: "r1" type: "ReLU" bottom: "c1" top: "c1" relu_param { negative_slope: 0.1 } }
layer { name: "lrn" type: "LRN" bottom: "c1" top: "n1" lrn_param { local_size: 3 alpha: 0.0003 beta: 0.75 k: 2 } }
layer { name: "c2" type: "Convolution" bottom: "data" top: "c2" convolution_param { num_output: 4 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "sum" type: "Eltwise" bottom: "n1" bottom: "c2" top: "sum" }
layer { name: "cat" type: "Concat" bottom: "sum" bottom: "c2" top: "cat" }
layer { name: "p1" type: "Pooling" bottom: "cat" top: "p1" pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 1 } }
layer { name: "p2" type: "Pooling" bottom: "p1" top: "p2" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "t" type: "TanH" bottom: "p2" top: "t" }
layer { name: "s" type: "Sigmoid" bottom: "t" top: "s" }
layer { name: "f" type: "Flatten" bottom: "s" top: "f" }
layer { name: "d" type: "Dropout" bottom: "f" top: "f" dropout_param { dropout_ratio: 0.3 } }
layer { name: "ip" type: "InnerProduct" bottom: "f" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "acc" type: "Accuracy" bottom: "ip" bottom: "label" top: "acc" accuracy_param { top_k: 2 } }
${loss('ip')}`;
  const c = convert(net);
  assert.deepEqual(c.config.layers, [
    { type: 'conv2d', name: 'c1', filters: 4, kernel: [3, 1], stride: 1, padding: [1, 1, 0, 0], groups: 1, useBias: true, init: 'he_normal' },
    { type: 'batchnorm', name: 'bn', momentum: 1 - 0.9, epsilon: 0.001 },
    { type: 'leaky_relu', name: 'r1', alpha: 0.1 },
    { type: 'lrn', name: 'lrn', radius: 1, alpha: 0.0003 / 3, beta: 0.75, bias: 2 },
    { type: 'conv2d', name: 'c2', inputs: ['input'], filters: 4, kernel: 3, stride: 1, padding: 1, groups: 1, useBias: false },
    { type: 'add', name: 'sum', inputs: ['lrn', 'c2'] },
    { type: 'concat', name: 'cat', inputs: ['sum', 'c2'] },
    { type: 'maxpool2d', name: 'p1', pool: 3, stride: 1, padding: 'same' },
    { type: 'avgpool2d', name: 'p2', pool: 2, stride: 2, padding: 'valid' },
    { type: 'tanh', name: 't' }, { type: 'sigmoid', name: 's' }, { type: 'flatten', name: 'f' }, { type: 'dropout', name: 'd', rate: 0.3 },
    { type: 'dense', name: 'ip', units: 3, useBias: true },
    { type: 'softmax', name: 'loss' },
  ]);
  assert.deepEqual(c.metrics, ['top2']);
  assert.deepEqual(buildGraph(c.config).nodes.at(-2)!.layer.inShapes, [[4 * 4 * 8]]);
});

test('caffe net: an activation is not fused when another layer read the blob first (it saw the pre-activation values)', () => {
  const c = convert(`${input()}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "side" type: "Pooling" bottom: "c" top: "side" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "r" type: "ReLU" bottom: "c" top: "c" }
layer { name: "p" type: "Pooling" bottom: "c" top: "p" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "sum" type: "Eltwise" bottom: "p" bottom: "side" top: "sum" }
layer { name: "ip" type: "InnerProduct" bottom: "sum" top: "ip" inner_product_param { num_output: 2 } }\n${loss('ip')}`);
  const byName = Object.fromEntries(c.config.layers.map((l) => [l.name, l]));
  assert.equal((byName.c as { activation?: string }).activation, undefined);
  assert.deepEqual(byName.r, { type: 'relu', name: 'r', inputs: ['c'] });
  assert.deepEqual(byName.side.inputs, undefined); // reads c, its predecessor
  assert.deepEqual(byName.p.inputs, undefined);
});

test('caffe net: global AVE pooling, Softmax, the TRAIN phase chosen, net-level inputs', () => {
  const c = convert(`${input(2, 4, 4)}layer { name: "g" type: "Pooling" bottom: "data" top: "g" pooling_param { pool: AVE global_pooling: true } }
layer { name: "ip" type: "InnerProduct" bottom: "g" top: "ip" inner_product_param { num_output: 2 } include { phase: TRAIN } }
layer { name: "ip" type: "InnerProduct" bottom: "g" top: "ip" inner_product_param { num_output: 7 } include { phase: TEST } }
layer { name: "sm" type: "Softmax" bottom: "ip" top: "sm" exclude { phase: TRAIN } }
${loss('ip')}`, [4, 4, 2]);
  assert.deepEqual(c.config.layers, [{ type: 'globalavgpool2d', name: 'g' }, { type: 'dense', name: 'ip', units: 2, useBias: true }, { type: 'softmax', name: 'loss' }]);
  const sm = convert(`${input(2, 4, 4)}layer { name: "sm" type: "Softmax" bottom: "data" top: "sm" }
layer { name: "f" type: "Flatten" bottom: "sm" top: "f" }\n${loss('f')}`, [4, 4, 2]);
  assert.deepEqual(sm.config.layers.map((l) => l.type), ['softmax', 'flatten', 'softmax']);
  // A deploy net (net-level input, no label) states its input shape but cannot be trained.
  const deploy = parseNet('input: "data" input_shape { dim: 1 dim: 3 dim: 5 dim: 6 }', 'd');
  assert.deepEqual(deploy.train!.shape, [5, 6, 3]);
  bad('input: "data" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4\nlayer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }\n' + loss('ip'),
    /layer 'loss': expected bottoms \(scores, 'label'\) with the data layer's label, got ip, label/, [4, 4, 1]);
});

test('caffe net: data layers — Input and MemoryData shapes (NCHW → HWC), transform_param, source mapping', async () => {
  const mem = parseNet(`layer { name: "m" type: "MemoryData" top: "data" top: "label" memory_data_param { batch_size: 5 channels: 3 height: 2 width: 4 }
  transform_param { scale: 0.5 mean_value: 10 mean_value: 20 mean_value: 30 mirror: true } }\n${loss('data')}`, 'm');
  assert.deepEqual([mem.train!.shape, mem.train!.batchSize, mem.train!.scale, mem.train!.mean, mem.train!.mirror], [[2, 4, 3], 5, 0.5, [10, 20, 30], true]);
  assert.equal(mem.test, mem.train);
  const inp = parseNet(`${input(1, 5, 7)}${loss('data')}`, 'i');
  assert.deepEqual([inp.train!.shape, inp.train!.batchSize], [[5, 7, 1], 2]);
  // x' = (byte − mean[c])·scale on pixels stored as byte/255.
  const ds = makeDataset(Float32Array.of(0, 1, 51 / 255, 102 / 255, 1, 0), Int32Array.of(0, 1), [1, 1, 3], 2);
  const t = caffeTransform(ds, { ...mem.train!, shape: undefined }, 'm');
  assert.deepEqual([...t.x].map((v) => Math.round(v * 1e4) / 1e4), [-5, 117.5, 10.5, 46, 117.5, -15]);
  const scaled = caffeTransform(ds, { ...parseNet(LENET, 'l').train! }, 'l');
  assert.ok(Math.abs(scaled.x[1] - 255 / 256) < 1e-7); // LeNet's scale 1/256 of byte 255
  assert.throws(() => caffeTransform(ds, { ...mem.train! }, 'm'), /data layer 'm' states \[h, w, c\] = \[2, 4, 3\], the data has \[1, 1, 3\]/);
  assert.deepEqual((await dataSpecFor(parseNet(LENET, 'l').train!, 'l')).spec, 'mnist');
  assert.equal((await dataSpecFor({ ...mem.train!, source: 'data/fashion_train_lmdb' }, 'm')).spec, 'fashion-mnist');
  await assert.rejects(dataSpecFor({ ...mem.train!, source: 'cifar10_train_lmdb' }, 'n'), /n: data layer 'm' reads 'cifar10_train_lmdb', which does not exist; rede reads no LMDB\/LevelDB/);
  await assert.rejects(dataSpecFor(mem.train!, 'n'), /has no source/);
});

test('caffe net: layers rede lacks are one error naming every one of them', () => {
  bad(`${input()}layer { name: "py" type: "Python" bottom: "data" top: "x" }
layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 1 } }
layer { name: "d" type: "Deconvolution" bottom: "c" top: "d" }
layer { name: "e" type: "PReLU" bottom: "d" top: "d" }\n${loss('d')}`,
  /^n\.prototxt: rede has no layer for these 3 Caffe layers: 'py' \(Python\), 'd' \(Deconvolution\), 'e' \(PReLU\) \(it converts Convolution, Pooling/);
  bad(`${input()}layer { name: "x" type: "Crop" bottom: "data" top: "x" }`, /no layer for this Caffe layer: 'x' \(Crop\)/);
});

test('caffe net: options rede cannot honour are errors naming the layer, with the file position where there is one', () => {
  const conv = (p: string) => `${input()}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 ${p} } }\n${loss('c')}`;
  bad(conv('kernel_size: 3 kernel_sise: 3'), /^n\.prototxt:2:\d+: convolution_param: unknown field 'kernel_sise' \(did you mean 'kernel_size'\?\)$/);
  bad(conv(''), /layer 'c': convolution_param needs kernel_size/);
  bad(conv('kernel_size: 3 kernel_size: 3 kernel_size: 3'), /kernel_size has 3 values; rede's layers are 2-D/);
  bad(conv('kernel_size: 9'), /n\.prototxt: layer 'c' \(Convolution\): conv2d 'c': .*/);
  bad(`${input()}layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 } }\n${loss('p')}`, /layer 'p': Caffe pools 8×8 to 5×5 \(kernel 2×2, stride 2×2, pad 1×1\), which neither of rede's paddings gives \(valid 4×4, same 4×4\)/);
  // Caffe rounds up: 8 → 4 with a 3×3 window, stride 2 is rede's 'same' (the extra window at the end), not 'valid' (3).
  const up = convert(`${input()}layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }\n${loss('p')}`);
  assert.equal((up.config.layers[0] as { padding?: string }).padding, 'same');
  bad(`${input()}layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 } }\n${loss('p')}`, /STOCHASTIC pooling is not in rede/);
  bad(`${input()}layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e" eltwise_param { operation: PROD } }\n${loss('e')}`, /Eltwise PROD is not in rede/);
  bad(`${input()}layer { name: "l" type: "LRN" bottom: "data" top: "l" lrn_param { norm_region: WITHIN_CHANNEL } }\n${loss('l')}`, /LRN WITHIN_CHANNEL is not in rede/);
  bad(`${input()}layer { name: "c" type: "Convolution" bottom: "data" top: "c" param { lr_mult: 0 } convolution_param { num_output: 2 kernel_size: 1 } }\n${loss('c')}`, /lr_mult 0 \(a frozen parameter\) is not supported/);
  bad(`${input()}layer { name: "c" type: "Convolution" bottom: "nope" top: "c" convolution_param { num_output: 2 kernel_size: 1 } }\n${loss('c')}`, /layer 'c': bottom 'nope' is not written by an earlier TRAIN layer/);
  bad(`${input()}layer { name: "c" type: "Convolution" bottom: "label" top: "c" convolution_param { num_output: 2 kernel_size: 1 } }\n${loss('c')}`, /reads the label blob 'label'; only the loss and Accuracy may/);
  bad(`${input()}layer { name: "s" type: "Scale" bottom: "data" top: "s" }\n${loss('s')}`, /a Scale layer is converted only right after a BatchNorm/);
  bad(`${input()}layer { name: "f" type: "Flatten" bottom: "data" top: "f" }`, /no SoftmaxWithLoss layer in the TRAIN phase/);
  bad(`layer { name: "f" type: "Flatten" bottom: "data" top: "f" }`, /no data layer in the TRAIN phase/);
  bad(`layers { name: "old" type: CONVOLUTION }`, /Caffe's old V1 format/);
  bad(`${input()}layer { name: "x" type: "ReLU" bottom: "data" top: "x" include { stage: "deploy" } }`, /include\/exclude by stage or level is not supported/);
  bad(`${input()}layer { name: "y" type: 3 }`, /layer 'y' field type: expected a quoted string, got 3/);
});

test('caffe net: xavier weights are Caffe\'s U(±√(3/fan_in)) (fan_in = cin·kh·kw), constant biases 0', async () => {
  const c = netToConfig(parseNet(LENET, 'lenet'), [28, 28, 1]);
  const w = (await Model.create(c.config, { seed: 5 })).getWeights();
  for (const [layer, fanIn] of [['conv1', 25], ['conv2', 500], ['ip1', 800], ['ip2', 500]] as const) {
    const k = w.get(`${layer}/kernel`)!.data, limit = Math.sqrt(3 / fanIn);
    let max = 0, sq = 0;
    for (const v of k) { max = Math.max(max, Math.abs(v)); sq += v * v; }
    // Uniform on ±L: every |v| ≤ L, the largest near L, the variance L²/3 = 1/fan_in.
    assert.ok(max <= limit && max > 0.98 * limit, `${layer}: max |w| ${max}, Caffe's limit ${limit}`);
    assert.ok(Math.abs(sq / k.length * fanIn - 1) < 0.1, `${layer}: variance × fan_in = ${sq / k.length * fanIn}`);
    assert.ok(w.get(`${layer}/bias`)!.data.every((v) => v === 0), `${layer}: bias`);
  }
});
