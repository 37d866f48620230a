// Images as model inputs. Just enough PNG (ISO/IEC 15948, https://www.w3.org/TR/png/) to feed an image to a
// model: 8-bit grey, grey+alpha, RGB, RGBA and palette images, non-interlaced. Chunks are read in order; the
// IDAT data is one zlib stream (inflated by node:zlib in Node, by DecompressionStream elsewhere), then each
// scanline is un-filtered (None, Sub, Up, Average, Paeth). What a file is comes from its first bytes (the PNG
// signature), never from its name.
import { RedeError } from '../engine/errors';
import { checkOptions } from '../engine/options';
import { isGzip, isIdx } from './idx';

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

/** The first bytes of a file as a reader recognizes them: quoted text when printable, else hex. */
export function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 12);
  if (head.length === 0) return 'nothing: the file is empty';
  const printable = head.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d);
  if (printable) return JSON.stringify(new TextDecoder().decode(head)) + (bytes.length > head.length ? '...' : '');
  return Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > head.length ? ' ...' : '');
}

/** The error for bytes that are not a PNG image, saying what they look like instead. */
function notPng(name: string, bytes: Uint8Array): RedeError {
  const what = isIdx(bytes) ? '; it is an IDX file (read it with readIdxFile)' : isGzip(bytes) ? '; it is gzip data' : '';
  return new RedeError(`${name}: not a PNG image (starts with ${describeStart(bytes)}; a PNG starts with 89 50 4e 47 0d 0a 1a 0a)${what}`);
}

interface Chunks { width: number; height: number; colorType: number; palette: Uint8Array | null; alpha: Uint8Array | null; idat: Uint8Array }

/** The header, palette, transparency and concatenated IDAT data of a PNG, checked. */
function readChunks(bytes: Uint8Array, name: string): Chunks {
  if (!isPng(bytes)) throw notPng(name, bytes);
  const invalid = (msg: string): never => { throw new RedeError(`${name}: not a valid PNG: ${msg}`); };
  const unsupported = (msg: string): never => { throw new RedeError(`${name}: ${msg}`); };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, width = 0, height = 0, colorType = -1;
  let palette: Uint8Array | null = null, alpha: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (;;) {
    if (at + 8 > bytes.length) invalid('truncated: no IEND chunk');
    const len = view.getUint32(at), typeBytes = bytes.subarray(at + 4, at + 8), type = String.fromCharCode(...typeBytes);
    if (!typeBytes.every((b) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a))) invalid(`bad chunk type at byte ${at + 4} (${describeStart(typeBytes)})`);
    if (at === 8 && type !== 'IHDR') invalid(`the first chunk is ${type}, expected IHDR`);
    const body = bytes.subarray(at + 8, at + 8 + len);
    if (body.length !== len || at + 12 + len > bytes.length) invalid(`truncated ${type} chunk`);
    at += 12 + len; // length, type, data, CRC
    if (type === 'IHDR') {
      if (len !== 13) invalid(`IHDR has ${len} bytes, expected 13`);
      const d = new DataView(body.buffer, body.byteOffset, 13);
      width = d.getUint32(0); height = d.getUint32(4);
      const depth = body[8], interlace = body[12];
      colorType = body[9];
      if (!(colorType in CHANNELS)) invalid(`unknown colour type ${colorType}`);
      if (depth !== 8) unsupported(`PNG bit depth ${depth} is not supported (only 8-bit images)`);
      if (interlace !== 0) unsupported('interlaced (Adam7) PNG images are not supported');
      if (width === 0 || height === 0 || width * height > 1 << 26) unsupported(`PNG size ${width}×${height} is not supported (at most 2^26 pixels)`);
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
  if (idat.length === 0) invalid('no IDAT chunk');
  const all = new Uint8Array(idat.reduce((t, c) => t + c.length, 0));
  let o = 0;
  for (const c of idat) { all.set(c, o); o += c.length; }
  return { width, height, colorType, palette, alpha, idat: all };
}

/** Un-filters the inflated scanlines and expands a palette. */
function finish(c: Chunks, raw: Uint8Array, name: string): PngImage {
  const fail = (msg: string): never => { throw new RedeError(`${name}: not a valid PNG: ${msg}`); };
  const { width, height, colorType } = c, stored = CHANNELS[colorType], stride = width * stored;
  if (raw.length < height * (stride + 1)) fail(`image data is truncated: ${raw.length} bytes for ${height} rows of ${stride + 1}`);
  const pixels = unfilter(raw, width, height, stored, fail);
  if (colorType !== 3) return { width, height, channels: stored, data: pixels };
  if (!c.palette || c.palette.length % 3 !== 0) return fail('palette image without a valid PLTE chunk');
  return expandPalette(pixels, width, height, c.palette, c.alpha, fail);
}

type Zlib = { inflateSync(b: Uint8Array): Uint8Array };
/** Node's zlib, reached without an import (so the browser bundle carries none); null outside Node. */
function nodeZlib(): Zlib | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.('node:zlib') as Zlib | undefined) ?? null;
}

