// conv2d_transpose: a sweep through the model (forward, dInput, dW, db) against the plain reference
// (src/ref/conv-transpose.ts: a scatter sharing nothing with the conv kernels the layer runs) on each wasm
// build and the reference kernels; Keras's output sizes; agreement with @tensorflow/tfjs (tf.conv2dTranspose
// and tf.layers.conv2dTranspose with the same weights) forward and for every gradient; bad configs.
// Finite differences: test/layers/gradcheck.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { tfjs } from '../helpers/tfjs';
import { modelEngines, withModel } from '../helpers/model';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { Engine } from '../../src/engine/engine';
import { RedeError } from '../../src/engine/errors';
import { buildLayer } from '../../src/layers/index';
import { Conv2DTranspose } from '../../src/layers/conv2d-transpose';
import type { LayerConfig, ModelConfig } from '../../src/model/config';
import type { Model } from '../../src/api/model';
import { convTransposeBackwardRef, convTransposeRef, convTransposeRefGeom, type ConvTransposeRefGeom } from '../../src/ref/conv-transpose';

type Pad = 'same' | 'valid';
interface Case { n: number; h: number; w: number; cin: number; filters: number; kernel: [number, number]; stride: [number, number]; padding: Pad; outputPadding?: [number, number]; relu?: boolean }

const layerOf = (c: Case): LayerConfig => ({
  type: 'conv2d_transpose', name: 't', filters: c.filters, kernel: c.kernel, stride: c.stride, padding: c.padding,
  ...(c.outputPadding ? { outputPadding: c.outputPadding } : {}), ...(c.relu ? { activation: 'relu' as const } : {}),
});
const refGeom = (c: Case): ConvTransposeRefGeom => convTransposeRefGeom(c);

/** TensorFlow's rule: the output maps back onto the input ('same' with an explicit output padding can fail it). */
function consistent(g: ConvTransposeRefGeom): boolean {
  const back = (size: number, k: number, s: number): number => (g.padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1);
  return back(g.oh, g.kernel[0], g.stride[0]) === g.h && back(g.ow, g.kernel[1], g.stride[1]) === g.w;
}

/** Sets random weights, runs forward and backward; returns what the model computed. */
function run(m: Model, c: Case, rng: Rng): { x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array; y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const g = refGeom(c);
  const w = rng.array(c.kernel[0] * c.kernel[1] * c.filters * c.cin), b = rng.array(c.filters);
  m.setWeight('t/kernel', w); m.setWeight('t/bias', b);
  const x = rng.array(c.n * c.h * c.w * c.cin), dy = rng.array(c.n * g.oh * g.ow * c.filters);
  const y = m.forward(x, { training: true });
  const dx = m.backward(dy);
  return { x, w, b, dy, y, dx, dw: m.getGrad('t/kernel'), db: m.getGrad('t/bias') };
}

test('conv2d_transpose matches the reference over strides 1–3, kernels 1–5, same/valid, output padding, channels 1–8, batch 1–3', async () => {
  const rng = new Rng(31);
  let checked = 0, rejected = 0;
  for (const s of [1, 2, 3]) for (let k = 1; k <= 5; k++) for (const padding of ['same', 'valid'] as const) {
    for (const op of [undefined, 0, 1].filter((p) => p === undefined || p < s)) {
      // a second axis that differs (non-square kernels and strides), its output padding below its stride
      const sw = rng.int(1, 4), kw = rng.int(1, 6);
      const c: Case = {
        n: rng.int(1, 4), h: rng.int(1, 6), w: rng.int(1, 6), cin: rng.int(1, 9), filters: rng.int(1, 9), kernel: [k, kw], stride: [s, sw], padding,
        outputPadding: op === undefined ? undefined : [op, Math.min(op, sw - 1)],
      };
      const what = JSON.stringify(c), g = refGeom(c);
      const config: ModelConfig = { input: [c.h, c.w, c.cin], layers: [layerOf(c)] };
      if (!consistent(g)) {
        // 'same', an even kernel and an explicit output padding: no convolution maps the output back (TensorFlow rejects it too)
        // (or an empty output: 'same', an even kernel, one row or column)
        const re = g.oh < 1 || g.ow < 1 ? /give an empty/ : /whose convolution back is/;
        assert.throws(() => buildLayer({ ...layerOf(c), name: 't' }, [[c.h, c.w, c.cin]]), (err: Error) => err instanceof RedeError && re.test(err.message), what);
        rejected++;
        continue;
      }
      const expected = (r: ReturnType<typeof run>) => ({ y: convTransposeRef(g, r.x, r.w, r.b), ...convTransposeBackwardRef(g, r.x, r.w, r.dy) });
      for (const { name, e } of await modelEngines()) {
        await withModel(e, config, (m) => {
          assert.deepEqual(m.outputShape, [g.oh, g.ow, c.filters], `${name} ${what}: output shape`);
          const r = run(m, c, new Rng(checked + 1)), want = expected(r);
          const taps = c.kernel[0] * c.kernel[1];
          assertClose(r.y, want.y, `${name} ${what} y`, { rtol: 1e-5, atol: 1e-6 * taps * c.cin });
          assertClose(r.dx, want.dx, `${name} ${what} dx`, { rtol: 1e-5, atol: 1e-6 * taps * c.filters });
          assertClose(r.dw, want.dw, `${name} ${what} dw`, { rtol: 1e-5, atol: 1e-6 * c.n * c.h * c.w });
          assertClose(r.db, want.db, `${name} ${what} db`, { rtol: 1e-5, atol: 1e-6 * c.n * g.oh * g.ow });
        });
      }
      checked++;
    }
  }
  assert.ok(checked >= 60 && rejected >= 4, `${checked} geometries checked, ${rejected} rejected`);
});

