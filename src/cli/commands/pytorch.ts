// rede export --pytorch / rede import --pytorch: a trained model out to PyTorch (a self-contained module .py,
// its state_dict as safetensors, the rede config beside them) and a PyTorch state_dict back in (docs/scale-out.md).
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Model } from '../../api/model';
import { RedeError } from '../../engine/errors';
import { writeFileAtomic } from '../../io/atomic';
import type { ModelConfig } from '../../model/config';
import { pytorchSource, stateDictBytes } from '../../interop/pytorch/export';
import { importPytorch } from '../../interop/pytorch/import';
import { modelToSafetensors } from '../../interop/safetensors';
import { checkWritable, count, type Io, parse } from '../common';

export const exportUsage = `usage: rede export --pytorch --model FILE.rede --out DIR
       rede export --safetensors --model FILE.rede --out FILE.safetensors

  --pytorch               DIR/model.py (a torch.nn.Module needing only torch, with its own safetensors reader),
                          DIR/weights.safetensors (its state_dict) and DIR/config.json (the rede config, for import)
  --safetensors           the model as one safetensors file (weights, config in the metadata): rede's optional format`;

export const importUsage = `usage: rede import --pytorch --weights FILE.safetensors --config FILE.json --out FILE.rede

  A state_dict (safetensors) of the module that export --pytorch wrote — trained further in PyTorch, e.g. with
  torchrun (a DistributedDataParallel 'module.' prefix is dropped) — into a rede model of that config.`;

const bytes = async (path: string, what: string): Promise<Uint8Array> => {
  try { return new Uint8Array(await readFile(path)); } catch (e) { throw new RedeError(`${what} '${path}' could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
};

export async function exportCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('export', argv, { pytorch: { type: 'boolean' }, safetensors: { type: 'boolean' }, model: { type: 'string' }, out: { type: 'string' } } as const);
  if (v.help) { io.stdout.write(`${exportUsage}\n`); return; }
  if (!v.pytorch === !v.safetensors) throw new RedeError('export: give one of --pytorch or --safetensors');
  if (!v.model || !v.out) throw new RedeError('export: --model FILE.rede and --out are required');
  const model = await Model.load(v.model);
  if (v.safetensors) {
    checkWritable('export', 'out', v.out);
    await writeFileAtomic(v.out, modelToSafetensors(model));
    io.stdout.write(`wrote ${v.out}\n`);
    return;
  }
  mkdirSync(v.out, { recursive: true });
  const src = pytorchSource(model);
  await writeFileAtomic(join(v.out, 'model.py'), new TextEncoder().encode(src));
  await writeFileAtomic(join(v.out, 'weights.safetensors'), stateDictBytes(model));
  await writeFileAtomic(join(v.out, 'config.json'), new TextEncoder().encode(`${JSON.stringify(model.config, null, 1)}\n`));
  io.stdout.write(`wrote ${join(v.out, 'model.py')}, ${join(v.out, 'weights.safetensors')} (${count(model.paramCount)} parameters) and ${join(v.out, 'config.json')}\n`);
}

export async function importCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('import', argv, { pytorch: { type: 'boolean' }, weights: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' } } as const);
  if (v.help) { io.stdout.write(`${importUsage}\n`); return; }
  if (!v.pytorch) throw new RedeError('import: give --pytorch (the format of the weights)');
  if (!v.weights || !v.config || !v.out) throw new RedeError('import: --weights FILE.safetensors, --config FILE.json and --out FILE.rede are required');
  checkWritable('import', 'out', v.out);
  let config: ModelConfig;
  try { config = JSON.parse(new TextDecoder().decode(await bytes(v.config, 'config'))) as ModelConfig; } catch (e) {
    throw e instanceof RedeError ? e : new RedeError(`${v.config}: not a valid JSON model config (${(e as Error).message})`);
  }
  const model = await importPytorch(config, await bytes(v.weights, 'weights'), { source: v.weights });
  await model.save(v.out);
  io.stdout.write(`saved ${v.out} (${count(model.paramCount)} parameters from ${v.weights})\n`);
}
