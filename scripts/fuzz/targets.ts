// What the fuzzer feeds and how: per target, real seeds made in memory and the code an untrusted input
// reaches. idx: IDX files (raw and gzipped) through gunzipIdx + parseIdx. rede: .rede bytes of small saved
// models through Model.fromBytes (header JSON edits are re-encoded with a valid CRC, so they get past the
// checksum to the config and tensor checks). config: zoo and layer configs through buildGraph, the summary
// and a memory plan of every parameter and state region. prototxt: Caffe net and solver files (prototxt.ts).
// safetensors: rede models and PyTorch state_dicts as safetensors (safetensors.ts). onnx: exported and
// hand-written ONNX graphs through decodeModel and importOnnx (onnx.ts). tfjs: model.json + weights;
// keras: .h5 and .keras files (interop.ts).
import { gzipSync } from 'node:zlib';
import { Engine } from '../../src/engine/engine';
import { MemoryPlan, alignUp } from '../../src/engine/plan';
import { encodeIdx, gunzipIdx, isGzip, parseIdx, type IdxArray } from '../../src/data/idx';
import { encodeRedeFile, crc32 } from '../../src/io/file';
import { numelOf } from '../../src/layers/layer';
import type { ModelConfig } from '../../src/model/config';
import { buildGraph } from '../../src/model/graph';
import { Model } from '../../src/api/model';
import { summaryText } from '../../src/model/summary';
import { models } from '../../src/zoo/index';
import { FuzzRng, mutateBytes, mutateJson, type SizeField } from './mutate';
import { prototxtParts } from './prototxt';
import { safetensorsParts } from './safetensors';
import { onnxParts } from './onnx';
import { kerasParts, tfjsParts } from './interop';

export type TargetName = 'idx' | 'rede' | 'config' | 'prototxt' | 'safetensors' | 'onnx' | 'tfjs' | 'keras';
export const TARGETS: readonly TargetName[] = ['idx', 'rede', 'config', 'prototxt', 'safetensors', 'onnx', 'tfjs', 'keras'];

export interface Target {
  name: TargetName;
  /** Input i of a run with this seed. */
  make(rng: FuzzRng): unknown;
  /** Feeds one input; returns normally or throws (a RedeError is the expected way to refuse). */
  run(input: unknown): Promise<void>;
  /** A short printable form of an input, for reports. */
  show(input: unknown): string;
}

const hexOf = (b: Uint8Array) => `${b.length} bytes: ${Buffer.from(b.subarray(0, 96)).toString('hex')}${b.length > 96 ? '…' : ''}`;

// ---------------------------------------------------------------------------------------------- idx

function idxSeeds(): Uint8Array[] {
  const rng = new FuzzRng(7, 0, 0);
  const fill = <T extends IdxArray['data']>(a: T): T => { for (let i = 0; i < a.length; i++) a[i] = rng.int(256) - (a instanceof Uint8Array ? 0 : 128); return a; };
  const arrays: IdxArray[] = [
    { dtype: 'u8', dims: [4, 5, 5], data: fill(new Uint8Array(100)) },
    { dtype: 'u8', dims: [4], data: Uint8Array.of(0, 9, 3, 3) },
    { dtype: 'u8', dims: [2, 3, 3, 2], data: fill(new Uint8Array(36)) },
    { dtype: 'i8', dims: [2, 2], data: fill(new Int8Array(4)) },
    { dtype: 'i16', dims: [3], data: fill(new Int16Array(3)) },
    { dtype: 'i32', dims: [2, 2], data: fill(new Int32Array(4)) },
    { dtype: 'f32', dims: [5], data: Float32Array.of(0, -0, 1.5, NaN, Infinity) },
    { dtype: 'f64', dims: [1, 2], data: Float64Array.of(Math.PI, -1e300) },
    { dtype: 'u8', dims: [0, 28, 28], data: new Uint8Array(0) },
  ];
  const raw = arrays.map(encodeIdx);
  // A header that says 10 bytes, then 1 MiB of zeros (1 KB gzipped): inflating must stop at the header's size.
  const bomb = new Uint8Array(8 + 10 + (1 << 20));
  bomb.set([0, 0, 8, 1, 0, 0, 0, 10]);
  return [...raw, ...raw.slice(0, 4).map((b) => gzipSync(b)), gzipSync(bomb, { level: 9 })];
}

const idxFields = (b: Uint8Array): SizeField[] => {
  const out: SizeField[] = [];
  for (let i = 0; i < Math.min(b[3] ?? 0, 8); i++) out.push({ at: 4 + 4 * i, littleEndian: false });
  return out;
};

