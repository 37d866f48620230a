// The generated captioning data set (src/data/shapes-captions.ts): deterministic, sizes and bytes as
// documented, boxes inside the image and matching the drawn pixels, captions from the grammar and consistent
// with the geometry, and held-out colour–shape pairs absent from train/val/test but present in every held-out scene.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  shapesCaptions, imageFloats, sceneObjects, wordsOf, COLOURS, SHAPES, SIZES, SIDES, HELD_OUT, MAX_TOKENS, END, PAD, SIZE, VOCAB,
} from '../../src/data/shapes-captions';

const N = 300;
const splits = { train: shapesCaptions('train', N), val: shapesCaptions('val', 60), test: shapesCaptions('test', 60), heldout: shapesCaptions('heldout', 120) };

test('sizes, determinism and the seed', () => {
  const s = splits.train;
  assert.equal(s.images.length, N * SIZE * SIZE * 3);
  assert.equal(s.tokens.length, N * MAX_TOKENS);
  assert.equal(s.captions.length, N);
  const again = shapesCaptions('train', 20);
  assert.deepEqual(again.images, s.images.subarray(0, 20 * SIZE * SIZE * 3));
  assert.deepEqual(again.captions, s.captions.slice(0, 20));
  assert.notDeepEqual(shapesCaptions('train', 20, 2).captions, again.captions);
  const x = imageFloats(s, 3, 2);
  assert.equal(x.length, 2 * SIZE * SIZE * 3);
  assert.ok(Math.abs(x[0] - s.images[3 * SIZE * SIZE * 3] / 255) < 1e-7);
  assert.throws(() => shapesCaptions('training' as 'train', 5), /unknown split 'training'/);
  assert.throws(() => shapesCaptions('train', 0), /n must be an integer ≥ 1/);
});

test('boxes lie inside the image, have the size\'s side, and hold the object\'s colour', () => {
  for (const s of Object.values(splits)) {
    s.objects.forEach((objs, i) => {
      assert.ok(objs.length >= 1 && objs.length <= 3);
      for (const o of objs) {
        const [x0, y0, x1, y1] = o.box;
        assert.ok(x0 >= 0 && y0 >= 0 && x1 <= SIZE && y1 <= SIZE, `${s.name} ${i}: box ${o.box} outside`);
        assert.equal(x1 - x0, SIDES[o.size]); assert.equal(y1 - y0, SIDES[o.size]);
        // The box's centre pixel is drawn for every shape (the circle's, square's and cross's centre; the
        // triangle's middle row) and is much brighter than the background in some channel.
        const cx = x0 + SIDES[o.size] / 2, cy = y0 + SIDES[o.size] / 2 + 1, p = (i * SIZE * SIZE + cy * SIZE + cx) * 3;
        assert.ok(Math.max(s.images[p], s.images[p + 1], s.images[p + 2]) > 150, `${s.name} ${i}: object ${COLOURS[o.colour]} ${SHAPES[o.shape]} not drawn at its centre`);
      }
      // Objects do not overlap.
      for (let a = 0; a < objs.length; a++) for (let b = a + 1; b < objs.length; b++) {
        const A = objs[a].box, B = objs[b].box;
        assert.ok(A[2] <= B[0] || B[2] <= A[0] || A[3] <= B[1] || B[3] <= A[1], `${s.name} ${i}: objects ${a} and ${b} overlap`);
      }
    });
  }
});

test('captions follow the grammar and the geometry', () => {
  const object = `a (${SIZES.join('|')}) (${COLOURS.join('|')}) (${SHAPES.join('|')})`;
  const grammar = new RegExp(`^${object}(( left of ${object}){0,2}| above ${object})$`);
  for (const s of Object.values(splits)) {
    s.captions.forEach((c, i) => {
      assert.match(c, grammar, `${s.name} ${i}`);
      const objs = s.objects[i], words = c.split(' ');
      // Tokens spell the caption, then END, then PAD.
      assert.deepEqual(wordsOf(s.tokens.subarray(i * MAX_TOKENS, (i + 1) * MAX_TOKENS)), words);
      assert.equal(s.tokens[i * MAX_TOKENS + words.length], END);
      for (let t = words.length + 1; t < MAX_TOKENS; t++) assert.equal(s.tokens[i * MAX_TOKENS + t], PAD);
      assert.equal(s.lengths[i], words.length + 1);
      // Each object phrase names the object, in reading order: 'left of' ⇔ disjoint in x and to the left.
      objs.forEach((o, k) => {
        const at = c.split(/ left of | above /)[k].split(' ');
        assert.deepEqual(at, ['a', SIZES[o.size], COLOURS[o.colour], SHAPES[o.shape]], `${s.name} ${i} object ${k}`);
        if (k > 0) {
          const p = objs[k - 1].box, q = o.box;
          if (c.includes('left of')) assert.ok(p[2] <= q[0], `${s.name} ${i}: 'left of' but boxes ${p} ${q}`);
          else assert.ok(p[3] <= q[1] && !(p[2] <= q[0] || q[2] <= p[0]), `${s.name} ${i}: 'above' but boxes ${p} ${q}`);
        }
      });
    });
  }
  assert.ok(VOCAB.length < 32);
});

test('held-out colour–shape pairs never occur in train, val or test, and occur in every held-out scene', () => {
  const held = (c: number, sh: number) => HELD_OUT.some(([hc, hs]) => hc === c && hs === sh);
  for (const s of [splits.train, splits.val, splits.test]) {
    for (const objs of s.objects) for (const o of objs) assert.ok(!held(o.colour, o.shape), `${s.name}: ${COLOURS[o.colour]} ${SHAPES[o.shape]}`);
  }
  // Across many more training scenes than the test keeps (objects only, no pixels).
  for (let i = 0; i < 5000; i++) for (const o of sceneObjects(1, 'train', i).objects) assert.ok(!held(o.colour, o.shape));
  for (const objs of splits.heldout.objects) assert.ok(objs.some((o) => held(o.colour, o.shape)));
  // Each held-out colour and shape does appear in training, with other partners.
  const colours = new Set<number>(), shapes = new Set<number>();
  for (const objs of splits.train.objects) for (const o of objs) { colours.add(o.colour); shapes.add(o.shape); }
  assert.equal(colours.size, COLOURS.length); assert.equal(shapes.size, SHAPES.length);
  // All counts, both layouts and both sizes occur.
  const counts = new Set(splits.train.objects.map((o) => o.length));
  assert.deepEqual([...counts].sort(), [1, 2, 3]);
  assert.ok(splits.train.captions.some((c) => c.includes('above')) && splits.train.captions.some((c) => c.includes('left of')));
});
