// Corpus BLEU against cases worked by hand (Papineni et al. 2002): clipped counts, corpus-level sums, the
// brevity penalty with the closest reference length, and zero when an order has no match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusBleu } from '../../src/caption/bleu';

const w = (s: string) => (s ? s.split(' ') : []);
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test('a candidate equal to its reference scores 1 at every order', () => {
  const b = corpusBleu([w('a small red circle left of a blue square')], [[w('a small red circle left of a blue square')]]);
  for (const v of b.bleu) close(v, 1, 'bleu');
  close(b.brevityPenalty, 1, 'bp');
});

test("Papineni's clipped unigram count: 'the' ×7 against 'the cat is on the mat' is 2/7", () => {
  const b = corpusBleu([w('the the the the the the the')], [[w('the cat is on the mat'), w('there is a cat on the mat')]]);
  close(b.precisions[0], 2 / 7, 'p1');
  close(b.bleu[0], 2 / 7, 'BLEU-1 (c = 7 > r = 7? no: r = 7, c = 7, BP = 1)');
  assert.equal(b.bleu[1], 0); // no bigram matches
});

test('brevity penalty exp(1 − r/c) for a short candidate, and no 4-grams means BLEU-4 = 0', () => {
  const b = corpusBleu([w('a b c')], [[w('a b c d e')]]);
  close(b.precisions[0], 1, 'p1'); close(b.precisions[1], 1, 'p2'); close(b.precisions[2], 1, 'p3');
  close(b.brevityPenalty, Math.exp(1 - 5 / 3), 'bp');
  close(b.bleu[2], Math.exp(1 - 5 / 3), 'BLEU-3');
  assert.equal(b.bleu[3], 0);
});

test('counts are summed over the corpus before dividing', () => {
  // c1: unigrams a, b clipped to 1 each of 4 → 2/4; bigram 'a b' clipped to 1 of 3. c2: 'x' of 2; no bigram.
  const b = corpusBleu([w('a b a b'), w('x y')], [[w('a b c d')], [w('x z')]]);
  close(b.precisions[0], 3 / 6, 'p1');
  close(b.precisions[1], 1 / 4, 'p2');
  close(b.bleu[0], 0.5, 'BLEU-1');
  close(b.bleu[1], Math.sqrt(0.5 * 0.25), 'BLEU-2');
  assert.equal(b.bleu[2], 0);
  // Averaging per sentence would give a different p1: (2/4 + 1/2) / 2 = 0.5 here, so check p2 too: (1/3 + 0) / 2 ≠ 1/4.
});

test('the effective reference length is the closest one (the shorter on a tie)', () => {
  close(corpusBleu([w('a b c d e')], [[w('a b c d'), w('a b c d e f')]]).brevityPenalty, 1, 'tie → 4 < 5');
  close(corpusBleu([w('a b c d e')], [[w('a b c d e f g'), w('a b c d e f g h i')]]).brevityPenalty, Math.exp(1 - 7 / 5), 'closest 7');
  const b = corpusBleu([w('a b c d e f')], [[w('a b c d e f g h')]]);
  close(b.bleu[3], Math.exp(1 - 8 / 6), 'all precisions 1, BP only');
});

test('bad input is refused with the reason', () => {
  assert.throws(() => corpusBleu([w('a')], []), /1 candidates but 0 reference sets/);
  assert.throws(() => corpusBleu([], []), /no candidates/);
  assert.throws(() => corpusBleu([w('a')], [[]]), /candidate 0 has no reference/);
});
