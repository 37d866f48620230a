// Finite differences of the sequence layers through the model API (as test/layers/gradcheck.test.ts does for
// the rest): simple_rnn, lstm, gru (resetAfter both ways), every return/direction option, masking through an
// embedding with maskZero and through a masking layer, time_distributed, stacked layers; on each wasm
// variant and the reference engine. Also: masked steps are skipped (a padded sequence gives the state of the
// unpadded one), bad configs and bad ids are clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheckModel, modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { numelOf } from '../../src/layers/layer';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import type { Model } from '../../src/api/model';
import { Model as ModelClass } from '../../src/api/model';
import { RedeError } from '../../src/engine/errors';

interface Case { name: string; input: number[]; layers: LayerConfig[]; batch?: number; x?: (rng: Rng, n: number) => Float32Array }

function randomizeParams(m: Model, seed: number): void {
  const rng = new Rng(seed);
  for (const en of m.entries) m.setWeight(en.key, rng.array(en.n, -0.7, 0.7));
}

/** Ids in [1, vocab) with some 0s (padding) for an embedding input. */
const ids = (vocab: number) => (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 0 : rng.int(1, vocab)));
/** Uniform values, with whole steps of zeros (masked by a masking layer). */
const zeroSteps = (features: number) => (rng: Rng, n: number): Float32Array => {
  const x = rng.array(n);
  for (let r = 0; r < n / features; r++) if (r % 5 === 2) x.fill(0, r * features, (r + 1) * features);
  return x;
};

const cases: Case[] = [
  { name: 'simple_rnn last state', input: [4, 3], layers: [{ type: 'simple_rnn', units: 5 }] },
  { name: 'simple_rnn sequences, go backwards, relu', input: [3, 2], layers: [{ type: 'simple_rnn', units: 4, returnSequences: true, goBackwards: true, activation: 'relu' }], x: (rng, n) => rng.array(n, 0.1, 1) },
  { name: 'simple_rnn no bias', input: [3, 3], layers: [{ type: 'simple_rnn', units: 3, useBias: false }] },
  { name: 'lstm last state', input: [4, 3], layers: [{ type: 'lstm', units: 5 }] },
  { name: 'lstm sequences go backwards', input: [3, 2], layers: [{ type: 'lstm', units: 4, returnSequences: true, goBackwards: true }] },
  { name: 'lstm hard_sigmoid gates', input: [3, 3], layers: [{ type: 'lstm', units: 3, recurrentActivation: 'hard_sigmoid', returnSequences: true }] },
  { name: 'gru resetAfter (default)', input: [4, 3], layers: [{ type: 'gru', units: 5 }] },
  { name: 'gru resetAfter false, sequences', input: [3, 2], layers: [{ type: 'gru', units: 4, resetAfter: false, returnSequences: true }] },
  { name: 'gru go backwards, no bias', input: [3, 3], layers: [{ type: 'gru', units: 3, goBackwards: true, useBias: false }] },
  { name: 'stacked lstm → gru → time_distributed', input: [3, 2], layers: [{ type: 'lstm', units: 3, returnSequences: true }, { type: 'gru', units: 4, returnSequences: true }, { type: 'time_distributed', units: 2, activation: 'tanh' }] },
  { name: 'time_distributed on a sequence', input: [4, 3], layers: [{ type: 'time_distributed', units: 5 }], batch: 3 },
  { name: 'embedding → simple_rnn', input: [5], layers: [{ type: 'embedding', inputDim: 7, outputDim: 3 }, { type: 'simple_rnn', units: 4 }], x: ids(7) },
  { name: 'embedding maskZero → lstm sequences → gru (masked both)', input: [6], layers: [{ type: 'embedding', inputDim: 6, outputDim: 3, maskZero: true }, { type: 'lstm', units: 3, returnSequences: true }, { type: 'gru', units: 3 }], x: ids(6) },
  { name: 'masking → gru resetAfter false', input: [5, 3], layers: [{ type: 'masking' }, { type: 'gru', units: 4, resetAfter: false }], x: zeroSteps(3) },
  { name: 'masking → simple_rnn sequences backwards', input: [5, 3], layers: [{ type: 'masking' }, { type: 'simple_rnn', units: 3, returnSequences: true, goBackwards: true }], x: zeroSteps(3) },
];

