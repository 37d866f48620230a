// The `activation` option of dense and conv2d: every activation rede has, checked (1) by finite differences of
// the layer through the model (each wasm variant and the reference kernels), (2) against the same layer
// linear followed by the activation as a layer of its own, (3) in the inference compiler, (4) through a
// save/load round trip, and (5) as config errors. The fused softmax + cross-entropy of a dense softmax head
// trains exactly as a dense layer followed by a softmax layer does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheckModel, modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { Model } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { InferenceModel } from '../../src/infer/model';
import { lower } from '../../src/infer/lower';
import { RedeError } from '../../src/engine/errors';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import { numelOf } from '../../src/layers/layer';

type Act = 'linear' | 'relu' | 'leaky_relu' | 'elu' | 'sigmoid' | 'tanh' | 'softmax';
const ACTS: { act: Act; alpha?: number }[] = [
  { act: 'linear' }, { act: 'relu' }, { act: 'leaky_relu', alpha: 0.15 }, { act: 'elu', alpha: 0.7 },
  { act: 'sigmoid' }, { act: 'tanh' }, { act: 'softmax' },
];

/** ReLU, LeakyReLU and ELU with α ≠ 1 have a kink at 0: a small step keeps pre-activations from crossing it. */
const epsFor = (a: { act: Act }) => (['relu', 'leaky_relu', 'elu'].includes(a.act) ? 1e-3 : undefined);

const dense = (a: { act: Act; alpha?: number }): LayerConfig => ({ type: 'dense', name: 'd', units: 5, activation: a.act, ...(a.alpha !== undefined ? { alpha: a.alpha } : {}) });
const conv = (a: { act: Act; alpha?: number }): LayerConfig => ({ type: 'conv2d', name: 'c', filters: 4, kernel: 3, padding: 'same', activation: a.act, ...(a.alpha !== undefined ? { alpha: a.alpha } : {}) });

function randomize(m: Model, seed: number): void {
  const rng = new Rng(seed);
  for (const en of m.entries) m.setWeight(en.key, rng.array(en.n, -0.8, 0.8));
}

for (const a of ACTS) {
  test(`gradcheck: dense with activation '${a.act}'`, async () => {
    for (const { name, e } of await modelEngines()) {
      await withModel(e, { input: [6], layers: [dense(a)] }, (m) => {
        randomize(m, 11);
        try { gradcheckModel(m, new Rng(5).array(3 * 6), { samples: 40, eps: epsFor(a) }); } catch (err) { throw new Error(`${name}: ${(err as Error).message}`, { cause: err }); }
      });
    }
  });
  test(`gradcheck: conv2d with activation '${a.act}' (softmax over channels)`, async () => {
    for (const { name, e } of await modelEngines()) {
      await withModel(e, { input: [4, 5, 3], layers: [conv(a)] }, (m) => {
        randomize(m, 13);
        try { gradcheckModel(m, new Rng(8).array(2 * 60), { samples: 40, eps: epsFor(a) }); } catch (err) { throw new Error(`${name}: ${(err as Error).message}`, { cause: err }); }
      });
    }
  });
}

/** The activation as a layer of its own after a linear copy of `layer`. */
function split(layer: LayerConfig, a: { act: Act; alpha?: number }): LayerConfig[] {
  const linear = { ...layer, activation: 'linear' } as LayerConfig & { alpha?: number };
  delete linear.alpha;
  if (a.act === 'linear') return [linear];
  return [linear, { type: a.act, name: 'act', ...(a.alpha !== undefined ? { alpha: a.alpha } : {}) } as LayerConfig];
}

test('dense / conv2d activation X equals the linear layer followed by an X layer (forward and gradients)', async () => {
  const e = await Engine.create();
  for (const a of ACTS) {
    for (const [input, layer] of [[[6], dense(a)], [[4, 5, 3], conv(a)]] as const) {
      const fused = await Model.create({ input: [...input], layers: [layer] }, { engine: e, seed: 2 });
      const apart = await Model.create({ input: [...input], layers: split(layer, a) }, { engine: e, seed: 2 });
      randomize(fused, 21); randomize(apart, 21);
      const x = new Rng(4).array(3 * numelOf(input)), what = `${layer.type} ${a.act}`;
      assertClose(fused.forward(x), apart.forward(x), `${what}: forward`, { rtol: 1e-6, atol: 1e-6 });
      const dy = new Rng(6).array(3 * numelOf(fused.outputShape));
      assertClose(fused.backward(dy), apart.backward(dy), `${what}: dInput`, { rtol: 1e-5, atol: 1e-6 });
      const lname = layer.type === 'dense' ? 'd' : 'c';
      assertClose(fused.getGrad(`${lname}/kernel`), apart.getGrad(`${lname}/kernel`), `${what}: dW`, { rtol: 1e-5, atol: 1e-6 });
    }
  }
});

test('a final softmax activation gives probabilities from predict; InferenceModel agrees for every activation', async () => {
  const e = await Engine.create();
  for (const a of ACTS) {
    const config: ModelConfig = { name: `acts-${a.act}`, input: [6, 6, 2], layers: [
      { ...conv(a), name: 'c' } as LayerConfig, { type: 'maxpool2d', pool: 2 }, { type: 'flatten' }, { ...dense(a), name: 'd' } as LayerConfig] };
    const m = await Model.create(config, { engine: e, seed: 3 });
    randomize(m, 5);
    const x = new Rng(7).array(5 * 72), y = m.predict(x);
    if (a.act === 'softmax') {
      for (let r = 0; r < 5; r++) {
        const row = y.subarray(r * 5, r * 5 + 5);
        assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5 && row.every((v) => v > 0), `softmax end: row ${r} sums to 1`);
      }
    }
    for (const workers of [1, 2]) {
      const inf = await InferenceModel.from(m, { workers });
      try {
        assertClose(inf.predict(x), y, `${a.act}: InferenceModel (${workers} threads) vs Model.predict`, { rtol: 1e-4, atol: 1e-5 });
        assert.equal(inf.endsInSoftmax, a.act === 'softmax');
      } finally { await inf.close(); }
    }
  }
});

