// Model ⇄ .rede file (docs/file-format.md): the config, every parameter and state tensor by name, and —
// when compiled — the optimizer config, its step count and state slots, plus training progress. Loading
// builds the model from the config, then checks each tensor's shape against it before copying.
import { RedeError, shapeStr } from '../engine/errors';
import { decodeRedeFile, encodeRedeFile, loadRedeFile, saveRedeFile, type RedeFile, type DecodedRedeFile } from '../io/file';
import type { ModelConfig } from '../model/config';
import type { Network, NetworkOptions } from '../model/network';
import type { CompileOptions, Trainer } from '../train/trainer';

/** What a .rede file round-trips: a network and, when compiled, its training state (the facade Model). */
export interface Persistable extends Network { trainer: (Trainer & { options: CompileOptions }) | null; compile(o: CompileOptions): unknown }

interface Header {
  format: 'rede-model';
  config: ModelConfig;
  seed: number;
  compile?: CompileOptions;
  optimizer?: { t: number; slots: number };
  training?: { epoch: number; step: number };
}

export function modelToFile(m: Persistable): RedeFile {
  const tensors: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  for (const en of m.entries) {
    const name = `param/${en.layer.name}/${en.name}`;
    tensors[name] = m.e.read(m.params + en.offset * 4, en.n);
    shapes[name] = [...en.shape];
  }
  for (const L of m.layers) for (const s of L.state) {
    const name = `state/${L.name}/${s.name}`;
    tensors[name] = m.e.read(L.s[s.name], s.floats);
    shapes[name] = [s.floats];
  }
  const header: Header = { format: 'rede-model', config: m.config, seed: m.seed };
  const t = m.trainer;
  if (t) {
    header.compile = t.options;
    header.optimizer = { t: t.optimizer.t, slots: t.optimizer.slots };
    header.training = { epoch: t.epoch, step: t.step };
    for (let slot = 0; slot < t.optimizer.slots; slot++) {
      for (const en of m.entries) {
        const name = `optimizer/${slot}/${en.layer.name}/${en.name}`;
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

export async function modelFromFile<M extends Persistable>(f: DecodedRedeFile, name: string, create: Create<M>, opts: NetworkOptions): Promise<M> {
  const h = f.header as unknown as Header;
  if (!h || h.format !== 'rede-model' || typeof h.config !== 'object') throw new RedeError(`${name}: not a rede model file (header.format is ${JSON.stringify(h?.format)})`);
  const m = await create(h.config, { ...opts, seed: h.seed ?? 0 });
  const take = (tname: string, n: number, shape: readonly number[]): Float32Array => {
    const t = f.tensors[tname];
    if (!t) throw new RedeError(`${name}: tensor '${tname}' is missing`);
    if (t.length !== n) throw new RedeError(`${name}: tensor '${tname}' has ${t.length} values, the model needs ${n} ${shapeStr(shape)}`);
    return t;
  };
  for (const en of m.entries) m.e.write(m.params + en.offset * 4, take(`param/${en.layer.name}/${en.name}`, en.n, en.shape));
  for (const L of m.layers) for (const s of L.state) m.e.write(L.s[s.name], take(`state/${L.name}/${s.name}`, s.floats, [s.floats]));
  if (h.compile) {
    m.compile(h.compile);
    const t = m.trainer!;
    t.optimizer.t = h.optimizer?.t ?? 0;
    t.epoch = h.training?.epoch ?? 0;
    t.step = h.training?.step ?? 0;
    for (let slot = 0; slot < t.optimizer.slots; slot++) {
      for (const en of m.entries) {
        m.e.write(t.optState + (slot * m.paramFloats + en.offset) * 4, take(`optimizer/${slot}/${en.layer.name}/${en.name}`, en.n, en.shape));
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
