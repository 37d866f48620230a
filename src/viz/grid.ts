// Many small grey images as one PNG: a grid of `cols` columns, each image scaled up `scale`× (nearest), dark
// ink on white (values in [0, 1], clipped), 2-pixel white gutters — sample grids and reconstructions.
import { RedeError } from '../engine/errors';
import { encodeGreyPng } from './png';

export function greyGridPng(images: Float32Array, n: number, h: number, w: number, cols: number, scale = 2): Uint8Array {
  if (images.length !== n * h * w) throw new RedeError(`greyGridPng: ${images.length} values, expected ${n} images of ${h}×${w}`);
  if (!(Number.isInteger(cols) && cols >= 1 && Number.isInteger(scale) && scale >= 1)) throw new RedeError(`greyGridPng: cols and scale must be positive integers, got ${cols} and ${scale}`);
  const cw = w * scale + 2, ch = h * scale + 2, rows = Math.ceil(n / cols), W = Math.min(n, cols) * cw + 2, H = rows * ch + 2;
  const px = new Uint8Array(W * H).fill(255);
  for (let i = 0; i < n; i++) {
    const ox = 2 + (i % cols) * cw, oy = 2 + Math.floor(i / cols) * ch;
    for (let y = 0; y < h * scale; y++) for (let x = 0; x < w * scale; x++) {
      const v = Math.min(1, Math.max(0, images[i * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)]));
      px[(oy + y) * W + ox + x] = Math.round(255 * (1 - v));
    }
  }
  return encodeGreyPng(px, W, H);
}
