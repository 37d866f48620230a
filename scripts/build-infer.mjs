// Builds rede/infer (src/infer/entry/): an ESM bundle for browsers and Node, its CJS twin, the helper thread
// entry, and the two inference kernel files beside them (build/wasm/rede-infer-{simd,relaxed-simd}.wasm, of
// which a runtime fetches one), in dist/infer/. Prints the budget figure: the entry's JS + the one wasm it fetches, gzipped.
//
// Left out of the bundle, each by a stand-in module (the pattern of src/engine/wasm-bytes-absent.ts):
//   src/engine/generated/wasm-bytes.ts  the inlined full kernels (rede/infer fetches its own file)
//   src/ref/index.ts                    the TypeScript reference kernels (rede/infer requires SIMD)
//   the layers assembly/infer.ts has no kernels for (src/infer/entry/absent-layers.ts; load.ts refuses them)
// And the Winograd conv path (src/infer/winograd.ts; its kernels are not in assembly/infer.ts): REDE_INFER_BUNDLE
// is defined true, so the minifier drops src/infer/model.ts's branches to it and the file with them.
// Run alone: node scripts/build-infer.mjs [--out DIR] [--meta] (--meta: what each source adds, minified).
import { build, analyzeMetafile } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The budget (issue 19): JS + the one fetched wasm, gzipped at level 9. test/package/infer-size.test.ts checks it. */
export const INFER_BUDGET_BYTES = 40_000;
/** The files; the shared builds are made from them at load (src/infer/entry/kernels.ts). */
export const INFER_VARIANTS = ['simd', 'relaxed-simd'];
/** As src/layers/index.ts imports them. */
const TRAINING_LAYERS = /^\.\/(rnn|bidirectional|select|embedding|conv2d-transpose|time-distributed|upsampling)$/;

const leaveOut = {
  name: 'rede-infer-leave-out',
  setup(b) {
    b.onResolve({ filter: /\/generated\/wasm-bytes$/ }, () => ({ path: join(root, 'src/engine/wasm-bytes-absent.ts') }));
    b.onResolve({ filter: /\/ref\/index$/ }, () => ({ path: join(root, 'src/infer/entry/absent-ref.ts') }));
    b.onResolve({ filter: TRAINING_LAYERS }, (a) => (a.importer.endsWith(join('src', 'layers', 'index.ts')) ? { path: join(root, 'src/infer/entry/absent-layers.ts') } : undefined));
  },
};

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** Builds dist/infer (or `out`); returns the sizes, the sources in index.js and, with meta, esbuild's per-input analysis. */
export async function buildInfer({ out = join(root, 'dist/infer'), meta = false } = {}) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // import.meta is empty in the CJS bundle; kernels.ts and model.ts fall back to __dirname / __filename there.
  const common = { bundle: true, minify: true, target: 'es2022', sourcemap: false, logLevel: 'warning', logOverride: { 'empty-import-meta': 'silent' },
    absWorkingDir: root, plugins: [leaveOut], define: { 'globalThis.REDE_INFER_BUNDLE': 'true' }, external: ['node:*'], metafile: true, legalComments: 'none' };
  const esm = await build({ ...common, platform: 'browser', format: 'esm', entryPoints: ['src/infer/entry/index.ts'], outfile: join(out, 'index.js') });
  await build({ ...common, platform: 'node', format: 'cjs', entryPoints: ['src/infer/entry/index.ts'], outfile: join(out, 'index.cjs') });
  await build({ ...common, platform: 'browser', format: 'esm', entryPoints: ['src/infer/worker.ts'], outfile: join(out, 'rede-infer-worker.js') });
  for (const v of INFER_VARIANTS) copyFileSync(join(root, `build/wasm/rede-infer-${v}.wasm`), join(out, `rede-infer-${v}.wasm`));
  const size = (f) => { const b = readFileSync(join(out, f)); return { raw: b.length, gzip: gz(b) }; };
  const js = size('index.js'), worker = size('rede-infer-worker.js');
  const wasm = Object.fromEntries(INFER_VARIANTS.map((v) => [v, size(`rede-infer-${v}.wasm`)]));
  const largestWasm = Math.max(...Object.values(wasm).map((w) => w.gzip));
  // The budget counts the entry, the largest of the builds it may fetch, and the helper thread's entry (fetched
  // only with workers > 1), so it holds in every case.
  const total = js.gzip + largestWasm + worker.gzip;
  return { out, js, worker, wasm, total, budget: INFER_BUDGET_BYTES, inputs: Object.keys(esm.metafile.inputs), analysis: meta ? await analyzeMetafile(esm.metafile) : null };
}

export function formatInferSizes(s) {
  const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
  const w = Object.values(s.wasm);
  return `rede/infer: index.js ${kb(s.js.gzip)} + one wasm ≤ ${kb(Math.max(...w.map((x) => x.gzip)))} (${kb(Math.max(...w.map((x) => x.raw)))} raw) ` +
    `+ helper thread ${kb(s.worker.gzip)} = ${kb(s.total)} gzipped (level 9), budget ${kb(s.budget)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const s = await buildInfer({ out: i > 0 ? process.argv[i + 1] : undefined, meta: process.argv.includes('--meta') });
  if (s.analysis) console.log(s.analysis);
  console.log(formatInferSizes(s));
  if (s.total > s.budget) { console.error(`rede/infer is over its budget by ${s.total - s.budget} bytes`); process.exit(1); }
}
