// The PyTorch and safetensors formats of `rede export` / `rede import` (export.ts, import.ts): a trained model
// out to PyTorch (a self-contained module .py, its state_dict as safetensors, the rede config beside them) and
// a PyTorch state_dict back in (docs/scale-out.md).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../../api/model';
import { RedeError } from '../../engine/errors';
import { writeFileAtomic } from '../../io/atomic';
import type { ModelConfig } from '../../model/config';
import { pytorchSource, stateDictBytes } from '../../interop/pytorch/export';
import { importPytorch } from '../../interop/pytorch/import';
import { modelToSafetensors } from '../../interop/safetensors';
import { readBounded } from '../../interop/files';
import { checkWritable, count } from '../common';

/** DIR/model.py, DIR/weights.safetensors and DIR/config.json; returns the line to print. */
export async function exportPytorch(model: Model, out: string): Promise<string> {
  mkdirSync(out, { recursive: true });
  const src = pytorchSource(model);
  await writeFileAtomic(join(out, 'model.py'), new TextEncoder().encode(src));
  await writeFileAtomic(join(out, 'weights.safetensors'), stateDictBytes(model));
  await writeFileAtomic(join(out, 'config.json'), new TextEncoder().encode(`${JSON.stringify(model.config, null, 1)}\n`));
  return `wrote ${join(out, 'model.py')}, ${join(out, 'weights.safetensors')} (${count(model.paramCount)} parameters) and ${join(out, 'config.json')}`;
}

/** The model as one safetensors file (rede's optional format). */
export async function exportSafetensors(model: Model, out: string): Promise<string> {
  checkWritable('export', 'out', out);
  await writeFileAtomic(out, modelToSafetensors(model));
  return `wrote ${out}`;
}

/** A state_dict (safetensors) with the rede config it belongs to, as a model. */
export async function importPytorchFiles(weights: string, configPath: string): Promise<Model> {
  let config: ModelConfig;
  try { config = JSON.parse(new TextDecoder().decode(await readBounded(configPath, 'config', 64 << 20))) as ModelConfig; } catch (e) {
    throw e instanceof RedeError ? e : new RedeError(`${configPath}: not a valid JSON model config (${(e as Error).message})`);
  }
  return importPytorch(config, await readBounded(weights, 'weights'), { source: weights });
}
