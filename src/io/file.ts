// The .rede model file (docs/file-format.md): a fixed 20-byte prefix, a JSON header, then raw
// little-endian f32 tensors, each 64-byte aligned.
//
//   offset 0   8 bytes   magic 89 52 45 44 45 0D 0A 1A ("\x89REDE\r\n\x1a")
//          8   u32 LE    format version (1)
//         12   u32 LE    header length L in bytes (UTF-8 JSON)
//         16   u32 LE    CRC-32 of the header bytes
//         20   L bytes   header JSON
//          …   zeros     up to D = align64(20 + L), where the data section starts
//          D   …         tensor t at D + t.offset (a multiple of 64), t.bytes bytes; file length = D + dataBytes
//
// Reading never evaluates anything: the header is JSON.parse'd, and every tensor's dtype, shape, offset and
// size is checked against the file length before any tensor memory is allocated.
import { RedeError } from '../engine/errors';
import { writeFileAtomic, type AtomicWriteOptions } from './atomic';

export const REDE_MAGIC = Uint8Array.of(0x89, 0x52, 0x45, 0x44, 0x45, 0x0d, 0x0a, 0x1a);
export const REDE_FORMAT_VERSION = 1;
/** Headers above this are refused as corrupt before being read (a real one is kilobytes). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;
const PREFIX_BYTES = 20;
const ALIGN = 64;

/** One tensor's entry in the header's table. */
export interface TensorEntry {
  dtype: 'f32';
  shape: number[];
  /** Byte offset from the start of the data section, a multiple of 64. */
  offset: number;
  bytes: number;
  /** CRC-32 (IEEE) of the tensor's bytes. */
  crc32: number;
}

/** The caller's part of the header: any JSON, conventionally these fields. */
export interface RedeHeader {
  /** The model config (layers, input shape, …). */
  config?: unknown;
  /** Optimizer name, hyperparameters and step count; its state tensors go in `tensors`. */
  optimizer?: unknown;
  /** Training metadata: epoch, step, metrics, seed, … */
  training?: { epoch?: number; step?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RedeFile {
  header: RedeHeader;
  tensors: Record<string, Float32Array>;
  /** Each tensor's shape (default [length]); its product must equal the array's length. */
  shapes?: Record<string, number[]>;
}

export interface DecodedRedeFile extends RedeFile {
  version: number;
  shapes: Record<string, number[]>;
  table: Record<string, TensorEntry>;
}

const RESERVED = ['tensors', 'dataBytes'];
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

// ---------------------------------------------------------------------------------------------- writing

/** Serialize to bytes (pure; usable in browsers). */
export function encodeRedeFile(file: RedeFile, name = 'encodeRedeFile'): Uint8Array {
  for (const k of RESERVED) {
    if (k in file.header) throw new RedeError(`${name}: header field '${k}' is reserved for the tensor table`);
  }
  const table: Record<string, TensorEntry> = {};
  let cursor = 0;
  for (const tname of Object.keys(file.shapes ?? {})) {
    if (!(tname in file.tensors)) throw new RedeError(`${name}: a shape is given for '${tname}', which is not among the tensors`);
  }
  for (const [tname, t] of Object.entries(file.tensors)) {
    checkName(name, tname);
    if (!(t instanceof Float32Array)) throw new RedeError(`${name}: tensor '${tname}' must be a Float32Array`);
    const shape = file.shapes?.[tname] ?? [t.length];
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || shape.reduce((x, d) => x * d, 1) !== t.length) {
      throw new RedeError(`${name}: tensor '${tname}' has ${t.length} values, its shape [${shape.join(', ')}] does not`);
    }
    cursor = align(cursor);
    table[tname] = { dtype: 'f32', shape: shape.slice(), offset: cursor, bytes: t.byteLength, crc32: crc32(bytesOf(t)) };
    cursor += t.byteLength;
  }
  return assemble(file, table, cursor);
}

function assemble(file: RedeFile, table: Record<string, TensorEntry>, dataBytes: number): Uint8Array {
  const headerJson = new TextEncoder().encode(JSON.stringify({ ...file.header, tensors: table, dataBytes }));
  const dataStart = align(PREFIX_BYTES + headerJson.length);
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(REDE_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, REDE_FORMAT_VERSION, true);
  view.setUint32(12, headerJson.length, true);
  view.setUint32(16, crc32(headerJson), true);
  out.set(headerJson, PREFIX_BYTES);
  for (const [tname, e] of Object.entries(table)) writeF32(out, dataStart + e.offset, file.tensors[tname]);
  return out;
}

function writeF32(out: Uint8Array, at: number, t: Float32Array): void {
  if (LITTLE_ENDIAN) { out.set(bytesOf(t), at); return; }
  const v = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < t.length; i++) v.setFloat32(at + 4 * i, t[i], true);
}

