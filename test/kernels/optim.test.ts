// Optimizers: wasm against the reference over lengths around the SIMD width; several steps against the
// formulas written out again below in plain TypeScript (Adam's bias correction as divisions); and against
// tfjs's optimizers where the conventions agree (tfjs RMSprop: eps inside the sqrt, lr inside the momentum
// buffer — equal to PyTorch's for constant lr and negligible eps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { tfjs } from '../helpers/tfjs';
import { sgd, rmsprop, adam, adamw } from '../../src/ops/optim';
import type { Engine } from '../../src/engine/engine';
import type { Tensor } from '../../src/engine/tensor';
import {
  ADAM_DESC_BYTES, RMSPROP_DESC_BYTES, SGD_DESC_BYTES, writeAdamDesc, writeRmspropDesc, writeSgdDesc,
  type AdamDesc, type RmspropDesc, type SgdDesc,
} from '../../src/engine/generated/abi';

const LENGTHS = [1, 2, 3, 4, 5, 7, 8, 17, 100, 1001];
const STEPS = 4;

type Update = (e: Engine, k: 'wasm' | 'ref', p: Tensor, g: Tensor, s1: Tensor, s2: Tensor, t: number) => void;

/** Each update as (engine kernels or reference) over p, g and two state slots, for step t. */
function updates(ref: ReturnType<typeof import('../../src/ref/index').refKernels>): Record<string, Update> {
  const K = (e: Engine, k: 'wasm' | 'ref') => (k === 'wasm' ? e.k : ref);
  return {
    'sgd': (e, k, p, g, _a, _b, _t) => K(e, k).sgd_f32(sgdStep(e, { lr: 0.1, momentum: 0, nesterov: 0 }), p.ptr, g.ptr, 0, numelOf(p), 0, 0),
    'sgd momentum l2': (e, k, p, g, v) => K(e, k).sgd_f32(sgdStep(e, { lr: 0.05, momentum: 0.9, nesterov: 0 }), p.ptr, g.ptr, v.ptr, numelOf(p), 0, 1e-2),
    'sgd nesterov l1': (e, k, p, g, v) => K(e, k).sgd_f32(sgdStep(e, { lr: 0.05, momentum: 0.8, nesterov: 1 }), p.ptr, g.ptr, v.ptr, numelOf(p), 1e-2, 0),
    'rmsprop': (e, k, p, g, sq) => K(e, k).rmsprop_f32(rmspropStep(e, { lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0 }), p.ptr, g.ptr, sq.ptr, 0, numelOf(p), 0, 0),
    'rmsprop momentum l1 l2': (e, k, p, g, sq, buf) => K(e, k).rmsprop_f32(rmspropStep(e, { lr: 0.01, alpha: 0.9, eps: 1e-6, momentum: 0.9 }), p.ptr, g.ptr, sq.ptr, buf.ptr, numelOf(p), 1e-3, 1e-2),
    'adam': (e, k, p, g, m, v, t) => K(e, k).adam_f32(adamStep(e, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, bc1: 1 - 0.9 ** t, bc2: 1 - 0.999 ** t, wd: 0 }), p.ptr, g.ptr, m.ptr, v.ptr, numelOf(p), 0, 0),
    'adamw l1': (e, k, p, g, m, v, t) => K(e, k).adam_f32(adamStep(e, { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-7, bc1: 1 - 0.8 ** t, bc2: 1 - 0.99 ** t, wd: 0.1 }), p.ptr, g.ptr, m.ptr, v.ptr, numelOf(p), 1e-3, 0),
  };
}
const numelOf = (t: Tensor) => t.shape[0];
/** A step block (the kernels' hyper-parameter descriptor) in the arena, until the caller's release. */
const sgdStep = (e: Engine, d: SgdDesc): number => { const at = e.reserve(SGD_DESC_BYTES, 'sgd step'); writeSgdDesc(e, at, d); return at; };
const rmspropStep = (e: Engine, d: RmspropDesc): number => { const at = e.reserve(RMSPROP_DESC_BYTES, 'rmsprop step'); writeRmspropDesc(e, at, d); return at; };
const adamStep = (e: Engine, d: AdamDesc): number => { const at = e.reserve(ADAM_DESC_BYTES, 'adam step'); writeAdamDesc(e, at, d); return at; };

