// AdaGrad and AdaDelta (Caffe's solver types; PyTorch's formulations are the same): wasm against the reference
// over lengths around the SIMD width with L1/L2; several steps against Caffe's update written out again; AdaDelta
// and both against torch.optim (a fixture written by PyTorch), and the Optimizer's configs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import { readFileSync } from 'node:fs';
import type { Engine } from '../../src/engine/engine';
import { ADADELTA_DESC_BYTES, ADAGRAD_DESC_BYTES, writeAdadeltaDesc, writeAdagradDesc } from '../../src/engine/generated/abi';
import { Optimizer } from '../../src/optim/optimizer';

const LENGTHS = [1, 2, 3, 4, 5, 7, 8, 17, 100, 1001];
const adagradStep = (e: Engine, lr: number, eps: number) => { const at = e.reserve(ADAGRAD_DESC_BYTES, 'adagrad step'); writeAdagradDesc(e, at, { lr, eps }); return at; };
const adadeltaStep = (e: Engine, lr: number, rho: number, eps: number) => { const at = e.reserve(ADADELTA_DESC_BYTES, 'adadelta step'); writeAdadeltaDesc(e, at, { lr, rho, eps }); return at; };

test('adagrad_f32 and adadelta_f32 match the reference over lengths and steps, with L1 and L2', async () => {
  const rng = new Rng(11);
  for (const { name, e, ref } of await testEngines()) {
    for (const kind of ['adagrad', 'adadelta'] as const) {
      for (const n of LENGTHS) {
        const mark = e.mark();
        const p0 = rng.array(n, -1, 1);
        p0[0] = 0;
        const z = new Float32Array(n);
        const w = [e.tensor([n], p0), e.tensor([n], z), e.tensor([n], z)], r = [e.tensor([n], p0), e.tensor([n], z), e.tensor([n], z)];
        const g = e.tensor([n]);
        for (let t = 1; t <= 4; t++) {
          e.write(g.ptr, rng.array(n, -1, 1));
          for (const [k, ts] of [[e.k, w], [ref, r]] as const) {
            if (kind === 'adagrad') k.adagrad_f32(adagradStep(e, 0.05, 1e-8), ts[0].ptr, g.ptr, ts[1].ptr, n, 1e-3, 1e-2);
            else k.adadelta_f32(adadeltaStep(e, 1, 0.95, 1e-6), ts[0].ptr, g.ptr, ts[1].ptr, ts[2].ptr, n, 1e-3, 1e-2);
          }
        }
        for (let s = 0; s < (kind === 'adagrad' ? 2 : 3); s++) assertClose(e.read(w[s].ptr, n), e.read(r[s].ptr, n), `${name} ${kind} n=${n} slot ${s}`, { rtol: 1e-5, atol: 1e-6 });
        e.release(mark);
      }
    }
  }
});

/** Caffe's updates (AdaGradSolver / AdaDeltaSolver::ComputeUpdateValue) in f64, with Caffe's L2 Regularize() first. */
const caffe = {
  adagrad(w: number[], g: number[], h: number[], lr: number, delta: number, wd: number) {
    for (let i = 0; i < w.length; i++) {
      const d = g[i] + wd * w[i];
      h[i] += d * d;
      w[i] -= lr * d / (Math.sqrt(h[i]) + delta);
    }
  },
  adadelta(w: number[], g: number[], h0: number[], h1: number[], lr: number, momentum: number, delta: number, wd: number) {
    for (let i = 0; i < w.length; i++) {
      const d = g[i] + wd * w[i];
      h0[i] = momentum * h0[i] + (1 - momentum) * d * d;
      const update = d * Math.sqrt((h1[i] + delta) / (h0[i] + delta));
      h1[i] = momentum * h1[i] + (1 - momentum) * update * update;
      w[i] -= lr * update;
    }
  },
};

