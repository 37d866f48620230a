// The tfjs backend (src/bridge) against rede's wasm engine, on @tensorflow/tfjs's cpu backend: the same config
// and seed start from the same weights (bitwise: rede initializes both), and a few steps of fit through the one
// loop — schedule, augmentation, callbacks, dropout — leave weights, batch-norm statistics and optimizer state
// within TOL of each other; evaluate and predict agree; a .rede written by either loads in the other and
// predicts the same; unsupported layers and options fail with an error naming them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../src/api/model';
import { InferenceModel } from '../../src/infer/index';
import { RedeError } from '../../src/engine/errors';
import { defineLayer } from '../../src/layers/index';
import { Reshape } from '../../src/layers/shape';
import type { ModelConfig } from '../../src/model/config';
import type { Dataset } from '../../src/data/dataset';
import type { Callback } from '../../src/train/callbacks';
import type { CompileOptions } from '../../src/train/trainer';
import { describeTfjs, loadTfjs, type Tf } from '../../src/bridge/tfjs';
import { tfjs } from '../helpers/tfjs';
import { Rng } from '../helpers/rand';

/**
 * Largest |Δ| allowed between the backends' weights after the steps below: float32 sums in another order drift
 * by ~1e-6 per step; 2e-4 leaves room for a few steps' growth and fails at once on any real difference (a wrong
 * sign, a missed regularizer, another mask: ≥ 1e-3 after one step at these rates).
 */
const TOL = 2e-4;

const LENET: ModelConfig = {
  name: 'lenet5', input: [28, 28, 1], layers: [
    { type: 'conv2d', name: 'c1', filters: 6, kernel: 5, padding: 'same', activation: 'relu' },
    { type: 'maxpool2d', name: 'p1', pool: 2 },
    { type: 'conv2d', name: 'c2', filters: 16, kernel: 5, activation: 'relu', l2: 1e-3 },
    { type: 'maxpool2d', name: 'p2', pool: 2 },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'f1', units: 120, activation: 'relu' },
    { type: 'dropout', name: 'drop', rate: 0.25 },
    { type: 'dense', name: 'f2', units: 84, activation: 'relu' },
    { type: 'dense', name: 'f3', units: 10 },
  ],
};

// Batch norm (conv map and features), a residual add, a concat with a branch from the input, a grouped and a
// depthwise conv, average and global pooling, ELU, and a softmax layer that the loss folds.
const BRANCHY: ModelConfig = {
  name: 'branchy', input: [8, 8, 4], layers: [
    { type: 'conv2d', name: 'c1', filters: 8, kernel: 3, padding: 'same', useBias: false },
    { type: 'batchnorm', name: 'bn1', epsilon: 1e-3 },
    { type: 'relu', name: 'r1' },
    { type: 'conv2d', name: 'c2', filters: 8, kernel: 3, padding: 'same', groups: 2 },
    { type: 'add', name: 'res', inputs: ['c2', 'r1'] },
    { type: 'conv2d', name: 'dw', filters: 4, kernel: 3, padding: [1, 1, 0, 2], groups: 4, inputs: ['input'] },
    { type: 'concat', name: 'cat', inputs: ['res', 'dw'] },
    { type: 'avgpool2d', name: 'ap', pool: 2, padding: 'same' },
    { type: 'elu', name: 'e', alpha: 0.5 },
    { type: 'globalavgpool2d', name: 'gap' },
    { type: 'dense', name: 'd1', units: 16, useBias: false },
    { type: 'batchnorm', name: 'bn2' },
    { type: 'leaky_relu', name: 'lk', alpha: 0.1 },
    { type: 'dense', name: 'd2', units: 5 },
    { type: 'softmax', name: 'sm' },
  ],
};

