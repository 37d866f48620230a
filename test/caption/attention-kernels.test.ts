// Soft additive attention kernels (assembly/attention.ts) against the reference (src/ref/attention.ts, f64 loops
// with the softmax Jacobian written out): sizes below, at and above the 4-lane vectors, one position, sentinels
// past every output, and accumulation into dpa / dw / dfeats; then central differences of the backward itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEngines } from '../helpers/engines';
import { Rng } from '../helpers/rand';
import { assertClose } from '../helpers/close';
import type { Engine } from '../../src/engine/engine';
import type { Kernels } from '../../src/engine/generated/kernels';

const SENTINEL = 12345.5;

interface Regions { pa: number; ph: number; w: number; feats: number; u: number; alpha: number; ctx: number; dctx: number; dalpha: number; dpa: number; dph: number; dw: number; dfeats: number; scratch: number }

function sizes(n: number, L: number, D: number, A: number): Record<keyof Regions, number> {
  return { pa: n * L * A, ph: n * A, w: A, feats: n * L * D, u: n * L * A, alpha: n * L, ctx: n * D, dctx: n * D, dalpha: n * L, dpa: n * L * A, dph: n * A, dw: A, dfeats: n * L * D, scratch: L };
}

/** Every region with one sentinel float after it; inputs random, accumulators random too (they must add). */
function setup(e: Engine, rng: Rng, n: number, L: number, D: number, A: number): Regions {
  const r = {} as Regions;
  for (const [k, len] of Object.entries(sizes(n, L, D, A)) as [keyof Regions, number][]) {
    r[k] = e.reserve(4 * (len + 1), k);
    e.write(r[k], rng.array(len, k === 'pa' || k === 'ph' ? -2 : -1, k === 'pa' || k === 'ph' ? 2 : 1));
    e.f32[(r[k] >>> 2) + len] = SENTINEL;
  }
  return r;
}

function run(k: Kernels, r: Regions, n: number, L: number, D: number, A: number, withDalpha: boolean): void {
  k.attention_forward_f32(n, L, D, A, r.pa, r.ph, r.w, r.feats, r.u, r.alpha, r.ctx);
  k.attention_backward_f32(n, L, D, A, r.w, r.feats, r.u, r.alpha, r.dctx, withDalpha ? r.dalpha : 0, r.dpa, r.dph, r.dw, r.dfeats, r.scratch);
}

test('attention forward and backward match the reference over a sweep of sizes', async () => {
  const rng = new Rng(5);
  for (const { name, e, ref } of await testEngines()) {
    for (const [n, L, D, A] of [[1, 1, 1, 1], [2, 3, 4, 4], [3, 5, 3, 7], [1, 7, 9, 5], [2, 16, 8, 8], [4, 64, 66, 64], [1, 9, 17, 13], [2, 4, 5, 3], [1, 6, 2, 9]]) {
      const mark = e.mark();
      const a = setup(e, new Rng(rng.int(0, 1e9)), n, L, D, A), seed = rng.int(0, 1e9), b = setup(e, new Rng(seed), n, L, D, A);
      // Same inputs in both: copy a's initial values into b.
      for (const k of Object.keys(a) as (keyof Regions)[]) { const len = sizes(n, L, D, A)[k]; e.write(b[k], e.read(a[k], len)); }
      const withDalpha = rng.next() < 0.5;
      run(e.k, a, n, L, D, A, withDalpha);
      run(ref, b, n, L, D, A, withDalpha);
      const what = `${name} n=${n} L=${L} D=${D} A=${A} dalpha=${withDalpha}`;
      for (const k of ['u', 'alpha', 'ctx', 'dpa', 'dph', 'dw', 'dfeats'] as const) {
        const len = sizes(n, L, D, A)[k];
        assertClose(e.read(a[k], len), e.read(b[k], len), `${what} ${k}`, { rtol: 1e-4, atol: 2e-5 });
        assert.equal(e.f32[(a[k] >>> 2) + len], SENTINEL, `${what}: ${k} wrote past its end`);
      }
      let s = 0;
      for (const v of e.read(a.alpha, L)) s += v;
      assert.ok(Math.abs(s - 1) < 1e-5, `${what}: α sums to ${s}`);
      e.release(mark);
    }
  }
});

test('attention backward matches central differences of a loss through the context', async () => {
  const { e } = (await testEngines())[0];
  const n = 2, L = 5, D = 3, A = 6, rng = new Rng(9), mark = e.mark();
  const r = setup(e, rng, n, L, D, A);
  const dctx = e.read(r.dctx, n * D), dalpha = e.read(r.dalpha, n * L);
  // L = Σ dctx ⊙ ctx + Σ dalpha ⊙ α, so dL/dctx = dctx and dL/dα = dalpha; the accumulators start at zero.
  const lossAt = () => {
    e.k.attention_forward_f32(n, L, D, A, r.pa, r.ph, r.w, r.feats, r.u, r.alpha, r.ctx);
    const c = e.read(r.ctx, n * D), a = e.read(r.alpha, n * L);
    let s = 0;
    for (let i = 0; i < c.length; i++) s += c[i] * dctx[i];
    for (let i = 0; i < a.length; i++) s += a[i] * dalpha[i];
    return s;
  };
  for (const k of ['dpa', 'dw', 'dfeats'] as const) e.k.fill_f32(r[k], sizes(n, L, D, A)[k], 0);
  lossAt();
  e.k.attention_backward_f32(n, L, D, A, r.w, r.feats, r.u, r.alpha, r.dctx, r.dalpha, r.dpa, r.dph, r.dw, r.dfeats, r.scratch);
  const eps = 1e-2;
  for (const [x, g] of [['pa', 'dpa'], ['ph', 'dph'], ['w', 'dw'], ['feats', 'dfeats']] as const) {
    const len = sizes(n, L, D, A)[x], grad = e.read(r[g], len);
    for (let i = 0; i < len; i++) {
      const at = (r[x] >>> 2) + i, v = e.f32[at];
      e.f32[at] = v + eps; const lp = lossAt();
      e.f32[at] = v - eps; const lm = lossAt();
      e.f32[at] = v;
      const fd = (lp - lm) / (2 * eps);
      assert.ok(Math.abs(fd - grad[i]) <= 1e-3 + 1e-2 * Math.abs(fd), `${x}[${i}]: analytic ${grad[i]}, central difference ${fd}`);
    }
  }
  e.release(mark);
});
