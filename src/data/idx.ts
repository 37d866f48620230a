// IDX files (the MNIST format, http://yann.lecun.com/exdb/mnist/): 4 magic bytes 00 00 <dtype> <ndims>,
// then ndims big-endian u32 dimensions, then the data, big-endian, row-major.
// parseIdx/encodeIdx work on bytes anywhere; readIdxFile and gunzipIdx (Node only) read a file and inflate gzip,
// never past the size the IDX header declares.
import { RedeError } from '../engine/errors';
import { type Dataset, fromBytes, validateDataset } from './dataset';

export type IdxDtype = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: IdxData;
}

const CODES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'u8', size: 1 },
  0x09: { dtype: 'i8', size: 1 },
  0x0b: { dtype: 'i16', size: 2 },
  0x0c: { dtype: 'i32', size: 4 },
  0x0d: { dtype: 'f32', size: 4 },
  0x0e: { dtype: 'f64', size: 8 },
};
const CODE_OF: Record<IdxDtype, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };

const hex = (b: ArrayLike<number>) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join(' ');

/** gzip streams start with 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** IDX magic: 00 00 <a known dtype code> <ndims ≥ 1>. */
export function isIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] in CODES && bytes[3] > 0;
}

interface IdxHeader { dtype: IdxDtype; size: number; dims: number[]; headerBytes: number; count: number }

/** The magic and dimensions (bytes may hold only a prefix of the file). */
function parseIdxHeader(bytes: Uint8Array, name: string): IdxHeader {
  const fail = (msg: string): never => { throw new RedeError(`${name}: ${msg}`); };
  if (bytes.length < 4) fail(`truncated: expected at least 4 bytes (IDX magic), found ${bytes.length}`);
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(bytes[2] in CODES) || bytes[3] === 0) {
    const hint = isGzip(bytes) ? ' (the data is gzipped: inflate it first, or use readIdxFile)' : '';
    fail(`bad magic: expected 00 00 <dtype 08|09|0b|0c|0d|0e> <ndims ≥ 1>, found ${hex(bytes.subarray(0, 4))}${hint}`);
  }
  const { dtype, size } = CODES[bytes[2]];
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    fail(`truncated: ${ndims} dimensions need a ${headerBytes}-byte header, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  return { dtype, size, dims, headerBytes, count };
}

/** Parse IDX bytes; `name` (a file name) starts every error message. */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  const { dtype, size, dims, headerBytes, count } = parseIdxHeader(bytes, name);
  const expected = count * size;
  const found = bytes.length - headerBytes;
  if (found !== expected) {
    const what = found < expected ? 'truncated' : 'trailing bytes';
    throw new RedeError(`${name}: ${what}: dims [${dims.join(', ')}] × ${size} byte(s) (${dtype}) = ${expected} data bytes expected, found ${found}`);
  }
  return { dtype, dims, data: decodeData(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), headerBytes, count, dtype) };
}

function decodeData(view: DataView, at: number, n: number, dtype: IdxDtype): IdxData {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + at, n * CODES[CODE_OF[dtype]].size);
  switch (dtype) {
    case 'u8': return bytes.slice();
    case 'i8': return new Int8Array(bytes.slice().buffer);
    case 'i16': { const a = new Int16Array(n); for (let i = 0; i < n; i++) a[i] = view.getInt16(at + 2 * i, false); return a; }
    case 'i32': { const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = view.getInt32(at + 4 * i, false); return a; }
    case 'f32': { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = view.getFloat32(at + 4 * i, false); return a; }
    case 'f64': { const a = new Float64Array(n); for (let i = 0; i < n; i++) a[i] = view.getFloat64(at + 8 * i, false); return a; }
  }
}

/** Encode an IDX array to bytes (the inverse of parseIdx). */
export function encodeIdx(a: IdxArray): Uint8Array {
  const code = CODE_OF[a.dtype];
  const size = CODES[code].size;
  let count = 1;
  for (const d of a.dims) count *= d;
  if (a.dims.length < 1 || a.dims.length > 255 || count !== a.data.length) {
    throw new RedeError(`encodeIdx: dims [${a.dims.join(', ')}] hold ${count} values, data has ${a.data.length}`);
  }
  const header = 4 + 4 * a.dims.length;
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = a.dims.length;
  a.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const d = a.data;
  for (let i = 0; i < count; i++) {
    const at = header + i * size;
    switch (a.dtype) {
      case 'u8': view.setUint8(at, d[i]); break;
      case 'i8': view.setInt8(at, d[i]); break;
      case 'i16': view.setInt16(at, d[i], false); break;
      case 'i32': view.setInt32(at, d[i], false); break;
      case 'f32': view.setFloat32(at, d[i], false); break;
      case 'f64': view.setFloat64(at, d[i], false); break;
    }
  }
  return out;
}

/** Node only: read an IDX file, inflating it when it is gzipped (detected by magic, not by name). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new RedeError(`${path}: cannot read IDX file (${(e as Error).message})`);
  }
  if (isGzip(bytes)) bytes = await gunzipIdx(bytes, path);
  return parseIdx(bytes, path);
}

/** Deflate's best case is 1032:1 (a 258-byte match in 2 bits), so a gzip stream inflates to at most this. */
const MAX_DEFLATE_RATIO = 1032;
/** The longest IDX header: magic + 255 dimensions. */
const MAX_IDX_HEADER = 4 + 4 * 255;

/**
 * Node only: inflate a gzipped IDX file, never past the size its own header declares. The header is read
 * from a growing prefix of the stream first; then the stream is inflated with that size as the limit, so a
 * small file whose header says 10 bytes cannot make rede inflate 600 MB of padding.
 */
export async function gunzipIdx(gz: Uint8Array, name = 'IDX data'): Promise<Uint8Array> {
  const zlib = await import('node:zlib');
  const { constants: { MAX_LENGTH } } = await import('node:buffer');
  const fail = (msg: string): never => { throw new RedeError(`${name}: ${msg}`); };
  const inflate = (input: Uint8Array, opts: import('node:zlib').ZlibOptions): Uint8Array => {
    try {
      return zlib.gunzipSync(input, opts);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        fail(`trailing bytes: the gzip data inflates to more than the ${opts.maxOutputLength} bytes its IDX header declares`);
      }
      return fail(`gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  };
  // The header: inflate prefixes of 64, 128, … bytes (sync-flushed, so a cut stream is no error) until the
  // magic and every dimension are out. A prefix of n bytes inflates to at most 1032·n bytes.
  let head: Uint8Array = new Uint8Array(0);
  for (let n = 64; ; n *= 2) {
    const prefix = gz.subarray(0, n);
    head = prefix.length < gz.length ? inflate(prefix, { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : inflate(gz, {});
    if (head.length >= (head.length >= 4 ? 4 + 4 * head[3] : MAX_IDX_HEADER) || prefix.length === gz.length) break;
  }
  const { headerBytes, count, size } = parseIdxHeader(head, name);
  const declared = headerBytes + count * size;
  if (declared > MAX_DEFLATE_RATIO * gz.length + MAX_IDX_HEADER || declared > MAX_LENGTH) {
    fail(`truncated: the IDX header declares ${declared} bytes, more than ${gz.length} bytes of gzip data can hold`);
  }
  return inflate(gz, { maxOutputLength: declared });
}

/** The images file and labels file of one split. */
export interface IdxPair { images: string; labels: string }

export interface IdxDatasetOptions {
  /** Which files a directory is searched for: train-* (default) or t10k-*. */
  split?: 'train' | 'test';
  /** Number of classes (default: largest label + 1). */
  classes?: number;
  /** Divide u8 pixels by 255 (default true). */
  scale?: boolean;
  /** The classes' names, `classes` of them. */
  classNames?: string[];
  name?: string;
}

const IDX_NAMES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/**
 * Node only: the files of a split in an MNIST-style directory, accepting the names as distributed
 * (`train-images-idx3-ubyte`, `.gz`, and the dotted `train-images.idx3-ubyte`). Throws listing what was
 * looked for when a file is missing.
 */
export async function findIdxPair(dir: string, split: 'train' | 'test'): Promise<IdxPair> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const find = (base: string): string => {
    const dotted = base.replace(/-(idx\d)/, '.$1');
    const candidates = [base, `${base}.gz`, dotted, `${dotted}.gz`];
    for (const c of candidates) if (existsSync(join(dir, c))) return join(dir, c);
    throw new RedeError(`${dir}: no ${split} file found: looked for ${candidates.join(', ')}`);
  };
  return { images: find(IDX_NAMES[split].images), labels: find(IDX_NAMES[split].labels) };
}

