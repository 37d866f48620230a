// rede/infer: the inference-only entry point. It loads an f32 or int8 .rede file (load.ts), fetches the one
// build of the inference kernels this runtime should run (kernels.ts), and compiles an InferenceModel on it:
// threads when asked for and shared memory exists, one thread otherwise. The bundle (scripts/build-infer.mjs)
// carries no training code, optimizers, zoo, data loaders, command line, reference kernels or inlined wasm.
//
//   import { load } from 'rede/infer';
//   const model = await load('lenet.int8.rede', { workers: 2 });   // a path (Node), a URL, or the bytes
//   model.predictClasses(image);                                     // see InferenceModel
import { RedeError } from '../../engine/errors';
import { checkOptions } from '../../engine/options';
import { InferenceModel, type InferenceOptions } from '../model';
import { defaultWasmSource, defaultWorkerUrl, fetchKernels, type FetchedKernels, type WasmSource } from './kernels';
import { loadGraph } from './load';

export { InferenceModel, RedeError };
export type { InferenceOptions };
export { canShareMemory, chooseKernels, fetchKernels, type FetchedKernels, type KernelChoice, type WasmSource } from './kernels';
export { INFER_LAYER_TYPES } from './load';

export interface LoadOptions {
  /**
   * Threads for predict (default 1). More than 1 needs shared memory (a cross-origin isolated page) and, in a
   * browser, a Worker (a page's own thread may not block); elsewhere the model runs on one (its `threads` says).
   */
  workers?: number;
  /** Where the rede-infer-*.wasm files are (default: beside this bundle), or a function giving a file's bytes. */
  wasm?: WasmSource;
  /** Kernels fetched already (fetchKernels): nothing more is fetched. Their build decides shared memory. */
  kernels?: FetchedKernels;
  /** As InferenceModel's. */
  batchSize?: number;
  bandBytes?: number;
  maxBytes?: number;
  classNames?: string[] | null;
  helperTimeoutMs?: number;
  workerUrl?: URL;
}

export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
/** A browser page's own thread, which may not block in Atomics.wait (predict's wait for its helpers). */
const onPageThread = (): boolean => !isNode && typeof document !== 'undefined';

async function readModel(source: ModelSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'model bytes' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'model bytes' };
  if (typeof source !== 'string' && !(source instanceof URL)) throw new RedeError(`rede/infer load: the model must be a path, a URL or the file's bytes, got ${source === null ? 'null' : typeof source}`);
  const href = String(source);
  const isPath = typeof source === 'string' && isNode && !/^[a-z][a-z0-9+.-]*:/i.test(source);
  if (isPath || (isNode && href.startsWith('file:'))) {
    const { readFile } = await import('node:fs/promises'), { fileURLToPath } = await import('node:url');
    const path = isPath ? href : fileURLToPath(href);
    try { return { bytes: await readFile(path), name: path }; } catch (e) { throw new RedeError(`${path}: cannot read (${(e as Error).message})`); }
  }
  let res: Response;
  try { res = await fetch(source); } catch (e) { throw new RedeError(`${href}: cannot fetch (${(e as Error).message})`); }
  if (!res.ok) throw new RedeError(`${href}: fetching the model failed: HTTP ${res.status}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), name: href };
}

/** Loads a .rede model (f32 or int8) for inference on the one kernels build this runtime runs. */
export async function load(source: ModelSource, options: LoadOptions = {}): Promise<InferenceModel> {
  const o = checkOptions<LoadOptions>('rede/infer load', options,
    ['workers', 'wasm', 'kernels', 'batchSize', 'bandBytes', 'maxBytes', 'classNames', 'helperTimeoutMs', 'workerUrl'], { batch_size: 'batchSize' });
  const asked = o.workers ?? 1;
  if (!Number.isInteger(asked) || asked < 1 || asked > 64) throw new RedeError(`rede/infer load: workers must be an integer in [1, 64], got ${o.workers}`);
  const { bytes, name } = await readModel(source);
  const { graph, classNames } = loadGraph(bytes, name); // before any fetch: a bad file costs no download
  // Threads where they can run: shared memory, and (in a browser) inside a Worker — see examples/infer-worker.js.
  const threads = asked > 1 && !onPageThread();
  const kernels = o.kernels ?? (await fetchKernels(o.wasm ?? defaultWasmSource(), threads));
  if (kernels.shared && !threads) throw new RedeError(`rede/infer load: the kernels given are the shared-memory build (${kernels.file}), which runs with workers > 1 off a page's own thread; fetch them with fetchKernels(wasm, false) for one thread`);
  const { wasm: _w, kernels: _k, ...rest } = o;
  return InferenceModel.fromLowered(graph, {
    classNames, workerUrl: defaultWorkerUrl(), ...rest, workers: kernels.shared && threads ? asked : 1,
    kernels: { module: kernels.module, variant: kernels.variant },
  });
}
