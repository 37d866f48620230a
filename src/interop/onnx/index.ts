// ONNX in and out (docs/interop.md): export (f32, and int8 as QDQ), import into a trainable model, and the
// schema's encoder and checked decoder.
export { exportOnnx, onnxGraphOf, OPSET, EXPORTED, type OnnxExportOptions } from './export';
export { exportOnnxInt8, qdqGraphOf } from './int8';
export { importOnnx, onnxToConfig, IMPORTED, type OnnxImportOptions, type OnnxImported } from './import';
export { decodeModel, encodeModel, type OnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor } from './schema';
