// What the rest of rede sees of the compute backend: names and a report, no TensorFlow.js types (they are an
// optional peer dependency, so they must not reach rede's own published types).

/** Model.create's `backend`: rede's WebAssembly engine (default), or TensorFlow.js. */
export type BackendName = 'wasm' | 'tfjs';

/** Which backend and device actually run a model (Model.backendInfo; `rede train` prints it). */
export interface BackendInfo {
  backend: BackendName;
  /** wasm: the engine variant (e.g. 'relaxed-simd'); tfjs: the npm package that loaded. */
  package: string;
  version: string;
  /** tfjs's own backend: 'tensorflow' (tfjs-node, tfjs-node-gpu), 'webgpu', 'webgl', 'wasm' or 'cpu'. */
  tfjsBackend?: string;
  /** In words: 'GPU (CUDA, TensorFlow C library)', 'CPU (plain JavaScript)', 'GPU (WebGL): <renderer>', … */
  device: string;
  /** Whether a GPU does the work. */
  gpu: boolean;
  /** Set when what runs is not what was likely meant (tfjs-node-gpu on the CPU, WebGL in software). */
  warning?: string;
}

/** One line for logs: "tfjs 4.22.0 (@tensorflow/tfjs, backend cpu) on CPU (plain JavaScript)". */
export function describeBackend(i: BackendInfo): string {
  const what = i.backend === 'wasm' ? `rede wasm engine (${i.package})` : `tfjs ${i.version} (${i.package}, backend ${i.tfjsBackend})`;
  return `${what} on ${i.device}${i.warning ? `; warning: ${i.warning}` : ''}`;
}
