// Activations and filters as labelled images: every channel of an NHWC map (or every filter of an HWIO
// kernel, or every unit of a vector) becomes one tile, enlarged by nearest neighbour to at least `minSide`
// pixels a side, captioned underneath (channel, filter, unit or class), under a title line naming the layer.
//
//   ┌──────────────────────────────┐  margin 4, background 40, text 235 (5×7 font, src/viz/font.ts),
//   │                              │  a 1-px frame (110) around each tile
//   │ C1 (CONV2D) [28, 28, 6]      │  title strip, 13 px
//   │ ▇▇▇▇  ▇▇▇▇  ▇▇▇▇             │  tiles, 4 px apart, each min–max scaled to 0..255
//   │ CH 0  CH 1  CH 2             │  caption strip, 11 px
//   └──────────────────────────────┘
//
// A map's tiles are scaled one by one (each channel's pattern is what matters); a vector's units share one
// range (a 1×1 tile scaled alone would always be black).
import { drawText, fitText, GLYPH_H, textWidth } from './font';

export interface GreyImage { pixels: Uint8Array; width: number; height: number }

export const BACKGROUND = 40;
export const INK = 235;
/** A 1-px frame just outside each tile, so a black tile is not lost in the background. */
export const FRAME = 110;
export const MARGIN = 4;
export const GAP = 4;
/** Title strip: 3 px, a line of text, 3 px. */
export const TITLE_H = GLYPH_H + 6;
/** Caption strip under each tile: 2 px, a line of text, 2 px. */
export const CAPTION_H = GLYPH_H + 4;

export interface PanelOptions {
  /** The line at the top, e.g. "c1 (conv2d) [28, 28, 6]". */
  title: string;
  /** Caption of tile t (default: its index). */
  caption?: (t: number) => string;
  /** Each tile is enlarged by a whole factor until both its sides reach this (default 64). */
  minSide?: number;
  /** One min–max range over all tiles instead of one per tile. */
  sharedRange?: boolean;
}

/** The whole factor that brings an h×w tile to at least minSide a side. */
export const upscale = (h: number, w: number, minSide: number): number => Math.max(1, Math.ceil(minSide / Math.min(h, w)));

/** A panel's geometry; x(t), y(t): the top-left pixel of tile t (its caption starts 2 px below the tile). */
export interface PanelLayout { cols: number; rows: number; scale: number; tileW: number; tileH: number; width: number; height: number; x(t: number): number; y(t: number): number }

export function panelLayout(count: number, h: number, w: number, title: string, minSide = 64): PanelLayout {
  const scale = upscale(h, w, minSide), tileW = w * scale, tileH = h * scale;
  const cols = Math.ceil(Math.sqrt(count)), rows = Math.ceil(count / cols);
  const width = Math.max(cols * tileW + (cols - 1) * GAP, textWidth(title)) + 2 * MARGIN;
  const height = MARGIN + TITLE_H + rows * (tileH + CAPTION_H) + (rows - 1) * GAP + MARGIN;
  return {
    cols, rows, scale, tileW, tileH, width, height,
    x: (t) => MARGIN + (t % cols) * (tileW + GAP),
    y: (t) => MARGIN + TITLE_H + Math.floor(t / cols) * (tileH + CAPTION_H + GAP),
  };
}

/** count tiles of h×w values read through at(t, y, x), laid out, labelled and enlarged. */
export function panel(count: number, h: number, w: number, at: (t: number, y: number, x: number) => number, o: PanelOptions): GreyImage {
  const L = panelLayout(count, h, w, o.title, o.minSide);
  const pixels = new Uint8Array(L.width * L.height).fill(BACKGROUND);
  drawText(pixels, L.width, MARGIN, MARGIN + 3, o.title, INK);
  const range = (from: number, to: number): [number, number] => {
    let lo = Infinity, hi = -Infinity;
    for (let t = from; t < to; t++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const v = at(t, y, x); lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return [lo, hi];
  };
  const shared = o.sharedRange ? range(0, count) : null;
  for (let t = 0; t < count; t++) {
    const [lo, hi] = shared ?? range(t, t + 1), span = hi > lo ? hi - lo : 1;
    const ox = L.x(t), oy = L.y(t);
    for (let x = ox - 1; x <= ox + L.tileW; x++) { pixels[(oy - 1) * L.width + x] = FRAME; pixels[(oy + L.tileH) * L.width + x] = FRAME; }
    for (let y = oy; y < oy + L.tileH; y++) { pixels[y * L.width + ox - 1] = FRAME; pixels[y * L.width + ox + L.tileW] = FRAME; }
    for (let y = 0; y < L.tileH; y++) {
      for (let x = 0; x < L.tileW; x++) {
        pixels[(oy + y) * L.width + ox + x] = Math.round((255 * (at(t, Math.floor(y / L.scale), Math.floor(x / L.scale)) - lo)) / span);
      }
    }
    drawText(pixels, L.width, ox, oy + L.tileH + 2, fitText(o.caption ? o.caption(t) : String(t), L.tileW), INK);
  }
  return { pixels, width: L.width, height: L.height };
}

export interface MapOptions {
  title: string;
  /** Caption of channel (or unit) c; default "ch c" for maps, "u c" for vectors. */
  caption?: (c: number) => string;
  minSide?: number;
}

/** One example's [h, w, c] activation (NHWC values) as c tiles; any other shape as its units, one 1×1 tile each. */
export function featureMapImage(values: Float32Array, shape: readonly number[], o: MapOptions): GreyImage {
  if (shape.length !== 3) {
    return panel(values.length, 1, 1, (t) => values[t], { title: o.title, caption: o.caption ?? ((c) => `u ${c}`), minSide: o.minSide, sharedRange: true });
  }
  const [h, w, c] = shape;
  return panel(c, h, w, (t, y, x) => values[(y * w + x) * c + t], { title: o.title, caption: o.caption ?? ((ch) => `ch ${ch}`), minSide: o.minSide });
}

/** A conv kernel [kh, kw, cin, cout] as cout tiles (input channels averaged), captioned "f i". */
export function filterImage(w: Float32Array, shape: readonly number[], o: { title: string; minSide?: number }): GreyImage {
  const [kh, kw, cin, cout] = shape;
  return panel(cout, kh, kw, (t, y, x) => {
    let s = 0;
    for (let ci = 0; ci < cin; ci++) s += w[((y * kw + x) * cin + ci) * cout + t];
    return s / cin;
  }, { title: o.title, caption: (f) => `f ${f}`, minSide: o.minSide });
}
