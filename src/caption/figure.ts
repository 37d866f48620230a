// The seed's Figure 3 view ("From image to text", LeCun, Bengio & Hinton 2015, after Xu et al. 2015): the
// image, then one panel per generated word — the image lit where that word's attention is (the 8×8 weights
// bilinearly upsampled, scaled to their maximum, the rest dimmed) with the word beneath it.
import { drawText, fitText, GLYPH_H } from '../viz/font';
import { encodeRgbPng } from '../viz/png';

const SCALE = 2, GAP = 4, TEXT = GLYPH_H + 6;

/** image: [size, size, 3] bytes; alphas: [words.length, grid²]. Returns PNG bytes. */
export function attentionFigurePng(image: Uint8Array, size: number, words: readonly string[], alphas: Float32Array, grid: number): Uint8Array {
  const P = size * SCALE, panels = words.length + 1, W = panels * (P + GAP) + GAP, Hh = P + TEXT + 2 * GAP;
  const rgb = new Uint8Array(W * Hh * 3).fill(24), ink = new Uint8Array(W * Hh);
  const L = grid * grid, cell = size / grid;
  for (let k = 0; k < panels; k++) {
    const ox = GAP + k * (P + GAP), oy = GAP;
    let light: Float32Array | null = null;
    if (k > 0) {
      const a = alphas.subarray((k - 1) * L, k * L);
      let mx = 0;
      for (let i = 0; i < L; i++) mx = Math.max(mx, a[i]);
      light = new Float32Array(size * size);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        // Bilinear between cell centres, clamped at the edges.
        const gx = Math.min(grid - 1, Math.max(0, (x + 0.5) / cell - 0.5)), gy = Math.min(grid - 1, Math.max(0, (y + 0.5) / cell - 0.5));
        const x0 = Math.floor(gx), y0 = Math.floor(gy), x1 = Math.min(grid - 1, x0 + 1), y1 = Math.min(grid - 1, y0 + 1), fx = gx - x0, fy = gy - y0;
        const v = (1 - fy) * ((1 - fx) * a[y0 * grid + x0] + fx * a[y0 * grid + x1]) + fy * ((1 - fx) * a[y1 * grid + x0] + fx * a[y1 * grid + x1]);
        light[y * size + x] = mx > 0 ? v / mx : 0;
      }
    }
    for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) {
      const sx = Math.floor(x / SCALE), sy = Math.floor(y / SCALE), src = (sy * size + sx) * 3, dst = ((oy + y) * W + ox + x) * 3;
      const l = light ? light[sy * size + sx] : 1;
      for (let ch = 0; ch < 3; ch++) {
        const v = image[src + ch];
        // Lit: the pixel brightened toward white by the attention; unlit: dimmed to a quarter.
        rgb[dst + ch] = light ? Math.round(Math.min(255, v * (0.25 + 0.75 * l) + 150 * l * l)) : v;
      }
    }
    const label = fitText(k === 0 ? 'image' : words[k - 1], P);
    drawText(ink, W, ox + 2, oy + P + 4, label, 255);
  }
  for (let i = 0; i < W * Hh; i++) if (ink[i]) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 235;
  return encodeRgbPng(rgb, W, Hh);
}