const corrupt = (name: string, e: unknown) => new RedeError(`${name}: not a valid PNG: image data is corrupt (${(e as Error).message})`);

/** Decodes PNG bytes (Node: synchronous; elsewhere use loadImage); `name` (a file name) starts every error. */
export function decodePng(bytes: Uint8Array, name = 'PNG data'): PngImage {
  const c = readChunks(bytes, name), zlib = nodeZlib();
  if (!zlib) throw new RedeError(`${name}: decodePng needs Node's zlib; use loadImage (asynchronous) here`);
  let raw: Uint8Array;
  try { raw = zlib.inflateSync(c.idat); } catch (e) { throw corrupt(name, e); }
  return finish(c, raw, name);
}

/** Decodes PNG bytes anywhere: node:zlib in Node, the standard DecompressionStream in browsers. */
export async function decodePngAsync(bytes: Uint8Array, name = 'PNG data'): Promise<PngImage> {
  if (nodeZlib()) return decodePng(bytes, name);
  const c = readChunks(bytes, name);
  let raw: Uint8Array;
  try {
    const stream = new Blob([c.idat as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
    raw = new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) { throw corrupt(name, e); }
  return finish(c, raw, name);
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
  if (c !== 1 && c !== 3) throw new RedeError(`imageToInput: an image converts to 1 or 3 input channels, not ${c}`);
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

export interface LoadImageOptions {
  /** 1: grey (ITU-R BT.601 luma), 3: RGB. Default: the image's own (1 for grey, 3 for colour and palette). */
  channels?: 1 | 3;
  /** [h, w] to resize to (bilinear, half-pixel centres). Default: the image's own size. */
  size?: [number, number];
  /** 1 − v (dark strokes on light → MNIST's light on dark). */
  invert?: boolean;
}

/**
 * A PNG image — a file path (Node) or its bytes — as one model input [h, w, c] (HWC, row-major), values in
 * [0, 1]; alpha is composited over black. Errors name the file: not a PNG (what it starts with instead), not a
 * valid one (what is wrong), or a kind this decoder does not read (16-bit, interlaced).
 */
export async function loadImage(source: string | Uint8Array | ArrayBuffer, options: LoadImageOptions = {}): Promise<Float32Array> {
  const o = checkOptions<LoadImageOptions>('loadImage', options, ['channels', 'size', 'invert']);
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) throw new RedeError(`loadImage: channels must be 1 or 3, got ${JSON.stringify(o.channels)}`);
  if (o.size !== undefined && !(Array.isArray(o.size) && o.size.length === 2 && o.size.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 14))) {
    throw new RedeError(`loadImage: size must be [h, w] of integers in [1, 16384], got ${JSON.stringify(o.size)}`);
  }
  let bytes: Uint8Array, name: string;
  if (typeof source === 'string') {
    name = source;
    const { readFile } = await import('node:fs/promises');
    try { bytes = await readFile(source); } catch (e) { throw new RedeError(`loadImage: cannot read ${source} (${(e as Error).message})`); }
  } else if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    name = 'image bytes';
    bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  } else {
    throw new RedeError(`loadImage: expected a file path, a Uint8Array or an ArrayBuffer, got ${source === null ? 'null' : typeof source}`);
  }
  const img = await decodePngAsync(bytes, name);
  const [h, w] = o.size ?? [img.height, img.width];
  return imageToInput(img, h, w, o.channels ?? (img.channels >= 3 ? 3 : 1), { invert: o.invert });
}
