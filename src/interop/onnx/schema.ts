// The part of ONNX's schema (onnx/onnx.proto3) rede writes and reads, as plain objects, with its encoder and
// a checked decoder. Field numbers:
//   ModelProto      1 ir_version  2 producer_name  3 producer_version  4 domain  5 model_version  6 doc_string
//                   7 graph  8 opset_import  14 metadata_props          OperatorSetIdProto 1 domain  2 version
//   GraphProto      1 node  2 name  5 initializer  10 doc_string  11 input  12 output  13 value_info
//   NodeProto       1 input  2 output  3 name  4 op_type  5 attribute  6 doc_string  7 domain
//   AttributeProto  1 name  2 f  3 i  4 s  5 t  6 g  7 floats  8 ints  9 strings  10 tensors  11 graphs  20 type
//   TensorProto     1 dims  2 data_type  4 float_data  5 int32_data  7 int64_data  8 name  9 raw_data
//                   10 double_data  13 external_data  14 data_location
//   ValueInfoProto  1 name  2 type   TypeProto 1 tensor_type   TypeProto.Tensor 1 elem_type  2 shape
//   TensorShapeProto 1 dim   Dimension 1 dim_value  2 dim_param         StringStringEntryProto 1 key  2 value
// Decoding checks every tensor's data against its dims and data type before it copies (so memory follows the
// file's size), refuses external data, and bounds the nesting of graphs inside attributes.
import { RedeError, shapeStr } from '../../engine/errors';
import { Writer, bytesOf, doublesOf, floatsOf, int64Of, packedInt64s, readFields, stringOf, type Field } from './proto';

/** TensorProto.DataType values rede reads. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
const DT_NAME: Record<number, string> = { 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 16: 'BFLOAT16' };
const DT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 11: 8 };
export const dataTypeName = (t: number): string => DT_NAME[t] ?? `type ${t}`;

/** A tensor's values: FLOAT → Float32Array, DOUBLE → Float64Array, INT8/UINT8/INT32 → their arrays, INT64 → a
 *  Float64Array of safe integers. */
export type TensorData = Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array;
export interface OnnxTensor { name: string; dataType: number; dims: number[]; data: TensorData }

export type AttrValue =
  | { type: 'float'; f: number } | { type: 'int'; i: number } | { type: 'string'; s: string } | { type: 'tensor'; t: OnnxTensor }
  | { type: 'floats'; floats: number[] } | { type: 'ints'; ints: number[] } | { type: 'strings'; strings: string[] }
  | { type: 'graph' } | { type: 'other'; code: number };
export interface OnnxNode { name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attrs: Map<string, AttrValue> }
/** A graph input or output: its element type and dims (a number, or a symbolic name such as 'batch'). */
export interface ValueInfo { name: string; elemType: number; dims: (number | string)[] }
export interface OnnxGraph { name: string; nodes: OnnxNode[]; initializers: OnnxTensor[]; inputs: ValueInfo[]; outputs: ValueInfo[] }
export interface OnnxModel {
  irVersion: number; producerName: string; producerVersion: string;
  opsets: { domain: string; version: number }[];
  graph: OnnxGraph;
  metadata: Map<string, string>;
}

// ------------------------------------------------------------------------------------------------ encode

const ATTR_CODE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8 } as const;

export function encodeTensor(t: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.dataType);
  if (t.name) w.string(8, t.name);
  let raw: Uint8Array;
  if (t.dataType === DT.INT64) {
    raw = new Uint8Array(t.data.length * 8);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < t.data.length; i++) dv.setBigInt64(i * 8, BigInt(t.data[i]), true);
  } else {
    // Little-endian hosts (every wasm host) hold typed arrays in ONNX's raw byte order already.
    raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  w.bytes(9, raw);
  return w;
}

function encodeAttr(name: string, a: AttrValue): Writer {
  const w = new Writer().string(1, name);
  switch (a.type) {
    case 'float': w.float(2, a.f); break;
    case 'int': w.varint(3, a.i); break;
    case 'string': w.string(4, a.s); break;
    case 'tensor': w.message(5, encodeTensor(a.t)); break;
    case 'floats': for (const f of a.floats) w.float(7, f); break;
    case 'ints': for (const i of a.ints) w.varint(8, i); break;
    case 'strings': for (const s of a.strings) w.string(9, s); break;
    default: throw new RedeError(`onnx: cannot write attribute '${name}' of type ${a.type}`);
  }
  return w.varint(20, ATTR_CODE[a.type]);
}

function encodeValueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Writer().varint(1, d) : new Writer().string(2, d));
  const tensor = new Writer().varint(1, v.elemType).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensor));
}

