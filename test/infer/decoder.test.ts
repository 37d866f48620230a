// A small decoder (a DCGAN generator's shape: dense → reshape → conv2d_transpose s2 → batchnorm → relu →
// upsampling2d → conv2d_transpose → sigmoid), trained a few steps so its batch norm statistics are its own:
// Model.predict, InferenceModel.predict (1 and 2 threads) and the same lowered graph run by tfjs agree, and
// the model survives a .rede save and load (config, weights, state, predictions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { numelOf } from '../../src/layers/layer';
import { InferenceModel } from '../../src/infer/model';
import { lower } from '../../src/infer/lower';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { tfjs } from '../helpers/tfjs';
import { tfjsGraph } from '../helpers/tfjs-graph';

const decoder = (interpolation: 'nearest' | 'bilinear'): ModelConfig => ({
  name: `decoder-${interpolation}`, input: [8], layers: [
    { type: 'dense', name: 'fc', units: 3 * 3 * 8 },
    { type: 'reshape', name: 'to_map', shape: [3, 3, 8] },
    { type: 'conv2d_transpose', name: 'up1', filters: 6, kernel: 3, stride: 2, padding: 'same', useBias: false }, // → 6×6×6
    { type: 'batchnorm', name: 'bn', momentum: 0.5 },
    { type: 'relu', name: 'relu' },
    { type: 'upsampling2d', name: 'up2', size: 2, interpolation }, // → 12×12×6
    { type: 'conv2d_transpose', name: 'up3', filters: 1, kernel: 4, stride: 2, padding: 'valid', outputPadding: 1 }, // → 27×27×1
    { type: 'sigmoid', name: 'out' },
  ],
});

async function trained(e: Engine, config: ModelConfig): Promise<{ m: Model; x: Float32Array }> {
  const rng = new Rng(12), n = 24;
  const m = await Model.create(config, { engine: e, seed: 3 });
  assert.deepEqual(m.outputShape, [27, 27, 1], 'decoder output shape');
  const x = rng.array(n * 8), y = rng.array(n * 27 * 27, 0, 1);
  m.compile({ optimizer: { type: 'adam', lr: 0.01 }, loss: 'mse' });
  await m.fit(x, y, { epochs: 2, batchSize: 8, seed: 1, verbose: 0 });
  const mean = m.e.read(m.layers.find((L) => L.name === 'bn')!.s.running_mean, 6);
  assert.ok(mean.some((v) => v !== 0), 'batch norm learned running statistics');
  return { m, x };
}

for (const interpolation of ['nearest', 'bilinear'] as const) {
  test(`decoder (${interpolation}): Model.predict, InferenceModel.predict and tfjs on the lowered graph agree`, async () => {
    const e = await Engine.create();
    const { m, x } = await trained(e, decoder(interpolation));
    const expected = m.predict(x);
    assert.ok(expected.every((v) => v > 0 && v < 1), 'sigmoid outputs');
    for (const workers of [1, 2]) {
      const inf = await InferenceModel.from(m, { workers });
      try {
        const kinds = inf.summary.ops.map((op) => `${op.name}:${op.kind}`);
        for (const k of ['up1:layer', 'up2:layer', 'up3:layer', 'bn:batchnorm']) assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
        assertClose(inf.predict(x), expected, `${interpolation} InferenceModel workers=${workers}`, { rtol: 1e-5, atol: 1e-6 });
      } finally {
        await inf.close();
      }
    }
    const tf = await tfjs();
    const g = tfjsGraph(tf, lower(m));
    const ty = tf.tidy(() => g.forward(tf.tensor(x, [x.length / 8, 8]) as unknown as TF.Tensor4D).dataSync());
    g.dispose();
    assertClose(expected, ty, `${interpolation} tfjs on the lowered graph`, { rtol: 1e-4, atol: 1e-5 });
  });
}

test('decoder: a .rede save and load keeps config, weights, batch norm state and predictions', async () => {
  const e = await Engine.create();
  const dir = mkdtempSync(join(tmpdir(), 'rede-decoder-'));
  try {
    const { m, x } = await trained(e, decoder('bilinear'));
    const path = join(dir, 'decoder.rede');
    await m.save(path);
    const back = await Model.load(path, { engine: e });
    assert.deepEqual(back.config, m.config, 'config');
    for (const en of m.entries) assert.deepEqual(back.getWeight(en.key), m.getWeight(en.key), `${en.layer.name}.${en.name}`);
    const bn = (mm: Model) => { const L = mm.layers.find((l) => l.name === 'bn')!; return [...mm.e.read(L.s.running_mean, 6), ...mm.e.read(L.s.running_var, 6)]; };
    assert.deepEqual(bn(back), bn(m), 'batch norm running statistics');
    assert.deepEqual(back.predict(x), m.predict(x), 'predictions after load');
    const inf = await InferenceModel.from(back);
    try {
      assertClose(inf.predict(x), m.predict(x), 'InferenceModel of the loaded model', { rtol: 1e-5, atol: 1e-6 });
    } finally {
      await inf.close();
    }
    assert.equal(numelOf(back.outputShape), 27 * 27);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
