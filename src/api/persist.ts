// Model ⇄ .rede file (docs/file-format.md): the config, every parameter and state tensor by its documented
// name (`conv1/kernel`, `bn/moving_mean`: src/model/weights.ts), and — when compiled — the optimizer config,
// its step count and state slots (`optimizer/<slot>/conv1/kernel`), plus training progress. Loading builds the
// model from the config, then checks each tensor's shape against it before copying. Files written before
// the documented names (`param/conv1/w`, `state/bn/running_mean`, `optimizer/0/conv1/w`) still load.
import { RedeError, shapeStr } from '../engine/errors';
import { decodeRedeFile, encodeRedeFile, loadRedeFile, saveRedeFile, type RedeFile, type DecodedRedeFile } from '../io/file';
import type { ModelConfig } from '../model/config';
import { buildGraph } from '../model/graph';
import { numelOf } from '../layers/layer';
import type { Network, NetworkOptions } from '../model/network';
import { weightName, weightSlots } from '../model/weights';
import type { CompileOptions, Trainer } from '../train/trainer';

/** What a .rede file round-trips: a network and, when compiled, its training state (the facade Model). */
export interface Persistable extends Network { trainer: (Trainer & { options: CompileOptions }) | null; compile(o: CompileOptions): unknown; classNames: string[] | null }

interface Header {
  format: 'rede-model';
  config: ModelConfig;
  seed: number;
  compile?: CompileOptions;
  optimizer?: { t: number; slots: number };
  training?: { epoch: number; step: number };
  /** The output classes' names (Model.classNames). */
  classNames?: string[];
}

export function modelToFile(m: Persistable): RedeFile {
  const tensors: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  for (const w of weightSlots(m)) { // rede's layout: HWIO conv kernels, [in, out] dense kernels
    tensors[w.name] = m.e.read(w.at, w.n);
    shapes[w.name] = [...w.shape];
  }
  const header: Header = { format: 'rede-model', config: m.config, seed: m.seed };
  if (m.classNames) header.classNames = [...m.classNames];
  const t = m.trainer;
  if (t) {
    header.compile = t.options;
    header.optimizer = { t: t.optimizer.t, slots: t.optimizer.slots };
    header.training = { epoch: t.epoch, step: t.step };
    for (let slot = 0; slot < t.optimizer.slots; slot++) {
      for (const en of m.entries) {
        const name = `optimizer/${slot}/${en.key}`;
        tensors[name] = m.e.read(t.optState + (slot * m.paramFloats + en.offset) * 4, en.n);
        shapes[name] = [...en.shape];
      }
    }
  }
  return { header: header as unknown as RedeFile['header'], tensors, shapes };
}

export async function saveModel(m: Persistable, path: string): Promise<void> {
  await saveRedeFile(path, modelToFile(m));
}

export function encodeModel(m: Persistable): Uint8Array { return encodeRedeFile(modelToFile(m)); }

type Create<M extends Persistable> = (config: ModelConfig, opts: NetworkOptions) => Promise<M>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The header's shape, checked field by field: a file is untrusted input. */
function checkHeader(raw: unknown, name: string): Header {
  const h = raw as Partial<Header> | null;
  if (!isObject(h) || h.format !== 'rede-model') throw new RedeError(`${name}: not a rede model file (header.format is ${JSON.stringify(h?.format)}, expected "rede-model")`);
  const fail = (field: string, want: string, got: unknown): never => {
    throw new RedeError(`${name}: header field '${field}' must be ${want}, got ${JSON.stringify(got) ?? String(got)}`);
  };
  if (!isObject(h.config)) fail('config', 'a model config object', h.config);
  if (h.seed !== undefined && !Number.isFinite(h.seed)) fail('seed', 'a finite number', h.seed);
  // Only the outline of compile options here; their values are compile()'s to check.
  const spec = (v: unknown) => typeof v === 'string' || isObject(v);
  if (h.compile !== undefined && !(isObject(h.compile) && spec(h.compile.optimizer) && spec(h.compile.loss))) {
    fail('compile', 'compile options: an object whose optimizer and loss are each a name or an object', h.compile);
  }
  if (h.optimizer !== undefined && !(isObject(h.optimizer) && (h.optimizer.t === undefined || isCount(h.optimizer.t)))) fail('optimizer', 'an object whose t is an integer >= 0', h.optimizer);
  if (h.training !== undefined && !(isObject(h.training) && [h.training.epoch, h.training.step].every((v) => v === undefined || isCount(v)))) {
    fail('training', 'an object whose epoch and step are integers >= 0', h.training);
  }
  if (h.classNames !== undefined && !(Array.isArray(h.classNames) && h.classNames.every((v) => typeof v === 'string'))) fail('classNames', 'a list of strings', h.classNames);
  return h as Header;
}