function dataset(rng: Rng, n: number, shape: [number, number, number], classes: number): Dataset {
  const x = new Float32Array(n * shape[0] * shape[1] * shape[2]).map(() => rng.uniform(0, 1));
  const y = new Int32Array(n).map(() => Math.floor(rng.uniform(0, classes)));
  return { x, y, shape, classes, name: 'random' };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Every weight, statistic and optimizer state tensor of two models within `tol`; returns the largest gap. */
function assertSameModel(a: Model, b: Model, tol: number, what: string): number {
  let worst = 0;
  const wa = a.getWeights(), wb = b.getWeights();
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  for (const [name, t] of wa) {
    const d = maxDiff(t.data, wb.get(name)!.data);
    assert.ok(d <= tol, `${what}: ${name} differs by ${d} (tolerance ${tol})`);
    worst = Math.max(worst, d);
  }
  const ta = a.trainer!, tb = b.trainer!;
  assert.equal(ta.optimizer.t, tb.optimizer.t, `${what}: optimizer steps`);
  assert.equal(ta.step, tb.step, `${what}: global step`);
  const n = ta.optimizer.slots * a.paramFloats;
  const d = maxDiff(a.e.read(ta.optState, n), b.e.read(tb.optState, n));
  assert.ok(d <= tol * 10, `${what}: optimizer state differs by ${d}`); // momentum buffers are sums of gradients
  return worst;
}

async function both(config: ModelConfig, seed: number): Promise<[Model, Model]> {
  return [await Model.create(config, { seed }), await Model.create(config, { seed, backend: 'tfjs', tfjsBackend: 'cpu' })];
}

test('the tfjs backend loads @tensorflow/tfjs here (tfjs-node-gpu and tfjs-node are not installed) and says what runs', async () => {
  const { info } = await loadTfjs('cpu');
  assert.equal(info.package, '@tensorflow/tfjs');
  assert.equal(info.tfjsBackend, 'cpu');
  assert.equal(info.device, 'CPU (plain JavaScript)');
  assert.equal(info.gpu, false);
  const m = await Model.create(BRANCHY, { backend: 'tfjs', tfjsBackend: 'cpu' });
  assert.equal(m.backend, 'tfjs');
  assert.deepEqual(m.backendInfo, info);
  assert.equal((await Model.create(BRANCHY)).backendInfo.backend, 'wasm');
});

test("tfjs-node-gpu's silent fall back to the CPU is reported, and a GPU that is found is not", () => {
  const fake = (isUsingGpuDevice: boolean) => ({ version_core: '4.22.0', backend: () => ({ isUsingGpuDevice }) }) as unknown as Tf;
  const cpu = describeTfjs(fake(false), '@tensorflow/tfjs-node-gpu', 'tensorflow');
  assert.equal(cpu.gpu, false);
  assert.equal(cpu.device, 'CPU (TensorFlow C library)');
  assert.match(cpu.warning ?? '', /no usable CUDA GPU.*CUDA 11\.2 and cuDNN 8\.1/);
  const gpu = describeTfjs(fake(true), '@tensorflow/tfjs-node-gpu', 'tensorflow');
  assert.equal(gpu.gpu, true);
  assert.match(gpu.device, /^GPU \(CUDA/);
  assert.equal(gpu.warning, undefined);
  assert.equal(describeTfjs(fake(false), '@tensorflow/tfjs-node', 'tensorflow').warning, undefined); // the CPU package is meant to run on the CPU
});

test(`LeNet-5: same seed, same start; fit with a cosine schedule, augmentation, dropout and callbacks on both backends agrees (${TOL})`, async (tc) => {
  const [w, t] = await both(LENET, 7);
  for (const [name, v] of w.getWeights()) assert.deepEqual(v.data, t.getWeights().get(name)!.data, `initial ${name}`);
  const compile: CompileOptions = { optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, clipNorm: 5 }, loss: 'sparse_categorical_crossentropy',
    metrics: ['accuracy', 'top3'], schedule: { type: 'cosine', totalSteps: 6 } };
  const ds = dataset(new Rng(1), 24, [28, 28, 1], 10);
  const runs = await Promise.all([w, t].map(async (m) => {
    m.compile(compile);
    const batches: number[] = [], lrs: number[] = [];
    const cb: Callback = { onBatchEnd: (_s, logs) => { batches.push(logs.loss); lrs.push(logs.lr); } };
    const h = await m.fit(ds, { epochs: 2, batchSize: 8, seed: 3, augment: { shift: 2, rotation: 10 }, callbacks: [cb], validationData: ds });
    return { h, batches, lrs };
  }));
  assert.deepEqual(runs[0].lrs, runs[1].lrs);
  assert.equal(runs[1].batches.length, 6);
  runs[0].batches.forEach((l, i) => assert.ok(Math.abs(l - runs[1].batches[i]) <= 1e-4, `batch ${i} loss ${l} vs ${runs[1].batches[i]}`));
  for (const key of ['accuracy', 'val_loss', 'val_accuracy', 'val_top3']) {
    runs[0].h.history[key].forEach((v, i) => assert.ok(Math.abs(v - runs[1].h.history[key][i]) <= 1e-4, `${key}[${i}]: ${v} vs ${runs[1].h.history[key][i]}`));
  }
  const worst = assertSameModel(w, t, TOL, 'lenet5');
  tc.diagnostic(`lenet5: largest weight difference after 6 steps ${worst.toExponential(2)}`);
  assert.ok(worst > 0, 'the backends are different code: some float must differ (else the tfjs side did not run)');
  // evaluate and predict agree
  const ew = w.evaluate(ds), et = t.evaluate(ds);
  assert.ok(Math.abs(ew.loss - et.loss) <= 1e-4, `evaluate loss ${ew.loss} vs ${et.loss}`);
  assert.equal(ew.accuracy, et.accuracy);
  assert.ok(maxDiff(w.predict(ds.x), t.predict(ds.x)) <= 1e-4);
});

// SGD with momentum here: Adam and RMSprop divide by √v, which turns a gradient near 0 whose float32 rounding
// differs between the backends (~1e-7) into a full step of either sign; they are compared on a net without
// such near-zero sums below.
test(`batch norm, residual add, concat, grouped and depthwise convs: fit on both backends agrees (${TOL}), running statistics too`, async (tc) => {
  const [w, t] = await both(BRANCHY, 11);
  const rng = new Rng(5), n = 20, per = 8 * 8 * 4;
  const x = new Float32Array(n * per).map(() => rng.uniform(-1, 1)), y = new Int32Array(n).map((_, i) => i % 5);
  for (const m of [w, t]) {
    m.compile({ optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 }, loss: { type: 'sparse_categorical_crossentropy', labelSmoothing: 0.1 }, metrics: ['accuracy'] });
    await m.fit(x, y, { epochs: 3, batchSize: 7, seed: 2 }); // a short last batch every epoch
  }
  tc.diagnostic(`branchy: largest weight difference after 9 steps ${assertSameModel(w, t, TOL, 'branchy').toExponential(2)}`);
  assert.ok(maxDiff(w.getWeight('bn1/moving_mean'), new Float32Array(8)) > 0.01, 'running statistics moved');
  const ew = w.evaluate(x, y), et = t.evaluate(x, y);
  assert.ok(Math.abs(ew.loss - et.loss) <= 1e-4, `evaluate ${ew.loss} vs ${et.loss}`);
  assert.equal(ew.accuracy, et.accuracy);
  const pw = w.predict(x), pt = t.predict(x);
  assert.ok(maxDiff(pw, pt) <= 1e-4, `predict differs by ${maxDiff(pw, pt)}`);
  assert.ok(Math.abs(pt.slice(0, 5).reduce((s, v) => s + v, 0) - 1) < 1e-5, 'predict gives the softmax probabilities');
});