function idxTarget(): Target {
  const seeds = idxSeeds();
  const rawSeeds = seeds.filter((s) => !isGzip(s));
  return {
    name: 'idx',
    make(rng) {
      const seed = rng.pick(seeds);
      if (!isGzip(seed)) return mutateBytes(rng, seed, seeds, idxFields(seed));
      // Gzipped: mutate the compressed bytes (ISIZE and CRC are the last 8), or the IDX inside, then compress.
      if (rng.chance(0.5)) return mutateBytes(rng, seed, seeds, [{ at: seed.length - 4, littleEndian: true }, { at: seed.length - 8, littleEndian: true }]);
      const inner = rng.pick(rawSeeds);
      return gzipSync(mutateBytes(rng, inner, rawSeeds, idxFields(inner)), { level: 1 });
    },
    async run(input) {
      const b = input as Uint8Array;
      parseIdx(isGzip(b) ? await gunzipIdx(b, 'fuzz.idx.gz') : b, 'fuzz.idx');
    },
    show: (input) => hexOf(input as Uint8Array),
  };
}

// ---------------------------------------------------------------------------------------------- rede

const SEED_MODELS: { config: ModelConfig; compile?: boolean }[] = [
  { config: { name: 'small-cnn', input: [6, 6, 1], layers: [
    { type: 'conv2d', name: 'c1', filters: 2, kernel: 3, padding: 'same', activation: 'relu' },
    { type: 'batchnorm', name: 'bn' }, { type: 'maxpool2d', pool: 2 }, { type: 'flatten' },
    { type: 'dropout', rate: 0.25 }, { type: 'dense', name: 'fc', units: 3 }, { type: 'softmax' }] }, compile: true },
  { config: { input: [4, 4, 2], layers: [
    { type: 'conv2d', name: 'a', filters: 2, kernel: 1 },
    { type: 'conv2d', name: 'b', filters: 2, kernel: [3, 1], padding: 'same', inputs: ['input'], useBias: false },
    { type: 'add', name: 'sum', inputs: ['a', 'b'] }, { type: 'concat', name: 'cat', inputs: ['sum', 'input'] },
    { type: 'lrn', radius: 1 }, { type: 'globalavgpool2d' }, { type: 'dense', units: 2, l2: 1e-4 }] } },
  { config: { input: [5], layers: [{ type: 'dense', units: 4, activation: 'relu', init: 'he_normal' }, { type: 'tanh' }, { type: 'dense', units: 1 }] }, compile: true },
];

async function redeSeeds(e: Engine): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const [i, s] of SEED_MODELS.entries()) {
    const mark = e.mark();
    const m = await Model.create(s.config, { engine: e, seed: i + 1 });
    if (s.compile) m.compile({ optimizer: i === 0 ? { type: 'adam', lr: 1e-3 } : { type: 'sgd', lr: 0.1, momentum: 0.9 }, loss: i === 0 ? 'sparse_categorical_crossentropy' : 'mse' });
    out.push(m.toBytes());
    e.release(mark);
  }
  // A bare file-format file (no model header): the reader's own checks.
  out.push(encodeRedeFile({ header: { note: 'plain' }, tensors: { a: Float32Array.of(1, 2, 3), b: new Float32Array(0) }, shapes: { a: [3, 1] } }));
  return out;
}

/** The header JSON and the data section of a well-formed .rede file. */
function splitRede(b: Uint8Array): { header: unknown; data: Uint8Array } {
  const len = new DataView(b.buffer, b.byteOffset).getUint32(12, true);
  return { header: JSON.parse(new TextDecoder().decode(b.subarray(20, 20 + len))), data: b.subarray(alignUp(20 + len)) };
}

/** A .rede file around any header value, with a correct length and CRC (so it passes the checksum). */
function joinRede(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) ?? 'null');
  const start = alignUp(20 + json.length);
  const out = new Uint8Array(start + data.length);
  out.set([0x89, 0x52, 0x45, 0x44, 0x45, 0x0d, 0x0a, 0x1a]);
  const v = new DataView(out.buffer);
  v.setUint32(8, 1, true); v.setUint32(12, json.length, true); v.setUint32(16, crc32(json), true);
  out.set(json, 20);
  out.set(data, start);
  return out;
}

