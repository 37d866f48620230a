// The fuzzer's mutator: seeded, so input i of a run is a pure function of (seed, target, i) and any input
// can be made again on its own (`--only i`). Bytes get bit flips, interesting bytes, truncation, splices,
// inserts, deletes and size-field edits; JSON gets value swaps with hostile values, deleted and added keys,
// duplicated and swapped elements.
import { hash4 } from '../../src/data/rng';

/** xorshift128 seeded from (seed, stream, index) through hash4. */
export class FuzzRng {
  private s: Uint32Array;
  constructor(seed: number, stream: number, index: number) {
    this.s = Uint32Array.of(hash4(seed, stream, index, 1), hash4(seed, stream, index, 2), hash4(seed, stream, index, 3), hash4(seed, stream, index, 4) | 1);
  }
  u32(): number {
    const s = this.s;
    let t = s[3];
    const x = s[0];
    s[3] = s[2]; s[2] = s[1]; s[1] = x;
    t ^= t << 11; t ^= t >>> 8;
    s[0] = (t ^ x ^ (x >>> 19)) >>> 0;
    return s[0];
  }
  /** Integer in [0, n). */
  int(n: number): number { return n <= 0 ? 0 : this.u32() % n; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0d, 0x0e, 0x1f, 0x8b, 0x22, 0x7b, 0x7d, 0x5b, 0x5d];
const INTERESTING_U32 = [0, 1, 2, 3, 4, 7, 8, 10, 63, 64, 65, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 16384, 60000];

/** A field of the format the mutator may rewrite: a u32 at `at`, little- or big-endian. */
export interface SizeField { at: number; littleEndian: boolean }

/** One to four byte-level mutations of `b` (a copy); `others` are donors for splices. */
export function mutateBytes(rng: FuzzRng, b: Uint8Array, others: readonly Uint8Array[], fields: readonly SizeField[] = []): Uint8Array {
  let out: Uint8Array = b.slice();
  for (let n = 1 + rng.int(4); n > 0; n--) out = mutateOnce(rng, out, others, fields);
  return out;
}

function mutateOnce(rng: FuzzRng, b: Uint8Array, others: readonly Uint8Array[], fields: readonly SizeField[]): Uint8Array {
  const at = () => rng.int(b.length);
  switch (rng.int(9)) {
    case 0: { // flip one to eight bits
      if (b.length === 0) return b;
      for (let k = 1 + rng.int(8); k > 0; k--) { const i = at(); b[i] ^= 1 << rng.int(8); }
      return b;
    }
    case 1: { // an interesting byte
      if (b.length) b[at()] = rng.pick(INTERESTING_BYTES);
      return b;
    }
    case 2: // truncate
      return b.slice(0, rng.chance(0.5) ? at() : Math.max(0, b.length - 1 - rng.int(16)));
    case 3: { // splice: a range of a donor (or of itself) over a range here
      const donor = others.length && rng.chance(0.7) ? rng.pick(others) : b;
      if (donor.length === 0 || b.length === 0) return b;
      const from = rng.int(donor.length), len = 1 + rng.int(Math.min(256, donor.length - from));
      const to = at();
      const out = new Uint8Array(Math.max(b.length, to + len));
      out.set(b);
      out.set(donor.subarray(from, from + len), to);
      return out;
    }
    case 4: { // insert random or repeated bytes
      const len = 1 + rng.int(rng.chance(0.2) ? 4096 : 32), i = rng.int(b.length + 1), fill = rng.chance(0.5);
      const ins = new Uint8Array(len);
      for (let k = 0; k < len; k++) ins[k] = fill ? 0 : rng.int(256);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, i)); out.set(ins, i); out.set(b.subarray(i), i + len);
      return out;
    }
    case 5: { // delete a range
      if (b.length === 0) return b;
      const i = at(), len = 1 + rng.int(Math.min(64, b.length - i));
      const out = new Uint8Array(b.length - len);
      out.set(b.subarray(0, i)); out.set(b.subarray(i + len), i);
      return out;
    }
    case 6: case 7: { // a size field of the format: interesting, nudged, or random
      const known = fields.filter((f) => f.at + 4 <= b.length);
      const f = known.length && rng.chance(0.8) ? rng.pick(known) : { at: rng.int(Math.max(1, b.length - 3)), littleEndian: rng.chance(0.5) };
      if (f.at + 4 > b.length) return b;
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const old = v.getUint32(f.at, f.littleEndian);
      const choice = rng.int(4);
      const value = choice === 0 ? rng.pick(INTERESTING_U32) : choice === 1 ? old + rng.int(9) - 4 : choice === 2 ? old * (1 + rng.int(4)) : rng.u32();
      v.setUint32(f.at, value >>> 0, f.littleEndian);
      return b;
    }
    default: { // overwrite a run with one byte
      if (b.length === 0) return b;
      const i = at(), len = 1 + rng.int(Math.min(32, b.length - i)), v = rng.pick(INTERESTING_BYTES);
      b.fill(v, i, i + len);
      return b;
    }
  }
}

