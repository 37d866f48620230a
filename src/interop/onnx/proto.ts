// The protobuf wire format, as much as ONNX needs: a writer that builds messages front to back, and a reader
// that splits one message into its fields without copying (views into the input). Wire types:
//   0 varint (int32/int64/enum/bool)   1 fixed64 (double)   2 length-delimited (string, bytes, message, packed)
//   5 fixed32 (float)                  3/4 groups (deprecated; refused)
// The reader never allocates more than the input justifies: a length is checked against the bytes left before
// anything is cut, a packed list's count comes from its byte length, and nesting is bounded by the caller.
import { RedeError } from '../../engine/errors';

const utf8 = new TextEncoder();

/** Builds one message. Nested messages are written into their own Writer and added with `message`. */
export class Writer {
  private buf = new Uint8Array(256);
  private n = 0;
  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.n + k) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  private rawVarint(v: number | bigint): void {
    // Negative int64s are ten bytes of two's complement, as protobuf writes them.
    let x = typeof v === 'bigint' ? BigInt.asUintN(64, v) : v >= 0 ? v : BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    if (typeof x === 'number') {
      while (x >= 0x80) { this.buf[this.n++] = (x % 0x80) | 0x80; x = Math.floor(x / 0x80); }
      this.buf[this.n++] = x;
      return;
    }
    while (x >= 0x80n) { this.buf[this.n++] = Number(x & 0x7fn) | 0x80; x >>= 7n; }
    this.buf[this.n++] = Number(x);
  }
  private tag(field: number, wire: number): void { this.rawVarint(field * 8 + wire); }
  /** An int32, int64, enum or bool field (a safe integer, or a bigint). */
  varint(field: number, v: number | bigint): this { this.tag(field, 0); this.rawVarint(v); return this; }
  float(field: number, v: number): this {
    this.tag(field, 5); this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.n, v, true); this.n += 4; return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2); this.rawVarint(b.length); this.ensure(b.length);
    this.buf.set(b, this.n); this.n += b.length; return this;
  }
  string(field: number, s: string): this { return this.bytes(field, utf8.encode(s)); }
  message(field: number, m: Writer): this { return this.bytes(field, m.finish()); }
  /** A packed repeated varint field. */
  packedVarints(field: number, vs: readonly number[]): this {
    const inner = new Writer();
    for (const v of vs) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }
  /** A packed repeated float field. */
  packedFloats(field: number, vs: ArrayLike<number>): this {
    const b = new Uint8Array(vs.length * 4), dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat32(i * 4, vs[i], true);
    return this.bytes(field, b);
  }
  /** The bytes written so far (a view; the Writer is done). */
  finish(): Uint8Array { return this.buf.subarray(0, this.n); }
}

/** One field occurrence: its number, wire type, and value (a varint as a number or, past 2^53, a bigint; a
 *  fixed32/fixed64 or length-delimited field as a view of its bytes). */
export interface Field { no: number; wire: 0 | 1 | 2 | 5; int: number | bigint; bytes: Uint8Array }

const EMPTY = new Uint8Array(0);

/** Reads the varint at b[at]: its value (a number, or a bigint past 2^53) and the byte after it. */
function varintAt(b: Uint8Array, at: number, where: string): [number | bigint, number] {
  let v = 0, scale = 1, i = 0;
  for (; i < 7; i++) { // up to 49 bits in a number
    if (at >= b.length) throw new RedeError(`${where}: a varint runs past the end of the message (${b.length} bytes)`);
    const c = b[at++];
    v += (c & 0x7f) * scale; scale *= 128;
    if (c < 0x80) return [v, at];
  }
  let big = BigInt(v), shift = 49n;
  for (; i < 10; i++) {
    if (at >= b.length) throw new RedeError(`${where}: a varint runs past the end of the message (${b.length} bytes)`);
    const c = b[at++];
    big |= BigInt(c & 0x7f) << shift; shift += 7n;
    if (c < 0x80) { big = BigInt.asUintN(64, big); return [big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big, at]; }
  }
  throw new RedeError(`${where}: a varint longer than 10 bytes at byte ${at}`);
}

