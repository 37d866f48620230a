// Models in and out of other tools (docs/interop.md): tfjs Layers (model.json + weights), Keras .h5 and .keras
// (keras/: h5wasm, reached only by dynamic import), PyTorch modules + state_dicts, safetensors, Caffe.
// Every reader checks its input before it allocates or computes (check.ts); every writer is atomic (files.ts).
export { toKeras, toTfjs, EXPORTED_LAYERS, type KerasExport, type KerasWeight, type TfjsArtifacts } from './tfjs-layers/export';
export { fromKeras, buildImported, importTfjs, readTfjsModelJson, tfjsWeightSource, IMPORTED_CLASSES, type Converted, type WeightSource, type TfjsModelJson } from './tfjs-layers/import';
export { decodeTopology, encodeTopology, type KerasGraph, type KerasNode, type Flavor } from './tfjs-layers/format';