/**
 * Node only: a Dataset from an IDX images file ([N, H, W] or [N, H, W, C]) and a labels file ([N]),
 * given as a directory (MNIST file names, see findIdxPair) or as the two paths.
 */
export async function loadIdxDataset(src: string | IdxPair, opts: IdxDatasetOptions = {}): Promise<Dataset> {
  const split = opts.split ?? 'train';
  const pair = typeof src === 'string' ? await findIdxPair(src, split) : src;
  const [images, labels] = await Promise.all([readIdxFile(pair.images), readIdxFile(pair.labels)]);
  const d = images.dims;
  if (d.length !== 3 && d.length !== 4) {
    throw new RedeError(`${pair.images}: images must have dims [N, H, W] or [N, H, W, C], found [${d.join(', ')}]`);
  }
  if (labels.dims.length !== 1 || labels.dtype === 'f32' || labels.dtype === 'f64') {
    throw new RedeError(`${pair.labels}: labels must be integers with dims [N], found ${labels.dtype} [${labels.dims.join(', ')}]`);
  }
  if (labels.dims[0] !== d[0]) {
    throw new RedeError(`${pair.labels}: ${labels.dims[0]} labels for the ${d[0]} images of ${pair.images}`);
  }
  let maxLabel = -1;
  for (let i = 0; i < labels.data.length; i++) maxLabel = Math.max(maxLabel, labels.data[i]);
  const classes = opts.classes ?? maxLabel + 1;
  const scale = opts.scale !== false && images.dtype === 'u8';
  const ds = fromBytes(images.data, labels.data, [d[1], d[2], d[3] ?? 1], Math.max(1, classes), {
    scale, classNames: opts.classNames, name: opts.name ?? pair.images,
  });
  return validateDataset(ds);
}
