// Just enough PNG (ISO/IEC 15948, https://www.w3.org/TR/png/) to feed an image to a model: 8-bit grey,
// grey+alpha, RGB, RGBA and palette images, non-interlaced. Chunks are read in order; the IDAT data is one
// zlib stream (inflated with node:zlib), then each scanline is un-filtered (None, Sub, Up, Average, Paeth).
import { inflateSync } from 'node:zlib';
import { RedeError } from '../engine/errors';

export interface PngImage {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette images are expanded to 3 or 4). */
  channels: 1 | 2 | 3 | 4;
  /** height × width × channels bytes, row-major. */
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each colour type (PNG spec, table 11.1). */
const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Decodes PNG bytes; `name` (a file name) starts every error message. */
export function decodePng(bytes: Uint8Array, name = 'PNG data'): PngImage {
  const fail = (msg: string): never => { throw new RedeError(`${name}: ${msg}`); };
  if (!isPng(bytes)) fail('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, width = 0, height = 0, colorType = -1;
  let palette: Uint8Array | null = null, alpha: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (;;) {
    if (at + 8 > bytes.length) fail('truncated: no IEND chunk');
    const len = view.getUint32(at), type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + len);
    if (body.length !== len || at + 12 + len > bytes.length) fail(`truncated ${type} chunk`);
    at += 12 + len; // length, type, data, CRC
    if (type === 'IHDR') {
      if (len !== 13) fail(`IHDR has ${len} bytes, expected 13`);
      const d = new DataView(body.buffer, body.byteOffset, 13);
      width = d.getUint32(0); height = d.getUint32(4);
      const depth = body[8], interlace = body[12];
      colorType = body[9];
      if (!(colorType in CHANNELS)) fail(`unknown colour type ${colorType}`);
      if (depth !== 8) fail(`bit depth ${depth} is not supported (only 8-bit images)`);
      if (interlace !== 0) fail('interlaced (Adam7) images are not supported');
      if (width === 0 || height === 0 || width * height > 1 << 26) fail(`unsupported size ${width}×${height}`);
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'tRNS') {
      alpha = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
  }
  if (colorType < 0) fail('no IHDR chunk');
  if (idat.length === 0) fail('no IDAT chunk');
  const stored = CHANNELS[colorType];
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    return fail(`image data is corrupt (${(e as Error).message})`);
  }
  const stride = width * stored;
  if (raw.length < height * (stride + 1)) fail(`image data is truncated: ${raw.length} bytes for ${height} rows of ${stride + 1}`);
  const pixels = unfilter(raw, width, height, stored, fail);
  if (colorType !== 3) return { width, height, channels: stored, data: pixels };
  if (!palette || palette.length % 3 !== 0) return fail('palette image without a valid PLTE chunk');
  return expandPalette(pixels, width, height, palette, alpha, fail);
}

/** Reverses the per-scanline filters in place of a fresh buffer (spec §9). bpp = bytes per pixel. */
function unfilter(raw: Uint8Array, width: number, height: number, bpp: number, fail: (m: string) => never): Uint8Array {
  const stride = width * bpp, out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)], src = y * (stride + 1) + 1, row = y * stride, prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i];
      const a = i >= bpp ? out[row + i - bpp] : 0; // left
      const b = y > 0 ? out[prev + i] : 0; // up
      const c = y > 0 && i >= bpp ? out[prev + i - bpp] : 0; // up-left
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: v = x + paeth(a, b, c); break;
        default: return fail(`row ${y} has unknown filter type ${filter}`);
      }
      out[row + i] = v & 255;
    }
  }
  return out;
}

/** The neighbour (left, up, up-left) closest to left + up − up-left; ties prefer that order. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function expandPalette(idx: Uint8Array, width: number, height: number, palette: Uint8Array, alpha: Uint8Array | null, fail: (m: string) => never): PngImage {
  const channels = alpha ? 4 : 3, entries = palette.length / 3;
  const data = new Uint8Array(width * height * channels);
  for (let p = 0; p < idx.length; p++) {
    const k = idx[p];
    if (k >= entries) fail(`pixel ${p} uses palette entry ${k}, the palette has ${entries}`);
    data.set(palette.subarray(3 * k, 3 * k + 3), p * channels);
    if (alpha) data[p * channels + 3] = k < alpha.length ? alpha[k] : 255;
  }
  return { width, height, channels, data };
}

export interface ToInputOptions {
  /** 1 − v: for dark-on-light images fed to a model trained on light-on-dark (MNIST). */
  invert?: boolean;
}

/**
 * An image as one model input [h, w, c] in [0, 1]: alpha composited over black, colour converted to grey
 * (ITU-R BT.601 luma) or grey replicated to c channels, then resized by bilinear interpolation with half-pixel
 * centres (source x = (x' + 0.5)·W/w − 0.5, clamped to the edge).
 */
export function imageToInput(img: PngImage, h: number, w: number, c: number, opts: ToInputOptions = {}): Float32Array {
  const { width: W, height: H } = img;
  const plane = toChannels(img, c);
  const out = new Float32Array(h * w * c);
  const sy = H / h, sx = W / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(H - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(H - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(W - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(W - 1, x0 + 1), tx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => plane[(yy * W + xx) * c + k];
        const top = at(y0, x0) + tx * (at(y0, x1) - at(y0, x0));
        const bottom = at(y1, x0) + tx * (at(y1, x1) - at(y1, x0));
        const v = top + ty * (bottom - top);
        out[(y * w + x) * c + k] = opts.invert ? 1 - v : v;
      }
    }
  }
  return out;
}

/** The image's pixels as H × W × c floats in [0, 1]. */
function toChannels(img: PngImage, c: number): Float32Array {
  if (c !== 1 && c !== 3) throw new RedeError(`predict: images can feed models with 1 or 3 input channels, this one has ${c}`);
  const n = img.width * img.height, s = img.channels, d = img.data;
  const out = new Float32Array(n * c);
  const hasAlpha = s === 2 || s === 4;
  for (let p = 0; p < n; p++) {
    const alpha = hasAlpha ? d[p * s + s - 1] / 255 : 1;
    const r = d[p * s] / 255, g = s >= 3 ? d[p * s + 1] / 255 : r, b = s >= 3 ? d[p * s + 2] / 255 : r;
    if (c === 1) out[p] = alpha * (s >= 3 ? 0.299 * r + 0.587 * g + 0.114 * b : r);
    else { out[p * 3] = alpha * r; out[p * 3 + 1] = alpha * g; out[p * 3 + 2] = alpha * b; }
  }
  return out;
}

/** Mean of the outermost pixels of an input [h, w, c] — near 1 means a light background. */
export function borderMean(x: Float32Array, h: number, w: number, c: number): number {
  let sum = 0, count = 0;
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    if (y !== 0 && y !== h - 1 && xx !== 0 && xx !== w - 1) continue;
    for (let k = 0; k < c; k++) { sum += x[(y * w + xx) * c + k]; count++; }
  }
  return sum / count;
}
