// Finite differences of the attention decoder's whole teacher-forced loss (src/caption/decoder.ts): every
// parameter tensor (a sample of entries each) and the feature grid, on a tiny instance with captions of
// different lengths (PAD targets ignored), on the wasm kernels and on the reference engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { AttentionDecoder } from '../../src/caption/decoder';
import { Rng } from '../helpers/rand';

const S = { L: 5, D: 6, A: 4, H: 5, M: 3, V: 7 };
const N = 3, STRIDE = 5, START = 1;
// Rows: words then END (2) then PAD (0).
const TARGETS = Int32Array.from([3, 4, 5, 2, 0, 6, 2, 0, 0, 0, 3, 3, 6, 5, 2]);

async function setup(variant: 'simd' | 'ref', centre: boolean, location: boolean, sharpenWords: readonly number[] | null = null) {
  const e = await Engine.create({ variant });
  // With the attention-entropy term on, so its gradient is checked too; on the reference engine the LSTM sees
  // only the last two context channels (lstmContext), on the wasm one all of them. The centred-context variant
  // (z_t − ā) runs with constant h₀, c₀, as the experiment does, and with h₀, c₀ from the mean. Location-aware
  // attention needs a square grid: L = 9 (3×3) there, so every cell has neighbours outside the grid or inside.
  const dec = new AttentionDecoder(e, location ? { ...S, L: 9 } : S, N, STRIDE, 7, 0, !(centre && variant === 'simd'), 0.3, variant === "ref" ? 2 : S.D, centre, location);
  if (sharpenWords) dec.sharpenWords = new Set(sharpenWords);
  const rng = new Rng(3);
  // Larger-than-initial weights, so attention is far from uniform and every path carries gradient.
  // W_l and w larger with location-aware attention, so that the attention is far from flat and the path from one
  // step's attention to the next one's energies carries a visible share of every gradient.
  for (const en of dec.entries) e.write(dec.params + 4 * en.offset, rng.array(en.n, ['wl', 'wv'].includes(en.name) && location ? -4 : -0.7, ['wl', 'wv'].includes(en.name) && location ? 4 : 0.7));
  const feats = e.tensor([N, dec.s.L, S.D], rng.array(N * dec.s.L * S.D, -1, 1)).ptr;
  return { e, dec, feats };
}

// The last case applies the entropy term only on the steps whose targets are words 3 and 6 (sharpenWords).
const CASES = [['simd', false, false, null], ['ref', false, false, null], ['simd', true, false, null], ['ref', true, false, null], ['simd', true, true, null], ['ref', false, true, null],
  ['simd', false, true, [3, 6]]] as const;
for (const [variant, centre, location, words] of CASES) {
  test(`decoder gradients match central differences (${variant}${centre ? ', centred context' : ''}${location ? ', location-aware' : ''}${words ? ', entropy on some words' : ''})`, async () => {
    const { e, dec, feats } = await setup(variant, centre, location, words);
    const FL = N * dec.s.L * S.D;
    const loss = () => dec.loss(N, feats, TARGETS, STRIDE, START).loss;
    dec.loss(N, feats, TARGETS, STRIDE, START, { backward: true });
    const grads = e.read(dec.grads, dec.paramFloats), dfeats = e.read(dec.dfeats(), FL);
    const eps = 1e-2, rng = new Rng(11);
    const probe = (addr: number, analytic: number, what: string) => {
      const f = e.f32, i = addr >>> 2, v = f[i];
      f[i] = v + eps; const lp = loss();
      e.f32[i] = v - eps; const lm = loss();
      e.f32[i] = v;
      const fd = (lp - lm) / (2 * eps);
      assert.ok(Math.abs(fd - analytic) <= 2e-3 + 3e-2 * Math.abs(fd), `${variant} ${what}: analytic ${analytic}, central difference ${fd}`);
    };
    for (const en of dec.entries) {
      for (let s = 0; s < Math.min(en.n, en.name === 'wl' ? 12 : 4); s++) {
        const j = rng.int(0, en.n);
        probe(dec.params + 4 * (en.offset + j), grads[en.offset + j], `${en.name}[${j}]`);
      }
    }
    for (let s = 0; s < 12; s++) { const j = rng.int(0, FL); probe(feats + 4 * j, dfeats[j], `feats[${j}]`); }
    // Some gradient is non-zero in every tensor (none is silently disconnected).
    for (const en of dec.entries) {
      if (!dec.initFromMean && ['wih', 'wic'].includes(en.name)) continue; // h₀, c₀ = tanh(b): W_ih, W_ic unused
      let mx = 0;
      for (let j = 0; j < en.n; j++) mx = Math.max(mx, Math.abs(grads[en.offset + j]));
      assert.ok(mx > 1e-6, `${variant} ${en.name}: gradient is all zero`);
    }
  });
}

