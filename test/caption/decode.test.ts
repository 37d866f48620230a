// Greedy and beam-search decoding (src/caption/captioner.ts) on a tiny untrained captioner: a beam of width 1 is
// greedy decoding (same words, same attention); captions are words then END, each word's attention a
// distribution over the grid; a batch above the capacity is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Captioner, receptiveField } from '../../src/caption/captioner';
import { shapesCaptions, imageFloats, VOCAB, MAX_TOKENS, START, END } from '../../src/data/shapes-captions';

const SIZES = { encoder: [4, 4, 8, 8].map((filters, i) => ({ filters, kernel: [5, 3, 3, 1][i], stride: i < 3 ? 2 : 1 })), attention: 6, hidden: 8, embedding: 4 };
const SPEC = { image: 64, vocab: VOCAB.length, maxTokens: MAX_TOKENS, start: START, end: END };

test('beam width 1 decodes exactly as greedy; width 3 gives well-formed captions and attention', async () => {
  const e = await Engine.create();
  const data = shapesCaptions('test', 3), x = imageFloats(data, 0, 3);
  const one = new Captioner(e, SIZES, SPEC, 4, 'adam', 5, 1), three = new Captioner(e, SIZES, SPEC, 4, 'adam', 5, 3);
  // A few steps of training so the words are not uniform.
  for (let s = 0; s < 3; s++) { one.trainStep(x, data.tokens, 3, 0.01, s); three.trainStep(x, data.tokens, 3, 0.01, s); }
  const g = one.greedy(x, 3), b1 = one.beam(x, 3), b3 = three.beam(x, 3);
  assert.deepEqual(b1.tokens, g.tokens);
  for (let i = 0; i < b1.alphas.length; i++) assert.ok(Math.abs(b1.alphas[i] - g.alphas[i]) < 1e-6, `alpha ${i}`);
  for (const d of [g, b3]) {
    for (let b = 0; b < 3; b++) {
      let t = 0;
      for (; t < MAX_TOKENS && d.tokens[b * MAX_TOKENS + t] !== END && d.tokens[b * MAX_TOKENS + t] !== 0; t++) {
        assert.ok(d.tokens[b * MAX_TOKENS + t] > END, 'only words before END');
        let sum = 0;
        for (let i = 0; i < one.L; i++) sum += d.alphas[(b * MAX_TOKENS + t) * one.L + i];
        assert.ok(Math.abs(sum - 1) < 1e-4, `attention of word ${t} sums to ${sum}`);
      }
    }
  }
  assert.throws(() => one.greedy(new Float32Array(5 * 64 * 64 * 3), 5), /batch must be 1\.\.4, got 5/);
});


test('the encoder is a checked list of conv layers; its receptive field is what one cell sees', async () => {
  const e = await Engine.create();
  const convs = (kernels: number[]) => kernels.map((kernel, i) => ({ filters: 4, kernel, stride: i < 3 ? 2 : 1 }));
  assert.equal(receptiveField(convs([2, 2, 2, 1])), 8); // an 8-pixel patch per 8-pixel cell
  assert.equal(receptiveField(convs([4, 4, 2, 1])), 14);
  assert.equal(receptiveField(convs([6, 4, 4, 3])), 40);
  const make = (sizes: unknown) => new Captioner(e, sizes as typeof SIZES, SPEC, 2, 'adam', 5, 1);
  const c = make({ ...SIZES, encoder: convs([2, 2, 2, 1]) });
  assert.deepEqual([c.grid, c.D], [8, 4 + 2]);
  assert.throws(() => make({ ...SIZES, encoder: [] }), /captioner sizes: encoder must be a non-empty list of conv layers .*, got \[\]/);
  assert.throws(() => make({ ...SIZES, encoder: [{ filters: 4, kernal: 3, stride: 2 }] }), /captioner encoder layer 0: unknown option 'kernal' \(did you mean 'kernel'\?\)/);
  assert.throws(() => make({ ...SIZES, encoder: [{ filters: 4, kernel: 3, stride: 2 }, { filters: 1.5, kernel: 3 }] }), /captioner encoder layer 1: filters must be an integer ≥ 1, got 1.5/);
  assert.throws(() => make({ ...SIZES, hiden: 8 }), /captioner sizes: unknown option 'hiden' \(did you mean 'hidden'\?\)/);
});
