// Which TensorFlow.js runs the tfjs backend, and on what device. In Node the first package that loads of
// @tensorflow/tfjs-node-gpu (CUDA), @tensorflow/tfjs-node (TensorFlow's C library on the CPU) and
// @tensorflow/tfjs (plain JavaScript); in a page @tensorflow/tfjs with the first of its backends that starts:
// webgpu → webgl → wasm → cpu, or the one the caller names. Every package is an optional peer dependency,
// reached only by dynamic import, so rede itself keeps no native dependency.
//
// tfjs-node-gpu falls back to the CPU without a word when the CUDA 11.2 / cuDNN 8.1 libraries it links against
// are missing: the backend is still called 'tensorflow'. Its kernel backend records whether TensorFlow found a
// GPU device (isUsingGpuDevice), which is what `device` reports and `warning` states.
import type * as TF from '@tensorflow/tfjs';
import { RedeError } from '../engine/errors';
import type { BackendInfo } from './types';

export type Tf = typeof TF;

/** The tfjs backends a caller may name. 'tensorflow' is tfjs-node's (and tfjs-node-gpu's) native backend. */
export const TFJS_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu', 'tensorflow'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

const NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs'] as const;
const PAGE_ORDER: readonly TfjsBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
/** The packages that register a backend @tensorflow/tfjs does not carry itself. */
const BACKEND_PACKAGES: Partial<Record<TfjsBackendName, string>> = { webgpu: '@tensorflow/tfjs-backend-webgpu', wasm: '@tensorflow/tfjs-backend-wasm' };

export interface Loaded { tf: Tf; info: BackendInfo }

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * A module by name, or null when it is not installed. The name is a variable so that neither TypeScript nor a
 * bundler resolves it: a package that is absent must not fail the build, only this call.
 */
async function optional(name: string): Promise<Record<string, unknown> | null> {
  try {
    return await import(/* @vite-ignore */ name) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code, msg = String((e as Error).message ?? e);
    // Not installed: skip it. Installed but broken (a native library missing): say so, then skip it.
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to resolve module specifier|Failed to fetch dynamically imported module/i.test(msg)) return null;
    failures.push(`${name}: ${msg.split('\n')[0]}`);
    return null;
  }
}
/** Packages that were installed but failed to load, for the error or the warning. */
const failures: string[] = [];

/** Runs `f` with tfjs's greetings to Node users ("install the node backend") silenced. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const warn = console.warn, log = console.log;
  console.warn = () => {}; console.log = () => {};
  try { return await f(); } finally { console.warn = warn; console.log = log; }
}

/** tfjs itself (ESM or CJS namespace: the functions may sit on `default`). */
function asTf(m: Record<string, unknown>): Tf {
  const t = (typeof m.setBackend === 'function' ? m : m.default) as Tf | undefined;
  if (!t || typeof t.setBackend !== 'function') throw new RedeError('tfjs backend: the loaded package does not export TensorFlow.js (no setBackend)');
  return t;
}

async function trySet(tf: Tf, name: TfjsBackendName): Promise<boolean> {
  if (!tf.findBackendFactory(name)) {
    const pkg = BACKEND_PACKAGES[name];
    if (!pkg || !(await optional(pkg)) || !tf.findBackendFactory(name)) return false;
  }
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch (e) {
    failures.push(`tfjs backend '${name}': ${(e as Error).message}`);
    return false;
  }
}

let loading: Promise<Loaded> | null = null;
let loadedWith: TfjsBackendName | undefined;

/**
 * Loads TensorFlow.js once per process (tfjs keeps one global engine); `backend` names the tfjs backend,
 * else the first that starts. Asking for another backend later switches the one engine to it.
 */
export function loadTfjs(backend?: TfjsBackendName): Promise<Loaded> {
  if (backend !== undefined && !(TFJS_BACKENDS as readonly string[]).includes(backend)) {
    throw new RedeError(`tfjs backend: unknown tfjs backend '${String(backend)}' (expected one of ${TFJS_BACKENDS.join(', ')})`);
  }
  if (!loading || backend !== loadedWith) failures.length = 0; // a new attempt reports its own skips
  if (loading && backend !== loadedWith) loading = loading.then((l) => quietly(() => choose(l.tf, l.info.package, backend))).catch(() => load(backend));
  loading ??= load(backend);
  loadedWith = backend;
  const p = loading;
  p.catch(() => { if (loading === p) loading = null; }); // a failed load may be retried (after an install)
  return p;
}

