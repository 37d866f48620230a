// A 5×7 bitmap font for labels in PNG images (layer names, channel and class indices): digits, capitals
// (lower case is drawn in capitals), space and the punctuation layer names and shapes use. Each glyph is
// seven rows of five columns, '#' for ink; a character outside the set is drawn as a box, never skipped,
// so a label keeps its length.

export const GLYPH_W = 5;
export const GLYPH_H = 7;
/** Advance per character: the glyph and one column of space. */
export const ADVANCE = GLYPH_W + 1;

const ROWS: Record<string, string> = {
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '####. ....# ....# .###. ....# ....# ####.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  '_': '..... ..... ..... ..... ..... ..... #####',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '/': '....# ....# ...#. ..#.. .#... #.... #....',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
};
const UNKNOWN = '##### #...# #...# #...# #...# #...# #####';

/** Glyph bitmaps, GLYPH_H rows of GLYPH_W bits (1 = ink), parsed once from ROWS. */
const GLYPHS = new Map<string, Uint8Array>(Object.entries(ROWS).map(([ch, rows]) => [ch, parse(rows)]));
const BOX = parse(UNKNOWN);

function parse(rows: string): Uint8Array {
  return Uint8Array.from(rows.replace(/ /g, ''), (c) => (c === '#' ? 1 : 0));
}

/** The bitmap drawn for one character (lower case as capitals, unknown characters as a box). */
export function glyph(ch: string): Uint8Array {
  return GLYPHS.get(ch) ?? GLYPHS.get(ch.toUpperCase()) ?? BOX;
}

/** Width in pixels of `text` drawn in one line (no trailing space column). */
export function textWidth(text: string): number {
  const n = [...text].length;
  return n === 0 ? 0 : n * ADVANCE - 1;
}

/** The longest prefix of `text` that fits in `width` pixels, with '.' marking a cut. */
export function fitText(text: string, width: number): string {
  const chars = [...text];
  const max = Math.floor((width + 1) / ADVANCE);
  if (chars.length <= max) return text;
  return max <= 1 ? chars.slice(0, max).join('') : `${chars.slice(0, max - 1).join('')}.`;
}

/**
 * Draws `text` into a grey image (row-major, `width` pixels per row) with its top-left corner at (x, y), ink
 * set to `ink`; pixels outside the image are skipped.
 */
export function drawText(pixels: Uint8Array, width: number, x: number, y: number, text: string, ink: number): void {
  const height = pixels.length / width;
  let ox = x;
  for (const ch of text) {
    const g = glyph(ch);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        const px = ox + c, py = y + r;
        if (g[r * GLYPH_W + c] && px >= 0 && px < width && py >= 0 && py < height) pixels[py * width + px] = ink;
      }
    }
    ox += ADVANCE;
  }
}
