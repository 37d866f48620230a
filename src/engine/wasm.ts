// Picks and compiles the kernels module: relaxed SIMD (FMA) where the runtime has it, plain SIMD otherwise,
// the shared-memory build for worker threads. The bytes are inlined (generated/wasm-bytes.ts), so the same
// code loads in Node and in browsers with nothing to fetch.
import { WASM_BASE64, WASM_SHARED } from './generated/wasm-bytes';

export type Variant = 'relaxed-simd' | 'simd';
export type VariantRequest = Variant | 'auto';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  if (isNode) { const b = Buffer.from(s, "base64"); return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer); }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The non-shared binary with its imported memory's limits flag (at `at`) turned from 0x01 (max) to 0x03 (max, shared). */
export function sharedTwin(plain: Uint8Array<ArrayBuffer>, at: number, variant: string): Uint8Array<ArrayBuffer> {
  if (plain[at] !== 0x01) throw new Error(`rede: the ${variant} kernels' byte ${at} is ${plain[at]}, not the memory limits flag 0x01 the build recorded (stale kernels, or a generated file from another build?)`);
  const b = plain.slice();
  b[at] = 0x03;
  return b;
}

const cache = new Map<string, Uint8Array<ArrayBuffer>>();
export function wasmBytes(variant: Variant, shared: boolean): Uint8Array<ArrayBuffer> {
  const key = shared ? `${variant}-shared` : variant;
  let b = cache.get(key);
  if (!b) {
    const twin = WASM_SHARED[variant];
    b = !shared ? decodeBase64(WASM_BASE64[variant])
      : typeof twin === 'number' ? sharedTwin(wasmBytes(variant, false), twin, variant) : decodeBase64(twin);
    cache.set(key, b);
  }
  return b;
}

let relaxedFlag: Promise<void> | null = null;
/**
 * Node 20 (V8 11.3) ships relaxed SIMD behind --experimental-wasm-relaxed-simd, which NODE_OPTIONS refuses;
 * setting the flag from inside the process before compiling works. Browsers decide for themselves.
 */
export function enableRelaxedSimdInNode(): Promise<void> {
  if (!isNode) return Promise.resolve();
  // One promise shared by every caller: a second concurrent caller must not validate before the flag is set.
  relaxedFlag ??= import('node:v8').then(
    (v8) => v8.setFlagsFromString('--experimental-wasm-relaxed-simd'),
    () => { /* not Node after all: plain SIMD it is */ });
  return relaxedFlag;
}

export async function hasSimd(): Promise<boolean> {
  return WebAssembly.validate(wasmBytes('simd', false));
}

export async function hasRelaxedSimd(): Promise<boolean> {
  await enableRelaxedSimdInNode();
  return WebAssembly.validate(wasmBytes('relaxed-simd', false));
}

export async function pickVariant(req: VariantRequest): Promise<Variant | 'ref'> {
  if (req === 'relaxed-simd') {
    if (!(await hasRelaxedSimd())) throw new Error('rede engine: relaxed SIMD requested but this runtime does not validate it');
    return req;
  }
  if (req === 'simd') {
    if (!(await hasSimd())) throw new Error('rede engine: SIMD requested but this runtime has no wasm SIMD');
    return req;
  }
  if (await hasRelaxedSimd()) return 'relaxed-simd';
  if (await hasSimd()) return 'simd';
  return 'ref';
}

export async function compileKernels(variant: Variant, shared: boolean): Promise<WebAssembly.Module> {
  if (variant === 'relaxed-simd') await enableRelaxedSimdInNode();
  return WebAssembly.compile(wasmBytes(variant, shared));
}