test('optimizer kernels match the reference over lengths and steps', async () => {
  const rng = new Rng(5);
  for (const { name, e, ref } of await testEngines()) {
    for (const [uname, u] of Object.entries(updates(ref))) {
      for (const n of LENGTHS) {
        const mark = e.mark();
        const p0 = rng.array(n, -1, 1);
        p0[0] = 0; // sign(0) = 0 for L1
        const z = new Float32Array(n); // state starts at zero (released arena memory is not cleared)
        const w = [e.tensor([n], p0), e.tensor([n], z), e.tensor([n], z)], r = [e.tensor([n], p0), e.tensor([n], z), e.tensor([n], z)];
        const g = e.tensor([n]);
        for (let t = 1; t <= STEPS; t++) {
          e.write(g.ptr, rng.array(n, -1, 1));
          u(e, 'wasm', w[0], g, w[1], w[2], t);
          u(e, 'ref', r[0], g, r[1], r[2], t);
        }
        for (let s = 0; s < 3; s++) assertClose(e.read(w[s].ptr, n), e.read(r[s].ptr, n), `${name} ${uname} n=${n} slot ${s}`, { rtol: 1e-5, atol: 1e-6 });
        e.release(mark);
      }
    }
  }
});

/** The formulas once more, plainly, over JS arrays (f64), one step each. */
const formulas = {
  nesterov(p: number[], g: number[], v: number[], lr: number, mu: number) {
    for (let i = 0; i < p.length; i++) { v[i] = mu * v[i] + g[i]; p[i] -= lr * (g[i] + mu * v[i]); }
  },
  rmsprop(p: number[], g: number[], sq: number[], lr: number, a: number, eps: number) {
    for (let i = 0; i < p.length; i++) { sq[i] = a * sq[i] + (1 - a) * g[i] ** 2; p[i] -= lr * g[i] / (Math.sqrt(sq[i]) + eps); }
  },
  adamw(p: number[], g: number[], m: number[], v: number[], t: number, lr: number, b1: number, b2: number, eps: number, wd: number) {
    for (let i = 0; i < p.length; i++) {
      p[i] -= lr * wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2;
      const mhat = m[i] / (1 - b1 ** t), vhat = v[i] / (1 - b2 ** t);
      p[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
    }
  },
};

test('several steps agree with the formulas written out (Nesterov SGD, RMSprop, Adam, AdamW)', async () => {
  for (const { name, e } of await testEngines()) {
    const n = 9, rng = new Rng(6);
    const init = Array.from(rng.array(n));
    const grads = Array.from({ length: 5 }, () => Array.from(rng.array(n)));
    const run = (kind: 'nesterov' | 'rmsprop' | 'adam' | 'adamw') => {
      const mark = e.mark();
      const p = e.tensor([n], init), g = e.tensor([n]), s1 = e.tensor([n], new Float32Array(n)), s2 = e.tensor([n], new Float32Array(n));
      const P = [...init], S1 = new Array(n).fill(0), S2 = new Array(n).fill(0);
      grads.forEach((gr, k) => {
        const t = k + 1;
        e.write(g.ptr, gr);
        const G = Array.from(e.read(g.ptr, n));
        if (kind === 'nesterov') { sgd(e, p, g, s1, { lr: 0.1, momentum: 0.9, nesterov: true }); formulas.nesterov(P, G, S1, 0.1, 0.9); }
        if (kind === 'rmsprop') { rmsprop(e, p, g, s1, null, { lr: 0.01, alpha: 0.9, eps: 1e-8 }); formulas.rmsprop(P, G, S1, 0.01, 0.9, 1e-8); }
        if (kind === 'adam') { adam(e, p, g, s1, s2, { lr: 0.01, step: t }); formulas.adamw(P, G, S1, S2, t, 0.01, 0.9, 0.999, 1e-8, 0); }
        if (kind === 'adamw') { adamw(e, p, g, s1, s2, { lr: 0.01, step: t, weightDecay: 0.1 }); formulas.adamw(P, G, S1, S2, t, 0.01, 0.9, 0.999, 1e-8, 0.1); }
      });
      assertClose(e.read(p.ptr, n), P, `${name} ${kind} params after 5 steps`, { rtol: 1e-5, atol: 1e-6 });
      assertClose(e.read(s1.ptr, n), S1, `${name} ${kind} state after 5 steps`, { rtol: 1e-5, atol: 1e-6 });
      e.release(mark);
    };
    run('nesterov'); run('rmsprop'); run('adam'); run('adamw');
  }
});

test('Adam, momentum (plain and Nesterov) and RMSprop agree with tfjs optimizers', async () => {
  const tf = await tfjs();
  const [{ e }] = await testEngines();
  const n = 13, steps = 5, rng = new Rng(7);
  const init = rng.array(n);
  const grads = Array.from({ length: steps }, () => rng.array(n));
  const cases: [string, () => InstanceType<typeof tf.Optimizer>, (p: Tensor, g: Tensor, s1: Tensor, s2: Tensor, t: number) => void][] = [
    ['adam', () => tf.train.adam(0.01, 0.9, 0.999, 1e-7), (p, g, m, v, t) => adam(e, p, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, step: t })],
    ['momentum', () => tf.train.momentum(0.05, 0.9, false), (p, g, v) => sgd(e, p, g, v, { lr: 0.05, momentum: 0.9 })],
    ['nesterov', () => tf.train.momentum(0.05, 0.9, true), (p, g, v) => sgd(e, p, g, v, { lr: 0.05, momentum: 0.9, nesterov: true })],
    // tfjs: mom = μ·mom + lr·g/sqrt(ms + eps); ours: buf = μ·buf + g/(sqrt(sq) + eps), p -= lr·buf. Equal for
    // constant lr with eps negligible against sqrt(sq).
    ['rmsprop', () => tf.train.rmsprop(0.01, 0.9, 0.8, 1e-10), (p, g, sq, buf) => rmsprop(e, p, g, sq, buf, { lr: 0.01, alpha: 0.9, momentum: 0.8, eps: 1e-10 })],
  ];
  for (const [what, make, ours] of cases) {
    const mark = e.mark();
    const p = e.tensor([n], init), g = e.tensor([n]), s1 = e.tensor([n], new Float32Array(n)), s2 = e.tensor([n], new Float32Array(n));
    const v = tf.variable(tf.tensor1d(init));
    const opt = make();
    for (let t = 1; t <= steps; t++) {
      e.write(g.ptr, grads[t - 1]);
      ours(p, g, s1, s2, t);
      const gt = tf.tensor1d(grads[t - 1]);
      opt.applyGradients({ [v.name]: gt });
      gt.dispose();
    }
    assertClose(e.read(p.ptr, n), v.dataSync(), `tfjs ${what} after ${steps} steps`, { rtol: 1e-4, atol: 1e-6 });
    opt.dispose(); v.dispose();
    e.release(mark);
  }
});