export function encodeModel(m: OnnxModel): Uint8Array {
  const g = new Writer();
  for (const n of m.graph.nodes) {
    const w = new Writer();
    for (const i of n.inputs) w.string(1, i);
    for (const o of n.outputs) w.string(2, o);
    if (n.name) w.string(3, n.name);
    w.string(4, n.opType);
    for (const [k, a] of n.attrs) w.message(5, encodeAttr(k, a));
    if (n.domain) w.string(7, n.domain);
    g.message(1, w);
  }
  g.string(2, m.graph.name);
  for (const t of m.graph.initializers) g.message(5, encodeTensor(t));
  for (const v of m.graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of m.graph.outputs) g.message(12, encodeValueInfo(v));
  const w = new Writer().varint(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  w.message(7, g);
  for (const o of m.opsets) w.message(8, new Writer().string(1, o.domain).varint(2, o.version));
  for (const [k, v] of m.metadata) w.message(14, new Writer().string(1, k).string(2, v));
  return w.finish();
}

// ------------------------------------------------------------------------------------------------ decode

/** Graphs inside attributes (If, Loop bodies) are skipped; this bounds how deep a file may nest them. */
const MAX_DEPTH = 8;
/** Tensor rank limit (ONNX has none; rede's models need ≤ 4, real files ≤ 8). */
const MAX_RANK = 16;

function decodeTensor(b: Uint8Array, where: string): OnnxTensor {
  const dims: number[] = [];
  let dataType = 0, name = '', raw: Uint8Array | null = null, location = 0;
  const lists: Field[] = [];
  for (const f of readFields(b, where)) {
    switch (f.no) {
      case 1: dims.push(...packedInt64s(f, `${where} dims`)); break;
      case 2: dataType = int64Of(f, `${where} data_type`); break;
      case 8: name = stringOf(f, `${where} name`); break;
      case 9: raw = bytesOf(f, `${where} raw_data`); break;
      case 4: case 5: case 7: case 10: lists.push(f); break;
      case 13: location = 1; break;
      case 14: location = int64Of(f, `${where} data_location`); break;
      case 6: throw new RedeError(`${where}: string tensors are not read`);
      default: break;
    }
  }
  const at = name ? `${where} '${name.slice(0, 120)}'` : where;
  if (location !== 0) throw new RedeError(`${at}: data stored outside the file (external_data) is not read; save the model with its data inside`);
  if (dims.length > MAX_RANK || dims.some((d) => d < 0)) throw new RedeError(`${at}: dims must be at most ${MAX_RANK} integers >= 0, got ${shapeStr(dims.slice(0, 20))}`);
  const elemBytes = DT_BYTES[dataType];
  if (!elemBytes) throw new RedeError(`${at}: data type ${dataTypeName(dataType)} is not read (expected FLOAT, DOUBLE, INT8, UINT8, INT32 or INT64)`);
  // The element count is bounded by the bytes present before anything is allocated.
  let n = 1;
  for (const d of dims) { n *= d; if (n > b.length) break; }
  if (raw) {
    if (lists.length) throw new RedeError(`${at}: has both raw_data and typed data`);
    if (raw.length !== n * elemBytes) throw new RedeError(`${at}: raw_data has ${raw.length} bytes, dims ${shapeStr(dims)} of ${dataTypeName(dataType)} need ${n * elemBytes}`);
    return { name, dataType, dims, data: fromRaw(dataType, raw, n, at) };
  }
  if (n > b.length) throw new RedeError(`${at}: dims ${shapeStr(dims)} hold more values than the ${b.length}-byte tensor can`);
  const out = newData(dataType, n);
  let k = 0;
  const want = dataType === DT.FLOAT ? 4 : dataType === DT.DOUBLE ? 10 : dataType === DT.INT64 ? 7 : 5;
  for (const f of lists) {
    if (f.no !== want) throw new RedeError(`${at}: field ${f.no} does not hold ${dataTypeName(dataType)} values`);
    const vals: ArrayLike<number> = f.no === 4 ? floatsOf(f, at) : f.no === 10 ? doublesOf(f, at) : packedInt64s(f, at);
    if (k + vals.length > n) throw new RedeError(`${at}: more than the ${n} values dims ${shapeStr(dims)} hold`);
    for (let i = 0; i < vals.length; i++) out[k++] = vals[i];
  }
  if (k !== n) throw new RedeError(`${at}: has ${k} values, dims ${shapeStr(dims)} need ${n}`);
  if (dataType === DT.INT8 || dataType === DT.UINT8) {
    const lo = dataType === DT.INT8 ? -128 : 0;
    for (let i = 0; i < n; i++) if (out[i] !== Math.trunc(out[i]) || out[i] < lo || out[i] > lo + 255) throw new RedeError(`${at}: value ${i} out of range`);
  }
  return { name, dataType, dims, data: out };
}

function newData(dataType: number, n: number): TensorData {
  switch (dataType) {
    case DT.FLOAT: return new Float32Array(n);
    case DT.UINT8: return new Uint8Array(n);
    case DT.INT8: return new Int8Array(n);
    case DT.INT32: return new Int32Array(n);
    default: return new Float64Array(n); // DOUBLE, INT64
  }
}

function fromRaw(dataType: number, raw: Uint8Array, n: number, at: string): TensorData {
  const copy = raw.slice(); // aligned and owned
  switch (dataType) {
    case DT.FLOAT: return new Float32Array(copy.buffer, 0, n);
    case DT.UINT8: return copy;
    case DT.INT8: return new Int8Array(copy.buffer, 0, n);
    case DT.INT32: return new Int32Array(copy.buffer, 0, n);
    case DT.DOUBLE: return new Float64Array(copy.buffer, 0, n);
    default: {
      const dv = new DataView(copy.buffer), out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RedeError(`${at}: INT64 value ${i} is ${v}, beyond ±2^53`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

const CODE_ATTR: Record<number, AttrValue['type']> = { 1: 'float', 2: 'int', 3: 'string', 4: 'tensor', 5: 'graph', 6: 'floats', 7: 'ints', 8: 'strings' };

function decodeAttr(b: Uint8Array, where: string, depth: number): [string, AttrValue] {
  let name = '', code = 0, f: number | undefined, i: number | undefined, s: string | undefined, t: OnnxTensor | undefined, g = false;
  const floats: number[] = [], ints: number[] = [], strings: string[] = [];
  let other = 0;
  for (const x of readFields(b, where)) {
    switch (x.no) {
      case 1: name = stringOf(x, `${where} name`); break;
      case 2: f = floatsOf(x, `${where} f`)[0]; break;
      case 3: i = int64Of(x, `${where} i`); break;
      case 4: s = stringOf(x, `${where} s`); break;
      case 5: t = decodeTensor(bytesOf(x, `${where} t`), `${where} tensor`); break;
      case 6: case 11: g = true; checkGraphDepth(bytesOf(x, `${where} graph`), `${where} graph`, depth + 1); break;
      case 7: floats.push(...floatsOf(x, `${where} floats`)); break;
      case 8: ints.push(...packedInt64s(x, `${where} ints`)); break;
      case 9: strings.push(stringOf(x, `${where} strings`)); break;
      case 10: decodeTensor(bytesOf(x, `${where} tensors`), `${where} tensors`); other = 9; break;
      case 20: code = int64Of(x, `${where} type`); break;
      default: break;
    }
  }
  const at = `${where} '${name.slice(0, 80)}'`;
  if (!name) throw new RedeError(`${where}: an attribute without a name`);
  // Old files leave `type` out: infer it from the one field present.
  let type = CODE_ATTR[code];
  if (!type) {
    if (code !== 0) return [name, { type: 'other', code }];
    type = f !== undefined ? 'float' : i !== undefined ? 'int' : s !== undefined ? 'string' : t ? 'tensor' : g ? 'graph' : floats.length ? 'floats' : ints.length ? 'ints' : strings.length ? 'strings' : 'ints';
    if (other) return [name, { type: 'other', code: other }];
  }
  switch (type) {
    case 'float': return [name, { type, f: f ?? 0 }];
    case 'int': return [name, { type, i: i ?? 0 }];
    case 'string': return [name, { type, s: s ?? '' }];
    case 'tensor': if (!t) throw new RedeError(`${at}: a TENSOR attribute without a tensor`); return [name, { type, t }];
    case 'graph': return [name, { type }];
    case 'floats': return [name, { type, floats }];
    case 'ints': return [name, { type, ints }];
    case 'strings': return [name, { type, strings }];
  }
  return [name, { type: 'other', code }];
}

/** Subgraphs are not run by rede; only their nesting depth is bounded (their bytes are inside the file anyway). */
function checkGraphDepth(b: Uint8Array, where: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new RedeError(`${where}: graphs nested more than ${MAX_DEPTH} deep`);
  for (const f of readFields(b, where)) {
    if (f.no !== 1) continue;
    for (const n of readFields(bytesOf(f, where), `${where} node`)) if (n.no === 5) decodeAttr(bytesOf(n, where), `${where} attribute`, depth);
  }
}

function decodeNode(b: Uint8Array, where: string): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  for (const f of readFields(b, where)) {
    switch (f.no) {
      case 1: n.inputs.push(stringOf(f, `${where} input`)); break;
      case 2: n.outputs.push(stringOf(f, `${where} output`)); break;
      case 3: n.name = stringOf(f, `${where} name`); break;
      case 4: n.opType = stringOf(f, `${where} op_type`); break;
      case 5: {
        const [k, v] = decodeAttr(bytesOf(f, where), `${where} attribute`, 0);
        if (n.attrs.has(k)) throw new RedeError(`${where}: attribute '${k.slice(0, 80)}' is given twice`);
        n.attrs.set(k, v);
        break;
      }
      case 7: n.domain = stringOf(f, `${where} domain`); break;
      default: break;
    }
  }
  if (!n.opType) throw new RedeError(`${where}: a node without an op_type`);
  return n;
}

function decodeValueInfo(b: Uint8Array, where: string): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, dims: [] };
  for (const f of readFields(b, where)) {
    if (f.no === 1) v.name = stringOf(f, `${where} name`);
    else if (f.no === 2) {
      for (const t of readFields(bytesOf(f, where), `${where} type`)) {
        if (t.no !== 1) continue;
        for (const x of readFields(bytesOf(t, where), `${where} tensor_type`)) {
          if (x.no === 1) v.elemType = int64Of(x, `${where} elem_type`);
          else if (x.no === 2) {
            for (const d of readFields(bytesOf(x, where), `${where} shape`)) {
              if (d.no !== 1) continue;
              let dim: number | string = '?';
              for (const y of readFields(bytesOf(d, where), `${where} dim`)) {
                if (y.no === 1) dim = int64Of(y, `${where} dim_value`);
                else if (y.no === 2) dim = stringOf(y, `${where} dim_param`);
              }
              if (v.dims.length >= MAX_RANK) throw new RedeError(`${where}: more than ${MAX_RANK} dims`);
              v.dims.push(dim);
            }
          }
        }
      }
    }
  }
  return v;
}

function decodeGraph(b: Uint8Array, where: string): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [] };
  for (const f of readFields(b, where)) {
    switch (f.no) {
      case 1: g.nodes.push(decodeNode(bytesOf(f, where), `${where} node ${g.nodes.length}`)); break;
      case 2: g.name = stringOf(f, `${where} name`); break;
      case 5: g.initializers.push(decodeTensor(bytesOf(f, where), `${where} initializer ${g.initializers.length}`)); break;
      case 11: g.inputs.push(decodeValueInfo(bytesOf(f, where), `${where} input ${g.inputs.length}`)); break;
      case 12: g.outputs.push(decodeValueInfo(bytesOf(f, where), `${where} output ${g.outputs.length}`)); break;
      case 15: throw new RedeError(`${where}: sparse initializers are not read`);
      default: break;
    }
  }
  return g;
}

