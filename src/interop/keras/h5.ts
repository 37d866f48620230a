// HDF5 through h5wasm (an optional peer, reached only by dynamic import, so rede's core never loads it): a file
// held in memory is written into h5wasm's in-memory file system, opened, read or written, and removed. The
// same entry ('h5wasm', emscripten's MEMFS) works in Node and in browsers. Only the calls Keras's files need.
import { RedeError } from '../../engine/errors';

/** The part of h5wasm's API rede uses (its own .d.ts is not needed to build rede). */
export interface H5Attr { readonly value: unknown }
export interface H5Entity {
  readonly type: string;
  readonly attrs: Record<string, H5Attr>;
}
export interface H5Group extends H5Entity {
  keys(): string[];
  get(path: string): H5Entity | null;
  create_group(name: string): H5Group;
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  create_dataset(args: { name: string; data: Float32Array; shape: number[]; dtype: string }): unknown;
}
export interface H5Dataset extends H5Entity {
  readonly shape: number[] | null;
  readonly dtype: unknown;
  readonly metadata: { type: number; size: number; littleEndian?: boolean };
  readonly value: unknown;
}
export interface H5File extends H5Group { close(): void }
interface H5wasm {
  ready: Promise<H5Module>;
  File: new (path: string, mode: 'r' | 'w') => H5File;
}
/** The emscripten module under h5wasm: its file system and its wasm memory (HEAPU8 is replaced when memory grows). */
interface H5Module {
  FS: { writeFile(path: string, data: Uint8Array): void; readFile(path: string): Uint8Array; unlink(path: string): void };
  HEAPU8: Uint8Array;
}

// HDF5 (C, inside h5wasm) is not hardened against hostile files: a corrupt one can write out of its buffers
// inside the wasm memory without trapping, and a later, valid file then reads garbage or traps. So every read
// starts from the instance's state just after it was loaded: `clean` is a copy of its memory then, written
// back after each read (HDF5's state, malloc's heap and the stack all live in that memory; the file system is
// JS). Writes (of rede's own models) need no restore: they start from a clean or a written state. A trap ("memory access out of bounds") also leaves the wasm stack pointer, a global outside memory,
// where the trap hit, so a trapped instance is dropped and the next read loads a fresh one.
interface Instance { h5: H5wasm; mod: H5Module; clean: Uint8Array }
let loaded: Promise<Instance> | null = null;
let instances = 0;

/** The resolved URL of h5wasm's entry, for loading a second, separate instance of it; null where unknown. */
function h5wasmUrl(): string | null {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  try { return resolve ? resolve('h5wasm') : null; } catch { return null; }
}

/** h5wasm, loaded once (again after a trap); a RedeError saying how to install it when it is missing. */
function instance(what: string): Promise<Instance> {
  loaded ??= (async () => {
    let mod: { default?: H5wasm } & Partial<H5wasm>;
    const n = instances++;
    try {
      if (n === 0) {
        mod = await import('h5wasm') as unknown as typeof mod;
      } else {
        // A module is evaluated once per URL, so a query string gives a new h5wasm (and a new wasm instance).
        const url = h5wasmUrl();
        if (!url) throw new RedeError(`${what}: h5wasm trapped on an earlier file and this environment cannot load a fresh instance of it; reload the page or restart the process`);
        mod = await import(/* @vite-ignore */ `${url}?rede-instance=${n}`) as unknown as typeof mod;
      }
    } catch (e) {
      loaded = null;
      if (e instanceof RedeError) throw e;
      throw new RedeError(`${what}: Keras .h5 and .keras files need the optional package h5wasm (npm install h5wasm), which could not be loaded (${(e as Error).message.split('\n')[0]})`);
    }
    const h5 = (mod.default ?? mod) as H5wasm;
    const m = await h5.ready;
    return { h5, mod: m, clean: m.HEAPU8.slice() };
  })();
  return loaded;
}

/** h5wasm and its file system, for callers that use it directly. */
export async function h5wasm(what: string): Promise<{ h5: H5wasm; fs: H5Module['FS'] }> {
  const { h5, mod } = await instance(what);
  return { h5, fs: mod.FS };
}

/** Puts the instance's memory back as it was just after loading (memory only grows: the rest is zeroed). */
function restore(inst: Instance): void {
  const heap = inst.mod.HEAPU8;
  heap.set(inst.clean);
  heap.fill(0, inst.clean.length);
}

let serial = 0;

/**
 * Opens `bytes` as an HDF5 file for `read`; HDF5's own errors and h5wasm's traps become a RedeError naming
 * `file`. Each read starts from a clean h5wasm (see `clean` above), so a refused file cannot break later ones.
 */
