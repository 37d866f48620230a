// A PyTorch state_dict in safetensors (from export --pytorch's module, or any module with the same parameter
// names) into a rede model built from its config. Keys are the exported module's (export.ts: moduleNames,
// torchKey); a 'module.' prefix on every key (DistributedDataParallel's) is dropped. Missing and unexpected
// keys are one error listing them; BatchNorm's num_batches_tracked is read and ignored.
import { RedeError } from '../../engine/errors';
import type { Engine } from '../../engine/engine';
import type { Model } from '../../api/model';
import type { ModelConfig } from '../../model/config';
import type { WeightTensor } from '../../model/weights';
import { decodeSafetensors, toFloat32 } from '../safetensors';
import { moduleNames, torchKey } from './export';

export async function importPytorch(config: ModelConfig, bytes: Uint8Array, o: { source?: string; seed?: number; engine?: Engine } = {}): Promise<Model> {
  const source = o.source ?? 'state_dict';
  const { tensors } = decodeSafetensors(bytes, source);
  const { Model } = await import('../../api/model');
  const model = await Model.create(config, { seed: o.seed ?? 0, ...(o.engine ? { engine: o.engine } : {}) });
  const keys = [...tensors.keys()];
  const ddp = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  const get = (k: string) => tensors.get(ddp ? `module.${k}` : k);
  const names = moduleNames(model), weights = new Map<string, WeightTensor>(), used = new Set<string>(), missing: string[] = [];
  for (const name of model.getWeights().keys()) {
    const key = torchKey(names, name), t = get(key);
    if (!t) { missing.push(key); continue; }
    if (t.dtype !== 'F32' && t.dtype !== 'F64' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new RedeError(`${source}: '${key}' is ${t.dtype}, expected a float tensor`);
    weights.set(name, { shape: t.shape, data: toFloat32(t, source) });
    used.add(key);
  }
  const unexpected = keys.map((k) => (ddp ? k.slice(7) : k)).filter((k) => !used.has(k) && !k.endsWith('.num_batches_tracked'));
  if (missing.length || unexpected.length) {
    throw new RedeError(`${source}: the state_dict does not fit the config${missing.length ? `; missing ${missing.join(', ')}` : ''}${unexpected.length ? `; unexpected ${unexpected.slice(0, 20).join(', ')}${unexpected.length > 20 ? ` and ${unexpected.length - 20} more` : ''}` : ''}`);
  }
  try {
    model.setWeights(weights, { fromLayout: 'pytorch' });
  } catch (e) {
    if (e instanceof RedeError) throw new RedeError(`${source}: ${e.message}`);
    throw e;
  }
  return model;
}
