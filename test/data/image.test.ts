// The PNG decoder against a small encoder written here (every filter type, split IDAT, palette + tRNS),
// and imageToInput's colour conversion, compositing and bilinear resize against hand-computed values; loadImage
// (paths, bytes, options) and its content sniffing (the bytes decide, never the name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { RedeError } from '../../src/engine/errors';
import { decodePng, decodePngAsync, imageToInput, borderMean, loadImage, type PngImage } from '../../src/data/image';
import { encodeIdx } from '../../src/data/idx';
import { Rng } from '../helpers/rand';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length), v = new DataView(out.buffer);
  v.setUint32(0, body.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(body, 8);
  v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}
const paeth = (a: number, b: number, c: number) => {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** A valid PNG: row y uses filter filters[y % filters.length]; IDAT split in `parts`. */
function encodePng(o: { width: number; height: number; colorType: number; pixels: Uint8Array; filters?: number[]; parts?: number;
  palette?: Uint8Array; trns?: Uint8Array; depth?: number; interlace?: number }): Uint8Array {
  const bpp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[o.colorType as 0 | 2 | 3 | 4 | 6];
  const stride = o.width * bpp, filters = o.filters ?? [0];
  const raw = new Uint8Array(o.height * (stride + 1));
  for (let y = 0; y < o.height; y++) {
    const f = filters[y % filters.length], row = (i: number, yy = y) => (yy >= 0 && i >= 0 ? o.pixels[yy * stride + i] : 0);
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = row(i), a = row(i - bpp), b = row(i, y - 1), c = row(i - bpp, y - 1);
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 255;
    }
  }
  const z = deflateSync(raw), parts = o.parts ?? 1, idat: Uint8Array[] = [];
  for (let p = 0; p < parts; p++) idat.push(chunk('IDAT', z.subarray(Math.floor((p * z.length) / parts), Math.floor(((p + 1) * z.length) / parts))));
  const ihdr = new Uint8Array(13), v = new DataView(ihdr.buffer);
  v.setUint32(0, o.width); v.setUint32(4, o.height);
  ihdr.set([o.depth ?? 8, o.colorType, 0, 0, o.interlace ?? 0], 8);
  const list = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr)];
  if (o.palette) list.push(chunk('PLTE', o.palette));
  if (o.trns) list.push(chunk('tRNS', o.trns));
  list.push(chunk('tEXt', Buffer.from('Comment\0ignored', 'latin1')), ...idat, chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(list);
}

test('decodePng reads grey, grey+alpha, RGB and RGBA with every filter type and split IDAT', () => {
  const rng = new Rng(7);
  for (const [colorType, channels] of [[0, 1], [4, 2], [2, 3], [6, 4]] as const) {
    for (const [width, height] of [[1, 1], [5, 3], [13, 11]]) {
      const pixels = Uint8Array.from({ length: width * height * channels }, () => Math.floor(rng.uniform(0, 256)));
      const png = encodePng({ width, height, colorType, pixels, filters: [0, 1, 2, 3, 4], parts: 3 });
      const img = decodePng(png, 'x.png');
      assert.deepEqual([img.width, img.height, img.channels], [width, height, channels]);
      assert.deepEqual(Array.from(img.data), Array.from(pixels), `colour type ${colorType} ${width}×${height}`);
    }
  }
});

test('decodePng expands palette images, with tRNS alpha', () => {
  const palette = Uint8Array.of(0, 0, 0, 255, 0, 0, 10, 20, 30);
  const img = decodePng(encodePng({ width: 3, height: 1, colorType: 3, pixels: Uint8Array.of(2, 0, 1), palette }));
  assert.deepEqual([img.channels, ...img.data], [3, 10, 20, 30, 0, 0, 0, 255, 0, 0]);
  const withAlpha = decodePng(encodePng({ width: 2, height: 1, colorType: 3, pixels: Uint8Array.of(0, 2), palette, trns: Uint8Array.of(7) }));
  assert.deepEqual([withAlpha.channels, ...withAlpha.data], [4, 0, 0, 0, 7, 10, 20, 30, 255]);
});

