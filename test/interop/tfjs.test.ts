// rede ↔ TensorFlow.js Layers, checked by tfjs itself: a rede model exported as model.json + weights loads in
// tf.loadLayersModel and predicts what rede does (1e-4) for LeNet-5, ResNet-20 (residual adds, rede's explicit
// padding as ZeroPadding2D), a batch-norm + dropout net and a concat (inception) net; models that tfjs builds
// and saves (Sequential and functional) import into rede, predict the same, and fine-tune; rede → tfjs → rede
// keeps every weight bitwise; an unsupported class is one RedeError naming them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { Model } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';
import type { ModelConfig } from '../../src/model/config';
import { lenet5, miniInception, resnet20 } from '../../src/zoo/index';
import { importTfjs, toTfjs } from '../../src/interop/index';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { tfjs } from '../helpers/tfjs';
import { perturb } from './tfjs-helpers';

async function loadInTfjs(tf: typeof TF, model: Model): Promise<TF.LayersModel> {
  const a = toTfjs(model);
  const json = JSON.parse(JSON.stringify(a.modelJson)) as { modelTopology: object; weightsManifest: { weights: TF.io.WeightsManifestEntry[] }[] };
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
    weightData: a.weightData.buffer.slice(a.weightData.byteOffset, a.weightData.byteOffset + a.weightData.byteLength) as ArrayBuffer }));
}

const bnDropout: ModelConfig = {
  name: 'bn_dropout', input: [12, 12, 3], layers: [
    { type: 'conv2d', name: 'c1', filters: 8, kernel: 3, padding: 'same', useBias: false },
    { type: 'batchnorm', name: 'bn1', momentum: 0.1, epsilon: 1e-3 },
    { type: 'leaky_relu', name: 'lr1', alpha: 0.1 },
    { type: 'conv2d', name: 'c2', filters: 6, kernel: 3, stride: 2, padding: [1, 0, 2, 1], activation: 'elu' },
    { type: 'avgpool2d', name: 'p1', pool: 2, padding: 'same' },
    { type: 'flatten', name: 'f' },
    { type: 'dropout', name: 'd', rate: 0.3 },
    { type: 'dense', name: 'fc1', units: 16, activation: 'leaky_relu', alpha: 0.2 },
    { type: 'batchnorm', name: 'bn2' },
    { type: 'dense', name: 'out', units: 5, activation: 'softmax' },
  ],
};

const CASES: [string, ModelConfig, number][] = [
  ['LeNet-5', lenet5(), 3],
  ['ResNet-20', resnet20([16, 16, 3], 10), 2],
  ['batch norm + dropout', bnDropout, 4],
  ['mini inception (concat)', miniInception([16, 16, 3], 10), 2],
];

for (const [what, config, n] of CASES) {
  test(`export ${what}: tf.loadLayersModel predicts what rede does (1e-4); rede → tfjs → rede is bitwise`, async () => {
    const tf = await tfjs();
    const model = await Model.create(config, { seed: 3 });
    perturb(model, 7);
    const x = new Rng(11).array(n * config.input.reduce((a, b) => a * b, 1));
    const mine = model.predict(x);
    const tm = await loadInTfjs(tf, model);
    const y = tm.predict(tf.tensor(x, [n, ...config.input])) as TF.Tensor;
    assertClose(y.dataSync(), mine, `${what}: tfjs vs rede`, { rtol: 1e-4, atol: 1e-4 });
    // And back: the artifacts import into rede with every tensor bitwise as it was.
    const a = toTfjs(model);
    // ResNet-20's stride-2 convs pad 1 on every side, which 'same' does not: a ZeroPadding2D goes before them.
    if (what === 'ResNet-20') assert.ok(JSON.stringify(a.modelJson).includes('"class_name":"ZeroPadding2D"'));
    const back = await importTfjs(JSON.parse(JSON.stringify(a.modelJson)), () => a.weightData, { file: `${what}.json` });
    const w0 = model.getWeights(), w1 = back.getWeights();
    assert.deepEqual([...w1.keys()].sort(), [...w0.keys()].sort());
    for (const [name, t] of w0) assert.deepEqual(new Uint8Array(w1.get(name)!.data.buffer), new Uint8Array(t.data.buffer), `${what}: ${name} bitwise`);
    assertClose(back.predict(x), mine, `${what}: imported vs original`, { rtol: 1e-6, atol: 1e-6 });
  });
}