test('infer: a standalone activation or softmax layer after a linear conv / dense becomes its epilogue', async () => {
  const config: ModelConfig = { input: [5, 5, 3], layers: [
    { type: 'conv2d', name: 'c', filters: 4, kernel: 3 }, { type: 'elu', name: 'e', alpha: 0.5 }, { type: 'flatten' },
    { type: 'dense', name: 'd', units: 6 }, { type: 'leaky_relu', alpha: -0.3 }, { type: 'dense', name: 'o', units: 3 }, { type: 'softmax' }] };
  const m = await Model.create(config, { seed: 1 });
  randomize(m, 2);
  const g = lower(m);
  assert.deepEqual(g.ops.map((op) => op.kind), ['conv', 'dense', 'dense'], 'each activation folded into the op before it');
  assert.equal(g.folded.act, 3);
  const x = new Rng(3).array(4 * 75), inf = await InferenceModel.from(m);
  assertClose(inf.predict(x), m.predict(x), 'folded activations', { rtol: 1e-4, atol: 1e-5 });
  assert.ok(inf.endsInSoftmax);
  await inf.close();
});

test('activation and alpha survive a save/load round trip', async () => {
  const config: ModelConfig = { input: [6], layers: [{ type: 'dense', name: 'h', units: 7, activation: 'elu', alpha: 0.4 },
    { type: 'dense', name: 'l', units: 5, activation: 'leaky_relu', alpha: 0.05 }, { type: 'dense', name: 'o', units: 3, activation: 'softmax' }] };
  const m = await Model.create(config, { seed: 4 });
  randomize(m, 9);
  const back = await Model.fromBytes(m.toBytes());
  assert.deepEqual(back.config, m.config);
  const x = new Rng(1).array(4 * 6);
  assert.deepEqual(back.predict(x), m.predict(x));
});

test('a dense softmax head trains like dense + softmax layer (the loss folds either softmax)', async () => {
  const e = await Engine.create();
  const rng = new Rng(12), x = rng.array(16 * 6), y = Int32Array.from({ length: 16 }, (_, i) => i % 4);
  const weights: Float32Array[] = [];
  for (const layers of [[{ type: 'dense', name: 'd', units: 4, activation: 'softmax' }], [{ type: 'dense', name: 'd', units: 4 }, { type: 'softmax' }]] as LayerConfig[][]) {
    for (const loss of ['sparse_categorical_crossentropy', 'mse'] as const) {
      const m = await Model.create({ input: [6], layers }, { engine: e, seed: 7 });
      randomize(m, 3);
      m.compile({ optimizer: { type: 'sgd', lr: 0.5 }, loss });
      const targets = new Float32Array(16 * 4).map((_, i) => (i % 4 === y[Math.floor(i / 4)] ? 1 : 0));
      const h = await m.fit(x, loss === 'mse' ? targets : y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
      assert.ok(Number.isFinite(h.history.loss[2]));
      weights.push(m.getWeight('d/kernel'));
    }
  }
  assertClose(weights[0], weights[2], 'cross-entropy: dense softmax vs dense + softmax layer', { rtol: 1e-5, atol: 1e-6 });
  assertClose(weights[1], weights[3], 'mse (no folding): dense softmax vs dense + softmax layer', { rtol: 1e-5, atol: 1e-6 });
});

test('activation errors name the layer, the value and what is expected', async () => {
  const bad = (layer: Record<string, unknown>, input: number[], re: RegExp) =>
    assert.rejects(Model.create({ input, layers: [layer as unknown as LayerConfig] }), (err: Error) => err instanceof RedeError && re.test(err.message), String(re));
  await bad({ type: 'dense', name: 'fc', units: 3, activation: 'gelu' }, [4], /dense 'fc': activation must be one of 'linear', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', got 'gelu'/);
  await bad({ type: 'conv2d', name: 'c', filters: 2, kernel: 1, activation: 'swish' }, [3, 3, 1], /conv2d 'c': activation must be one of .*got 'swish'/);
  await bad({ type: 'dense', name: 'fc', units: 3, activation: 'relu', alpha: 0.1 }, [4], /dense 'fc': alpha applies to activation 'leaky_relu' or 'elu', not 'relu'/);
  await bad({ type: 'dense', name: 'fc', units: 3, alpha: 0.1 }, [4], /alpha applies to .* not 'linear'/);
  await bad({ type: 'dense', name: 'fc', units: 3, activation: 'leaky_relu', alpha: -0.2 }, [4], /alpha of a leaky_relu activation must be >= 0.*got -0.2/);
  await bad({ type: 'conv2d', name: 'c', filters: 2, kernel: 1, activation: 'elu', alpha: 0 }, [3, 3, 1], /conv2d 'c': alpha of an elu activation must be > 0, got 0/);
  await bad({ type: 'dense', name: 'fc', units: 3, activation: 'elu', alpha: 'big' }, [4], /dense 'fc': alpha must be a finite number, got 'big'/);
});
