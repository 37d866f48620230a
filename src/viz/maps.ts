// Activations and filters as images: every channel of an NHWC map (or every filter of an HWIO kernel)
// becomes one tile, scaled to 0..255 by its own range, tiles laid out in a grid with a 1-pixel gap.

export interface GreyImage { pixels: Uint8Array; width: number; height: number }

/** tiles[t] is an h×w plane read through at(t, y, x); tiles are min–max scaled one by one. */
function grid(count: number, h: number, w: number, at: (t: number, y: number, x: number) => number, scale = 1): GreyImage {
  const cols = Math.ceil(Math.sqrt(count)), rows = Math.ceil(count / cols);
  const th = h * scale, tw = w * scale, width = cols * (tw + 1) - 1, height = rows * (th + 1) - 1;
  const pixels = new Uint8Array(width * height).fill(64);
  for (let t = 0; t < count; t++) {
    let lo = Infinity, hi = -Infinity;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const v = at(t, y, x); lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const span = hi > lo ? hi - lo : 1, oy = Math.floor(t / cols) * (th + 1), ox = (t % cols) * (tw + 1);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        pixels[(oy + y) * width + ox + x] = Math.round((255 * (at(t, Math.floor(y / scale), Math.floor(x / scale)) - lo)) / span);
      }
    }
  }
  return { pixels, width, height };
}

/** One example's [h, w, c] activation (NHWC values) as c tiles; a vector [n] as one 1×n strip. */
export function featureMapImage(values: Float32Array, shape: readonly number[], scale = 4): GreyImage {
  if (shape.length !== 3) return grid(1, 1, values.length, (_t, _y, x) => values[x], scale);
  const [h, w, c] = shape;
  return grid(c, h, w, (t, y, x) => values[(y * w + x) * c + t], scale);
}

/** A conv kernel [kh, kw, cin, cout] as cout tiles (input channels averaged). */
export function filterImage(w: Float32Array, shape: readonly number[], scale = 8): GreyImage {
  const [kh, kw, cin, cout] = shape;
  return grid(cout, kh, kw, (t, y, x) => {
    let s = 0;
    for (let ci = 0; ci < cin; ci++) s += w[((y * kw + x) * cin + ci) * cout + t];
    return s / cin;
  }, scale);
}
