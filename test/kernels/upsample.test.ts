// UpSampling2D kernels (nearest and bilinear), forward and backward, against the reference on each wasm build
// over channels below/at/above the 4-lane vectors, factors 1–3 per axis, batch 1–3, with a sentinel past each
// output; backward by finite differences; a hand-computed bilinear table (half-pixel centers); and agreement
// with tfjs: tf.image.resizeNearestNeighbor, tf.layers.upSampling2d (nearest), tf.image.resizeBilinear with
// halfPixelCenters (Keras's UpSampling2D resizes that way), forward and gradient (see gradOf for two tfjs bugs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as TF from '@tensorflow/tfjs';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { gradcheck } from '../helpers/gradcheck';
import { tfjs } from '../helpers/tfjs';
import type { Engine } from '../../src/engine/engine';
import { UPSAMPLE_DESC_BYTES, writeUpsampleDesc, type UpsampleDesc } from '../../src/engine/generated/abi';

const CHANNELS = [1, 2, 3, 4, 5, 7, 8, 17];
const MODES = ['nearest', 'bilinear'] as const;
type Mode = (typeof MODES)[number];
const SENTINEL = 12345.5;

const kernel = (mode: Mode, dir: 'forward' | 'backward') => `upsample_${mode}_${dir}_f32` as const;

function descAt(e: Engine, d: UpsampleDesc): number {
  const at = e.reserve(UPSAMPLE_DESC_BYTES, 'upsample descriptor');
  writeUpsampleDesc(e, at, d);
  return at;
}

test('upsampling kernels match the reference over channels, factors and batch; nothing is written past the output', async () => {
  const rng = new Rng(41);
  for (const { name, e, ref } of await testEngines()) {
    for (const c of CHANNELS) for (const sizeH of [1, 2, 3]) for (const sizeW of [1, 2, 3]) for (const mode of MODES) {
      const d: UpsampleDesc = { n: rng.int(1, 4), h: rng.int(1, 6), w: rng.int(1, 6), c, sizeH, sizeW };
      const xn = d.n * d.h * d.w * c, yn = xn * sizeH * sizeW, what = `${name} ${mode} ${JSON.stringify(d)}`;
      const mark = e.mark(), desc = descAt(e, d);
      const x = e.tensor([xn], rng.array(xn)), dy = e.tensor([yn], rng.array(yn));
      const y = e.tensor([yn + 4], new Float32Array(yn + 4).fill(SENTINEL)), yr = e.tensor([yn]);
      const dx = e.tensor([xn + 4], new Float32Array(xn + 4).fill(SENTINEL)), dxr = e.tensor([xn]);
      e.k[kernel(mode, 'forward')](desc, x.ptr, y.ptr);
      ref[kernel(mode, 'forward')](desc, x.ptr, yr.ptr);
      assertClose(e.read(y.ptr, yn), e.read(yr.ptr, yn), `${what} forward`, { rtol: 1e-6, atol: 1e-6 });
      assert.deepEqual([...e.read(y.ptr + yn * 4, 4)], [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `${what}: forward wrote past y`);
      e.k[kernel(mode, 'backward')](desc, dy.ptr, dx.ptr);
      ref[kernel(mode, 'backward')](desc, dy.ptr, dxr.ptr);
      assertClose(e.read(dx.ptr, xn), e.read(dxr.ptr, xn), `${what} backward`, { rtol: 1e-5, atol: 1e-6 * sizeH * sizeW });
      assert.deepEqual([...e.read(dx.ptr + xn * 4, 4)], [SENTINEL, SENTINEL, SENTINEL, SENTINEL], `${what}: backward wrote past dx`);
      e.release(mark);
    }
  }
});

test('upsampling backward agrees with finite differences (wasm kernels)', async () => {
  const { e } = (await testEngines())[0];
  for (const mode of MODES) for (const d of [{ n: 2, h: 3, w: 4, c: 5, sizeH: 2, sizeW: 3 }, { n: 1, h: 4, w: 2, c: 3, sizeH: 3, sizeW: 1 }, { n: 2, h: 1, w: 3, c: 4, sizeH: 2, sizeW: 2 }]) {
    const xn = d.n * d.h * d.w * d.c, yn = xn * d.sizeH * d.sizeW, mark = e.mark(), desc = descAt(e, d);
    const x = e.tensor([xn], new Rng(3).array(xn)), y = e.tensor([yn]), dy = e.tensor([yn]), dx = e.tensor([xn]);
    gradcheck({
      e, inputs: [{ name: `x ${mode} ${JSON.stringify(d)}`, ptr: x.ptr, n: xn, grad: dx.ptr }], y: { ptr: y.ptr, n: yn }, dy: dy.ptr,
      forward: () => e.k[kernel(mode, 'forward')](desc, x.ptr, y.ptr), backward: () => e.k[kernel(mode, 'backward')](desc, dy.ptr, dx.ptr),
    });
    e.release(mark);
  }
});

test('bilinear upsampling by 2 uses half-pixel centers (tf.image.resize / Keras UpSampling2D), edges clamped', async () => {
  for (const { name, e, ref } of await testEngines()) {
    for (const [k, kname] of [[e.k, name], [ref, `${name} reference`]] as const) {
      const mark = e.mark(), desc = descAt(e, { n: 1, h: 2, w: 2, c: 1, sizeH: 2, sizeW: 2 });
      const x = e.tensor([4], [1, 2, 3, 4]), y = e.tensor([16]);
      k.upsample_bilinear_forward_f32(desc, x.ptr, y.ptr);
      // row r reads source row (r + ½)/2 − ½ ∈ {−¼ → 0, ¼, ¾, 1¼ → 1}; columns likewise
      assert.deepEqual([...e.read(y.ptr, 16)], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4], kname);
      e.release(mark);
    }
  }
});

