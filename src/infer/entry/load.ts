// A .rede file as an inference graph, for rede/infer: an f32 model (format "rede-model": the config and its
// weights by their documented names, src/api/persist.ts) or an int8 one ("rede-int8-model": src/quant/model.ts).
// Nothing of training is built: the graph gives the shapes, the file's tensors are read by name straight into
// lowering (batch norm folded), and optimizer state in the file is ignored. Every tensor the graph needs is
// checked (present, right size) before anything is allocated, and layer types the inference kernels do not
// have are refused by name first.
import { RedeError, shapeStr } from '../../engine/errors';
import { decodeRedeFile, type DecodedRedeFile } from '../../io/file';
import { buildGraph } from '../../model/graph';
import type { ModelConfig } from '../../model/config';
import { weightName } from '../../model/weights';
import { numelOf } from '../../layers/layer';
import { lowerGraph, type Lowered } from '../lower';
import { INT8_FORMAT, int8FromFile, lowerInt8 } from '../../quant/model';

/** The layer types whose forward kernels assembly/infer.ts has (the rest train and run in the full `rede`). */
export const INFER_LAYER_TYPES: readonly string[] = ['conv2d', 'dense', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'lrn',
  'dropout', 'flatten', 'reshape', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'softmax', 'add', 'concat'];

export interface LoadedGraph { graph: Lowered; int8: boolean; classNames: string[] | null }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses a config with a layer rede/infer cannot run, naming it, before the graph is built. */
function checkLayerTypes(config: unknown, name: string): ModelConfig {
  if (!isObject(config) || !Array.isArray(config.layers)) throw new RedeError(`${name}: header field 'config' must be a model config with a 'layers' list`);
  config.layers.forEach((l: unknown, i: number) => {
    const type = isObject(l) ? l.type : undefined;
    if (typeof type === 'string' && !INFER_LAYER_TYPES.includes(type)) {
      const label = isObject(l) && typeof l.name === 'string' ? `'${l.name}'` : `${i}`;
      throw new RedeError(`${name}: layer ${label} is a ${type}, which rede/infer does not run (it runs ${INFER_LAYER_TYPES.join(', ')}); load the model with the full rede`);
    }
  });
  return config as unknown as ModelConfig;
}

/** An f32 model file's graph, its weights read by name (or by the names files had before: param/…, state/…). */
function f32Graph(f: DecodedRedeFile, name: string): Lowered {
  const config = checkLayerTypes(f.header.config, name);
  let graph;
  try { graph = buildGraph(config); } catch (e) { throw e instanceof RedeError ? new RedeError(`${name}: ${e.message}`) : e; }
  const take = (layer: string, handle: string, legacy: string, n: number, shape: readonly number[]): Float32Array => {
    const key = [weightName(layer, handle), `${legacy}/${layer}/${handle}`].find((k) => Object.hasOwn(f.tensors, k));
    if (key === undefined) throw new RedeError(`${name}: tensor '${weightName(layer, handle)}' is missing`);
    const t = f.tensors[key];
    if (t.length !== n) throw new RedeError(`${name}: tensor '${key}' has ${t.length} values, the model needs ${n} ${shapeStr(shape)}`);
    return t.slice(); // lowering folds batch norm into its copy
  };
  for (const { layer: L } of graph.nodes) { // all present before lowering allocates
    for (const p of L.params) take(L.name, p.name, 'param', numelOf(p.shape), p.shape);
    for (const s of L.state) take(L.name, s.name, 'state', s.floats, [s.floats]);
  }
  return lowerGraph(graph, {
    param: (L, p, n) => take(L.name, p, 'param', n, [n]),
    state: (L, s, n) => take(L.name, s, 'state', n, [n]),
  });
}

/** Decodes and lowers a .rede file (f32 or int8). `name` labels errors. */
export function loadGraph(bytes: Uint8Array, name: string): LoadedGraph {
  const f = decodeRedeFile(bytes, name);
  const h = f.header;
  const names = h.classNames;
  if (names !== undefined && !(Array.isArray(names) && names.every((v) => typeof v === 'string'))) {
    throw new RedeError(`${name}: header field 'classNames' must be a list of strings, got ${JSON.stringify(names)}`);
  }
  const classNames = (names as string[] | undefined) ?? null;
  if (h.format === INT8_FORMAT) {
    checkLayerTypes(h.config, name);
    const q = int8FromFile(f, name);
    return { graph: lowerInt8(q.config, q.spec), int8: true, classNames };
  }
  if (h.format !== 'rede-model') throw new RedeError(`${name}: not a rede model file (header.format is ${JSON.stringify(h.format)}, expected "rede-model" or "${INT8_FORMAT}")`);
  return { graph: f32Graph(f, name), int8: false, classNames };
}
