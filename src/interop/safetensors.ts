// safetensors (huggingface/safetensors): 8 bytes little-endian header length N, N bytes of JSON
//   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ..., "__metadata__": { str: str } }
// then the tensors' bytes, little-endian, offsets relative to the end of the header. Reading executes nothing
// (it is JSON and bytes) and checks before it copies: the header length against the file size, every tensor's
// byte range inside the data, its size against its shape and dtype, and the ranges tiling the data exactly
// (no gaps, no overlaps: the format's own rule), so memory taken is bounded by the file's size.
// As a rede save format the metadata holds the model config (format "rede-model") and the tensors its weights.
import { RedeError, shapeStr } from '../engine/errors';
import type { Model } from '../api/model';
import type { ModelConfig } from '../model/config';
import type { WeightLayout, WeightTensor } from '../model/weights';

export const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 } as const;
export type SafeDtype = keyof typeof DTYPE_BYTES;

/** One tensor as stored: its dtype, shape and little-endian bytes (a copy, owned). */
export interface SafeTensor { dtype: SafeDtype; shape: number[]; bytes: Uint8Array }

export interface SafetensorsFile { tensors: Map<string, SafeTensor>; metadata: Record<string, string> }

/** The reference implementation's limit on the header. */
const MAX_HEADER = 100_000_000;

const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 80);

/** Parses safetensors bytes; `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new RedeError(`${source}: expected the bytes of a safetensors file (a Uint8Array), got ${typeof bytes}`);
  if (bytes.length < 8) throw new RedeError(`${source}: a safetensors file starts with an 8-byte header length, got ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (n > bytes.length - 8 || n > MAX_HEADER) {
    throw new RedeError(`${source}: the header length is ${n} bytes, but ${n > MAX_HEADER ? `the limit is ${MAX_HEADER}` : `the file has ${bytes.length - 8} after the length`}`);
  }
  if (n < 2 || bytes[8] !== 0x7b) throw new RedeError(`${source}: the header must be a JSON object (starting with '{'), got ${n < 1 ? 'nothing' : `byte 0x${bytes[8].toString(16)}`}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new RedeError(`${source}: the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new RedeError(`${source}: the header must be a JSON object, got ${show(header)}`);
  const data = bytes.subarray(8 + n), metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RedeError(`${source}: __metadata__ must be an object of strings, got ${show(v)}`);
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw new RedeError(`${source}: __metadata__ '${k}' must be a string, got ${show(s)}`);
        metadata[k] = s;
      }
      continue;
    }
    const where = `${source}: tensor '${name.slice(0, 200)}'`;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RedeError(`${where}: expected { dtype, shape, data_offsets }, got ${show(v)}`);
    const { dtype, shape, data_offsets: off, ...rest } = v as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length) throw new RedeError(`${where}: unknown key '${extra[0]}' (expected dtype, shape, data_offsets)`);
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) throw new RedeError(`${where}: dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, got ${show(dtype)}`);
    if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RedeError(`${where}: shape must be a list of at most 16 integers ≥ 0, got ${show(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1] || off[1] > data.length) {
      throw new RedeError(`${where}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end ≤ ${data.length} (the data's size), got ${show(off)}`);
    }
    const size = DTYPE_BYTES[dtype as SafeDtype];
    let count = (shape as number[]).includes(0) ? 0 : 1;
    for (const d of shape as number[]) { if (count > 2 ** 40) break; count *= d; } // a product past any file: stop
    if (count * size !== off[1] - off[0]) throw new RedeError(`${where}: ${dtype} ${shapeStr(shape as number[])} needs ${count > 2 ** 40 ? 'more than any file holds' : `${count * size} bytes`}, data_offsets give ${off[1] - off[0]}`);
    entries.push({ name, dtype: dtype as SafeDtype, shape: shape as number[], begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const en of entries) {
    if (en.begin !== at) throw new RedeError(`${source}: tensor '${en.name.slice(0, 200)}' starts at byte ${en.begin} of the data, expected ${at} (tensors must tile the data: no gap, no overlap)`);
    at = en.end;
  }
  if (at !== data.length) throw new RedeError(`${source}: the tensors cover ${at} bytes of data, the file has ${data.length}`);
  const tensors = new Map<string, SafeTensor>();
  for (const en of entries) tensors.set(en.name, { dtype: en.dtype, shape: en.shape, bytes: data.slice(en.begin, en.end) });
  return { tensors, metadata };
}

/** Encodes tensors (F32 from a Float32Array, or any SafeTensor) with optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor | WeightTensor> | Record<string, SafeTensor | WeightTensor>, metadata?: Record<string, string>): Uint8Array {
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)) as [string, SafeTensor | WeightTensor][];
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new RedeError('safetensors: a tensor cannot be named __metadata__');
    const raw = 'bytes' in t ? t : { dtype: 'F32' as const, shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
    const count = raw.shape.reduce((a, d) => a * d, 1);
    if (count * DTYPE_BYTES[raw.dtype] !== raw.bytes.length) throw new RedeError(`safetensors: tensor '${name}' ${raw.dtype} ${shapeStr(raw.shape)} has ${raw.bytes.length} bytes, expected ${count * DTYPE_BYTES[raw.dtype]}`);
    header[name] = { dtype: raw.dtype, shape: raw.shape, data_offsets: [at, at + raw.bytes.length] };
    parts.push(raw.bytes);
    at += raw.bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Padded with spaces so that the data starts 8-aligned (as the reference writer does).
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) { const p = new Uint8Array(padded).fill(0x20); p.set(json); json = p; }
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  let off = 8 + json.length;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** A tensor's values as float32 (floats converted, integers and booleans as numbers). */
export function toFloat32(t: SafeTensor, where = 'safetensors'): Float32Array {
  const b = t.bytes, n = b.length / DTYPE_BYTES[t.dtype], dv = new DataView(b.buffer, b.byteOffset, b.byteLength), out = new Float32Array(n);
  const half = (h: number) => {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  };
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'F32': out[i] = dv.getFloat32(i * 4, true); break;
      case 'F64': out[i] = dv.getFloat64(i * 8, true); break;
      case 'F16': out[i] = half(dv.getUint16(i * 2, true)); break;
      case 'BF16': out[i] = new Float32Array(Uint32Array.of(dv.getUint16(i * 2, true) << 16).buffer)[0]; break;
      case 'I64': out[i] = Number(dv.getBigInt64(i * 8, true)); break;
      case 'U64': out[i] = Number(dv.getBigUint64(i * 8, true)); break;
      case 'I32': out[i] = dv.getInt32(i * 4, true); break;
      case 'U32': out[i] = dv.getUint32(i * 4, true); break;
      case 'I16': out[i] = dv.getInt16(i * 2, true); break;
      case 'U16': out[i] = dv.getUint16(i * 2, true); break;
      case 'I8': out[i] = dv.getInt8(i); break;
      case 'U8': case 'BOOL': out[i] = b[i]; break;
      default: throw new RedeError(`${where}: dtype ${(t as SafeTensor).dtype} cannot be read as numbers`);
    }
  }
  return out;
}

