// Whole models against @tensorflow/tfjs (cpu backend, written with plain ops so padding and layout are
// explicit): same config, same weights, same batch → same loss and same gradient for every parameter; and
// the weights after SGD-momentum and Adam steps through fit() against tf.train.momentum / tf.train.adam.
// Every engine: each wasm variant and the reference kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { tfjs } from '../helpers/tfjs';
import { modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import type { ModelConfig } from '../../src/model/config';
import type { Model } from '../../src/api/model';
import type { OptimizerSpec } from '../../src/optim/optimizer';

const BATCH = 8;
const CLASSES = 10;

// LeNet-5 (LeCun et al. 1998, with ReLU and max pooling): 61,706 parameters.
const LENET: ModelConfig = {
  name: 'lenet5', input: [28, 28, 1], layers: [
    { type: 'conv2d', name: 'c1', filters: 6, kernel: 5, padding: 'same', activation: 'relu' },
    { type: 'maxpool2d', name: 'p1', pool: 2 },
    { type: 'conv2d', name: 'c2', filters: 16, kernel: 5, padding: 'valid', activation: 'relu' },
    { type: 'maxpool2d', name: 'p2', pool: 2 },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'f1', units: 120, activation: 'relu' },
    { type: 'dense', name: 'f2', units: 84, activation: 'relu' },
    { type: 'dense', name: 'f3', units: CLASSES },
  ],
};

// Batch norm (training statistics) on a conv map and on features, a residual Add reading a tensor twice,
// an inception-style Concat with a branch from the input, LRN, tanh, global average pooling, leaky ReLU.
const BRANCHY: ModelConfig = {
  name: 'branchy', input: [8, 8, 3], layers: [
    { type: 'conv2d', name: 'c1', filters: 4, kernel: 3, padding: 'same', useBias: false },
    { type: 'batchnorm', name: 'bn1', epsilon: 1e-3 },
    { type: 'relu', name: 'r1' },
    { type: 'conv2d', name: 'c2', filters: 4, kernel: 3, padding: 'same' },
    { type: 'add', name: 'res', inputs: ['c2', 'r1'] },
    { type: 'conv2d', name: 'c3', filters: 2, kernel: 1, inputs: ['input'] },
    { type: 'concat', name: 'cat', inputs: ['res', 'c3'] },
    { type: 'lrn', name: 'lrn', radius: 1, bias: 1, alpha: 0.1, beta: 0.75 },
    { type: 'maxpool2d', name: 'mp', pool: 2 },
    { type: 'tanh', name: 't' },
    { type: 'globalavgpool2d', name: 'gap' },
    { type: 'dense', name: 'd1', units: 8, useBias: false }, // a bias before batch norm has zero gradient
    { type: 'batchnorm', name: 'bn2', epsilon: 1e-3 },
    { type: 'leaky_relu', name: 'lk', alpha: 0.2 },
    { type: 'dense', name: 'd2', units: CLASSES },
  ],
};

type Params = Record<string, TF.Tensor>;
type Net = (tf: typeof TF, x: TF.Tensor4D, p: Params) => TF.Tensor2D;

const lenetTf: Net = (tf, x, p) => {
  let h = tf.relu(tf.add(tf.conv2d(x, p['c1.w'] as TF.Tensor4D, 1, 'same'), p['c1.b'])) as TF.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.relu(tf.add(tf.conv2d(h, p['c2.w'] as TF.Tensor4D, 1, 'valid'), p['c2.b'])) as TF.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  let v = tf.reshape(h, [x.shape[0], -1]) as TF.Tensor2D;
  v = tf.relu(tf.add(tf.matMul(v, p['f1.w'] as TF.Tensor2D), p['f1.b'])) as TF.Tensor2D;
  v = tf.relu(tf.add(tf.matMul(v, p['f2.w'] as TF.Tensor2D), p['f2.b'])) as TF.Tensor2D;
  return tf.add(tf.matMul(v, p['f3.w'] as TF.Tensor2D), p['f3.b']) as TF.Tensor2D;
};

/** Batch norm with the batch's (biased) statistics over every axis but the last, as rede trains it. */
function bnTrain(tf: typeof TF, x: TF.Tensor, gamma: TF.Tensor, beta: TF.Tensor, eps: number): TF.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, beta as TF.Tensor1D, gamma as TF.Tensor1D, eps);
}

