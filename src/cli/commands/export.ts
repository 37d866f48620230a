// rede export --model FILE.rede --format FORMAT --out PATH: a saved model in another tool's format. One table
// of formats; --pytorch and --safetensors stay as aliases of --format pytorch / safetensors.
import { basename, extname, join } from 'node:path';
import { Model } from '../../api/model';
import { RedeError } from '../../engine/errors';
import { toTfjs } from '../../interop/tfjs-layers/export';
import { writeFiles } from '../../interop/files';
import { writeFileAtomic } from '../../io/atomic';
import { checkWritable, count, type Io, parse } from '../common';
import { exportPytorch, exportSafetensors } from './pytorch';

interface Format { out: string; what: string; run(model: Model, out: string): Promise<string> }

/** Every format `rede export` writes; the onnx entry is filled in by the ONNX exporter (src/interop/onnx). */
export const EXPORT_FORMATS: Record<string, Format> = {
  tfjs: {
    out: 'DIR', what: 'DIR/model.json + DIR/group1-shard1of1.bin: a tfjs Layers model (tf.loadLayersModel)',
    async run(model, out) {
      const a = toTfjs(model);
      const json = new TextEncoder().encode(`${JSON.stringify(a.modelJson)}\n`);
      await writeFiles(out, new Map([[a.weightsPath, a.weightData], ['model.json', json]]), ['model.json']);
      return `wrote ${join(out, 'model.json')} and ${join(out, a.weightsPath)} (${count(model.paramCount)} parameters)`;
    },
  },
  keras: {
    out: 'FILE.h5', what: "FILE.h5: a Keras 2 HDF5 model (keras.models.load_model; needs the optional package h5wasm)",
    async run(model, out) {
      if (extname(out) !== '.h5') throw new RedeError(`export: --format keras writes a Keras .h5 file, so --out must end in .h5, got '${out}'`);
      checkWritable('export', 'out', out);
      const { exportKerasH5 } = await import('../../interop/keras/h5-model');
      await writeFileAtomic(out, await exportKerasH5(model, basename(out)));
      return `wrote ${out} (${count(model.paramCount)} parameters)`;
    },
  },
  // onnx: { out: 'FILE.onnx', what: '...', run: ... }  ← the ONNX exporter adds its entry here.
  pytorch: { out: 'DIR', what: 'DIR/model.py (a torch.nn.Module needing only torch), DIR/weights.safetensors, DIR/config.json', run: exportPytorch },
  safetensors: { out: 'FILE.safetensors', what: "the model as one safetensors file (weights, config in the metadata): rede's optional format", run: exportSafetensors },
};

export const exportUsage = `usage: rede export --model FILE.rede --format FORMAT --out PATH

${Object.entries(EXPORT_FORMATS).map(([k, f]) => `  --format ${k.padEnd(12)} --out ${f.out.padEnd(17)} ${f.what}`).join('\n')}
  --pytorch, --safetensors                  the same as --format pytorch, --format safetensors`;

export async function exportCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('export', argv, { format: { type: 'string' }, pytorch: { type: 'boolean' }, safetensors: { type: 'boolean' }, model: { type: 'string' }, out: { type: 'string' } } as const);
  if (v.help) { io.stdout.write(`${exportUsage}\n`); return; }
  const given = [v.format, v.pytorch && 'pytorch', v.safetensors && 'safetensors'].filter((f): f is string => typeof f === 'string');
  if (given.length !== 1) throw new RedeError(`export: give one of --format ${Object.keys(EXPORT_FORMATS).join('|')}, --pytorch or --safetensors`);
  const name = given[0];
  if (!Object.hasOwn(EXPORT_FORMATS, name)) throw new RedeError(`export: unknown --format '${name}' (expected ${Object.keys(EXPORT_FORMATS).join(', ')})`);
  if (!v.model || !v.out) throw new RedeError('export: --model FILE.rede and --out are required');
  const model = await Model.load(v.model);
  io.stdout.write(`${await EXPORT_FORMATS[name].run(model, v.out)}\n`);
}