export async function readH5<T>(bytes: Uint8Array, file: string, read: (f: H5File) => T): Promise<T> {
  const inst = await instance(file);
  const { h5, mod: { FS: fs } } = inst;
  if (bytes.length < 8 || bytes[0] !== 0x89 || bytes[1] !== 0x48 || bytes[2] !== 0x44 || bytes[3] !== 0x46) {
    throw new RedeError(`${file}: not an HDF5 file (no HDF5 signature at its start)`);
  }
  const path = `/rede-read-${serial++}.h5`;
  fs.writeFile(path, bytes);
  let f: H5File | null = null, trapped = false;
  try {
    try { f = new h5.File(path, 'r'); } catch (e) { trapped = isTrap(e); throw new RedeError(`${file}: HDF5 could not open it (${messageOf(e)})`); }
    return read(f);
  } catch (e) {
    if (e instanceof RedeError) throw e;
    trapped = isTrap(e);
    throw new RedeError(`${file}: HDF5 could not read it (${messageOf(e)})`);
  } finally {
    if (!trapped) { try { f?.close(); } catch (e) { trapped = isTrap(e); } }
    try { fs.unlink(path); } catch { /* never written */ }
    if (trapped) { if (loaded && (await loaded.catch(() => null)) === inst) loaded = null; } else restore(inst);
  }
}

const isTrap = (e: unknown): boolean => e instanceof WebAssembly.RuntimeError;

/** An HDF5 file made by `write`, as bytes. */
export async function writeH5(file: string, write: (f: H5File) => void): Promise<Uint8Array> {
  const inst = await instance(file);
  const { h5, mod: { FS: fs } } = inst;
  const path = `/rede-write-${serial++}.h5`;
  const f = new h5.File(path, 'w');
  try { write(f); } finally { f.close(); }
  try { return fs.readFile(path); } finally { fs.unlink(path); }
}

const messageOf = (e: unknown): string => String(e instanceof Error ? e.message : e).split('\n')[0].slice(0, 200);

/** A string attribute (h5py may store it as bytes or as a one-element array). */
export function stringAttr(e: H5Entity, name: string, file: string, where: string): string | null {
  if (!Object.hasOwn(e.attrs, name)) return null;
  let v = e.attrs[name].value;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (v instanceof Uint8Array) v = new TextDecoder().decode(v);
  if (typeof v !== 'string') throw new RedeError(`${file}: ${where} attribute '${name}' is not a string`);
  return v;
}

/** A list-of-strings attribute (layer_names, weight_names); h5py writes them as fixed-length byte strings. */
export function stringsAttr(e: H5Entity, name: string, file: string, where: string): string[] | null {
  if (!Object.hasOwn(e.attrs, name)) return null;
  const v = e.attrs[name].value;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : v === null ? [] : null;
  if (!list || list.length > 1 << 20) throw new RedeError(`${file}: ${where} attribute '${name}' is not a list of strings`);
  return list.map((s) => {
    const t = s instanceof Uint8Array ? new TextDecoder().decode(s) : s;
    if (typeof t !== 'string') throw new RedeError(`${file}: ${where} attribute '${name}' is not a list of strings`);
    return t;
  });
}

/** A float dataset as float32 values; its size checked against the file's before it is read. */
export function floatDataset(e: H5Entity | null, file: string, where: string, fileBytes: number): { shape: number[]; data: Float32Array } {
  if (!e || e.type !== 'Dataset') throw new RedeError(`${file}: ${where} is not a dataset`);
  const d = e as H5Dataset, m = d.metadata, shape = d.shape ?? [];
  if (!m || m.type !== 1 || (m.size !== 4 && m.size !== 8 && m.size !== 2)) throw new RedeError(`${file}: ${where} is not a float dataset`);
  let n = 1;
  for (const k of shape) {
    if (!Number.isInteger(k) || k < 0) throw new RedeError(`${file}: ${where} has shape [${shape.join(', ')}]`);
    n *= k;
  }
  if (n * m.size > fileBytes) throw new RedeError(`${file}: ${where} claims ${n} values of ${m.size} bytes, more than the file's ${fileBytes} bytes`);
  const v = d.value;
  if (!(v instanceof Float32Array || v instanceof Float64Array || (Array.isArray(v) && n === 0)) && !(typeof v === 'number' && n === 1)) {
    throw new RedeError(`${file}: ${where}: h5wasm gave no float values`);
  }
  const data = typeof v === 'number' ? Float32Array.of(v) : Float32Array.from(v as ArrayLike<number>);
  if (data.length !== n) throw new RedeError(`${file}: ${where} holds ${data.length} values, its shape ${n}`);
  // rede's weights must be finite (setWeights refuses others); saying so here names the file and the dataset.
  const bad = data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RedeError(`${file}: ${where} value ${bad} is ${data[bad]}, expected a finite number`);
  return { shape, data };
}
