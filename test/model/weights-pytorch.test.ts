// PyTorch's layout, against PyTorch itself: test/fixtures/pytorch-layout.json holds a seeded PyTorch net's
// state_dict, an input batch, its eval-mode outputs and its training-mode cross-entropy gradients (written by
// scripts/fixtures/pytorch-layout.py, which says how; no Python is needed here). The same net built in rede
// takes the state_dict with setWeights(…, { fromLayout: 'pytorch' }) — OIHW conv kernels, [out, in] dense
// kernels, and the dense layer after the flatten reading PyTorch's C,H,W order — and must predict the same
// outputs and compute the same gradients (exported back in PyTorch's layout) within 1e-4, on every engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ModelConfig } from '../../src/model/config';
import type { WeightTensorLike } from '../../src/model/weights';
import { modelEngines, withModel } from '../helpers/model';
import { assertClose } from '../helpers/close';

interface Fixture {
  state_dict: Record<string, WeightTensorLike>;
  x: WeightTensorLike;
  labels: number[];
  outputs_eval: WeightTensorLike;
  loss: number;
  grads: Record<string, WeightTensorLike>;
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/pytorch-layout.json', import.meta.url), 'utf8')) as Fixture;

/** The fixture's net, layer for layer (PyTorch's relu after fc1 is the dense layer's fused activation). */
const NET: ModelConfig = {
  name: 'pytorch-layout', input: [8, 8, 2], layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same' },
    { type: 'batchnorm', name: 'bn' },
    { type: 'relu', name: 'relu' },
    { type: 'maxpool2d', name: 'pool', pool: 2 },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'fc1', units: 10, activation: 'relu' },
    { type: 'dense', name: 'fc2', units: 3 },
  ],
};

/** A state_dict key as rede names it (the user's part of a port): module.weight → kernel or BN's gamma. */
function redeName(key: string): string {
  const [module, param] = key.split('.');
  const bn = module === 'bn';
  const name = { weight: bn ? 'gamma' : 'kernel', bias: bn ? 'beta' : 'bias' }[param] ?? param; // running_mean stays: an accepted alias
  return `${module}/${name}`;
}

/** NCHW → NHWC. */
function nhwc(t: WeightTensorLike): Float32Array {
  const [N, C, H, W] = t.shape, out = new Float32Array(t.data.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    out[((n * H + y) * W + x) * C + c] = t.data[((n * C + c) * H + y) * W + x];
  }
  return out;
}

const stateDict = new Map(Object.entries(fx.state_dict).map(([k, v]) => [redeName(k), v]));

test('a PyTorch state_dict loads with fromLayout pytorch: eval-mode predictions match PyTorch within 1e-4', async () => {
  const x = nhwc(fx.x);
  for (const { name, e } of await modelEngines()) {
    await withModel(e, NET, (m) => {
      m.setWeights(stateDict, { fromLayout: 'pytorch' });
      assertClose(m.predict(x), fx.outputs_eval.data, `${name}: outputs`, { rtol: 0, atol: 1e-4 });
      // Exported in PyTorch's layout, every tensor is the state_dict's exactly (the index maps are inverses).
      const back = m.getWeights({ layout: 'pytorch' });
      for (const [k, t] of Object.entries(fx.state_dict)) {
        const mine = back.get(redeName(k).replace('running_mean', 'moving_mean').replace('running_var', 'moving_variance'))!;
        assert.deepEqual(mine.shape, t.shape, `${name}: ${k} shape`);
        assert.deepEqual(mine.data, Float32Array.from(t.data), `${name}: ${k} values`);
      }
    });
  }
});

test('model.gradients(x, y) matches PyTorch\'s loss and gradients (training mode), exported in its layout', async () => {
  const x = nhwc(fx.x), y = Int32Array.from(fx.labels);
  for (const { name, e } of await modelEngines()) {
    await withModel(e, NET, (m) => {
      m.setWeights(stateDict, { fromLayout: 'pytorch' });
      m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
      const { loss, grads } = m.gradients(x, y, { layout: 'pytorch' });
      assert.ok(Math.abs(loss - fx.loss) <= 1e-5, `${name}: loss ${loss}, PyTorch ${fx.loss}`);
      assert.deepEqual([...grads.keys()].sort(), Object.keys(fx.grads).map(redeName).sort(), `${name}: one gradient per parameter`);
      for (const [k, g] of Object.entries(fx.grads)) {
        const mine = grads.get(redeName(k))!;
        assert.deepEqual(mine.shape, g.shape, `${name}: d${k} shape`);
        assertClose(mine.data, g.data, `${name}: d${k}`, { rtol: 0, atol: 1e-4 });
      }
    });
  }
});