test('conv2d_transpose with a fused ReLU: y = max(0, ·), and dy is masked where y is 0', async () => {
  const c: Case = { n: 2, h: 3, w: 4, cin: 3, filters: 5, kernel: [3, 3], stride: [2, 2], padding: 'same', relu: true };
  const g = refGeom(c);
  for (const { name, e } of await modelEngines()) {
    await withModel(e, { input: [c.h, c.w, c.cin], layers: [layerOf(c)] }, (m) => {
      const r = run(m, c, new Rng(5));
      const pre = convTransposeRef(g, r.x, r.w, r.b);
      assertClose(r.y, pre.map((v) => Math.max(v, 0)), `${name} relu y`, { rtol: 1e-5, atol: 1e-5 });
      const want = convTransposeBackwardRef(g, r.x, r.w, r.dy.map((d, i) => (pre[i] > 0 ? d : 0)));
      assertClose(r.dx, want.dx, `${name} relu dx`, { rtol: 1e-5, atol: 1e-5 });
      assertClose(r.dw, want.dw, `${name} relu dw`, { rtol: 1e-5, atol: 1e-5 });
      assertClose(r.db, want.db, `${name} relu db`, { rtol: 1e-5, atol: 1e-5 });
    });
  }
});

test('conv2d_transpose with a fused tanh, sigmoid, leaky_relu or elu equals the linear layer followed by that activation layer', async () => {
  const c: Case = { n: 2, h: 3, w: 3, cin: 2, filters: 3, kernel: [3, 3], stride: [2, 2], padding: 'same' };
  const acts: [LayerConfig, Partial<LayerConfig>][] = [
    [{ type: 'tanh' }, { activation: 'tanh' }], [{ type: 'sigmoid' }, { activation: 'sigmoid' }],
    [{ type: 'leaky_relu', alpha: 0.2 }, { activation: 'leaky_relu', alpha: 0.2 }], [{ type: 'elu', alpha: 0.7 }, { activation: 'elu', alpha: 0.7 }],
  ];
  for (const { name, e } of await modelEngines()) {
    for (const [layer, fused] of acts) {
      const got = await withModel(e, { input: [c.h, c.w, c.cin], layers: [{ ...layerOf(c), ...fused } as LayerConfig] }, (m) => run(m, c, new Rng(9)));
      const want = await withModel(e, { input: [c.h, c.w, c.cin], layers: [layerOf(c), layer] }, (m) => run(m, c, new Rng(9)));
      for (const k of ['y', 'dx', 'dw', 'db'] as const) assertClose(got[k], want[k], `${name} ${layer.type} ${k}`, { rtol: 1e-6, atol: 1e-6 });
    }
  }
});