test('AdaGrad and AdaDelta take Caffe\'s steps (weight decay included) over 6 steps', async () => {
  for (const { name, e } of await testEngines()) {
    const n = 11, rng = new Rng(12), init = Array.from(rng.array(n)), grads = Array.from({ length: 6 }, () => Array.from(rng.array(n)));
    for (const kind of ['adagrad', 'adadelta'] as const) {
      const mark = e.mark();
      const p = e.tensor([n], init), g = e.tensor([n]), s1 = e.tensor([n], new Float32Array(n)), s2 = e.tensor([n], new Float32Array(n));
      const W = [...init], H0 = new Array(n).fill(0), H1 = new Array(n).fill(0);
      for (const gr of grads) {
        e.write(g.ptr, gr);
        const G = Array.from(e.read(g.ptr, n));
        if (kind === 'adagrad') { e.k.adagrad_f32(adagradStep(e, 0.01, 1e-8), p.ptr, g.ptr, s1.ptr, n, 0, 5e-4); caffe.adagrad(W, G, H0, 0.01, 1e-8, 5e-4); }
        else { e.k.adadelta_f32(adadeltaStep(e, 1, 0.95, 1e-6), p.ptr, g.ptr, s1.ptr, s2.ptr, n, 0, 5e-4); caffe.adadelta(W, G, H0, H1, 1, 0.95, 1e-6, 5e-4); }
      }
      assertClose(e.read(p.ptr, n), W, `${name} ${kind} weights`, { rtol: 1e-5, atol: 1e-6 });
      assertClose(e.read(s1.ptr, n), H0, `${name} ${kind} history`, { rtol: 1e-5, atol: 1e-7 });
      if (kind === 'adadelta') assertClose(e.read(s2.ptr, n), H1, `${name} adadelta update history`, { rtol: 1e-4, atol: 1e-9 });
      e.release(mark);
    }
  }
});

test('AdaGrad and AdaDelta agree with torch.optim over 6 steps (test/fixtures/adaptive-optim.json, weight decay included)', async () => {
  // tfjs is no second opinion here: its adadelta divides by the accumulated squares of the previous step, and its
  // adagrad starts the accumulator at 0.1 and puts eps inside the root.
  const fx = JSON.parse(readFileSync(new URL('../fixtures/adaptive-optim.json', import.meta.url), 'utf8')) as {
    init: number[]; grads: number[][]; adagrad: { options: { lr: number; eps: number; weight_decay: number }; params: number[] };
    adadelta: { options: { lr: number; rho: number; eps: number; weight_decay: number }; params: number[] };
  };
  for (const { name, e } of await testEngines()) {
    const n = fx.init.length;
    for (const kind of ['adagrad', 'adadelta'] as const) {
      const mark = e.mark();
      const p = e.tensor([n], fx.init), g = e.tensor([n]), s1 = e.tensor([n], new Float32Array(n)), s2 = e.tensor([n], new Float32Array(n));
      for (const gr of fx.grads) {
        e.write(g.ptr, gr);
        if (kind === 'adagrad') { const o = fx.adagrad.options; e.k.adagrad_f32(adagradStep(e, o.lr, o.eps), p.ptr, g.ptr, s1.ptr, n, 0, o.weight_decay); }
        else { const o = fx.adadelta.options; e.k.adadelta_f32(adadeltaStep(e, o.lr, o.rho, o.eps), p.ptr, g.ptr, s1.ptr, s2.ptr, n, 0, o.weight_decay); }
      }
      assertClose(e.read(p.ptr, n), fx[kind].params, `${name} ${kind} against torch`, { rtol: 1e-5, atol: 1e-6 });
      e.release(mark);
    }
  }
});

test('Optimizer: adagrad and adadelta configs — state slots, defaults, checked options', () => {
  assert.equal(new Optimizer('adagrad').slots, 1);
  assert.equal(new Optimizer({ type: 'adadelta', rho: 0.95 } as never).slots, 2);
  assert.deepEqual(new Optimizer({ type: 'adadelta', rho: 0.95 } as never).config(), { type: 'adadelta', alpha: 0.95, lr: 1 });
  assert.equal(new Optimizer('adagrad').lr, 0.01);
  assert.throws(() => new Optimizer({ type: 'adagrad', momentum: 0.9 } as never), /optimizer adagrad: unknown option 'momentum'/);
  assert.throws(() => new Optimizer({ type: 'adadelta', alpha: 1 }), /alpha must be a finite number ≥ 0 and < 1, got 1/);
  assert.throws(() => new Optimizer('adamax' as never), /unknown type 'adamax' \(expected sgd, rmsprop, adam, adamw, adagrad, adadelta\)/);
});