test('dense losses (MSE, binary cross-entropy), RMSprop and AdamW agree across backends', async () => {
  const cfg: ModelConfig = { input: [6], layers: [{ type: 'dense', name: 'h', units: 8, activation: 'tanh', l1: 1e-3 }, { type: 'dense', name: 'o', units: 3 }] };
  const rng = new Rng(9), n = 16, x = new Float32Array(n * 6).map(() => rng.uniform(-1, 1)), y = new Float32Array(n * 3).map(() => (rng.uniform(0, 1) > 0.5 ? 1 : 0));
  const optimizers = { mse: { type: 'rmsprop', lr: 0.01, momentum: 0.5 }, binary_crossentropy: { type: 'adamw', lr: 0.01, weightDecay: 0.05 } } as const;
  for (const loss of ['mse', 'binary_crossentropy'] as const) {
    const [w, t] = await both(cfg, 4);
    for (const m of [w, t]) {
      m.compile({ optimizer: optimizers[loss], loss });
      await m.fit(x, y, { epochs: 2, batchSize: 5, seed: 1 });
    }
    assertSameModel(w, t, TOL, loss);
    assert.ok(Math.abs(w.evaluate(x, y).loss - t.evaluate(x, y).loss) <= 1e-5);
  }
});

test('a .rede saved on one backend loads in the other, predicts the same and resumes training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rede-bridge-'));
  try {
    const rng = new Rng(3), n = 12, x = new Float32Array(n * 8 * 8 * 4).map(() => rng.uniform(-1, 1)), y = new Int32Array(n).map((_, i) => i % 5);
    const compile: CompileOptions = { optimizer: { type: 'sgd', lr: 0.02, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] };
    // tfjs → file → wasm
    const t = await Model.create(BRANCHY, { seed: 2, backend: 'tfjs' });
    t.compile(compile);
    await t.fit(x, y, { epochs: 2, batchSize: 6, seed: 1 });
    await t.save(join(dir, 'tfjs.rede'));
    const w = await Model.load(join(dir, 'tfjs.rede'));
    assert.equal(w.backend, 'wasm');
    for (const [name, v] of t.getWeights()) assert.deepEqual(w.getWeights().get(name)!.data, v.data, `${name} round-trips bitwise`);
    assert.ok(maxDiff(w.predict(x), t.predict(x)) <= 1e-5);
    // rede's inference compiler (batch norm folded) takes the tfjs-trained model as it is
    const inf = await InferenceModel.from(t);
    assert.ok(maxDiff(inf.predict(x), t.predict(x)) <= 1e-4);
    await inf.close();
    // wasm → file → tfjs, and both resume from the saved optimizer state the same way
    await w.save(join(dir, 'wasm.rede'));
    const t2 = await Model.load(join(dir, 'wasm.rede'), { backend: 'tfjs' });
    assert.equal(t2.backend, 'tfjs');
    assert.equal(t2.trainer!.optimizer.t, t.trainer!.optimizer.t);
    assert.ok(maxDiff(t2.predict(x), w.predict(x)) <= 1e-5);
    await w.fit(x, y, { epochs: 1, batchSize: 6, seed: 4 });
    await t2.fit(x, y, { epochs: 1, batchSize: 6, seed: 4 });
    assertSameModel(w, t2, TOL, 'resumed');
    // bytes too
    const back = await Model.fromBytes(t2.toBytes());
    assert.ok(maxDiff(back.predict(x), t2.predict(x)) <= 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unsupported layers, options and backends fail with a RedeError naming them, before any training', async () => {
  defineLayer('bridge_test_identity', {}, (cfg, inShapes) => new Reshape('flatten', { name: cfg.name }, inShapes));
  const custom: ModelConfig = { input: [4], layers: [{ type: 'bridge_test_identity', name: 'mine' } as never, { type: 'dense', name: 'd', units: 2 }] };
  await assert.rejects(Model.create(custom, { backend: 'tfjs' }), (e: Error) => e instanceof RedeError && /tfjs backend: bridge_test_identity 'mine': layer type 'bridge_test_identity' is not supported on the tfjs backend \(supported: conv2d, /.test(e.message));
  assert.ok(await Model.create(custom), 'the same config runs on the wasm engine');
  const dilated: ModelConfig = { input: [9, 9, 1], layers: [{ type: 'conv2d', name: 'atrous', filters: 2, kernel: 3, dilation: 2 }] };
  await assert.rejects(Model.create(dilated, { backend: 'tfjs' }), /tfjs backend: conv2d 'atrous': dilation 2×2 is not supported/);
  const bilinear: ModelConfig = { input: [2, 2, 1], layers: [{ type: 'upsampling2d', name: 'up', interpolation: 'bilinear' }] };
  await assert.rejects(Model.create(bilinear, { backend: 'tfjs' }), /upsampling2d 'up': interpolation 'bilinear' is not supported/);
  await assert.rejects(Model.create(BRANCHY, { backend: 'gpu' as never }), /Model.create: backend must be 'wasm' or 'tfjs', got "gpu"/);
  await assert.rejects(Model.create(BRANCHY, { tfjsBackend: 'webgl' }), /tfjsBackend applies to backend 'tfjs'/);
  await assert.rejects(Model.create(BRANCHY, { backend: 'tfjs', tfjsBackend: 'metal' }), /unknown tfjs backend 'metal' \(expected one of webgpu, webgl, wasm, cpu, tensorflow\)/);
  await assert.rejects(Model.create(BRANCHY, { backend: 'tfjs', tfjsBackend: 'webgpu' }), /tfjs backend: the tfjs backend 'webgpu' could not start/);
  // tfjs-node's native backend without tfjs-node (not installable here): named, not a crash
  await assert.rejects(Model.create(BRANCHY, { backend: 'tfjs', tfjsBackend: 'tensorflow' }), /tfjs backend: the tfjs backend 'tensorflow' could not start with @tensorflow\/tfjs/);
  const m = await Model.create(BRANCHY, { backend: 'tfjs', tfjsBackend: 'cpu' });
  m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  const x = new Float32Array(2 * 8 * 8 * 4), y = new Int32Array(2);
  await assert.rejects(m.fit(x, y, { workers: 2 }), /fit: workers \(2\) and deterministic are the wasm engine's; the tfjs backend runs one step on CPU/);
  await assert.rejects(m.fit(x, y, { deterministic: true }), /deterministic are the wasm engine's/);
});

test('the tfjs backend keeps the loop contract: a non-finite loss stops fit with the weights before the step', async () => {
  const tf = await tfjs();
  const m = await Model.create({ input: [3], layers: [{ type: 'dense', name: 'd', units: 2 }] }, { backend: 'tfjs', tfjsBackend: 'cpu', seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'mse' });
  const before = m.getWeight('d/kernel'), tensors = tf.memory().numTensors;
  const x = new Float32Array([1, 2, 3, 1, 2, 3]), y = new Float32Array([0, 1, 1e30, 1e30]); // (1e30)² overflows float32
  await assert.rejects(m.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false }), /fit: loss is Infinity at epoch 1, step 1/);
  assert.deepEqual(m.getWeight('d/kernel'), before);
  assert.ok(tf.memory().numTensors <= tensors + 8, `tf tensors leaked: ${tensors} → ${tf.memory().numTensors}`); // grads, state: a bounded set, not per step
  // Steps, evaluations and predictions allocate nothing that outlives them: one epoch or five leave as many tensors.
  const ok = new Float32Array([0, 1, 1, 0]);
  await m.fit(x, ok, { epochs: 1, batchSize: 1 });
  m.evaluate(x, ok); m.predict(x);
  const after1 = tf.memory().numTensors;
  await m.fit(x, ok, { epochs: 5, batchSize: 1 });
  m.evaluate(x, ok); m.predict(x);
  assert.equal(tf.memory().numTensors, after1);
});

test("tfjs's wasm backend (no conv gradient kernels in 4.22) predicts as rede does, and refuses to train naming the layer and the kernel", async () => {
  try {
    const m = await Model.create(LENET, { seed: 1, backend: 'tfjs', tfjsBackend: 'wasm' });
    assert.equal(m.backendInfo.device, 'CPU (WebAssembly, tfjs-backend-wasm)');
    const w = await Model.create(LENET, { seed: 1 });
    const rng = new Rng(8), x = rng.array(3 * 784, 0, 1), y = new Int32Array([1, 2, 3]);
    assert.ok(maxDiff(m.predict(x), w.predict(x)) <= 1e-4);
    m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    await assert.rejects(m.fit(x, y), /tfjs backend: conv2d 'c1' cannot train on tfjs's 'wasm' backend: it has no Conv2DBackpropFilter kernel \(predict and evaluate work/);
  } finally {
    await loadTfjs('cpu');
  }
});

test('tfjs cpu is deterministic: the same seed twice gives bitwise the same weights; two outputs with loss weights agree with wasm', async () => {
  const cfg: ModelConfig = {
    input: [6], outputs: ['main', 'aux'], layers: [
      { type: 'dense', name: 'h', units: 8, activation: 'relu' },
      { type: 'dropout', name: 'drop', rate: 0.3 },
      { type: 'dense', name: 'main', units: 4 },
      { type: 'dense', name: 'aux', units: 4, inputs: ['h'], activation: 'softmax' },
    ],
  };
  const rng = new Rng(12), n = 18, x = rng.array(n * 6), y = new Int32Array(n).map((_, i) => i % 4);
  const run = async (backend: 'wasm' | 'tfjs') => {
    const m = await Model.create(cfg, { seed: 6, backend });
    m.compile({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.5 }, loss: 'sparse_categorical_crossentropy', lossWeights: [1, 0.3] });
    await m.fit(x, y, { epochs: 2, batchSize: 5, seed: 9 });
    return m;
  };
  const [a, b, w] = [await run('tfjs'), await run('tfjs'), await run('wasm')];
  for (const [name, v] of a.getWeights()) assert.deepEqual(b.getWeights().get(name)!.data, v.data, `${name}: bitwise run to run`);
  assertSameModel(w, a, TOL, 'two outputs');
  assert.ok(Math.abs(w.evaluate(x, y).loss - a.evaluate(x, y).loss) <= 1e-5);
});

test("AdaGrad and AdaDelta (the Caffe solver's) agree across backends, and a frozen layer stays bitwise unchanged on tfjs", async () => {
  const cfg: ModelConfig = { input: [6], layers: [{ type: 'dense', name: 'h', units: 8, activation: 'tanh' }, { type: 'dense', name: 'o', units: 3 }] };
  const rng = new Rng(10), n = 16, x = new Float32Array(n * 6).map(() => rng.uniform(-1, 1)), y = new Float32Array(n * 3).map(() => rng.uniform(0, 1));
  for (const optimizer of [{ type: 'adagrad', lr: 0.05 }, { type: 'adadelta', lr: 1 }] as const) {
    const [w, t] = await both(cfg, 5);
    for (const m of [w, t]) {
      m.compile({ optimizer, loss: 'mse' });
      await m.fit(x, y, { epochs: 2, batchSize: 5, seed: 1 });
    }
    assertSameModel(w, t, TOL, optimizer.type);
  }
  const frozen: ModelConfig = { input: [6], layers: [{ type: 'dense', name: 'h', units: 8, activation: 'tanh', trainable: false }, { type: 'dense', name: 'o', units: 3 }] };
  const [w, t] = await both(frozen, 6);
  const before = t.getWeights().get('h/kernel')!.data.slice();
  for (const m of [w, t]) {
    m.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: 'mse' });
    await m.fit(x, y, { epochs: 2, batchSize: 5, seed: 1 });
  }
  assert.deepEqual(t.getWeights().get('h/kernel')!.data, before, 'the frozen kernel changed on tfjs');
  assert.ok(maxDiff(t.getWeights().get('o/kernel')!.data, w.getWeights().get('o/kernel')!.data) <= TOL);
});