test('sharpenWords: the entropy term counts only the steps whose targets it names', async () => {
  const { dec, feats } = await setup('simd', false, false);
  const all = dec.loss(N, feats, TARGETS, STRIDE, START);
  dec.sharpenWords = new Set();
  const none = dec.loss(N, feats, TARGETS, STRIDE, START);
  assert.equal(none.loss, none.crossEntropy);
  assert.equal(none.crossEntropy, all.crossEntropy);
  dec.sharpenWords = new Set([3]);
  const some = dec.loss(N, feats, TARGETS, STRIDE, START);
  assert.ok(some.loss > none.loss && some.loss < all.loss, `${none.loss} < ${some.loss} < ${all.loss}`);
});

test('centred context: with flat attention and constant h₀, c₀ the words do not depend on the image', async () => {
  const e = await Engine.create();
  const dec = new AttentionDecoder(e, S, N, STRIDE, 7, 0, false, 0, 2, true);
  const rng = new Rng(5);
  for (const en of dec.entries) e.write(dec.params + 4 * en.offset, rng.array(en.n, -0.7, 0.7));
  const wv = dec.entries.find((x) => x.name === 'wv')!;
  e.write(dec.params + 4 * wv.offset, new Float32Array(wv.n)); // every position scores 0: α = 1/L
  const a = e.tensor([N, S.L, S.D], rng.array(N * S.L * S.D, -1, 1)).ptr, b = e.tensor([N, S.L, S.D], rng.array(N * S.L * S.D, -1, 1)).ptr;
  const la = dec.loss(N, a, TARGETS, STRIDE, START).loss, lb = dec.loss(N, b, TARGETS, STRIDE, START).loss;
  assert.ok(Math.abs(la - lb) < 1e-6, `losses ${la} and ${lb} differ`);
  // The same weights with attention that varies over positions do read the image.
  e.write(dec.params + 4 * wv.offset, rng.array(wv.n, -2, 2));
  const ma = dec.loss(N, a, TARGETS, STRIDE, START).loss, mb = dec.loss(N, b, TARGETS, STRIDE, START).loss;
  assert.ok(Math.abs(ma - mb) > 1e-4, `losses ${ma} and ${mb} should differ`);
});

test('reorder (beam search) moves each row\'s state and, with location-aware attention, its attention map', async () => {
  const e = await Engine.create();
  const S9 = { ...S, L: 9 }, rng = new Rng(8);
  const a = new AttentionDecoder(e, S9, 3, STRIDE, 7, 0, false, 0, 2, false, true), b = new AttentionDecoder(e, S9, 3, STRIDE, 7, 0, false, 0, 2, false, true);
  const w = rng.array(a.paramFloats, -1.5, 1.5);
  e.write(a.params, w); e.write(b.params, w);
  // Beam search's rows share one image.
  const one = rng.array(S9.L * S.D, -1, 1), grid = new Float32Array(3 * S9.L * S.D);
  for (let r = 0; r < 3; r++) grid.set(one, r * S9.L * S.D);
  const feats = e.tensor([3, S9.L, S.D], grid).ptr;
  const perm = [2, 0, 2], w0 = [3, 4, 5], w1 = [6, 3, 4], w2 = [5, 5, 6];
  a.begin(3, feats); a.step(0, 3, feats, w0); a.step(1, 3, feats, w1); a.reorder(1, 3, perm); a.step(2, 3, feats, w2);
  const pa = a.probs(2, 3).slice(), aa = a.alpha(2, 3).slice();
  b.begin(3, feats); b.step(0, 3, feats, perm.map((j) => w0[j])); b.step(1, 3, feats, perm.map((j) => w1[j])); b.step(2, 3, feats, w2);
  const pb = b.probs(2, 3), ab = b.alpha(2, 3);
  for (let i = 0; i < pa.length; i++) assert.ok(Math.abs(pa[i] - pb[i]) < 1e-6, `probs ${i}: ${pa[i]} vs ${pb[i]}`);
  for (let i = 0; i < aa.length; i++) assert.ok(Math.abs(aa[i] - ab[i]) < 1e-6, `alpha ${i}: ${aa[i]} vs ${ab[i]}`);
});