async function load(backend?: TfjsBackendName): Promise<Loaded> {
  return quietly(async () => {
    if (isNode()) {
      for (const pkg of NODE_PACKAGES) {
        const m = await optional(pkg);
        if (!m) continue;
        // tfjs-node re-exports tfjs with its 'tensorflow' backend registered and selected.
        return choose(asTf(m), pkg, backend);
      }
      throw new RedeError(`tfjs backend: none of ${NODE_PACKAGES.join(', ')} could be loaded${failures.length ? ` (${failures.join('; ')})` : ''}; install one, e.g. npm install @tensorflow/tfjs`);
    }
    const m = await optional('@tensorflow/tfjs');
    if (!m) throw new RedeError("tfjs backend: '@tensorflow/tfjs' could not be imported in this page; map it to a tfjs ES module (an import map, or a bundler)");
    return choose(asTf(m), '@tensorflow/tfjs', backend);
  });
}

async function choose(tf: Tf, pkg: string, backend?: TfjsBackendName): Promise<Loaded> {
  const order: readonly TfjsBackendName[] = backend ? [backend] : isNode() ? (pkg === '@tensorflow/tfjs' ? ['cpu'] : ['tensorflow']) : PAGE_ORDER;
  let chosen: TfjsBackendName | undefined;
  for (const name of order) if (await trySet(tf, name)) { chosen = name; break; }
  if (!chosen) {
    throw new RedeError(`tfjs backend: the tfjs backend${order.length > 1 ? 's' : ''} ${order.map((n) => `'${n}'`).join(', ')} could not start with ${pkg}${failures.length ? ` (${failures.join('; ')})` : ''}`);
  }
  await tf.ready();
  tf.dispose(tf.scalar(0)); // the cpu backend greets Node users on its first tensor: let that be now, silenced
  return { tf, info: describeTfjs(tf, pkg, chosen) };
}

/** What actually runs: the package, tfjs's backend, the device, and a warning when it is not what was meant. */
export function describeTfjs(tf: Tf, pkg: string, backend: TfjsBackendName): BackendInfo {
  const b = tf.backend() as unknown as Record<string, unknown>;
  const info: BackendInfo = { backend: 'tfjs', package: pkg, version: tf.version_core ?? tf.version?.['tfjs-core'] ?? 'unknown', tfjsBackend: backend, device: 'CPU', gpu: false };
  switch (backend) {
    case 'tensorflow': {
      const gpu = b.isUsingGpuDevice === true;
      info.gpu = gpu;
      info.device = gpu ? 'GPU (CUDA, TensorFlow C library)' : 'CPU (TensorFlow C library)';
      if (pkg === '@tensorflow/tfjs-node-gpu' && !gpu) {
        info.warning = 'tfjs-node-gpu found no usable CUDA GPU and runs on the CPU: it needs an NVIDIA GPU with the CUDA 11.2 and cuDNN 8.1 libraries on the library path (see docs/backends.md)';
      }
      break;
    }
    case 'webgl': {
      const renderer = webglRenderer(b);
      const software = renderer !== null && /swiftshader|llvmpipe|software|softpipe/i.test(renderer);
      info.gpu = !software;
      info.device = `${software ? 'CPU (software WebGL)' : 'GPU (WebGL)'}${renderer ? `: ${renderer}` : ''}`;
      if (software) info.warning = `WebGL runs on a software renderer (${renderer}), not a GPU`;
      break;
    }
    case 'webgpu': info.gpu = true; info.device = 'GPU (WebGPU)'; break;
    case 'wasm': info.device = 'CPU (WebAssembly, tfjs-backend-wasm)'; break;
    case 'cpu': info.device = 'CPU (plain JavaScript)'; break;
  }
  if (failures.length) info.warning = [info.warning, `skipped: ${failures.join('; ')}`].filter(Boolean).join('; ');
  return info;
}

/** The WebGL renderer's name (WEBGL_debug_renderer_info), or null. */
function webglRenderer(b: Record<string, unknown>): string | null {
  try {
    const gl = (b.gpgpu as { gl?: WebGLRenderingContext } | undefined)?.gl;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return null;
  }
}
