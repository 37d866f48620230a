// The safetensors fuzz target's seeds, mutator and run (wired in targets.ts): rede models saved as safetensors
// (both layouts), a PyTorch-layout state_dict with its I64 counters, and a file of every dtype — mutated as
// bytes (the header length is the size field) or as header JSON re-encoded with a correct length — through
// decodeSafetensors, toFloat32 on every tensor and, for rede models, modelFromSafetensors.
import { Engine } from '../../src/engine/engine';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { decodeSafetensors, encodeSafetensors, modelFromSafetensors, modelToSafetensors, toFloat32 } from '../../src/interop/safetensors';
import { stateDictBytes } from '../../src/interop/pytorch/export';
import { type FuzzRng, mutateBytes, mutateJson } from './mutate';

const CONFIGS: ModelConfig[] = [
  { name: 'small-cnn', input: [6, 6, 1], layers: [
    { type: 'conv2d', name: 'c1', filters: 2, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'batchnorm', name: 'bn' },
    { type: 'maxpool2d', pool: 2 }, { type: 'flatten' }, { type: 'dense', name: 'fc', units: 3 }, { type: 'softmax' }] },
  { input: [5], layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 2 }] },
];

function split(b: Uint8Array): { header: unknown; data: Uint8Array } {
  const n = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
  return { header: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))), data: b.subarray(8 + n) };
}
function join(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) ?? 'null');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8); out.set(data, 8 + json.length);
  return out;
}

export async function safetensorsParts() {
  const e = await Engine.create();
  const seeds: Uint8Array[] = [];
  for (const [i, config] of CONFIGS.entries()) {
    const mark = e.mark();
    const m = await Model.create(config, { engine: e, seed: i + 1 });
    seeds.push(modelToSafetensors(m), modelToSafetensors(m, { layout: 'pytorch' }), stateDictBytes(m));
    e.release(mark);
  }
  const raw = (dtype: string, shape: number[], n: number) => ({ dtype, shape, bytes: Uint8Array.from({ length: n }, (_, k) => (k * 37) & 255) }) as never;
  seeds.push(encodeSafetensors({ f64: raw('F64', [2], 16), f16: raw('F16', [3], 6), bf16: raw('BF16', [1, 1], 2), i64: raw('I64', [], 8),
    u8: raw('U8', [0], 0), b: raw('BOOL', [4], 4), i32: raw('I32', [2], 8) }, { note: 'dtypes' }));
  const parts = seeds.map(split);
  return {
    make(rng: FuzzRng): unknown {
      const i = rng.int(seeds.length);
      if (rng.chance(0.4)) return mutateBytes(rng, seeds[i], seeds, [{ at: 0, littleEndian: true }, { at: 4, littleEndian: true }]);
      const { header, data } = parts[i];
      return join(mutateJson(rng, header), data);
    },
    async run(input: unknown): Promise<void> {
      const f = decodeSafetensors(input as Uint8Array, 'fuzz.safetensors');
      for (const t of f.tensors.values()) toFloat32(t);
      if (f.metadata.format !== 'rede-model') return;
      const mark = e.mark();
      try { await modelFromSafetensors(input as Uint8Array, { engine: e, source: 'fuzz.safetensors' }); } finally { e.release(mark); }
    },
    show: (input: unknown): string => {
      const b = input as Uint8Array;
      try { return `header ${JSON.stringify(split(b).header).slice(0, 600)}`; } catch { return `${b.length} bytes: ${Buffer.from(b.subarray(0, 96)).toString('hex')}`; }
    },
  };
}