async function redeTarget(): Promise<Target> {
  const e = await Engine.create();
  const seeds = await redeSeeds(e);
  const parts = seeds.map(splitRede);
  const fields: SizeField[] = [8, 12, 16].map((at) => ({ at, littleEndian: true }));
  return {
    name: 'rede',
    make(rng) {
      const i = rng.int(seeds.length);
      if (rng.chance(0.35)) return mutateBytes(rng, seeds[i], seeds, fields);
      const { header, data } = parts[i];
      const bytes = joinRede(mutateJson(rng, header), data);
      return rng.chance(0.15) ? mutateBytes(rng, bytes, seeds, fields) : bytes;
    },
    async run(input) {
      const mark = e.mark();
      try {
        await Model.fromBytes(input as Uint8Array, { engine: e });
      } finally {
        e.release(mark);
      }
    },
    show: (input) => {
      const b = input as Uint8Array;
      try { return `header ${JSON.stringify(splitRede(b).header).slice(0, 600)}`; } catch { return hexOf(b); }
    },
  };
}

// ---------------------------------------------------------------------------------------------- config

/** Every layer type and option at least once, beside the zoo. */
const LAYER_CONFIGS: ModelConfig[] = [
  { input: [8, 8, 3], layers: [
    { type: 'conv2d', filters: 4, kernel: [3, 3], stride: [1, 2], padding: [1, 1, 0, 2], dilation: 1, groups: 1, useBias: true, activation: 'linear', init: 'glorot_normal', l1: 0.01 },
    { type: 'conv2d', filters: 4, kernel: 3, dilation: [2, 1], groups: 2, padding: 'same' },
    { type: 'avgpool2d', pool: [2, 2], stride: 1, padding: 'same' }, { type: 'batchnorm', momentum: 0.9, epsilon: 1e-5 },
    { type: 'lrn', radius: 2, bias: 1, alpha: 1e-4, beta: 0.75 }, { type: 'leaky_relu', alpha: 0.1 }, { type: 'elu', alpha: 1 },
    { type: 'sigmoid' }, { type: 'reshape', shape: [4, 16, 2] }, { type: 'globalavgpool2d' }, { type: 'dropout', rate: 0.5 },
    { type: 'dense', units: 3, useBias: false }, { type: 'relu' }] },
  { name: 'dag', input: [4, 4, 1], output: 'out', layers: [
    { type: 'conv2d', name: 'l', filters: 2, kernel: 1 }, { type: 'conv2d', name: 'r', filters: 2, kernel: 1, inputs: ['input'] },
    { type: 'concat', name: 'cat', inputs: ['l', 'r', 'l'] }, { type: 'add', name: 'sum', inputs: ['cat', 'cat'] },
    { type: 'flatten', name: 'flat' }, { type: 'dense', name: 'out', units: 2 }] },
];

function configSeeds(): ModelConfig[] {
  const zoo = Object.entries(models).map(([name, f]) => {
    const small = ['lenet5', 'resnet20', 'resnet32', 'resnet56', 'mini_inception', 'vgg_small'].includes(name);
    return small ? f([28, 28, 1], 10) : f();
  });
  return [...LAYER_CONFIGS, ...zoo];
}

function configTarget(): Target {
  const seeds = configSeeds();
  return {
    name: 'config',
    make: (rng) => mutateJson(rng, rng.pick(seeds)),
    async run(input) {
      const config = input as ModelConfig;
      const g = buildGraph(config);
      summaryText({ config, inputShape: g.input, layers: g.nodes.map((n) => n.layer) });
      // The model's own plan: parameters, state and gradients, sized from the layers (no memory taken).
      const plan = new MemoryPlan();
      for (const { layer } of g.nodes) {
        for (const p of layer.params) plan.f32(`param/${layer.name}/${p.name}`, numelOf(p.shape), 'parameters');
        for (const s of layer.state) plan.f32(`state/${layer.name}/${s.name}`, s.floats, 'parameters');
      }
      plan.layout();
    },
    show: (input) => (JSON.stringify(input) ?? String(input)).slice(0, 600),
  };
}

export async function makeTarget(name: TargetName): Promise<Target> {
  switch (name) {
    case 'idx': return idxTarget();
    case 'rede': return redeTarget();
    case 'config': return configTarget();
    case 'prototxt': return { name: 'prototxt', ...prototxtParts }; // Caffe files: scripts/fuzz/prototxt.ts
    case 'safetensors': return { name: 'safetensors', ...(await safetensorsParts()) };
    case 'onnx': return { name: 'onnx', ...(await onnxParts()) };
    case 'tfjs': return { name: 'tfjs', ...(await tfjsParts()) }; // tfjs model.json: scripts/fuzz/interop.ts
    case 'keras': return { name: 'keras', ...(await kerasParts()) }; // Keras .h5 and .keras: scripts/fuzz/interop.ts
  }
}