/**
 * tfjs's gradient of the linear map f at x for dy. Nearest: tf.grads one example at a time (tfjs-backend-cpu
 * 4.22's ResizeNearestNeighborGrad offsets dy by the image's batch stride, wrong for batch > 1). Bilinear: that
 * version's ResizeBilinearGrad ignores halfPixelCenters (and returns [n, w, h, c]), so the gradient is built
 * from tfjs's forward instead: dx[i] = Σ f(e_i)·dy over the one-hot images e_i (f is linear: its Jacobian).
 */
function gradOf(tf: typeof TF, f: (t: TF.Tensor) => TF.Tensor, x: TF.Tensor4D, dy: TF.Tensor4D, mode: Mode): TF.Tensor {
  return tf.tidy(() => {
    const [, h, w, c] = x.shape, per = h * w * c;
    const one = (xi: TF.Tensor4D, dyi: TF.Tensor4D): TF.Tensor => {
      if (mode === 'nearest') return tf.grads((t: TF.Tensor) => f(t))([xi], dyi)[0];
      const basis = tf.reshape(tf.eye(per), [per, h, w, c]);
      return tf.reshape(tf.sum(tf.mul(f(basis), dyi), [1, 2, 3]), [1, h, w, c]);
    };
    const dys = tf.unstack(dy);
    return tf.concat(tf.unstack(x).map((xi, i) => one(xi.expandDims(0) as TF.Tensor4D, dys[i].expandDims(0) as TF.Tensor4D)));
  });
}

test('upsampling agrees with tfjs, forward and gradient (1e-4)', async () => {
  const tf = await tfjs();
  const { e } = (await testEngines())[0];
  const rng = new Rng(43);
  for (const [n, h, w, c, sizeH, sizeW] of [[2, 3, 4, 3, 2, 2], [1, 5, 5, 8, 3, 2], [3, 2, 3, 1, 1, 3], [2, 4, 4, 17, 2, 2], [1, 1, 2, 4, 3, 3]] as const) {
    const d = { n, h, w, c, sizeH, sizeW }, oh = h * sizeH, ow = w * sizeW, xn = n * h * w * c, yn = n * oh * ow * c;
    const xs = rng.array(xn), gs = rng.array(yn);
    const tx = tf.tensor4d(xs, [n, h, w, c]), tdy = tf.tensor4d(gs, [n, oh, ow, c]);
    const resize: Record<Mode, (t: TF.Tensor) => TF.Tensor> = {
      nearest: (t) => tf.image.resizeNearestNeighbor(t as TF.Tensor4D, [oh, ow], false, false),
      bilinear: (t) => tf.image.resizeBilinear(t as TF.Tensor4D, [oh, ow], false, true),
    };
    for (const mode of MODES) {
      const what = `${mode} ${JSON.stringify(d)}`, mark = e.mark(), desc = descAt(e, d);
      const x = e.tensor([xn], xs), y = e.tensor([yn]), dy = e.tensor([yn], gs), dx = e.tensor([xn]);
      e.k[kernel(mode, 'forward')](desc, x.ptr, y.ptr);
      e.k[kernel(mode, 'backward')](desc, dy.ptr, dx.ptr);
      const ty = resize[mode](tx), tdx = gradOf(tf, resize[mode], tx, tdy, mode);
      assertClose(e.read(y.ptr, yn), ty.dataSync(), `${what} forward vs tf.image`, { rtol: 1e-4, atol: 1e-5 });
      assertClose(e.read(dx.ptr, xn), tdx.dataSync(), `${what} gradient vs tfjs`, { rtol: 1e-4, atol: 1e-5 });
      if (mode === 'nearest') {
        const layer = tf.layers.upSampling2d({ size: [sizeH, sizeW] }), tl = layer.apply(tx) as TF.Tensor;
        assertClose(e.read(y.ptr, yn), tl.dataSync(), `${what} forward vs tf.layers.upSampling2d`, { rtol: 0, atol: 0 });
        tf.dispose(tl);
      }
      tf.dispose([ty, tdx]);
      e.release(mark);
    }
    tf.dispose([tx, tdy]);
  }
});
