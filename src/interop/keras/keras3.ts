// Keras 3's .keras file: a zip (zip.ts) of config.json (the model's config: format.ts reads Keras 3's node
// form), metadata.json ({ keras_version, date_saved }) and model.weights.h5, whose tensors sit at
// layers/<layer name>/vars/<i> in the order the layer made them (Keras's param order: kerasParams).
import { RedeError } from '../../engine/errors';
import type { Engine } from '../../engine/engine';
import type { Model } from '../../api/model';
import { Where, field, obj, parseJson } from '../check';
import { decodeTopology } from '../tfjs-layers/format';
import { buildImported, fromKeras } from '../tfjs-layers/import';
import { floatDataset, readH5, type H5Group } from './h5';
import { zipEntries, zipRead } from './zip';

/** A Keras 3 .keras file as a trainable rede model. */
export async function importKeras3(bytes: Uint8Array, o: { file?: string; seed?: number; engine?: Engine } = {}): Promise<Model> {
  const file = o.file ?? 'model.keras';
  const entries = zipEntries(bytes, file);
  const get = async (name: string) => {
    const e = entries.find((x) => x.name === name);
    if (!e) throw new RedeError(`${file}: no ${name} in the archive (a .keras file holds config.json, metadata.json and model.weights.h5)`);
    return zipRead(bytes, e, file);
  };
  const meta = entries.some((e) => e.name === 'metadata.json') ? obj(parseJson(await get('metadata.json'), new Where(`${file}: metadata.json`)), new Where(`${file}: metadata.json`)) : {};
  const version = field(meta, 'keras_version');
  if (typeof version === 'string' && !/^3\./.test(version)) throw new RedeError(`${file}: metadata.json says Keras ${version}; rede reads .keras files of Keras 3`);
  const config = parseJson(await get('config.json'), new Where(`${file}: config.json`));
  const graph = decodeTopology(config, `${file}: config.json`);
  const converted = fromKeras(graph, file);
  const h5 = await get('model.weights.h5');
  const tensors = await readH5(h5, `${file}: model.weights.h5`, (f) => new Map(converted.params.map(({ keras, params }) => {
    const where = `layers/${keras}/vars`, g = f.get(where);
    if (!g || g.type !== 'Group') throw new RedeError(`${file}: model.weights.h5 has no group ${where}`);
    const n = (g as H5Group).keys().length;
    if (n !== params.length) throw new RedeError(`${file}: model.weights.h5 ${where} holds ${n} tensors, expected ${params.length} (${params.join(', ')})`);
    return [keras, params.map((_, i) => floatDataset((g as H5Group).get(String(i)), file, `model.weights.h5 ${where}/${i}`, h5.length))];
  })));
  return buildImported(converted, (keras) => tensors.get(keras) ?? [], file, o);
}
