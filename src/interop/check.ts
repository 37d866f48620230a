// Reading untrusted interchange files: every value is checked for its kind before it is used, every size
// against what the file can hold, and every refusal is one RedeError naming the file, the place in it and
// what was found. The readers of src/interop/ (tfjs model.json, Keras h5 and .keras) share these.
import { RedeError } from '../engine/errors';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** A value for an error message: short, never the whole of a large input. */
export function show(v: unknown): string {
  let s: string;
  try { s = typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A place in a file: 'model.json: modelTopology.config.layers[3]'. */
export class Where {
  constructor(readonly file: string, readonly path = '') {}
  at(key: string | number): Where {
    return new Where(this.file, typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key);
  }
  toString(): string { return this.path ? `${this.file}: ${this.path}` : this.file; }
  fail(what: string): never { throw new RedeError(`${this}: ${what}`); }
}

/** An own property (a key like '__proto__' or 'constructor' is never inherited). */
export function field(o: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

export function obj(v: unknown, w: Where): JsonObject {
  if (!isObject(v)) w.fail(`expected an object, got ${show(v)}`);
  return v;
}
export function arr(v: unknown, w: Where, max = 1 << 20): Json[] {
  if (!Array.isArray(v)) w.fail(`expected a list, got ${show(v)}`);
  if (v.length > max) w.fail(`a list of ${v.length} entries, more than the ${max} allowed`);
  return v as Json[];
}
export function str(v: unknown, w: Where): string {
  if (typeof v !== 'string') w.fail(`expected a string, got ${show(v)}`);
  return v;
}
export function bool(v: unknown, w: Where, def: boolean): boolean {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') w.fail(`expected true or false, got ${show(v)}`);
  return v;
}
export function num(v: unknown, w: Where, def?: number): number {
  if ((v === undefined || v === null) && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) w.fail(`expected a finite number, got ${show(v)}`);
  return v;
}
/** A positive integer no larger than `max`. */
export function dim(v: unknown, w: Where, max = 1 << 24): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) w.fail(`expected a positive integer up to ${max}, got ${show(v)}`);
  return v;
}
/** An integer or a list of `n` integers (Keras's kernel_size, strides, pool_size), as a list of `n`. */
export function ints(v: unknown, w: Where, n: number, max = 1 << 16): number[] {
  if (typeof v === 'number') return Array.from({ length: n }, () => dim(v, w, max));
  const a = arr(v, w, 16);
  if (a.length !== n) w.fail(`expected ${n} integers, got ${show(v)}`);
  return a.map((x, i) => dim(x, w.at(i), max));
}

/** JSON text of at most `maxBytes` bytes, parsed; a parse error names the file. */
export function parseJson(bytes: Uint8Array | string, w: Where, maxBytes = 64 << 20): Json {
  const n = typeof bytes === 'string' ? bytes.length : bytes.length;
  if (n > maxBytes) w.fail(`${n} bytes of JSON, more than the ${maxBytes} allowed`);
  let text: string;
  try { text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { w.fail('not UTF-8 text'); }
  try { return JSON.parse(text) as Json; } catch (e) { w.fail(`not valid JSON (${(e as Error).message})`); }
}

/** The number of elements of a shape, refusing one past `max` (the bytes a file can hold). */
export function numel(shape: readonly number[], w: Where, max: number): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) w.fail(`a shape must be non-negative integers, got ${show(shape)}`);
    n *= d;
    if (n > max) w.fail(`shape ${show(shape)} holds more values than the ${max} the file can hold`);
  }
  return n;
}
