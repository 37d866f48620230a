// InferenceModel.predict on a batch runs batched plans (1, 2, 4, … up to batchSize): every plan's outputs equal
// the per-example (batch-1) outputs, for convs cut into whole-example bands and into rows of one example, 1×1
// convs, grouped convs, dense layers split by rows or columns, layer ops (pools, BN, concat, LRN), with 1 and
// 2 threads; and the default batchSize follows the memory rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { InferenceModel } from '../../src/infer/model';
import { lowerGraph } from '../../src/infer/lower';
import { buildGraph } from '../../src/model/graph';
import type { ModelConfig } from '../../src/model/config';
import { numelOf } from '../../src/layers/layer';
import { lenet5 } from '../../src/zoo/lenet5';
import { resnet20 } from '../../src/zoo/small';
import { resnet18 } from '../../src/zoo/resnet';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';

const dag: ModelConfig = { name: 'dag', input: [9, 7, 3], layers: [
  { type: 'conv2d', name: 'c1', filters: 8, kernel: 3, padding: 'same' }, { type: 'batchnorm', name: 'bn1' }, { type: 'relu', name: 'r1' },
  { type: 'conv2d', name: 'c2', filters: 8, kernel: 3, stride: 2, padding: 'same', inputs: ['r1'] },
  { type: 'conv2d', name: 'p', filters: 8, kernel: 1, stride: 2, inputs: ['r1'], useBias: false },
  { type: 'add', name: 'a1', inputs: ['c2', 'p'] }, { type: 'relu', name: 'r2' },
  { type: 'batchnorm', name: 'bn3', inputs: ['r2'] }, { type: 'maxpool2d', name: 'mp', pool: 2, stride: 1, padding: 'same', inputs: ['r2'] },
  { type: 'add', name: 'a2', inputs: ['bn3', 'mp'] }, { type: 'lrn', name: 'n', radius: 1 },
  { type: 'conv2d', name: 'pw', filters: 5, kernel: 1, activation: 'relu' },
  { type: 'conv2d', name: 'dw', filters: 8, kernel: 3, padding: 'same', groups: 8, inputs: ['n'], activation: 'sigmoid' },
  { type: 'concat', name: 'cat', inputs: ['pw', 'dw', 'r2'] },
  { type: 'conv2d', name: 'sm', filters: 4, kernel: 1, activation: 'softmax' },
  { type: 'globalavgpool2d', name: 'gap' }, { type: 'dense', name: 'fc', units: 40, activation: 'elu' }, { type: 'dense', name: 'o', units: 6 },
] };

/** Per-example outputs through the batch-1 plan, one call each. */
function oneByOne(inf: InferenceModel, x: Float32Array, per: number): Float32Array {
  const n = x.length / per, parts: Float32Array[] = [];
  for (let i = 0; i < n; i++) parts.push(inf.predict(x.subarray(i * per, (i + 1) * per)));
  const out = new Float32Array(parts.reduce((t, p) => t + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function randomModel(config: ModelConfig, e: Engine): Promise<Model> {
  const m = await Model.create(config, { engine: e, seed: 3 }), rng = new Rng(11);
  for (const en of m.entries) m.setWeight(en.key, rng.array(en.n, en.name === 'gamma' ? 0.5 : -0.5, en.name === 'gamma' ? 1.5 : 0.5));
  for (const L of m.layers) for (const s of L.state) m.e.f32.set(rng.array(s.floats, s.name === 'running_var' ? 0.5 : -0.2, s.name === 'running_var' ? 2 : 0.2), L.s[s.name] >>> 2);
  return m;
}

test('batched plans equal per-example runs and Model.predict (whole-example bands, row bands, 1 and 2 threads)', async () => {
  const e = await Engine.create();
  for (const config of [dag, lenet5(), resnet20([12, 12, 3])]) {
    const m = await randomModel(config, e), per = numelOf(config.input);
    for (const opts of [{}, { workers: 2 }, { bandBytes: 1 }, { workers: 2, bandBytes: 1 }, { batchSize: 5, workers: 2 }, { bandBytes: 6000, batchSize: 8 }]) {
      const inf = await InferenceModel.from(m, opts), what = `${config.name} ${JSON.stringify(opts)}`;
      try {
        for (const n of [1, 2, 3, 7, 37]) {
          const x = new Rng(n).array(n * per), batched = inf.predict(x);
          assertClose(batched, oneByOne(inf, x, per), `${what}: n = ${n} batched vs one by one`, { rtol: 1e-5, atol: 1e-5 });
          // Winograd (ResNet-20's 3×3 convs after the first) rounds differently from Model.predict's direct sums: with these
          // ±0.5 weights the activations reach 5e5 and the last logits differ by up to ~1.3e-4 relative
          // (test/infer/winograd.test.ts holds Winograd to 1e-4 with the model's own initialization).
          const rtol = inf.summary.ops.some((op) => op.winograd) ? 3e-4 : 1e-4;
          if (n === 7) assertClose(batched, m.predict(x), `${what}: n = 7 vs Model.predict`, { rtol, atol: 1e-4 });
        }
      } finally { await inf.close(); }
    }
  }
});

test('batchSize: the default follows the 8 MiB rule; an explicit one is checked and used', async () => {
  const m = await Model.create(lenet5(), { seed: 1 });
  const small = await InferenceModel.from(m);
  assert.equal(small.batchSize, 32, 'LeNet-5: a batch of 32 fits easily');
  await small.close();
  const odd = await InferenceModel.from(m, { batchSize: 12 });
  assert.equal(odd.batchSize, 12);
  const x = new Rng(1).array(30 * 784); // 12 + 12 + 4 + 2
  assertClose(odd.predict(x), oneByOne(odd, x, 784), 'batchSize 12, n = 30', { rtol: 1e-5, atol: 1e-5 });
  await odd.close();
  const zeros = { param: (_L: unknown, _n: string, n: number) => new Float32Array(n), state: (_L: unknown, _n: string, n: number) => new Float32Array(n).fill(1) };
  const big = await InferenceModel.fromLowered(lowerGraph(buildGraph(resnet18()), zeros));
  assert.equal(big.batchSize, 1, 'ResNet-18 at 224×224: its batch-1 plan is already 4.6 MiB');
  await big.close();
  for (const bad of [0, 1.5, 5000]) await assert.rejects(InferenceModel.from(m, { batchSize: bad }), (err: Error) => err instanceof RedeError && /infer: batchSize must be an integer in \[1, 4096\], got/.test(err.message));
  const alias = await InferenceModel.from(m, { batch_size: 4 } as never); // Keras's spelling
  assert.equal(alias.batchSize, 4);
  await alias.close();
});