/** Re-raises a RedeError with the file's name in front; anything else is a bug and keeps its stack. */
async function naming<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RedeError) throw new RedeError(`${name}: ${e.message}`);
    throw e;
  }
}

export async function modelFromFile<M extends Persistable>(f: DecodedRedeFile, name: string, create: Create<M>, opts: NetworkOptions): Promise<M> {
  const h = checkHeader(f.header, name);
  // A tensor by its documented name, or by the name files had before it (`legacy`).
  const take = (tname: string, legacy: string, n: number, shape: readonly number[]): Float32Array => {
    const key = [tname, legacy].find((k) => Object.hasOwn(f.tensors, k));
    if (key === undefined) throw new RedeError(`${name}: tensor '${tname}' is missing`);
    const t = f.tensors[key];
    if (t.length !== n) throw new RedeError(`${name}: tensor '${key}' has ${t.length} values, the model needs ${n} ${shapeStr(shape)}`);
    return t;
  };
  const param = (layer: string, p: string, n: number, shape: readonly number[]) => take(weightName(layer, p), `param/${layer}/${p}`, n, shape);
  const state = (layer: string, s: string, n: number) => take(weightName(layer, s), `state/${layer}/${s}`, n, [n]);
  // The graph alone (shapes, no memory) says which tensors the model needs. All of them must be in the file
  // before the model is built, so the memory a file can demand is bounded by the file's own size.
  const graph = await naming(name, () => buildGraph(h.config));
  for (const { layer: L } of graph.nodes) {
    for (const p of L.params) param(L.name, p.name, numelOf(p.shape), p.shape);
    for (const s of L.state) state(L.name, s.name, s.floats);
  }
  const m = await naming(name, () => create(h.config, { ...opts, seed: h.seed ?? 0 }));
  for (const en of m.entries) m.e.write(m.params + en.offset * 4, param(en.layer.name, en.name, en.n, en.shape));
  for (const L of m.layers) for (const s of L.state) m.e.write(L.s[s.name], state(L.name, s.name, s.floats));
  if (h.classNames) await naming(name, () => { m.classNames = h.classNames!; }); // checked against the outputs
  if (h.compile) {
    await naming(name, () => m.compile(h.compile!));
    const t = m.trainer!;
    t.optimizer.t = h.optimizer?.t ?? 0;
    t.epoch = h.training?.epoch ?? 0;
    t.step = h.training?.step ?? 0;
    for (let slot = 0; slot < t.optimizer.slots; slot++) {
      for (const en of m.entries) {
        const tensor = take(`optimizer/${slot}/${en.key}`, `optimizer/${slot}/${en.layer.name}/${en.name}`, en.n, en.shape);
        m.e.write(t.optState + (slot * m.paramFloats + en.offset) * 4, tensor);
      }
    }
  }
  return m;
}

export async function loadModel<M extends Persistable>(path: string, create: Create<M>, opts: NetworkOptions): Promise<M> {
  return modelFromFile(await loadRedeFile(path), path, create, opts);
}

export function decodeModel<M extends Persistable>(bytes: Uint8Array, create: Create<M>, opts: NetworkOptions): Promise<M> {
  return modelFromFile(decodeRedeFile(bytes), 'model bytes', create, opts);
}
