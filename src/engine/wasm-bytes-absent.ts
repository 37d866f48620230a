// What the single-file worker bundles get in place of generated/wasm-bytes.ts (scripts/build-js.mjs): a worker
// is always sent the compiled module (src/parallel/worker.ts InitMessage), so it never needs the binaries, and
// each worker bundle is the size of the inlined kernels smaller without them. Reaching for them there is a bug.
type Variants = Record<'simd' | 'relaxed-simd', never>;
const absent = new Proxy({} as Variants, {
  get: (_, key) => { throw new Error(`rede: the kernels' bytes (${String(key)}) are not in a worker bundle; a worker is sent the compiled module`); },
});
export const WASM_BASE64: Variants = absent;
export const WASM_SHARED: Variants = absent;