test('conv2d_transpose output sizes are Keras\'s (deconv_output_length)', () => {
  const out = (h: number, o: Partial<LayerConfig & { type: 'conv2d_transpose' }>) =>
    (buildLayer({ type: 'conv2d_transpose', name: 't', filters: 2, kernel: 3, ...o } as LayerConfig & { name: string }, [[h, h, 1]]) as Conv2DTranspose).outShape[0];
  // hand-computed from the two formulas in src/layers/conv2d-transpose.ts
  assert.equal(out(7, { stride: 2, padding: 'same' }), 14);
  assert.equal(out(7, { stride: 2, padding: 'valid' }), 15);
  assert.equal(out(7, { stride: 2, padding: 'valid', outputPadding: 1 }), 16);
  assert.equal(out(7, { stride: 2, padding: 'same', outputPadding: 1 }), 14); // (7 − 1)·2 + 3 − 2 + 1
  assert.equal(out(7, { stride: 2, padding: 'same', outputPadding: 0 }), 13); // an explicit 0 is not "unset"
  assert.equal(out(7, { kernel: 2, stride: 3, padding: 'valid' }), 21); // k < s: h·s
  assert.equal(out(7, { kernel: 2, stride: 3, padding: 'valid', outputPadding: 0 }), 20); // (7 − 1)·3 + 2
  assert.equal(out(7, { kernel: 4, stride: 2, padding: 'same' }), 14);
  assert.equal(out(7, { kernel: 5, stride: 1, padding: 'valid' }), 11);
  assert.equal(out(4, { kernel: 1, stride: 1 }), 4);
});

/** tfjs's conv2dTranspose plus bias, on tensors. */
function tfTranspose(tf: typeof TF, c: Case, outShape: [number, number, number, number]) {
  return (x: TF.Tensor, w: TF.Tensor, b: TF.Tensor): TF.Tensor =>
    tf.add(tf.conv2dTranspose(x as TF.Tensor4D, w as TF.Tensor4D, outShape, c.stride, c.padding), b);
}

