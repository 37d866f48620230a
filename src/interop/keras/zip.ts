// A small zip reader and writer for Keras 3's .keras files (PKWARE APPNOTE 6.3: local headers, a central
// directory, its end record). Read: entries stored (0) or deflated (8); every offset and size is checked
// against the file, an entry's inflated size against its record and deflate's 1032:1 ceiling, its CRC-32
// against the data. ZIP64, encryption and multi-disk archives are refused. Write: stored entries only.
import { RedeError } from '../../engine/errors';
import { crc32 } from '../../io/file';

const EOCD = 0x06054b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
/** Deflate cannot expand more than about 1032:1; a record claiming more is a lie (or a bomb). */
const MAX_RATIO = 1032;

export interface ZipEntry { name: string; method: number; crc: number; compressed: number; size: number; offset: number }

/** The central directory of a zip file. */
export function zipEntries(b: Uint8Array, file: string): ZipEntry[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let end = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) if (v.getUint32(i, true) === EOCD) { end = i; break; }
  if (end < 0) throw new RedeError(`${file}: not a zip file (no end of central directory record)`);
  const disk = v.getUint16(end + 4, true), count = v.getUint16(end + 10, true), size = v.getUint32(end + 12, true), at = v.getUint32(end + 16, true);
  if (disk !== 0 || v.getUint16(end + 8, true) !== count) throw new RedeError(`${file}: a multi-disk zip`);
  if (count === 0xffff || at === 0xffffffff) throw new RedeError(`${file}: a ZIP64 archive, which rede does not read`);
  if (at + size > end) throw new RedeError(`${file}: the central directory (${size} bytes at ${at}) runs past its end record at ${end}`);
  const out: ZipEntry[] = [];
  let p = at;
  for (let i = 0; i < count; i++) {
    if (p + 46 > at + size || v.getUint32(p, true) !== CENTRAL) throw new RedeError(`${file}: central directory entry ${i} is broken`);
    const flags = v.getUint16(p + 8, true), method = v.getUint16(p + 10, true), crc = v.getUint32(p + 16, true);
    const compressed = v.getUint32(p + 20, true), usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true), extraLen = v.getUint16(p + 30, true), commentLen = v.getUint16(p + 32, true), offset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen > at + size) throw new RedeError(`${file}: central directory entry ${i}'s name runs past the directory`);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new RedeError(`${file}: '${name}' is encrypted`);
    if (method !== 0 && method !== 8) throw new RedeError(`${file}: '${name}' uses compression method ${method} (rede reads stored and deflate)`);
    if (compressed === 0xffffffff || usize === 0xffffffff || offset === 0xffffffff) throw new RedeError(`${file}: '${name}' needs ZIP64, which rede does not read`);
    if (offset + 30 + compressed > at) throw new RedeError(`${file}: '${name}' (${compressed} bytes at ${offset}) runs past the file's data`);
    if ((method === 0 && usize !== compressed) || usize > compressed * MAX_RATIO + 64) {
      throw new RedeError(`${file}: '${name}' claims ${usize} bytes from ${compressed} ${method === 0 ? 'stored' : 'deflated'} ones`);
    }
    out.push({ name, method, crc, compressed, size: usize, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** One entry's bytes, inflated and CRC-checked. */
export async function zipRead(b: Uint8Array, e: ZipEntry, file: string): Promise<Uint8Array> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(e.offset, true) !== LOCAL) throw new RedeError(`${file}: '${e.name}': no local header at ${e.offset}`);
  const start = e.offset + 30 + v.getUint16(e.offset + 26, true) + v.getUint16(e.offset + 28, true);
  if (start + e.compressed > b.length) throw new RedeError(`${file}: '${e.name}' runs past the end of the file`);
  const raw = b.subarray(start, start + e.compressed);
  let data: Uint8Array;
  if (e.method === 0) data = raw;
  else {
    const { inflateRawSync } = await import('node:zlib');
    try { data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) })); } catch (err) {
      throw new RedeError(`${file}: '${e.name}' does not inflate to its ${e.size} bytes (${(err as Error).message})`);
    }
  }
  if (data.length !== e.size) throw new RedeError(`${file}: '${e.name}' holds ${data.length} bytes, its record ${e.size}`);
  if (crc32(data) !== e.crc) throw new RedeError(`${file}: '${e.name}' fails its CRC-32 check`);
  return data;
}

/** name → bytes as a zip of stored entries. */
export function zipWrite(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const enc = new TextEncoder(), parts: Uint8Array[] = [], central: Uint8Array[] = [];
  let at = 0;
  for (const [name, data] of files) {
    const n = enc.encode(name), crc = crc32(data);
    const local = new Uint8Array(30 + n.length), lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL, true); lv.setUint16(4, 20, true); lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true); lv.setUint32(22, data.length, true); lv.setUint16(26, n.length, true);
    local.set(n, 30);
    const c = new Uint8Array(46 + n.length), cv = new DataView(c.buffer);
    cv.setUint32(0, CENTRAL, true); cv.setUint16(4, 20, true); cv.setUint16(6, 20, true); cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true); cv.setUint32(24, data.length, true); cv.setUint16(28, n.length, true); cv.setUint32(42, at, true);
    c.set(n, 46);
    parts.push(local, data); central.push(c);
    at += local.length + data.length;
  }
  const size = central.reduce((s, c) => s + c.length, 0), end = new Uint8Array(22), ev = new DataView(end.buffer);
  ev.setUint32(0, EOCD, true); ev.setUint16(8, files.size, true); ev.setUint16(10, files.size, true); ev.setUint32(12, size, true); ev.setUint32(16, at, true);
  const out = new Uint8Array(at + size + 22);
  let p = 0;
  for (const x of [...parts, ...central, end]) { out.set(x, p); p += x.length; }
  return out;
}