/** Splits a message into its fields, in order. `where` names the message in errors. */
export function readFields(b: Uint8Array, where: string): Field[] {
  const out: Field[] = [];
  let at = 0, key: number | bigint, len: number | bigint, int: number | bigint;
  while (at < b.length) {
    const start = at;
    [key, at] = varintAt(b, at, where);
    if (typeof key === 'bigint' || key > 0xffffffff) throw new RedeError(`${where}: field key ${key} at byte ${start} is out of range`);
    const no = Math.floor(key / 8), wire = key % 8;
    if (no === 0) throw new RedeError(`${where}: field number 0 at byte ${start}`);
    switch (wire) {
      case 0: [int, at] = varintAt(b, at, where); out.push({ no, wire, int, bytes: EMPTY }); break;
      case 1: case 5: {
        const k = wire === 1 ? 8 : 4;
        if (at + k > b.length) throw new RedeError(`${where}: field ${no} needs ${k} bytes at byte ${at}, ${b.length - at} left`);
        out.push({ no, wire, int: 0, bytes: b.subarray(at, at + k) }); at += k; break;
      }
      case 2: {
        [len, at] = varintAt(b, at, where);
        if (typeof len === 'bigint' || len > b.length - at) throw new RedeError(`${where}: field ${no} says ${len} bytes at byte ${at}, ${b.length - at} left`);
        out.push({ no, wire, int: 0, bytes: b.subarray(at, at + len) }); at += len; break;
      }
      default: throw new RedeError(`${where}: field ${no} has wire type ${wire} at byte ${start} (groups and unknown types are not read)`);
    }
  }
  return out;
}

/** The signed 64-bit value of a varint field, as a safe integer; larger magnitudes are an error. */
export function int64Of(f: Field, where: string): number {
  if (f.wire !== 0) throw new RedeError(`${where}: field ${f.no} must be a varint, got wire type ${f.wire}`);
  if (typeof f.int === 'number') return f.int;
  const v = BigInt.asIntN(64, f.int);
  if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RedeError(`${where}: field ${f.no} is ${v}, beyond ±2^53`);
  return Number(v);
}

/** A packed (or single) repeated varint field's values, as signed 64-bit safe integers. */
export function packedInt64s(f: Field, where: string): number[] {
  if (f.wire === 0) return [int64Of(f, where)];
  if (f.wire !== 2) throw new RedeError(`${where}: field ${f.no} must be varints, got wire type ${f.wire}`);
  const out: number[] = [], b = f.bytes;
  let at = 0, v: number | bigint;
  while (at < b.length) {
    [v, at] = varintAt(b, at, where);
    out.push(int64Of({ no: f.no, wire: 0, int: v, bytes: EMPTY }, where));
  }
  return out;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
/** A length-delimited field as UTF-8 text. */
export function stringOf(f: Field, where: string): string {
  if (f.wire !== 2) throw new RedeError(`${where}: field ${f.no} must be a string, got wire type ${f.wire}`);
  try { return utf8Strict.decode(f.bytes); } catch { throw new RedeError(`${where}: field ${f.no} is not valid UTF-8`); }
}

/** A length-delimited field's bytes (a message or raw bytes). */
export function bytesOf(f: Field, where: string): Uint8Array {
  if (f.wire !== 2) throw new RedeError(`${where}: field ${f.no} must be length-delimited, got wire type ${f.wire}`);
  return f.bytes;
}

/** A fixed32 float field, or a packed list of them. */
export function floatsOf(f: Field, where: string): Float32Array {
  if (f.wire === 5) return new Float32Array([new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true)]);
  if (f.wire !== 2 || f.bytes.length % 4) throw new RedeError(`${where}: field ${f.no} must be floats (fixed32, or a packed list of 4-byte values), got ${f.wire === 2 ? `${f.bytes.length} bytes` : `wire type ${f.wire}`}`);
  const out = new Float32Array(f.bytes.length / 4), dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** A fixed64 double field, or a packed list of them. */
export function doublesOf(f: Field, where: string): Float64Array {
  if (f.wire === 1) return new Float64Array([new DataView(f.bytes.buffer, f.bytes.byteOffset, 8).getFloat64(0, true)]);
  if (f.wire !== 2 || f.bytes.length % 8) throw new RedeError(`${where}: field ${f.no} must be doubles, got ${f.wire === 2 ? `${f.bytes.length} bytes` : `wire type ${f.wire}`}`);
  const out = new Float64Array(f.bytes.length / 8), dv = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
  return out;
}
