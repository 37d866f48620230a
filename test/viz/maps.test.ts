// Labelled feature-map panels: nearest-neighbour enlargement to a minimum side, the title and every tile's
// caption drawn in the 5×7 font (checked pixel for pixel against the same text drawn alone), per-tile or
// shared ranges, and the PNG round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADVANCE, drawText, fitText, glyph, GLYPH_H, GLYPH_W, textWidth } from '../../src/viz/font';
import { BACKGROUND, CAPTION_H, featureMapImage, filterImage, GAP, INK, MARGIN, panelLayout, TITLE_H, upscale, type GreyImage } from '../../src/viz/maps';
import { encodeGreyPng } from '../../src/viz/png';
import { decodePng } from '../../src/cli/png';

/** The w×h block of img at (x, y), as a string of 'ink' / 'other' marks. */
function block(img: GreyImage, x: number, y: number, w: number, h: number): string {
  let s = '';
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) s += img.pixels[(y + r) * img.width + x + c] === INK ? '#' : '.';
  return s;
}

/** `text` drawn alone on a blank strip, in the same marks. */
function alone(text: string, w: number): string {
  const px = new Uint8Array(w * GLYPH_H).fill(BACKGROUND);
  drawText(px, w, 0, 0, text, INK);
  return block({ pixels: px, width: w, height: GLYPH_H }, 0, 0, w, GLYPH_H);
}

test('font: every glyph is 5×7 with ink, the printable ones differ, lower case draws as capitals', () => {
  const chars = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,:_-+=/[]()#×'];
  const seen = new Set<string>();
  for (const ch of chars) {
    const g = glyph(ch);
    assert.equal(g.length, GLYPH_W * GLYPH_H, ch);
    assert.ok(g.some((b) => b === 1), `${ch} has ink`);
    const key = g.join('');
    assert.ok(!seen.has(key), `${ch} looks like another glyph`);
    seen.add(key);
  }
  assert.deepEqual(glyph('a'), glyph('A'));
  assert.ok(glyph(' ').every((b) => b === 0));
  assert.notDeepEqual(glyph('é'), glyph(' '), 'an unknown character is a box, not a gap');
  assert.equal(textWidth('ch 12'), 5 * ADVANCE - 1);
  assert.equal(fitText('conv2d_block', 40), 'conv2.'); // 6 characters fit in 40 px, the cut marked
  assert.equal(fitText('ch 3', 64), 'ch 3');
});

test('featureMapImage: tiles enlarged by nearest neighbour to at least minSide, captioned, under a title', () => {
  // [3, 2, 2]: channel 0 counts up, channel 1 down; ×32 makes the 2-px side 64.
  const h = 3, w = 2, c = 2, values = new Float32Array(h * w * c);
  for (let i = 0; i < h * w; i++) { values[i * c] = i; values[i * c + 1] = -i; }
  const img = featureMapImage(values, [h, w, c], { title: 'conv1 (conv2d) [3, 2, 2]' });
  const L = panelLayout(c, h, w, 'conv1 (conv2d) [3, 2, 2]');
  assert.equal(L.scale, 32);
  assert.equal(upscale(3, 2, 64), 32);
  assert.deepEqual([img.width, img.height], [MARGIN + Math.max(2 * 64 + GAP, textWidth('conv1 (conv2d) [3, 2, 2]')) + MARGIN, MARGIN + TITLE_H + 96 + CAPTION_H + MARGIN]);
  // Pixels: each source value fills a 32×32 block, min–max scaled per channel (0..5 and 0..-5 → 0..255).
  for (const t of [0, 1]) {
    for (let y = 0; y < L.tileH; y++) {
      for (let x = 0; x < L.tileW; x++) {
        const i = Math.floor(y / 32) * w + Math.floor(x / 32), v = t === 0 ? i : 5 - i;
        assert.equal(img.pixels[(L.y(t) + y) * img.width + L.x(t) + x], Math.round((255 * v) / 5), `tile ${t} (${y}, ${x})`);
      }
    }
  }
  // The title and the captions "ch 0", "ch 1" are there, pixel for pixel.
  const titleW = textWidth('conv1 (conv2d) [3, 2, 2]');
  assert.equal(block(img, MARGIN, MARGIN + 3, titleW, GLYPH_H), alone('conv1 (conv2d) [3, 2, 2]', titleW));
  for (const t of [0, 1]) {
    const got = block(img, L.x(t), L.y(t) + L.tileH + 2, L.tileW, GLYPH_H);
    assert.equal(got, alone(`ch ${t}`, L.tileW), `caption of tile ${t}`);
    assert.notEqual(got, alone(`ch ${1 - t}`, L.tileW));
  }
});

test('a vector is one 1×1 tile per unit on a shared range, captioned by the caller (classes)', () => {
  const logits = Float32Array.from([0, 2, 4, 1]);
  const img = featureMapImage(logits, [4], { title: 'logits (dense) [4]', caption: (k) => `class ${k}`, minSide: 20 });
  const L = panelLayout(4, 1, 1, 'logits (dense) [4]', 20);
  assert.deepEqual([L.cols, L.rows, L.tileW, L.tileH], [2, 2, 20, 20]);
  // The title is wider than the 2 tiles: the panel widens to it.
  assert.equal(img.width, MARGIN + textWidth('logits (dense) [4]') + MARGIN);
  logits.forEach((v, t) => {
    assert.equal(img.pixels[(L.y(t) + 10) * img.width + L.x(t) + 10], Math.round((255 * v) / 4), `unit ${t}`);
    assert.equal(block(img, L.x(t), L.y(t) + L.tileH + 2, L.tileW, GLYPH_H), alone(fitText(`class ${t}`, 20), 20));
  });
  // Default captions: units.
  const u = featureMapImage(logits, [4], { title: 't' });
  const U = panelLayout(4, 1, 1, 't');
  assert.equal(block(u, U.x(3), U.y(3) + U.tileH + 2, U.tileW, GLYPH_H), alone('u 3', U.tileW));
});

test('filterImage: one tile per output filter (input channels averaged), captioned "f i"; the PNG round-trips', () => {
  // [2, 2, 2, 3] HWIO.
  const w = new Float32Array(2 * 2 * 2 * 3).map((_, i) => Math.sin(i));
  const img = filterImage(w, [2, 2, 2, 3], { title: 'filters of c1 [2, 2, 2, 3]' });
  const L = panelLayout(3, 2, 2, 'filters of c1 [2, 2, 2, 3]');
  assert.equal(L.tileW, 64);
  assert.equal(block(img, L.x(2), L.y(2) + L.tileH + 2, L.tileW, GLYPH_H), alone('f 2', L.tileW));
  const back = decodePng(encodeGreyPng(img.pixels, img.width, img.height), 'f.png');
  assert.deepEqual([back.width, back.height, back.channels], [img.width, img.height, 1]);
  assert.deepEqual(Uint8Array.from(back.data), img.pixels);
});