/** Parses an .onnx file's bytes; `source` names it in errors. */
export function decodeModel(bytes: Uint8Array, source = 'onnx'): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new RedeError(`${source}: expected the bytes of an .onnx file (a Uint8Array), got ${typeof bytes}`);
  const m: OnnxModel = { irVersion: 0, producerName: '', producerVersion: '', opsets: [], graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [] }, metadata: new Map() };
  let graph = false;
  for (const f of readFields(bytes, source)) {
    switch (f.no) {
      case 1: m.irVersion = int64Of(f, `${source} ir_version`); break;
      case 2: m.producerName = stringOf(f, `${source} producer_name`); break;
      case 3: m.producerVersion = stringOf(f, `${source} producer_version`); break;
      case 7: m.graph = decodeGraph(bytesOf(f, source), `${source}: graph`); graph = true; break;
      case 8: {
        const o = { domain: '', version: 0 };
        for (const x of readFields(bytesOf(f, source), `${source} opset_import`)) {
          if (x.no === 1) o.domain = stringOf(x, `${source} opset domain`);
          else if (x.no === 2) o.version = int64Of(x, `${source} opset version`);
        }
        m.opsets.push(o);
        break;
      }
      case 14: {
        let k = '', v = '';
        for (const x of readFields(bytesOf(f, source), `${source} metadata_props`)) {
          if (x.no === 1) k = stringOf(x, `${source} metadata key`);
          else if (x.no === 2) v = stringOf(x, `${source} metadata value`);
        }
        m.metadata.set(k, v);
        break;
      }
      default: break;
    }
  }
  if (!graph) throw new RedeError(`${source}: not an ONNX model (no graph field)${m.irVersion ? '' : '; the file may not be ONNX at all'}`);
  return m;
}