/** A model as safetensors: its weights by rede's names (in `layout`), its config in the metadata. */
export function modelToSafetensors(model: Model, o: { layout?: WeightLayout } = {}): Uint8Array {
  const layout = o.layout ?? 'rede';
  return encodeSafetensors(model.getWeights({ layout }), { format: 'rede-model', config: JSON.stringify(model.config), layout, seed: String(model.seed) });
}

/** A model from modelToSafetensors' bytes (a new model, weights set; not compiled). */
export async function modelFromSafetensors(bytes: Uint8Array, o: { source?: string; engine?: import('../engine/engine').Engine } = {}): Promise<Model> {
  const source = o.source ?? 'safetensors';
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== 'rede-model') throw new RedeError(`${source}: not a rede model (metadata format ${show(metadata.format)}); a bare state dict needs a config (rede import --pytorch)`);
  let config: ModelConfig;
  try { config = JSON.parse(metadata.config) as ModelConfig; } catch (e) { throw new RedeError(`${source}: metadata config is not JSON (${(e as Error).message})`); }
  const layout = metadata.layout as WeightLayout;
  if (!['rede', 'keras', 'pytorch'].includes(layout)) throw new RedeError(`${source}: metadata layout must be rede, keras or pytorch, got ${show(layout)}`);
  const seed = Number(metadata.seed ?? 0);
  const { Model } = await import('../api/model');
  let model: Model;
  try {
    model = await Model.create(config, { seed: Number.isInteger(seed) ? seed : 0, ...(o.engine ? { engine: o.engine } : {}) });
  } catch (e) {
    if (e instanceof RedeError) throw new RedeError(`${source}: ${e.message}`);
    throw e;
  }
  const weights = new Map<string, WeightTensor>();
  for (const [name, t] of tensors) {
    if (t.dtype !== 'F32') throw new RedeError(`${source}: tensor '${name}' is ${t.dtype}; rede's weights are F32`);
    weights.set(name, { shape: t.shape, data: toFloat32(t, source) });
  }
  try {
    model.setWeights(weights, { fromLayout: layout });
  } catch (e) {
    if (e instanceof RedeError) throw new RedeError(`${source}: ${e.message}`);
    throw e;
  }
  return model;
}
