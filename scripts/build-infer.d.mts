// Types of scripts/build-infer.mjs (imported by test/package/infer.test.ts and test/browser/infer.test.ts).
export interface FileSize { raw: number; gzip: number }
export interface InferSizes {
  out: string;
  /** dist/infer/index.js (the ESM entry). */
  js: FileSize;
  /** dist/infer/rede-infer-worker.js (the helper thread, fetched with workers > 1). */
  worker: FileSize;
  /** Each of the four kernel builds, of which a runtime fetches one. */
  wasm: Record<string, FileSize>;
  /** js + the largest wasm + worker, gzipped (level 9): the budgeted figure. */
  total: number;
  budget: number;
  /** The sources in index.js (esbuild's metafile), relative to the repository. */
  inputs: string[];
  analysis: string | null;
}
export const INFER_BUDGET_BYTES: number;
export const INFER_VARIANTS: string[];
export function buildInfer(o?: { out?: string; meta?: boolean }): Promise<InferSizes>;
export function formatInferSizes(s: InferSizes): string;
