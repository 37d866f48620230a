// rede/infer's kernels: one of the four inference builds (assembly/infer.ts, scripts/build-wasm.mjs), chosen by
// what the runtime validates and fetched as a file — never inlined, so the bundle carries none of them.
//   relaxed SIMD where a 17-byte probe using i8x16.relaxed_swizzle validates (Node 20 behind a V8 flag, which
//   src/engine/wasm.ts sets from inside the process), plain SIMD where a probe using i8x16.splat does, else
//   an error: this build has no TypeScript fallback (the full `rede` bundle does);
//   the shared-memory build only for threads, and only where shared memory exists (SharedArrayBuffer; in a
//   browser a cross-origin isolated page): without it the model runs on one thread. The shared build is the
//   same file with its memory limits flag set (one byte, whose offset the build recorded), so there are two
//   files, rede-infer-simd.wasm and rede-infer-relaxed-simd.wasm, and one is fetched either way.
import { RedeError } from '../../engine/errors';
import { enableRelaxedSimdInNode, sharedTwin, type Variant } from '../../engine/wasm';
import { INFER_SHARED_FLAG } from '../../engine/generated/infer-wasm';

/** Where the .wasm files are: a folder (URL, or a path in Node), or a function from a file name to its bytes. */
export type WasmSource = string | URL | ((file: string) => Promise<Uint8Array | ArrayBuffer>);

export interface KernelChoice {
  variant: Variant;
  shared: boolean;
  /** rede-infer-<variant>.wasm (the shared build is made from it) */
  file: string;
}

export interface FetchedKernels extends KernelChoice {
  module: WebAssembly.Module;
  /** The bytes fetched (one file). */
  bytes: number;
  /** Where they came from. */
  from: string;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

// () -> v128 { i8x16.splat(0) }, and the same swizzled by itself with i8x16.relaxed_swizzle (0xfd 0x100).
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11);
const RELAXED_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 0, 253, 15, 65, 0, 253, 15, 253, 128, 2, 11);

/** Whether this runtime can run threads on shared wasm memory. */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || (!isNode && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false)) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The one build this runtime should run: `threads` asks for the shared-memory one (granted where it can be). */
export async function chooseKernels(threads: boolean): Promise<KernelChoice> {
  await enableRelaxedSimdInNode();
  const variant: Variant | null = WebAssembly.validate(RELAXED_PROBE) ? 'relaxed-simd' : WebAssembly.validate(SIMD_PROBE) ? 'simd' : null;
  if (!variant) throw new RedeError('rede/infer: this runtime has no WebAssembly SIMD (needed by the inference kernels; the full rede bundle falls back to TypeScript kernels)');
  const shared = threads && canShareMemory();
  return { variant, shared, file: `rede-infer-${variant}.wasm` };
}

/** The bytes of `file` from `source`: fetch() for http(s) and page-relative URLs, the file system in Node. */
async function read(source: Exclude<WasmSource, Function>, file: string): Promise<{ bytes: Uint8Array; from: string }> {
  const base = typeof source === 'string' && isNode && !/^[a-z][a-z0-9+.-]*:/i.test(source) ? null : source;
  if (base === null) {
    const { join } = await import('node:path'), { readFile } = await import('node:fs/promises');
    const path = join(source as string, file);
    try { return { bytes: await readFile(path), from: path }; } catch (e) { throw new RedeError(`rede/infer: cannot read the kernels ${path}: ${(e as Error).message}`); }
  }
  const href = String(base).endsWith('/') ? String(base) : `${String(base)}/`;
  const url = new URL(file, typeof location !== 'undefined' ? new URL(href, location.href) : href);
  if (url.protocol === 'file:' && isNode) {
    const { readFile } = await import('node:fs/promises'), { fileURLToPath } = await import('node:url');
    try { return { bytes: await readFile(fileURLToPath(url)), from: url.href }; } catch (e) { throw new RedeError(`rede/infer: cannot read the kernels ${url.href}: ${(e as Error).message}`); }
  }
  let res: Response;
  try { res = await fetch(url); } catch (e) { throw new RedeError(`rede/infer: cannot fetch the kernels ${url.href}: ${(e as Error).message}`); }
  if (!res.ok) throw new RedeError(`rede/infer: fetching the kernels ${url.href} failed: HTTP ${res.status} (serve dist/infer/${file} there, or pass the wasm option)`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), from: url.href };
}

/** Chooses, fetches and compiles the one build. */
export async function fetchKernels(source: WasmSource, threads: boolean): Promise<FetchedKernels> {
  const choice = await chooseKernels(threads);
  const got = typeof source === 'function'
    ? { bytes: new Uint8Array(await source(choice.file)), from: `wasm(${JSON.stringify(choice.file)})` }
    : await read(source, choice.file);
  let module: WebAssembly.Module;
  try {
    const plain = got.bytes as Uint8Array<ArrayBuffer>;
    module = await WebAssembly.compile(choice.shared ? sharedTwin(plain, INFER_SHARED_FLAG[choice.variant], got.from) : plain);
  } catch (e) {
    throw new RedeError(`rede/infer: ${got.from} (${got.bytes.length} bytes) is not a kernels module this runtime compiles: ${(e as Error).message}`);
  }
  const imports = WebAssembly.Module.imports(module);
  if (!imports.some((i) => i.module === 'env' && i.name === 'memory' && i.kind === 'memory')) {
    throw new RedeError(`rede/infer: ${got.from} does not import env.memory: not rede's kernels`);
  }
  return { ...choice, module, bytes: got.bytes.length, from: got.from };
}

/** The folder the .wasm files sit in by default: beside the bundle (dist/infer), or build/wasm from source. */
export function defaultWasmSource(): string | URL {
  const here = import.meta.url as string | undefined;
  if (here) return new URL(here.endsWith('.ts') ? '../../../build/wasm/' : './', here);
  if (typeof __dirname !== 'undefined') return __dirname; // the CJS bundle: beside it
  throw new RedeError('rede/infer: cannot locate the kernels; pass the wasm option');
}

/** The helper thread's entry beside this bundle (dist/infer/rede-infer-worker.js); from source, InferenceModel's own default. */
export function defaultWorkerUrl(): URL | undefined {
  const here = import.meta.url as string | undefined;
  if (here) return here.endsWith('.ts') ? undefined : new URL('./rede-infer-worker.js', here);
  if (typeof __filename !== 'undefined') return new URL('./rede-infer-worker.js', `file://${__filename}`);
  return undefined;
}