const branchyTf: Net = (tf, x, p) => {
  const c1 = tf.conv2d(x, p['c1.w'] as TF.Tensor4D, 1, 'same');
  const r1 = tf.relu(bnTrain(tf, c1, p['bn1.gamma'], p['bn1.beta'], 1e-3)) as TF.Tensor4D;
  const c2 = tf.add(tf.conv2d(r1, p['c2.w'] as TF.Tensor4D, 1, 'same'), p['c2.b']);
  const res = tf.add(c2, r1);
  const c3 = tf.add(tf.conv2d(x, p['c3.w'] as TF.Tensor4D, 1, 'valid'), p['c3.b']);
  const cat = tf.concat([res, c3], 3) as TF.Tensor4D;
  const lrn = tf.localResponseNormalization(cat, 1, 1, 0.1, 0.75);
  const t = tf.tanh(tf.maxPool(lrn, 2, 2, 'valid'));
  const gap = tf.mean(t, [1, 2]) as TF.Tensor2D;
  const d1 = tf.matMul(gap, p['d1.w'] as TF.Tensor2D);
  const lk = tf.leakyRelu(bnTrain(tf, d1, p['bn2.gamma'], p['bn2.beta'], 1e-3), 0.2) as TF.Tensor2D;
  return tf.add(tf.matMul(lk, p['d2.w'] as TF.Tensor2D), p['d2.b']);
};

/** Mean sparse softmax cross-entropy: mean over the batch of −log softmax(logits)[label]. */
function xentTf(tf: typeof TF, logits: TF.Tensor2D, labels: Int32Array): TF.Scalar {
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as TF.Scalar;
}

/** The same loss from rede's logits, in f64, and its gradient dL/dlogits = (softmax − onehot) / batch. */
function xent(logits: Float32Array, labels: Int32Array): { loss: number; dlogits: Float32Array } {
  const b = labels.length, c = logits.length / b, d = new Float32Array(logits.length);
  let loss = 0;
  for (let r = 0; r < b; r++) {
    const row = logits.subarray(r * c, (r + 1) * c), max = Math.max(...row);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    loss += Math.log(z) + max - row[labels[r]];
    for (let j = 0; j < c; j++) d[r * c + j] = (Math.exp(row[j] - max) / z - (j === labels[r] ? 1 : 0)) / b;
  }
  return { loss: loss / b, dlogits: d };
}

/** Deterministic data and weights: biases (zero at init) and BN's gamma/beta get random values too. */
function setup(m: Model, seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  for (const en of m.entries) {
    if (en.name === 'b' || en.name === 'beta') m.setWeight(en.key, rng.array(en.n, -0.1, 0.1));
    if (en.name === 'gamma') m.setWeight(en.key, rng.array(en.n, 0.5, 1.5));
  }
  const per = m.inputShape.reduce((a, b) => a * b, 1);
  const x = rng.array(BATCH * per, 0, 1);
  const labels = Int32Array.from({ length: BATCH }, () => rng.int(0, CLASSES));
  return { x, labels };
}

function tfParams(tf: typeof TF, m: Model): Params {
  const p: Params = {};
  for (const en of m.entries) p[`${en.layer.name}.${en.name}`] = tf.tensor(m.getWeight(en.key), [...en.shape]);
  return p;
}

/** Gradients agree within 1e-4 relative to each tensor's scale (tiny entries are f32 cancellation noise). */
function assertGradClose(actual: Float32Array, expected: Float32Array, what: string): void {
  const scale = expected.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
  assert.ok(scale > 0, `${what}: tfjs gradient is all zero (the test would prove nothing)`);
  assertClose(actual, expected, what, { rtol: 1e-4, atol: 1e-4 * scale });
}

async function lossAndGradsAgree(config: ModelConfig, net: Net, training: boolean): Promise<void> {
  const tf = await tfjs();
  // Initialization is seeded per tensor, so every engine starts from the same weights: tfjs runs once.
  let expected: { loss: number; grads: Record<string, Float32Array> } | null = null;
  for (const { name, e } of await modelEngines()) {
    await withModel(e, config, (m) => {
      const { x, labels } = setup(m, 11);
      if (!expected) {
        const p = tfParams(tf, m), keys = Object.keys(p);
        const xt = tf.tensor4d(x, [BATCH, ...config.input] as [number, number, number, number]);
        const f = (...vals: TF.Tensor[]) => xentTf(tf, net(tf, xt, Object.fromEntries(keys.map((k, i) => [k, vals[i]]))), labels);
        const { value, grads } = tf.valueAndGrads(f)(keys.map((k) => p[k]));
        expected = { loss: value.dataSync()[0], grads: Object.fromEntries(keys.map((k, i) => [k, grads[i].dataSync() as Float32Array])) };
        tf.dispose([value, ...grads, xt, ...Object.values(p)]);
      }
      const logits = m.forward(x, { training });
      const { loss, dlogits } = xent(logits, labels);
      m.backward(dlogits);
      const what = `${config.name} on ${name}`;
      assertClose([loss], [expected.loss], `${what}: loss`, { rtol: 1e-5, atol: 0 });
      for (const en of m.entries) {
        const k = `${en.layer.name}.${en.name}`;
        assertGradClose(m.getGrad(en.key), expected.grads[k], `${what}: d${k}`);
      }
    });
  }
}