for (const c of cases) {
  test(`gradcheck: ${c.name}`, async () => {
    const config: ModelConfig = { name: 'seq', input: c.input, layers: c.layers };
    for (const { name, e } of await modelEngines()) {
      await withModel(e, config, (m) => {
        randomizeParams(m, 17);
        const rng = new Rng(5), n = (c.batch ?? 2) * numelOf(c.input);
        const x = c.x ? c.x(rng, n) : rng.array(n);
        try {
          gradcheckModel(m, x, { training: true, samples: 40 });
        } catch (err) {
          throw new Error(`${name} engine, ${c.name}: ${(err as Error).message}`, { cause: err });
        }
      });
    }
  });
}

test('masked steps are skipped: padding anywhere gives the state of the unpadded sequence', async () => {
  for (const type of ['simple_rnn', 'lstm', 'gru'] as const) {
    for (const goBackwards of [false, true]) {
      for (const { name, e } of await modelEngines()) {
        const cfg = (steps: number): ModelConfig => ({ input: [steps], layers: [
          { type: 'embedding', name: 'emb', inputDim: 9, outputDim: 4, maskZero: true }, { type, name: 'rnn', units: 5, goBackwards }] });
        const short = await ModelClass.create(cfg(3), { engine: e, seed: 3 });
        const padded = await ModelClass.create(cfg(7), { engine: e, seed: 3 });
        randomizeParams(short, 4);
        padded.setWeights(short.getWeights());
        const a = short.forward(new Float32Array([5, 2, 8]));
        const b = padded.forward(new Float32Array([0, 5, 0, 0, 2, 8, 0]));
        assertClose(b, a, `${name} ${type} goBackwards=${goBackwards}`, { rtol: 1e-6, atol: 1e-7 });
        // with returnSequences, the padded steps' outputs are 0 and the others are the short sequence's
        const seq = (steps: number): ModelConfig => ({ input: [steps], layers: [
          { type: 'embedding', name: 'emb', inputDim: 9, outputDim: 4, maskZero: true }, { type, name: 'rnn', units: 5, goBackwards, returnSequences: true }] });
        const s1 = await ModelClass.create(seq(3), { engine: e, seed: 3 }), s2 = await ModelClass.create(seq(5), { engine: e, seed: 3 });
        s1.setWeights(short.getWeights()); s2.setWeights(short.getWeights());
        const y1 = s1.forward(new Float32Array([5, 2, 8])), y2 = s2.forward(new Float32Array([5, 0, 2, 0, 8]));
        // ids 5, 2, 8 sit at steps 0, 2, 4 (read backwards: 8, 2, 5 — the same places, as the padding is symmetric)
        const at = [0, 2, 4];
        for (let i = 0; i < 3; i++) assertClose(y2.subarray(at[i] * 5, at[i] * 5 + 5), y1.subarray(i * 5, i * 5 + 5), `${name} ${type} step ${i}`, { rtol: 1e-6, atol: 1e-7 });
        for (const z of [1, 3]) assert.ok(y2.subarray(z * 5, z * 5 + 5).every((v) => v === 0), `${name} ${type}: padded step ${z} outputs 0`);
      }
    }
  }
});