test('conv2d_transpose agrees with tfjs: tf.conv2dTranspose forward and tf.grads for x, kernel and bias (1e-4)', async () => {
  const tf = await tfjs();
  const cases: Case[] = [
    { n: 2, h: 4, w: 4, cin: 3, filters: 5, kernel: [3, 3], stride: [2, 2], padding: 'same' },
    { n: 1, h: 5, w: 3, cin: 2, filters: 4, kernel: [4, 4], stride: [2, 2], padding: 'same' },
    { n: 3, h: 3, w: 4, cin: 4, filters: 2, kernel: [5, 3], stride: [3, 2], padding: 'valid' },
    { n: 2, h: 3, w: 3, cin: 6, filters: 3, kernel: [2, 2], stride: [3, 3], padding: 'valid' },
    { n: 2, h: 4, w: 5, cin: 3, filters: 3, kernel: [3, 3], stride: [2, 2], padding: 'same', outputPadding: [1, 1] },
    { n: 1, h: 3, w: 4, cin: 2, filters: 5, kernel: [4, 3], stride: [2, 3], padding: 'valid', outputPadding: [1, 2] },
    { n: 2, h: 6, w: 6, cin: 8, filters: 8, kernel: [5, 5], stride: [1, 1], padding: 'same' },
    { n: 2, h: 3, w: 3, cin: 1, filters: 1, kernel: [1, 1], stride: [2, 2], padding: 'valid', outputPadding: [1, 0] },
    // a larger map (the conv kernels' own tests cover their tiling)
    { n: 2, h: 12, w: 10, cin: 4, filters: 3, kernel: [3, 3], stride: [2, 2], padding: 'same' },
  ];
  for (const { name, e } of await modelEngines()) {
    for (const c of cases) {
      const g = refGeom(c), what = `${name} ${JSON.stringify(c)}`;
      await withModel(e, { input: [c.h, c.w, c.cin], layers: [layerOf(c)] }, (m) => {
        const r = run(m, c, new Rng(7));
        const tx = tf.tensor4d(r.x, [c.n, c.h, c.w, c.cin]), tw = tf.tensor4d(r.w, [c.kernel[0], c.kernel[1], c.filters, c.cin]);
        const tb = tf.tensor1d(r.b), tdy = tf.tensor4d(r.dy, [c.n, g.oh, g.ow, c.filters]);
        const f = tfTranspose(tf, c, [c.n, g.oh, g.ow, c.filters]);
        const ty = f(tx, tw, tb);
        assertClose(r.y, ty.dataSync(), `${what} y`, { rtol: 1e-4, atol: 1e-4 });
        const [gx, gw, gb] = tf.grads((a: TF.Tensor, b: TF.Tensor, bb: TF.Tensor) => f(a, b, bb))([tx, tw, tb], tdy);
        assertClose(r.dx, gx.dataSync(), `${what} dx`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(r.dw, gw.dataSync(), `${what} dw`, { rtol: 1e-4, atol: 1e-4 });
        assertClose(r.db, gb.dataSync(), `${what} db`, { rtol: 1e-4, atol: 1e-4 });
        tf.dispose([tx, tw, tb, tdy, ty, gx, gw, gb]);
      });
    }
  }
});

test('conv2d_transpose agrees with tf.layers.conv2dTranspose given the same kernel and bias: output shape and values', async () => {
  const tf = await tfjs();
  const e = await Engine.create();
  for (const [k, s, padding] of [[3, 2, 'same'], [3, 2, 'valid'], [2, 3, 'valid'], [4, 2, 'same'], [5, 1, 'valid']] as const) {
    const c: Case = { n: 2, h: 4, w: 3, cin: 3, filters: 4, kernel: [k, k], stride: [s, s], padding };
    await withModel(e, { input: [c.h, c.w, c.cin], layers: [layerOf(c)] }, (m) => {
      const r = run(m, c, new Rng(k * 10 + s));
      const layer = tf.layers.conv2dTranspose({ filters: c.filters, kernelSize: k, strides: s, padding, useBias: true });
      const tx = tf.tensor4d(r.x, [c.n, c.h, c.w, c.cin]);
      layer.apply(tx); // builds the weights
      layer.setWeights([tf.tensor4d(r.w, [k, k, c.filters, c.cin]), tf.tensor1d(r.b)]);
      const ty = layer.apply(tx) as TF.Tensor;
      const what = `k=${k} s=${s} ${padding}`;
      assert.deepEqual(ty.shape.slice(1), m.outputShape, `${what}: output shape`);
      assertClose(r.y, ty.dataSync(), `${what}: y`, { rtol: 1e-4, atol: 1e-4 });
      tf.dispose([tx, ty]);
      layer.dispose();
    });
  }
});

test('conv2d_transpose: bad configs are errors naming the layer and the option', () => {
  const bad: [Record<string, unknown>, number[], RegExp][] = [
    [{ kernel: 3 }, [4, 4, 2], /conv2d_transpose 't': filters must be a positive integer, got undefined/],
    [{ filters: 0, kernel: 3 }, [4, 4, 2], /filters must be a positive integer, got 0/],
    [{ filters: 2, kernel: 0 }, [4, 4, 2], /kernel must be a positive integer or \[h, w\] of them, got 0/],
    [{ filters: 2, kernel: 3, stride: [2, 0] }, [4, 4, 2], /stride must be a positive integer or \[h, w\] of them, got \[2,0\]/],
    [{ filters: 2, kernel: 3, stride: 2, outputPadding: 2 }, [4, 4, 2], /outputPadding must be an integer >= 0 and below the stride \(Keras's rule\), got 2 for the rows with stride 2/],
    [{ filters: 2, kernel: 3, outputPadding: [0, 1] }, [4, 4, 2], /got 1 for the columns with stride 1/],
    [{ filters: 2, kernel: 4, stride: 2, padding: 'same', outputPadding: 0 }, [4, 4, 2], /give a 6×6 output, whose convolution back is 3×3, not the 4×4 input/],
    [{ filters: 2, kernel: 2, padding: 'same', outputPadding: 0 }, [1, 3, 2], /kernel 2×2, stride 1×1, padding 'same' and outputPadding 0 give an empty 0×2 output for the 1×3 input/],
    [{ filters: 2, kernel: 3, padding: 1 }, [4, 4, 2], /conv2d_transpose 't': padding must be one of 'same', 'valid', got 1/],
    [{ filters: 2, kernel: 3, activation: 'softmax' }, [4, 4, 2], /conv2d_transpose 't': activation 'softmax' is not fused here \(a softmax over channels is a layer of its own\)/],
    [{ filters: 2, kernel: 3, activation: 'swish' }, [4, 4, 2], /conv2d_transpose 't': activation must be one of 'linear', .*, got 'swish'/],
    [{ filters: 2, kernel: 3, activation: 'tanh', alpha: 0.1 }, [4, 4, 2], /conv2d_transpose 't': alpha applies to activation 'leaky_relu' or 'elu', not 'tanh'/],
    [{ filters: 2, kernel: 3, strides: 2 }, [4, 4, 2], /unknown option 'strides' \(expected filters, kernel, stride, padding, outputPadding,/],
    [{ filters: 2, kernel: 3 }, [16], /input must be \[h, w, c\] per example, got \[16\]/],
  ];
  for (const [o, shape, re] of bad) {
    assert.throws(() => buildLayer({ type: 'conv2d_transpose', name: 't', ...o } as unknown as LayerConfig & { name: string }, [shape]),
      (err: Error) => err instanceof RedeError && re.test(err.message), `${JSON.stringify(o)} on ${JSON.stringify(shape)} → ${re}`);
  }
});
