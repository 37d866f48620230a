// Greedy and beam-search decoding (src/caption/captioner.ts) on a tiny untrained captioner: a beam of width 1 is
// greedy decoding (same words, same attention); captions are words then END, each word's attention a
// distribution over the grid; a batch above the capacity is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine';
import { Captioner } from '../../src/caption/captioner';
import { shapesCaptions, imageFloats, VOCAB, MAX_TOKENS, START, END } from '../../src/data/shapes-captions';

const SIZES = { filters: [4, 4, 8, 8] as [number, number, number, number], attention: 6, hidden: 8, embedding: 4 };
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