// ---------------------------------------------------------------------------------------------- JSON

type Json = unknown;

/** Values a hostile config or header holds. NaN and ±Infinity survive only in memory (JSON writes null). */
const HOSTILE: readonly (() => Json)[] = [
  () => null, () => undefined, () => '', () => 'input', () => '__proto__', () => 'constructor', () => 'toString',
  () => 'hasOwnProperty', () => 'relu', () => 'same', () => 'x'.repeat(300),
  () => -1, () => 0, () => 1, () => 2, () => 1.5, () => -0.5, () => 1e308, () => -1e308, () => 2 ** 31, () => 2 ** 32,
  () => 2 ** 53, () => 16384, () => 65536, () => NaN, () => Infinity, () => -Infinity,
  () => true, () => false, () => [], () => ({}), () => [null], () => [1], () => [0, 0], () => [1, 2, 3, 4], () => [-1, 3],
  () => ['input'], () => [2 ** 31, 2 ** 31], () => ({ type: 'relu' }), () => JSON.parse('{"__proto__": {"type": "dense"}}'),
];

const KEYS = ['type', 'name', 'inputs', 'input', 'layers', 'output', 'filters', 'kernel', 'stride', 'padding', 'dilation',
  'groups', 'units', 'pool', 'rate', 'shape', 'alpha', 'momentum', 'epsilon', 'init', 'activation', 'useBias', 'l1', 'l2',
  'radius', 'beta', 'bias', 'config', 'format', 'seed', 'compile', 'optimizer', 'training', 'tensors', 'dataBytes',
  'offset', 'bytes', 'crc32', 'dtype', '__proto__', 'constructor', 'toString', 'prototype'];

const STRINGS = ['conv2d', 'dense', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'lrn', 'dropout', 'flatten',
  'reshape', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat', 'same', 'valid', 'linear',
  'he_normal', 'zeros', 'f32', 'f64', 'rede-model', 'input'];

export function hostile(rng: FuzzRng): Json { return rng.pick(HOSTILE)(); }

/** Sets an own property, even one named __proto__ (plain assignment would change the prototype). */
function setOwn(o: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Every container in the tree with its keys (objects) or indices (arrays), in a fixed order. */
function containers(root: Json, out: (Record<string, Json> | Json[])[] = [], depth = 0): (Record<string, Json> | Json[])[] {
  if (depth > 12 || root === null || typeof root !== 'object') return out;
  out.push(root as Record<string, Json> | Json[]);
  for (const v of Object.values(root as object)) containers(v, out, depth + 1);
  return out;
}

/** One to three edits of a deep copy of `root`; the result may be any value at all. */
export function mutateJson(rng: FuzzRng, root: Json): Json {
  let doc = structuredClone(root);
  for (let n = 1 + rng.int(3); n > 0; n--) doc = mutateJsonOnce(rng, doc);
  return doc;
}

function mutateJsonOnce(rng: FuzzRng, doc: Json): Json {
  const all = containers(doc);
  if (all.length === 0 || rng.chance(0.01)) return hostile(rng);
  const c = rng.pick(all);
  if (Array.isArray(c)) {
    if (c.length === 0) { c.push(hostile(rng)); return doc; }
    const i = rng.int(c.length);
    switch (rng.int(6)) {
      case 0: c[i] = hostile(rng); break;
      case 1: c.splice(i, 1); break;
      case 2: c.splice(i, 0, structuredClone(c[rng.int(c.length)])); break; // duplicate (names collide)
      case 3: { const j = rng.int(c.length); [c[i], c[j]] = [c[j], c[i]]; break; }
      case 4: c[i] = nudge(rng, c[i]); break;
      default: c.length = i; break; // cut the list
    }
    return doc;
  }
  const keys = Object.keys(c);
  const key = keys.length && rng.chance(0.85) ? rng.pick(keys) : rng.pick(KEYS);
  switch (rng.int(5)) {
    case 0: case 1: setOwn(c, key, hostile(rng)); break;
    case 2: delete c[key]; break;
    case 3: setOwn(c, key, nudge(rng, c[key])); break;
    default: setOwn(c, rng.pick(KEYS), hostile(rng)); break; // an added (maybe unknown) key
  }
  return doc;
}

/** A nearby value of the same kind: a number moved, a string swapped for a known one. */
function nudge(rng: FuzzRng, v: Json): Json {
  if (typeof v === 'number') return rng.pick([v + 1, v - 1, -v, v * 2, v * 1024, v / 2, Math.floor(v / 3), v + 0.5]);
  if (typeof v === 'string') return rng.pick(STRINGS);
  if (typeof v === 'boolean') return !v;
  return hostile(rng);
}
