// A minimal PNG encoder (8-bit grey or RGB, no interlace): signature, IHDR, one zlib IDAT, IEND. Node's zlib does
// the compression; the CRC is the .rede format's. Enough for filters and feature maps.
import { deflateSync } from 'node:zlib';
import { crc32 } from '../io/file';

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length), dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Grey pixels, row-major, width × height bytes → PNG bytes. */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  return encode(pixels, width, height, 1);
}

/** RGB pixels, row-major, width × height × 3 bytes → PNG bytes. */
export function encodeRgbPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  return encode(pixels, width, height, 3);
}

function encode(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Uint8Array {
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer), row = width * channels;
  dv.setUint32(0, width); dv.setUint32(4, height);
  ihdr[8] = 8; ihdr[9] = channels === 1 ? 0 : 2; // bit depth 8, colour type 0 (grey) or 2 (RGB)
  const raw = new Uint8Array(height * (row + 1)); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