test('decodePng rejects what it does not read with a RedeError naming the file', () => {
  const px = new Uint8Array(4);
  const cases: [Uint8Array, RegExp][] = [
    [Uint8Array.of(1, 2, 3), /bad\.png: not a PNG image \(starts with 01 02 03; a PNG starts with 89 50 4e 47/],
    [encodePng({ width: 2, height: 2, colorType: 0, pixels: px, depth: 16 }), /bit depth 16 is not supported/],
    [encodePng({ width: 2, height: 2, colorType: 0, pixels: px, interlace: 1 }), /interlaced/],
    [encodePng({ width: 2, height: 2, colorType: 0, pixels: px }).subarray(0, 40), /truncated/],
    [encodePng({ width: 1, height: 1, colorType: 3, pixels: Uint8Array.of(5), palette: Uint8Array.of(1, 2, 3) }), /palette entry 5/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => decodePng(bytes, 'bad.png'), (e: unknown) => e instanceof RedeError && re.test(e.message) && e.message.startsWith('bad.png: '));
  }
});

const image = (width: number, height: number, channels: 1 | 2 | 3 | 4, data: number[]): PngImage => ({ width, height, channels, data: Uint8Array.from(data) });

test('imageToInput: identity at the same size, luma for colour, alpha over black, invert', () => {
  const grey = image(2, 2, 1, [0, 51, 102, 255]);
  assert.deepEqual(Array.from(imageToInput(grey, 2, 2, 1), (v) => +v.toFixed(6)), [0, 0.2, 0.4, 1]);
  assert.deepEqual(Array.from(imageToInput(grey, 2, 2, 1, { invert: true }), (v) => +v.toFixed(6)), [1, 0.8, 0.6, 0]);
  const rgb = imageToInput(image(1, 1, 3, [255, 0, 0]), 1, 1, 1);
  assert.ok(Math.abs(rgb[0] - 0.299) < 1e-6);
  const rgba = imageToInput(image(1, 1, 4, [255, 255, 255, 51]), 1, 1, 1);
  assert.ok(Math.abs(rgba[0] - 0.2) < 1e-6); // white at 20% opacity over black
  assert.deepEqual(Array.from(imageToInput(image(1, 1, 1, [255]), 1, 1, 3)), [1, 1, 1]);
  assert.throws(() => imageToInput(grey, 2, 2, 2), /1 or 3 input channels/);
});

test('imageToInput resizes bilinearly with half-pixel centres', () => {
  // 2 → 4 along x: sources at (x + 0.5)/2 − 0.5 = −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
  const up = imageToInput(image(2, 1, 1, [0, 255]), 1, 4, 1);
  assert.deepEqual(Array.from(up, (v) => +v.toFixed(6)), [0, 0.25, 0.75, 1]);
  // 4 → 2: sources at 0.5 and 2.5, the means of the pairs.
  const down = imageToInput(image(4, 1, 1, [0, 102, 153, 255]), 1, 2, 1);
  assert.deepEqual(Array.from(down, (v) => +v.toFixed(6)), [0.2, 0.8]);
  // A constant image stays constant whatever the size.
  const flat = imageToInput(image(7, 5, 1, new Array(35).fill(51)), 28, 28, 1);
  assert.ok(flat.every((v) => Math.abs(v - 0.2) < 1e-6));
  assert.equal(borderMean(flat, 28, 28, 1).toFixed(6), '0.200000');
});

test('loadImage: a path or bytes → [h, w, c] floats in [0, 1]; channels and size as asked', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'rede-image-'));
  try {
    const grey = encodePng({ width: 3, height: 2, colorType: 0, pixels: Uint8Array.of(0, 51, 102, 153, 204, 255) });
    const path = join(dir, 'g.png');
    await writeFile(path, grey);
    const x = await loadImage(path);
    assert.deepEqual(Array.from(x), [0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround), 'grey: 1 channel, own size');
    assert.deepEqual(await loadImage(grey), x, 'the same bytes');
    assert.deepEqual(await loadImage(grey.buffer.slice(grey.byteOffset, grey.byteOffset + grey.byteLength) as ArrayBuffer), x, 'an ArrayBuffer');
    const rgb = await loadImage(grey, { channels: 3 });
    assert.deepEqual(Array.from(rgb.subarray(0, 6)), [0, 0, 0, 0.2, 0.2, 0.2].map(Math.fround), 'grey replicated to RGB');
    assert.equal((await loadImage(grey, { size: [4, 6] })).length, 24, 'resized to 4×6×1');
    const colour = encodePng({ width: 1, height: 1, colorType: 2, pixels: Uint8Array.of(255, 0, 0) });
    assert.equal((await loadImage(colour)).length, 3, 'RGB: 3 channels by default');
    assert.ok(Math.abs((await loadImage(colour, { channels: 1 }))[0] - 0.299) < 1e-6, 'BT.601 luma of red');
    const palette = encodePng({ width: 2, height: 1, colorType: 3, pixels: Uint8Array.of(1, 0), palette: Uint8Array.of(0, 0, 0, 255, 255, 255) });
    assert.deepEqual(Array.from(await loadImage(palette, { channels: 1 })), [1, 0]);
    assert.deepEqual(Array.from(await loadImage(grey, { invert: true, size: [1, 1] })), [Math.fround(0.5)]);
    await assert.rejects(loadImage(join(dir, 'missing.png')), /loadImage: cannot read .*missing\.png/);
    await assert.rejects(loadImage(grey, { channels: 2 as never }), /loadImage: channels must be 1 or 3, got 2/);
    await assert.rejects(loadImage(grey, { size: [0, 4] }), /loadImage: size must be \[h, w\] of integers/);
    await assert.rejects(loadImage(grey, { chanels: 1 } as never), /loadImage: unknown option 'chanels' \(did you mean 'channels'\?\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loadImage sniffs the bytes: text or IDX named .png, garbage after the signature, corrupt data', async () => {
  const rede = (re: RegExp) => (e: unknown) => e instanceof RedeError && re.test(e.message);
  const text = new TextEncoder().encode('hello, this is not an image\n');
  await assert.rejects(loadImage(text), rede(/^image bytes: not a PNG image \(starts with "hello, this "\.\.\.; a PNG starts with 89 50 4e 47 0d 0a 1a 0a\)$/));
  const idx = encodeIdx({ dtype: 'u8', dims: [1, 2, 2], data: new Uint8Array(4) });
  await assert.rejects(loadImage(idx), rede(/not a PNG image \(starts with 00 00 08 03 .*; it is an IDX file \(read it with readIdxFile\)/));
  await assert.rejects(loadImage(new Uint8Array(0)), rede(/starts with nothing: the file is empty/));
  const sig = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  const garbage = Uint8Array.from([...sig, ...new TextEncoder().encode('\0\0\0\rgarbage here!!')]);
  await assert.rejects(loadImage(garbage), rede(/^image bytes: not a valid PNG: the first chunk is garb, expected IHDR$/));
  const binary = Uint8Array.from([...sig, 0, 0, 0, 13, 0x01, 0xfe, 0x33, 0x7f, ...new Uint8Array(20)]);
  await assert.rejects(loadImage(binary), rede(/^image bytes: not a valid PNG: bad chunk type at byte 12 \(01 fe 33 7f\)$/));
  await assert.rejects(loadImage(sig), rede(/^image bytes: not a valid PNG: truncated: no IEND chunk$/));
  const good = encodePng({ width: 4, height: 4, colorType: 0, pixels: new Uint8Array(16) });
  const broken = good.slice();
  const idat = Buffer.from(broken).indexOf('IDAT');
  broken.fill(0xff, idat + 4, idat + 10); // the zlib stream's header and first bytes
  await assert.rejects(loadImage(broken), rede(/^image bytes: not a valid PNG: image data is corrupt/));
});

test('decodePngAsync without Node zlib inflates through DecompressionStream (the browser path), same pixels', async () => {
  const rng = new Rng(3), pixels = Uint8Array.from({ length: 7 * 5 * 3 }, () => Math.floor(rng.uniform(0, 256)));
  const png = encodePng({ width: 7, height: 5, colorType: 2, pixels, filters: [0, 1, 2, 3, 4], parts: 2 });
  const proc = process as unknown as { getBuiltinModule: unknown };
  const saved = proc.getBuiltinModule;
  proc.getBuiltinModule = () => undefined;
  try {
    assert.throws(() => decodePng(png, 'a.png'), /a\.png: decodePng needs Node's zlib; use loadImage/);
    const img = await decodePngAsync(png, 'a.png');
    assert.deepEqual(Array.from(img.data), Array.from(pixels));
    const bad = png.slice(), at = Buffer.from(bad).indexOf('IDAT');
    bad.fill(0xff, at + 4, at + 10);
    await assert.rejects(decodePngAsync(bad, 'a.png'), /a\.png: not a valid PNG: image data is corrupt/);
  } finally {
    proc.getBuiltinModule = saved;
  }
});