function bytesOf(t: Float32Array): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/** Node only: encode and write atomically (temp file + fsync + rename), see writeFileAtomic. */
export async function saveRedeFile(path: string, file: RedeFile, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeRedeFile(file, path), opts);
}

// ---------------------------------------------------------------------------------------------- reading

/** The validated layout of a file, known before any tensor is read. */
interface Layout {
  version: number;
  headerBytes: number;
  dataStart: number;
}

/** Check the 20-byte prefix against the file length. */
function readPrefix(prefix: Uint8Array, fileLength: number, name: string): Layout {
  const fail = (msg: string): never => { throw new RedeError(`${name}: ${msg}`); };
  for (let i = 0; i < REDE_MAGIC.length; i++) {
    if (i >= prefix.length) fail(`truncated: ${fileLength} bytes is too short for the magic`);
    if (prefix[i] !== REDE_MAGIC[i]) {
      const found = Array.from(prefix.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      fail(`bad magic: not a rede file (expected 89 52 45 44 45 0d 0a 1a, found ${found})`);
    }
  }
  if (fileLength < PREFIX_BYTES) fail(`truncated: ${fileLength} bytes is too short for the ${PREFIX_BYTES}-byte prefix`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, PREFIX_BYTES);
  const version = view.getUint32(8, true);
  if (version !== REDE_FORMAT_VERSION) {
    fail(version > REDE_FORMAT_VERSION
      ? `format version ${version} was written by a newer rede; this one reads version ${REDE_FORMAT_VERSION}`
      : `format version field is ${version}, expected ${REDE_FORMAT_VERSION} (corrupt prefix)`);
  }
  const headerBytes = view.getUint32(12, true);
  if (headerBytes > MAX_HEADER_BYTES) fail(`header length field is ${headerBytes} bytes, over the ${MAX_HEADER_BYTES}-byte limit (corrupt prefix)`);
  if (PREFIX_BYTES + headerBytes > fileLength) {
    fail(`truncated: header length field says ${headerBytes} bytes, but the file is ${fileLength} bytes`);
  }
  return { version, headerBytes, dataStart: align(PREFIX_BYTES + headerBytes) };
}

/** Parse and check the header: CRC, JSON, the tensor table against dataBytes and the file length. */
function readHeader(json: Uint8Array, crc: number, layout: Layout, fileLength: number, name: string): { header: RedeHeader; table: Record<string, TensorEntry> } {
  const fail = (msg: string): never => { throw new RedeError(`${name}: ${msg}`); };
  const actual = crc32(json);
  if (actual !== crc) fail(`header is corrupted (CRC-32 ${hex32(actual)}, prefix says ${hex32(crc)})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('header must be a JSON object');
  const { tensors, dataBytes, ...header } = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(dataBytes) || (dataBytes as number) < 0) fail(`header field 'dataBytes' must be an integer >= 0, found ${JSON.stringify(dataBytes)}`);
  const end = layout.dataStart + (dataBytes as number);
  if (end > fileLength) fail(`truncated: the data section ends at byte ${end} (dataBytes ${dataBytes}), but the file is ${fileLength} bytes`);
  if (end < fileLength) fail(`${fileLength - end} trailing bytes after the data section (ends at byte ${end})`);
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) fail(`header field 'tensors' must be an object`);
  const table: Record<string, TensorEntry> = {};
  for (const [tname, raw] of Object.entries(tensors as Record<string, unknown>)) {
    table[tname] = checkEntry(name, tname, raw, dataBytes as number);
  }
  checkNoOverlap(name, table);
  return { header: header as RedeHeader, table };
}

function checkEntry(name: string, tname: string, raw: unknown, dataBytes: number): TensorEntry {
  checkName(name, tname);
  const fail = (field: string, msg: string): never => { throw new RedeError(`${name}: tensor '${tname}' field '${field}': ${msg}`); };
  if (typeof raw !== 'object' || raw === null) throw new RedeError(`${name}: tensor '${tname}': entry must be an object`);
  const e = raw as Record<string, unknown>;
  if (e.dtype !== 'f32') fail('dtype', `${JSON.stringify(e.dtype)} is not supported, expected "f32"`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0 && d < 2 ** 31)) {
    fail('shape', `expected an array of integers in [0, 2^31), found ${JSON.stringify(shape)}`);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (e.bytes !== 4 * count) fail('bytes', `${JSON.stringify(e.bytes)} does not match shape [${(shape as number[]).join(', ')}] (${4 * count} bytes)`);
  const offset = e.offset as number;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % ALIGN !== 0) {
    fail('offset', `expected a non-negative multiple of ${ALIGN}, found ${JSON.stringify(e.offset)}`);
  }
  if (offset + 4 * count > dataBytes) {
    fail('offset', `bytes [${offset}, ${offset + 4 * count}) are outside the ${dataBytes}-byte data section`);
  }
  if (!Number.isInteger(e.crc32) || (e.crc32 as number) < 0 || (e.crc32 as number) >= 2 ** 32) {
    fail('crc32', `expected an unsigned 32-bit integer, found ${JSON.stringify(e.crc32)}`);
  }
  return { dtype: 'f32', shape: (shape as number[]).slice(), offset, bytes: 4 * count, crc32: e.crc32 as number };
}

function checkNoOverlap(name: string, table: Record<string, TensorEntry>): void {
  const spans = Object.entries(table).filter(([, e]) => e.bytes > 0).sort((a, b) => a[1].offset - b[1].offset);
  for (let i = 1; i < spans.length; i++) {
    const [pn, p] = spans[i - 1], [cn, c] = spans[i];
    if (p.offset + p.bytes > c.offset) {
      throw new RedeError(`${name}: tensor '${cn}' field 'offset': bytes from ${c.offset} overlap tensor '${pn}' [${p.offset}, ${p.offset + p.bytes})`);
    }
  }
}

function shapesOf(table: Record<string, TensorEntry>): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const [tname, e] of Object.entries(table)) shapes[tname] = e.shape.slice();
  return shapes;
}

function checkName(name: string, tname: string): void {
  if (tname.length === 0 || tname === '__proto__') throw new RedeError(`${name}: tensor name ${JSON.stringify(tname)} is not allowed`);
}

function checkCrc(name: string, tname: string, e: TensorEntry, bytes: Uint8Array): void {
  const actual = crc32(bytes);
  if (actual !== e.crc32) {
    throw new RedeError(`${name}: tensor '${tname}' is corrupted (CRC-32 of its ${e.bytes} bytes is ${hex32(actual)}, header says ${hex32(e.crc32)})`);
  }
}

function toF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length / 4;
  // Uint8Array's slice copies; a Node Buffer's own slice() is a view into its (often pooled) memory.
  if (LITTLE_ENDIAN) return new Float32Array(Uint8Array.prototype.slice.call(bytes).buffer, 0, n);
  const out = new Float32Array(n), v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
  return out;
}

/** Parse bytes (pure; usable in browsers). `name` starts every error message. */
export function decodeRedeFile(bytes: Uint8Array, name = 'rede file'): DecodedRedeFile {
  const layout = readPrefix(bytes.subarray(0, PREFIX_BYTES), bytes.length, name);
  const crc = new DataView(bytes.buffer, bytes.byteOffset + 16, 4).getUint32(0, true);
  const { header, table } = readHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + layout.headerBytes), crc, layout, bytes.length, name);
  const tensors: Record<string, Float32Array> = {};
  for (const [tname, e] of Object.entries(table)) {
    const at = layout.dataStart + e.offset;
    const raw = bytes.subarray(at, at + e.bytes);
    checkCrc(name, tname, e, raw);
    tensors[tname] = toF32(raw);
  }
  return { version: layout.version, header, tensors, shapes: shapesOf(table), table };
}

/** Node only: read and validate a file; tensors are read one by one after the whole table checks out. */
export async function loadRedeFile(path: string): Promise<DecodedRedeFile> {
  const fs = await import('node:fs/promises');
  let fh;
  try {
    fh = await fs.open(path, 'r');
  } catch (e) {
    throw new RedeError(`${path}: cannot open (${(e as Error).message})`);
  }
  try {
    const fileLength = (await fh.stat()).size;
    const readAt = async (at: number, length: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, at + done);
        if (bytesRead === 0) throw new RedeError(`${path}: truncated while reading (file changed during load?)`);
        done += bytesRead;
      }
      return buf;
    };
    const prefix = await readAt(0, Math.min(PREFIX_BYTES, fileLength));
    const layout = readPrefix(prefix, fileLength, path);
    const crc = new DataView(prefix.buffer).getUint32(16, true);
    const json = await readAt(PREFIX_BYTES, layout.headerBytes);
    const { header, table } = readHeader(json, crc, layout, fileLength, path);
    const tensors: Record<string, Float32Array> = {};
    for (const [tname, e] of Object.entries(table)) {
      const raw = await readAt(layout.dataStart + e.offset, e.bytes);
      checkCrc(path, tname, e, raw);
      tensors[tname] = LITTLE_ENDIAN ? new Float32Array(raw.buffer, 0, e.bytes / 4) : toF32(raw);
    }
    return { version: layout.version, header, tensors, shapes: shapesOf(table), table };
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------- CRC-32

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib and PNG compute it. */
export function crc32(bytes: Uint8Array): number {
  const t = (crcTable ??= makeCrcTable());
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const hex32 = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