/** What tfjs's model.save hands a save handler, as the model.json and .bin that tfjs writes to disk. */
async function saved(tf: typeof TF, m: TF.LayersModel): Promise<{ json: unknown; bin: Uint8Array }> {
  let art: TF.io.ModelArtifacts | null = null;
  await m.save(tf.io.withSaveHandler(async (a) => { art = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const a = art as unknown as TF.io.ModelArtifacts;
  const data = a.weightData as ArrayBuffer;
  const json = { format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
  return { json: JSON.parse(JSON.stringify(json)), bin: new Uint8Array(data) };
}

/** Non-trivial BN statistics in a tfjs model (fresh ones are 0 and 1). */
function perturbTf(tf: typeof TF, m: TF.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const l of m.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(l.getWeights().map((w, i) => tf.tensor(Float32Array.from({ length: w.size }, () => (i === 3 ? 0.5 + rng.next() : 0.2 * (rng.next() - 0.5) + (i === 0 ? 1 : 0))), w.shape)));
  }
}

async function checkImport(tf: typeof TF, m: TF.LayersModel, inShape: number[], n: number, what: string): Promise<Model> {
  perturbTf(tf, m, 5);
  const { json, bin } = await saved(tf, m);
  const model = await importTfjs(json as never, (paths) => { assert.deepEqual(paths, ['weights.bin']); return bin; }, { file: `${what}/model.json` });
  const x = new Rng(13).array(n * inShape.reduce((a, b) => a * b, 1));
  const want = (m.predict(tf.tensor(x, [n, ...inShape])) as TF.Tensor).dataSync();
  assertClose(model.predict(x), want, `${what}: rede vs tfjs`, { rtol: 1e-4, atol: 1e-4 });
  return model;
}

test('import a tfjs Sequential model (conv, pool, BN, dropout, dense): same predictions; fit lowers the loss', async () => {
  const tf = await tfjs();
  const m = tf.sequential({ layers: [
    tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), inputShape: [10, 10, 2], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.batchNormalization({ momentum: 0.9 }),
    tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), filters: 4, kernelSize: [2, 3], strides: [1, 2], activation: 'tanh' }),
    tf.layers.flatten(),
    tf.layers.dropout({ rate: 0.25 }),
    tf.layers.dense({ kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), units: 12, activation: 'elu' }),
    tf.layers.dense({ kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }), units: 3, activation: 'softmax' }),
  ] });
  const model = await checkImport(tf, m, [10, 10, 2], 4, 'sequential');
  assert.deepEqual(model.config.layers.map((l) => l.type), ['conv2d', 'maxpool2d', 'batchnorm', 'conv2d', 'flatten', 'dropout', 'dense', 'dense']);
  const rng = new Rng(17), x = rng.array(32 * 200), y = Int32Array.from({ length: 32 }, () => rng.int(0, 3));
  model.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: 'sparse_categorical_crossentropy' });
  const before = model.evaluate(x, y).loss;
  await model.fit(x, y, { epochs: 15, batchSize: 16, shuffle: false });
  const after = model.evaluate(x, y).loss;
  assert.ok(after < 0.8 * before, `fine-tuning: loss ${before} → ${after}`);
});

test('import a tfjs functional model (add, concatenate, ZeroPadding2D folded into the conv, LeakyReLU, global pool)', async () => {
  const tf = await tfjs();
  const input = tf.input({ shape: [9, 9, 3] });
  const a = tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'a' }).apply(input) as TF.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(a) as TF.SymbolicTensor;
  const r = tf.layers.leakyReLU({ alpha: 0.15, name: 'lrelu' }).apply(bn) as TF.SymbolicTensor;
  const pad = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'pad' }).apply(r) as TF.SymbolicTensor;
  const b = tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }), filters: 4, kernelSize: 2, name: 'b' }).apply(pad) as TF.SymbolicTensor; // 10×11 → 9×10
  const b2 = tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }), filters: 4, kernelSize: [1, 2], name: 'b2' }).apply(b) as TF.SymbolicTensor; // → 9×9
  const sum = tf.layers.add({ name: 'sum' }).apply([r, b2]) as TF.SymbolicTensor;
  const c = tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }), filters: 2, kernelSize: 1, activation: 'sigmoid', name: 'c' }).apply(sum) as TF.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([sum, c]) as TF.SymbolicTensor;
  const pool = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(cat) as TF.SymbolicTensor;
  const g = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(pool) as TF.SymbolicTensor;
  const out = tf.layers.dense({ kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }), units: 4, name: 'out' }).apply(g) as TF.SymbolicTensor;
  const model = await checkImport(tf, tf.model({ inputs: input, outputs: out }), [9, 9, 3], 3, 'functional');
  const b1 = model.config.layers.find((l) => l.name === 'b') as { padding?: unknown; inputs?: string[] };
  assert.deepEqual(b1.padding, [1, 0, 0, 2]);
  assert.deepEqual(b1.inputs ?? ['lrelu'], ['lrelu']); // the layer before it: no inputs list needed
});

test('import: every layer rede lacks is named in one RedeError', async () => {
  const tf = await tfjs();
  const m = tf.sequential({ layers: [
    tf.layers.conv2d({ kernelInitializer: tf.initializers.glorotUniform({ seed: 10 }), inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }),
    tf.layers.separableConv2d({ filters: 2, kernelSize: 3, name: 'sep' }),
    tf.layers.flatten(),
    tf.layers.gaussianNoise({ stddev: 0.1, name: 'noise' }),
    tf.layers.dense({ kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }), units: 2, activation: 'selu', name: 'fc' }),
  ] });
  const { json, bin } = await saved(tf, m);
  await assert.rejects(importTfjs(json as never, () => bin, { file: 'bad/model.json' }), (e: unknown) => {
    assert.ok(e instanceof RedeError, String(e));
    for (const s of ["SeparableConv2D 'sep'", "GaussianNoise 'noise'", "Dense 'fc': activation 'selu'", 'bad/model.json']) assert.ok(e.message.includes(s), `${e.message} names ${s}`);
    return true;
  });
});

test('export: a layer Keras lacks (lrn) is a RedeError naming it', async () => {
  const model = await Model.create({ input: [6, 6, 4], layers: [{ type: 'lrn', name: 'norm' }, { type: 'flatten' }, { type: 'dense', units: 2 }] });
  assert.throws(() => toTfjs(model), (e: unknown) => e instanceof RedeError && e.message.includes("'norm' (lrn)"));
});
