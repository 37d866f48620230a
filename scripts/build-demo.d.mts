// Types of scripts/build-demo.mjs (imported by the browser tests).
export interface InferenceSizes {
  /** rede.js gzipped, bytes (JS + every inlined wasm variant). */
  total: number;
  raw: number;
  /** rede.js without its base64 wasm literals, gzipped. */
  js: number;
  /** What the inlined base64 variants add, gzipped. */
  inlinedWasm: number;
  variants: number;
  /** The largest single variant as a .wasm file, gzipped. */
  oneWasm: number;
}
export function encodeDigits(pkg: ArrayLike<{ raw: ArrayLike<number> }>): Uint8Array;
export function inferenceSizes(dir: string): Promise<InferenceSizes>;
export function formatSizes(s: InferenceSizes): string;
export function buildDemo(o?: { out?: string; lib?: string; freshLib?: boolean }): Promise<InferenceSizes>;
