// Keras 2's HDF5 model file (.h5, what model.save('m.h5') writes and tensorflowjs_converter reads):
//   /                  attrs model_config (the model's JSON, format.ts), keras_version, backend
//   /model_weights     attrs layer_names (every layer, in order), keras_version, backend
//     /<layer>         attr weight_names ['<layer>/kernel:0', '<layer>/bias:0', ...], in Keras's order
//       /<layer>/kernel:0 ...   float datasets in Keras's layout (rede's, src/model/weights.ts)
// A weights-only file (model.save_weights) has the layer groups at the root; rede reads model files only.
import { RedeError } from '../../engine/errors';
import type { Engine } from '../../engine/engine';
import type { Model } from '../../api/model';
import { parseJson, Where } from '../check';
import { toKeras } from '../tfjs-layers/export';
import { encodeTopology, decodeTopology } from '../tfjs-layers/format';
import { buildImported, fromKeras, type WeightSource } from '../tfjs-layers/import';
import { floatDataset, readH5, stringAttr, stringsAttr, writeH5, type H5Group } from './h5';

export const KERAS_VERSION = '2.15.0';

/** A rede model as a Keras 2 .h5 file's bytes. */
export async function exportKerasH5(model: Model, file = 'model.h5'): Promise<Uint8Array> {
  const { graph, weights } = toKeras(model, 'keras');
  const config = JSON.stringify(encodeTopology(graph, 'keras'));
  return writeH5(file, (f) => {
    f.create_attribute('model_config', config);
    f.create_attribute('keras_version', KERAS_VERSION);
    f.create_attribute('backend', 'tensorflow');
    const mw = f.create_group('model_weights');
    mw.create_attribute('layer_names', [graph.inputName, ...graph.nodes.map((n) => n.name)]);
    mw.create_attribute('keras_version', KERAS_VERSION);
    mw.create_attribute('backend', 'tensorflow');
    for (const name of [graph.inputName, ...graph.nodes.map((n) => n.name)]) {
      const g = mw.create_group(name);
      const mine = weights.filter((t) => t.layer === name);
      const names = mine.map((t) => `${name}/${t.param}:0`);
      // An empty list of strings has no HDF5 string type to guess; Keras writes an empty float array.
      if (names.length) g.create_attribute('weight_names', names); else g.create_attribute('weight_names', new Float32Array(0), [0], '<f');
      if (mine.length) {
        const inner = g.create_group(name);
        for (const t of mine) inner.create_dataset({ name: `${t.param}:0`, data: t.data, shape: t.shape, dtype: '<f' });
      }
    }
  });
}

/** Weights from a Keras 2 model_weights group: by the last part of each weight name (kernel:0 → kernel). */
export function h5WeightSource(root: H5Group, file: string, fileBytes: number): WeightSource {
  return (keras, params) => {
    const where = `model_weights/${keras}`;
    const g = root.get(where);
    if (!g || g.type !== 'Group') throw new RedeError(`${file}: no group ${where}`);
    const names = stringsAttr(g, 'weight_names', file, where) ?? [];
    return params.map((p) => {
      const full = names.find((n) => n.split('/').pop()!.replace(/:\d+$/, '') === p);
      if (full === undefined) throw new RedeError(`${file}: ${where} has no weight '${p}' (weight_names: ${names.join(', ') || 'none'})`);
      return floatDataset((g as H5Group).get(full), file, `${where}/${full}`, fileBytes);
    });
  };
}

/** A Keras 2 .h5 model file (architecture + weights) as a trainable rede model. */
export async function importKerasH5(bytes: Uint8Array, o: { file?: string; seed?: number; engine?: Engine } = {}): Promise<Model> {
  const file = o.file ?? 'model.h5';
  const read = await readH5(bytes, file, (f) => {
    const text = stringAttr(f, 'model_config', file, 'the root');
    if (text === null) {
      throw new RedeError(`${file}: no 'model_config' attribute: a weights-only file (save_weights) or not a Keras model file; rede reads files written by model.save('….h5')`);
    }
    const graph = decodeTopology(parseJson(text, new Where(file, 'model_config'), bytes.length), file);
    const converted = fromKeras(graph, file);
    if (!f.get('model_weights')) throw new RedeError(`${file}: no model_weights group`);
    // Every tensor is read here, while the file is open.
    const source = h5WeightSource(f, file, bytes.length);
    const tensors = new Map(converted.params.map(({ keras, params }) => [keras, source(keras, params)]));
    return { converted, tensors };
  });
  return buildImported(read.converted, (keras) => read.tensors.get(keras) ?? [], file, o);
}
