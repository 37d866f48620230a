// rede import --in PATH [--format FORMAT] --out FILE.rede: a model from another tool as a trainable .rede.
// The format follows from --in (model.json → tfjs, .h5 / .keras → keras) unless --format gives it;
// --pytorch (--weights + --config) stays as an alias of --format pytorch.
import { dirname, extname, join } from 'node:path';
import type { Model } from '../../api/model';
import { RedeError } from '../../engine/errors';
import { importTfjs } from '../../interop/tfjs-layers/import';
import { readBounded } from '../../interop/files';
import { checkWritable, count, type Io, parse } from '../common';
import { importPytorchFiles } from './pytorch';

interface Args { in?: string; weights?: string; config?: string }
interface Format { takes: string; what: string; run(a: Args): Promise<{ model: Model; from: string }> }

const need = (v: string | undefined, flag: string, format: string): string => {
  if (!v) throw new RedeError(`import: --format ${format} needs --${flag}`);
  return v;
};

/** Every format `rede import` reads; the onnx entry is filled in by the ONNX importer (src/interop/onnx). */
export const IMPORT_FORMATS: Record<string, Format> = {
  tfjs: {
    takes: '--in DIR/model.json', what: 'a tfjs Layers model; its weight files are read from beside model.json',
    async run(a) {
      const path = need(a.in, 'in', 'tfjs'), dir = dirname(path);
      const json = await readBounded(path, 'model.json', 256 << 20);
      const model = await importTfjs(json, async (paths) => {
        const parts = await Promise.all(paths.map((p) => readBounded(join(dir, p), 'weights file')));
        const out = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
        let at = 0;
        for (const b of parts) { out.set(b, at); at += b.length; }
        return out;
      }, { file: path });
      return { model, from: path };
    },
  },
  keras: {
    takes: '--in FILE.h5 | FILE.keras', what: 'a Keras 2 HDF5 model or a Keras 3 .keras file (needs the optional package h5wasm)',
    async run(a) {
      const path = need(a.in, 'in', 'keras'), bytes = await readBounded(path, 'Keras file');
      const keras = await import('../../interop/keras/index');
      const model = extname(path) === '.keras' ? await keras.importKeras3(bytes, { file: path }) : await keras.importKerasH5(bytes, { file: path });
      return { model, from: path };
    },
  },
  // onnx: { takes: '--in FILE.onnx', what: '...', run: ... }  ← the ONNX importer adds its entry here.
  pytorch: {
    takes: '--weights FILE.safetensors --config FILE.json', what: "a state_dict of export --pytorch's module (a DDP 'module.' prefix is dropped)",
    async run(a) {
      const weights = need(a.weights, 'weights', 'pytorch'), config = need(a.config, 'config', 'pytorch');
      return { model: await importPytorchFiles(weights, config), from: weights };
    },
  },
};

/** The format a path's name implies, or null. */
function inferred(path: string | undefined): string | null {
  if (!path) return null;
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'tfjs' : ext === '.h5' || ext === '.keras' || ext === '.hdf5' ? 'keras' : ext === '.onnx' ? 'onnx' : null;
}

export const importUsage = `usage: rede import --in PATH [--format FORMAT] --out FILE.rede

${Object.entries(IMPORT_FORMATS).map(([k, f]) => `  --format ${k.padEnd(8)} ${f.takes.padEnd(48)} ${f.what}`).join('\n')}
  --pytorch                the same as --format pytorch
  Without --format, model.json means tfjs and .h5 / .keras mean keras.`;

export async function importCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('import', argv, { in: { type: 'string' }, format: { type: 'string' }, pytorch: { type: 'boolean' }, weights: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' } } as const);
  if (v.help) { io.stdout.write(`${importUsage}\n`); return; }
  if (v.format && v.pytorch && v.format !== 'pytorch') throw new RedeError(`import: --pytorch and --format ${v.format} disagree`);
  const name = v.format ?? (v.pytorch ? 'pytorch' : inferred(v.in));
  if (!name) throw new RedeError(`import: give --format ${Object.keys(IMPORT_FORMATS).join('|')} (or --pytorch), or an --in whose name tells it (model.json, .h5, .keras)`);
  if (!Object.hasOwn(IMPORT_FORMATS, name)) throw new RedeError(`import: unknown --format '${name}' (expected ${Object.keys(IMPORT_FORMATS).join(', ')})`);
  if (!v.out) throw new RedeError('import: --out FILE.rede is required');
  checkWritable('import', 'out', v.out);
  const { model, from } = await IMPORT_FORMATS[name].run({ in: v.in, weights: v.weights, config: v.config });
  await model.save(v.out);
  io.stdout.write(`saved ${v.out} (${count(model.paramCount)} parameters from ${from})\n`);
}
