// What the Node bundles (dist/esm, dist/cjs) get in place of generated/wasm-bytes.ts (scripts/build-js.mjs): the
// kernels as files beside them, dist/wasm/rede-<variant>.wasm, read once when first needed — one copy in the
// package for both bundles instead of one inlined into each. The shared builds are still derived from these by
// their one differing byte, whose offsets come from the generated file (its bytes are not bundled).
import { readFileSync } from 'node:fs';
import { WASM_SHARED as OFFSETS } from './generated/wasm-bytes.js';

type Variant = 'simd' | 'relaxed-simd';

/** dist/wasm/, from this bundle's own location (dist/esm/… or dist/cjs/…: one level down from dist/). */
function fileOf(variant: Variant): URL {
  const name = `../wasm/rede-${variant}.wasm`;
  const here = import.meta.url as string | undefined;
  if (here) return new URL(name, here);
  if (typeof __filename !== 'undefined') return new URL(name, `file://${__filename}`); // CommonJS: no import.meta
  throw new Error('rede: cannot locate the kernels files (dist/wasm/)');
}

const read = (variant: Variant): string => {
  try {
    return readFileSync(fileOf(variant)).toString('base64');
  } catch (e) {
    throw new Error(`rede: the ${variant} kernels file ${fileOf(variant).pathname} could not be read (${(e as Error).message}); is the package complete?`);
  }
};

const cache = new Map<Variant, string>();
export const WASM_BASE64 = new Proxy({} as Record<Variant, string>, {
  get: (_, key) => {
    const v = key as Variant;
    let s = cache.get(v);
    if (s === undefined) cache.set(v, s = read(v));
    return s;
  },
});
export const WASM_SHARED: Record<Variant, number | string> = OFFSETS;
