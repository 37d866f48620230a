// The tfjs and keras fuzz targets' seeds, mutators and runs (wired in targets.ts). tfjs: model.json objects
// (rede exports of small Sequential and DAG models, one with a ZeroPadding2D) mutated as JSON, or their text
// or weight bytes mutated, through importTfjs. keras: Keras 2 .h5 files and Keras 3 .keras zips of the same
// models, mutated as HDF5 bytes, as zip bytes, or (re-encoded valid) in their model_config / config.json,
// through importKerasH5 / importKeras3. Every model is built on one engine, released after each input.
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { importTfjs, toKeras, toTfjs } from '../../src/interop/index';
import { encodeTopology } from '../../src/interop/tfjs-layers/format';
import { exportKerasH5, importKeras3, importKerasH5, zipEntries, zipRead, zipWrite } from '../../src/interop/keras/index';
import { writeH5 } from '../../src/interop/keras/h5';
import { type FuzzRng, mutateBytes, mutateJson } from './mutate';

const CONFIGS: ModelConfig[] = [
  { name: 'small-cnn', input: [6, 6, 1], layers: [
    { type: 'conv2d', name: 'c1', filters: 2, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'batchnorm', name: 'bn' },
    { type: 'maxpool2d', pool: 2 }, { type: 'flatten' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', name: 'fc', units: 3, activation: 'softmax' }] },
  { name: 'dag', input: [5, 5, 2], layers: [
    { type: 'conv2d', name: 'a', filters: 2, kernel: 3, stride: 2, padding: 1, useBias: false },
    { type: 'leaky_relu', name: 'r', alpha: 0.1 },
    { type: 'conv2d', name: 'b', filters: 2, kernel: 1, inputs: ['r'] },
    { type: 'add', name: 's', inputs: ['r', 'b'] },
    { type: 'conv2d', name: 'c', filters: 1, kernel: 1, activation: 'sigmoid', inputs: ['s'] },
    { type: 'concat', name: 'k', inputs: ['s', 'c'] },
    { type: 'globalavgpool2d', name: 'g' }, { type: 'dense', name: 'o', units: 2 }] },
  { input: [4], layers: [{ type: 'dense', units: 3, activation: 'tanh' }, { type: 'dense', units: 2 }] },
];

async function models(e: Engine): Promise<Model[]> {
  const out: Model[] = [];
  for (const [i, c] of CONFIGS.entries()) out.push(await Model.create(c, { engine: e, seed: i + 1 }));
  return out;
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v) ?? 'null');

export async function tfjsParts() {
  const e = await Engine.create();
  const seeds = (await models(e)).map((m) => { const a = toTfjs(m); return { json: a.modelJson as unknown, bin: a.weightData }; });
  return {
    make(rng: FuzzRng): unknown {
      const s = rng.pick(seeds);
      const r = rng.int(10);
      if (r < 6) return { json: mutateJson(rng, s.json as never), bin: s.bin };
      if (r < 8) return { json: mutateBytes(rng, enc(s.json), seeds.map((x) => enc(x.json))), bin: s.bin };
      return { json: s.json, bin: mutateBytes(rng, s.bin, seeds.map((x) => x.bin)) };
    },
    async run(input: unknown): Promise<void> {
      const { json, bin } = input as { json: unknown; bin: Uint8Array };
      const mark = e.mark();
      try { await importTfjs(json as never, () => bin, { engine: e, file: 'fuzz/model.json' }); } finally { e.release(mark); }
    },
    show: (input: unknown): string => {
      const { json, bin } = input as { json: unknown; bin: Uint8Array };
      return `${json instanceof Uint8Array ? Buffer.from(json.subarray(0, 300)).toString() : JSON.stringify(json)?.slice(0, 500)} + ${bin.length} weight bytes`;
    },
  };
}

/** A Keras 3 .keras of a model: config.json (Keras 2 node form, which Keras 3 configs also carry), metadata, model.weights.h5. */
async function keras3(m: Model, config?: unknown): Promise<Uint8Array> {
  const { graph, weights } = toKeras(m, 'keras');
  const h5 = await writeH5('fuzz.weights.h5', (f) => {
    const layers = f.create_group('layers');
    for (const n of graph.nodes) {
      const mine = weights.filter((t) => t.layer === n.name);
      if (!mine.length) continue;
      const vars = layers.create_group(n.name).create_group('vars');
      mine.forEach((t, i) => vars.create_dataset({ name: String(i), data: t.data, shape: t.shape, dtype: '<f' }));
    }
  });
  return zipWrite(new Map([['metadata.json', enc({ keras_version: '3.6.0' })], ['config.json', enc(config ?? encodeTopology(graph, 'keras'))], ['model.weights.h5', h5]]));
}

const RAW_HDF5 = process.env.REDE_FUZZ_RAW_HDF5 === '1';

/** Bytes of a .keras zip mutated outside its model.weights.h5 data (the zip structure, config.json, metadata.json). */
function mutateZipOnly(rng: FuzzRng, zip: Uint8Array, zips: readonly Uint8Array[]): Uint8Array {
  if (RAW_HDF5) return mutateBytes(rng, zip, zips);
  const h5 = zipEntries(zip, 'seed').find((e) => e.name === 'model.weights.h5')!;
  const start = h5.offset + 30 + 'model.weights.h5'.length, end = start + h5.compressed;
  for (let tries = 0; tries < 8; tries++) {
    const m = mutateBytes(rng, zip, zips);
    // Keep the mutant only if the HDF5 bytes came through unchanged (or the zip no longer reaches them).
    if (m.length !== zip.length) return m;
    let same = true;
    for (let k = start; k < end && same; k++) same = m[k] === zip[k];
    if (same) return m;
  }
  return zip;
}

export async function kerasParts() {
  const e = await Engine.create();
  const ms = await models(e);
  const h5s = await Promise.all(ms.map((m) => exportKerasH5(m)));
  const zips = await Promise.all(ms.map((m) => keras3(m)));
  const configs = ms.map((m) => encodeTopology(toKeras(m, 'keras').graph, 'keras'));
  return {
    make(rng: FuzzRng): unknown {
      const i = rng.int(ms.length), r = rng.int(10);
      // Raw HDF5 bytes only when asked (REDE_FUZZ_RAW_HDF5=1): HDF5 itself is not hardened against hostile
      // files, and one that corrupts h5wasm's heap breaks every later call (docs/interop.md).
      if (r < 3) return RAW_HDF5 ? { kind: 'h5', bytes: mutateBytes(rng, h5s[i], h5s) } : { kind: 'keras', bytes: mutateZipOnly(rng, zips[i], zips) };
      if (r < 6) return { kind: 'keras', bytes: mutateZipOnly(rng, zips[i], zips) };
      // A valid container around a mutated config (made in run): the topology checks, not HDF5's or the zip's, refuse it.
      return { kind: r < 8 ? 'keras-config' : 'h5-config', seed: i, config: mutateJson(rng, configs[i] as never) };
    },
    async run(input: unknown): Promise<void> {
      const x = input as { kind: string; bytes?: Uint8Array; seed?: number; config?: unknown };
      let bytes = x.bytes;
      if (x.kind === 'keras-config') {
        const files = new Map<string, Uint8Array>();
        for (const en of zipEntries(zips[x.seed!], 'seed')) files.set(en.name, en.name === 'config.json' ? enc(x.config) : await zipRead(zips[x.seed!], en, 'seed'));
        bytes = zipWrite(files);
      } else if (x.kind === 'h5-config') {
        bytes = await writeH5('fuzz.h5', (f) => { f.create_attribute('model_config', JSON.stringify(x.config) ?? 'null'); f.create_group('model_weights'); });
      }
      const mark = e.mark();
      try {
        if (x.kind.startsWith('h5')) await importKerasH5(bytes!, { engine: e, file: 'fuzz.h5' });
        else await importKeras3(bytes!, { engine: e, file: 'fuzz.keras' });
      } finally { e.release(mark); }
    },
    show: (input: unknown): string => {
      const x = input as { kind: string; bytes?: Uint8Array; config?: unknown };
      return x.bytes ? `${x.kind}, ${x.bytes.length} bytes: ${Buffer.from(x.bytes.subarray(0, 96)).toString('hex')}` : `${x.kind}: ${JSON.stringify(x.config)?.slice(0, 500)}`;
    },
  };
}