test('optimizer wrappers refuse bad input with RedeErrors', async () => {
  const [{ e }] = await testEngines();
  const p = e.tensor([3, 4]), g = e.tensor([12]), v = e.tensor([12]), w = e.tensor([11]);
  assert.throws(() => sgd(e, p, w, v, { lr: 0.1, momentum: 0.9 }), /sgd: g \[11\] must have as many elements as p \[3, 4\] \(12\)/);
  assert.throws(() => sgd(e, p, g, null, { lr: 0.1, momentum: 0.9 }), /sgd: momentum 0.9 needs a velocity tensor v of p's size \[3, 4\]/);
  assert.throws(() => sgd(e, p, g, v, { lr: -1 }), /sgd: lr must be in \[0, Infinity\), got -1/);
  assert.throws(() => sgd(e, p, p, v, { lr: 0.1 }), /sgd: p .* and g .* overlap/);
  assert.throws(() => adam(e, p, g, v, w, { lr: 0.1, step: 1 }), /adam: v \[11\] must have as many elements as p \[3, 4\]/);
  assert.throws(() => adam(e, p, g, v, e.tensor([12]), { lr: 0.1, step: 0 }), /adam: step must be an integer >= 1, got 0/);
  assert.throws(() => adamw(e, p, g, v, e.tensor([12]), { lr: 0.1, step: 1, beta2: 1 }), /adamw: beta2 must be in \[0, 1\), got 1/);
  assert.throws(() => rmsprop(e, p, g, { shape: [12], ptr: 8 }, null, { lr: 0.1 }), /rmsprop: sq at byte 8 .* outside the arena/);
});