test('sequence layers reject bad configs and bad ids with clear errors', async () => {
  const { e } = (await modelEngines())[0];
  const bad = async (config: ModelConfig, re: RegExp) => { await assert.rejects(ModelClass.create(config, { engine: e }), (err: Error) => err instanceof RedeError && re.test(err.message)); };
  await bad({ input: [5], layers: [{ type: 'lstm', units: 3 }] }, /lstm 'lstm_0': input must be a sequence \[steps, features\] per example, got \[5\]/);
  await bad({ input: [4, 2], layers: [{ type: 'lstm', units: 0 }] }, /units must be a positive integer, got 0/);
  await bad({ input: [4, 2], layers: [{ type: 'lstm', units: 3, resetAfter: true } as LayerConfig] }, /unknown option 'resetAfter'/);
  await bad({ input: [4, 2], layers: [{ type: 'gru', units: 3, returnSequence: true } as unknown as LayerConfig] }, /unknown option 'returnSequence'/);
  await bad({ input: [4, 2], layers: [{ type: 'simple_rnn', units: 3, activation: 'softmax' } as unknown as LayerConfig] }, /activation must be one of 'tanh', 'relu', 'sigmoid', 'linear'/);
  await bad({ input: [4, 2], layers: [{ type: 'embedding', inputDim: 3, outputDim: 2 }] }, /embedding 'embedding_0': input must be a sequence of ids \[steps\]/);
  await bad({ input: [4], layers: [{ type: 'time_distributed', units: 2 }] }, /time_distributed 'time_distributed_0': input must be a sequence/);
  const m = await ModelClass.create({ input: [3], layers: [{ type: 'embedding', name: 'emb', inputDim: 4, outputDim: 2 }, { type: 'flatten' }] }, { engine: e });
  assert.throws(() => m.forward(new Float32Array([1, 2, 3, 0, 4, 1])), /embedding 'emb': 1 id is not in \[0, 4\) \(inputDim 4\); the first, example 1 step 1, is 4/);
  assert.throws(() => m.forward(new Float32Array([1, NaN, 3])), RedeError);
});

test('InferenceModel runs sequence models (masked too) as training does, on 1 and 2 workers; save/load keeps them', async () => {
  const { InferenceModel } = await import('../../src/infer/model');
  const config: ModelConfig = { input: [6], layers: [
    { type: 'embedding', inputDim: 9, outputDim: 4, maskZero: true }, { type: 'lstm', units: 5, returnSequences: true, goBackwards: true },
    { type: 'gru', units: 4, returnSequences: true }, { type: 'time_distributed', units: 3, activation: 'softmax' }] };
  const m = await ModelClass.create(config, { seed: 2 });
  randomizeParams(m, 8);
  const x = new Float32Array([1, 2, 0, 0, 3, 8, 0, 5, 6, 7, 1, 0, 4, 4, 4, 0, 0, 0]);
  const want = m.forward(x);
  for (const workers of [1, 2]) {
    const inf = await InferenceModel.from(m, { workers });
    try {
      assertClose(inf.predict(x), want, `InferenceModel workers=${workers}`, { rtol: 1e-5, atol: 1e-6 });
    } finally {
      await inf.close();
    }
  }
  const { mkdtempSync, rmSync } = await import('node:fs'), { join } = await import('node:path'), { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rede-seq-'));
  try {
    await m.save(join(dir, 'seq.rede'));
    const back = await ModelClass.load(join(dir, 'seq.rede'));
    assertClose(back.forward(x), want, 'after save/load', { rtol: 0, atol: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every sequence layer type has a finite-difference case', () => {
  const covered = new Set<string>(cases.flatMap((c) => c.layers.map((l) => l.type)));
  assert.deepEqual(['embedding', 'masking', 'simple_rnn', 'lstm', 'gru', 'time_distributed'].filter((t) => !covered.has(t)), []);
});

test('recurrent backward({accumulate: true}) adds weight gradients (embedding too); dInput is written', async () => {
  const config: ModelConfig = { input: [4], layers: [{ type: 'embedding', name: 'e', inputDim: 5, outputDim: 3 }, { type: 'lstm', name: 'l', units: 3, returnSequences: true }, { type: 'gru', name: 'g', units: 2 }] };
  const names = ['e/embeddings', 'l/kernel', 'l/recurrent_kernel', 'l/bias', 'g/kernel', 'g/recurrent_kernel', 'g/bias'];
  for (const { name, e } of await modelEngines()) {
    await withModel(e, config, (m) => {
      randomizeParams(m, 3);
      const x = new Float32Array([1, 2, 3, 4, 0, 1, 1, 2]), dy = new Rng(4).array(4);
      m.forward(x);
      m.backward(dy);
      const g1 = names.map((k) => m.getGrad(k));
      m.backward(dy, { accumulate: true });
      names.forEach((k, i) => assertClose(m.getGrad(k), g1[i].map((v) => 2 * v), `${name} ${k} accumulated`, { rtol: 1e-6, atol: 1e-7 }));
    });
  }
});