test('LeNet-5: loss and every parameter gradient agree with tfjs (batch 8, sparse softmax cross-entropy)', () =>
  lossAndGradsAgree(LENET, lenetTf, false));

test('batch norm (training) + residual add + concat + LRN net: loss and every gradient agree with tfjs', () =>
  lossAndGradsAgree(BRANCHY, branchyTf, true));

test('LeNet-5: the loss evaluate() reports is the tfjs loss', async () => {
  const tf = await tfjs();
  for (const { name, e } of await modelEngines()) {
    await withModel(e, LENET, (m) => {
      const { x, labels } = setup(m, 12);
      m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
      const ours = m.evaluate(x, labels).loss;
      const p = tfParams(tf, m), xt = tf.tensor4d(x, [BATCH, 28, 28, 1]);
      const theirs = tf.tidy(() => xentTf(tf, lenetTf(tf, xt, p), labels).dataSync()[0]);
      assertClose([ours], [theirs], `lenet on ${name}: evaluate() loss`, { rtol: 1e-5, atol: 0 });
      tf.dispose([xt, ...Object.values(p)]);
    });
  }
});

/**
 * Two optimizer steps through fit() (one batch of 8 per epoch, no shuffling) against the same steps with a
 * tfjs optimizer; the weight changes must agree (comparing changes, not weights, keeps the check sharp).
 */
async function stepsAgree(spec: OptimizerSpec, tfOpt: (tf: typeof TF) => TF.Optimizer, what: string): Promise<void> {
  const tf = await tfjs();
  const STEPS = 2;
  let expected: Record<string, Float32Array> | null = null; // tfjs's weights after the steps (same start on every engine)
  for (const { name, e } of await modelEngines()) {
    await withModel(e, LENET, async (m) => {
      const { x, labels } = setup(m, 13);
      const before = Object.fromEntries(m.entries.map((en) => [`${en.layer.name}.${en.name}`, m.getWeight(en.key)]));
      if (!expected) {
        const vars = Object.fromEntries(m.entries.map((en) => {
          const k = `${en.layer.name}.${en.name}`;
          return [k, tf.variable(tf.tensor(before[k], [...en.shape]), true, `${what}.${k}`)];
        }));
        const opt = tfOpt(tf), xt = tf.tensor4d(x, [BATCH, 28, 28, 1]);
        for (let s = 0; s < STEPS; s++) opt.minimize(() => xentTf(tf, lenetTf(tf, xt, vars), labels), false, Object.values(vars));
        expected = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.dataSync() as Float32Array]));
        opt.dispose();
        tf.dispose([xt, ...Object.values(vars)]);
      }
      m.compile({ optimizer: spec, loss: 'sparse_categorical_crossentropy' });
      await m.fit(x, labels, { epochs: STEPS, batchSize: BATCH, shuffle: false });
      for (const [k, after] of Object.entries(expected)) {
        const ours = m.getWeight(m.entries.find((en) => `${en.layer.name}.${en.name}` === k)!.key).map((w, i) => w - before[k][i]);
        const theirs = after.map((w, i) => w - before[k][i]);
        const scale = theirs.reduce((s, d) => Math.max(s, Math.abs(d)), 0);
        assert.ok(scale > 0, `${what}: ${k} did not move in tfjs`);
        assertClose(ours, theirs, `${what} on ${name}: change of ${k} after ${STEPS} steps`, { rtol: 1e-3, atol: 1e-3 * scale });
      }
    });
  }
}

test('LeNet-5: two SGD-momentum steps through fit() match tf.train.momentum', () =>
  stepsAgree({ type: 'sgd', lr: 0.05, momentum: 0.9 }, (tf) => tf.train.momentum(0.05, 0.9), 'sgd momentum'));

test('LeNet-5: two Adam steps through fit() match tf.train.adam', () =>
  stepsAgree({ type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, (tf) => tf.train.adam(0.01, 0.9, 0.999, 1e-8), 'adam'));
