// Sequence models train with workers like the rest: an embedding (maskZero) → LSTM → GRU → dense model and a
// masking → simple_rnn one, and a bidirectional / returnState / initial-state one, fit with deterministic: true, give bitwise the same weights with 1 and 2 workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import { closeWorkers } from '../../src/parallel/groups';
import type { ModelConfig } from '../../src/model/config';
import { Rng } from '../helpers/rand';

const N = 48, T = 7;

const MODELS: { name: string; config: ModelConfig; x: (rng: Rng) => Float32Array }[] = [
  {
    name: 'embedding → lstm → gru → dense', config: { input: [T], layers: [
      { type: 'embedding', inputDim: 9, outputDim: 4, maskZero: true }, { type: 'lstm', units: 6, returnSequences: true },
      { type: 'gru', units: 5 }, { type: 'dense', units: 2 }] },
    // ids 1–8, trailing padding of varying length
    x: (rng) => Float32Array.from({ length: N * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 3) ? rng.int(1, 9) : 0)),
  },
  {
    name: 'masking → simple_rnn sequences → time_distributed', config: { input: [T, 3], layers: [
      { type: 'masking' }, { type: 'simple_rnn', units: 4, returnSequences: true, goBackwards: true }, { type: 'time_distributed', units: 1 }] },
    x: (rng) => { const x = rng.array(N * T * 3); for (let r = 0; r < N * T; r += 4) x.fill(0, r * 3, r * 3 + 3); return x; },
  },
  {
    name: 'bidirectional lstm → gru returnState → initial state of a gru → dense', config: { input: [T], layers: [
      { type: 'embedding', inputDim: 9, outputDim: 4, maskZero: true }, { type: 'bidirectional', name: 'bi', layer: 'lstm', units: 3, returnSequences: true },
      { type: 'gru', name: 'enc', units: 4, returnState: true }, { type: 'select', name: 'h', inputs: ['enc'], part: 'h' },
      { type: 'gru', units: 4, inputs: ['bi', 'h'], goBackwards: true }, { type: 'dense', units: 2 }] },
    x: (rng) => Float32Array.from({ length: N * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 3) ? rng.int(1, 9) : 0)),
  },
];

for (const { name, config, x: makeX } of MODELS) {
  test(`${name}: deterministic training gives the same weights with 1 and 2 workers`, async () => {
    const rng = new Rng(51), x = makeX(rng);
    const outN = N * (config.layers.at(-1)!.type === 'time_distributed' ? T : 2);
    const y = rng.array(outN);
    const weights: Float32Array[] = [];
    for (const workers of [1, 2]) {
      const m = await Model.create(config, { seed: 3 });
      m.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: 'mse' });
      const before = m.e.read(m.params, m.paramFloats);
      const h = await m.fit(x, y, { workers, deterministic: true, batchSize: 16, epochs: 2, seed: 4 });
      assert.ok(h.history.loss.every(Number.isFinite));
      weights.push(m.e.read(m.params, m.paramFloats));
      assert.notDeepEqual(weights.at(-1), before, 'training moved the weights');
      await closeWorkers(m.trainer!);
    }
    assert.deepEqual(weights[1], weights[0]);
  });
}
