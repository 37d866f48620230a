// A layer defined only here — y = x², its forward described through an existing kernel (mul_f32) — joins
// model configs through defineLayer and then trains, predicts and runs in InferenceModel with no change to
// src/infer: the inference compiler emits its forwardCalls as a generic 'layer' op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { Model } from '../../src/api/model';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import { Layer, expectInputs, numelOf, type Call, type Shape, type Site, type Step } from '../../src/layers/layer';
import { buildLayer, defineLayer } from '../../src/layers/index';
import { InferenceModel } from '../../src/infer/model';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { gradcheckModel, withModel } from '../helpers/model';

class Square extends Layer {
  constructor(readonly cfg: { name: string }, inShapes: readonly Shape[]) {
    expectInputs(`square '${cfg.name}'`, inShapes, 1);
    super('square', cfg.name, inShapes, inShapes[0]);
  }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    return [['mul_f32', [x, x, y, batch * numelOf(this.outShape)]]];
  }
  /** dx = 2·x·dy. */
  backward(s: Step, [x]: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    const n = s.batch * numelOf(this.outShape);
    s.k.mul_f32(x, dy, dx, n);
    s.k.scale_inplace_f32(dx, n, 2);
  }
  config(): Record<string, unknown> { return { type: 'square', ...this.cfg }; }
}
defineLayer('square', {}, (cfg, inShapes) => new Square(cfg, inShapes));

const config = {
  name: 'square-net', input: [8, 8, 3], layers: [
    { type: 'conv2d', name: 'c1', filters: 4, kernel: 3, padding: 'same' },
    { type: 'square', name: 'sq1' },
    { type: 'maxpool2d', name: 'p', pool: 2 },
    { type: 'flatten', name: 'f' },
    { type: 'dense', name: 'd', units: 6 },
    { type: 'square', name: 'sq2' },
    { type: 'dense', name: 'o', units: 3 },
  ],
} as unknown as ModelConfig;

test('a layer defined outside rede: Model.predict and InferenceModel.predict (1 and 2 threads) agree', async () => {
  const rng = new Rng(11), e = await Engine.create();
  const m = await Model.create(config, { engine: e, seed: 5 });
  const x = rng.array(3 * numelOf(config.input), -1, 1);
  const expected = m.predict(x);
  for (const workers of [1, 2]) {
    const inf = await InferenceModel.from(m, { workers });
    try {
      const squares = inf.summary.ops.filter((op) => op.kind === 'layer').map((op) => op.name);
      assert.deepEqual(squares, ['sq1', 'sq2'], 'each square is a generic layer op');
      assertClose(inf.predict(x), expected, `square-net workers=${workers}`, { rtol: 1e-5, atol: 1e-6 });
    } finally {
      await inf.close();
    }
  }
  // The compile wrote the layers' descriptors for batch 1 on its own engine: the model's, for 3, must not
  // pass for them. One example after the compile is the first example of before.
  const per = numelOf(config.input), out = expected.length / 3;
  assertClose(m.predict(x.subarray(0, per)), expected.subarray(0, out), 'Model.predict after compiling', { rtol: 1e-6, atol: 1e-7 });
});

test('a layer defined outside rede computes its own function in both paths, and its gradients check', async () => {
  const e = await Engine.create();
  const only = { input: [5], layers: [{ type: 'square', name: 's' }] } as unknown as ModelConfig;
  const m = await Model.create(only, { engine: e, seed: 1 });
  const x = new Float32Array([-2, -0.5, 0, 1.5, 3, 0.25, -1, 2, -3, 4]);
  const want = x.map((v) => v * v);
  assert.deepEqual([...m.predict(x)], [...want], 'Model.predict: x²');
  const inf = await InferenceModel.from(m);
  assert.deepEqual([...inf.predict(x)], [...want], 'InferenceModel.predict: x²');
  await inf.close();
  // Its backward (2·x·dy) through a model with parameters on either side, against central differences.
  const net = { input: [4], layers: [{ type: 'dense', name: 'a', units: 5 }, { type: 'square', name: 'q' }, { type: 'dense', name: 'b', units: 2 }] } as unknown as ModelConfig;
  await withModel(e, net, (mm) => gradcheckModel(mm, new Rng(3).array(2 * 4), { training: true, samples: 40 }));
});

test('defineLayer refuses a built-in type; buildLayer names defined types among the expected ones', () => {
  assert.throws(() => defineLayer('relu', {}, (cfg, s) => new Square(cfg, s)), (err: unknown) => err instanceof RedeError && /'relu' is a built-in layer type/.test(err.message));
  assert.throws(() => defineLayer('Bad-Name', {}, (cfg, s) => new Square(cfg, s)), RedeError);
  assert.throws(() => buildLayer({ type: 'nope', name: 'z' } as unknown as LayerConfig & { name: string }, [[3]]),
    (err: unknown) => err instanceof RedeError && /unknown type 'nope' \(expected one of .*, square\)/.test(err.message));
  assert.throws(() => buildLayer({ type: 'square', name: 'z', alpha: 1 } as unknown as LayerConfig & { name: string }, [[3]]),
    (err: unknown) => err instanceof RedeError && /square 'z': unknown option 'alpha' \(expected none\)/.test(err.message));
});
