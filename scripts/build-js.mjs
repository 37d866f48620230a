// Bundles the library with esbuild: ESM and CJS for Node, ESM for browsers (node:* imports stay external
// and are reached only behind a Node check); then the .d.ts files with tsc, made resolvable by
// scripts/fix-dts.mjs (ESM .d.ts and CJS .d.cts twins).
//
// dist/esm is one build with code splitting: the library, the `rede` command and the two worker entries share
// their chunks instead of each carrying the whole library (and its 4 inlined wasm variants) again — 4 copies
// would be 387 KiB gzipped, shared chunks 175 KiB. Chunks sit at dist/esm's top level, beside the worker
// entries that src/parallel/group.ts and src/infer/model.ts locate from import.meta.url.
// The Node bundles are minified like the browser one and carry no source maps (maps with their sources would
// add ~3.5 MB): with the model-interchange code and the kernels' growth the package passed its 1 MB budget
// unminified (1.09 MB). Errors stay readable: they are RedeErrors that say where and what.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDemo, formatSizes, inferenceSizes } from './build-demo.mjs';
import { buildInfer, formatInferSizes } from './build-infer.mjs';
import { fixDeclarations } from './fix-dts.mjs';

// Stale chunks and declarations of deleted sources must never reach a package.
for (const d of ['dist/esm', 'dist/cjs', 'dist/wasm', 'dist/browser', 'dist/infer', 'dist/types']) rmSync(d, { recursive: true, force: true });

// import.meta is empty in the CJS bundles; the code that reads it falls back to __filename there.
const common = { bundle: true, target: 'es2022', sourcemap: false, minify: true, logLevel: 'warning', logOverride: { 'empty-import-meta': 'silent' }, external: ['@tensorflow/*', 'h5wasm', 'h5wasm/*'] };
// The Node bundles read the kernels from dist/wasm/ (src/engine/wasm-bytes-files.ts stands in for the inlined
// bytes): one copy for both instead of one inlined into each, which kept the package under its 1 MB budget.
const wasmFiles = {
  name: 'wasm-files',
  setup(b) { b.onResolve({ filter: /\/generated\/wasm-bytes$/ }, () => ({ path: join(process.cwd(), 'src/engine/wasm-bytes-files.ts') })); },
};
mkdirSync('dist/wasm', { recursive: true });
for (const v of ['simd', 'relaxed-simd']) copyFileSync(`build/wasm/rede-${v}.wasm`, `dist/wasm/rede-${v}.wasm`);
await build({
  ...common, platform: 'node', format: 'esm', outdir: 'dist/esm', splitting: true, plugins: [wasmFiles],
  entryPoints: {
    index: 'src/index.ts',
    cli: 'src/cli/main.ts', // the `rede` command (bin/rede.js runs it from the package)
    'rede-worker': 'src/parallel/worker.ts', // the worker entry of data-parallel training
    // The helper thread of the inference path's 2-thread predict. ESM only (it awaits at top level); the CJS
    // bundle starts this one too, which worker_threads loads as a module either way.
    'rede-infer-worker': 'src/infer/worker.ts',
  },
});
// A single-file worker bundle leaves the inlined kernels out: a worker is sent the compiled module, never bytes
// (src/engine/wasm-bytes-absent.ts stands in). dist/esm's worker shares its chunks, so it needs no such step.
const withoutWasmBytes = {
  name: 'without-wasm-bytes',
  setup(b) { b.onResolve({ filter: /\/generated\/wasm-bytes$/ }, () => ({ path: join(process.cwd(), 'src/engine/wasm-bytes-absent.ts') })); },
};
const cjs = { ...common, platform: 'node', format: 'cjs', outdir: 'dist/cjs', outExtension: { '.js': '.cjs' } };
await build({ ...cjs, entryPoints: { index: 'src/index.ts' }, plugins: [wasmFiles] });
await build({ ...cjs, entryPoints: { 'rede-worker': 'src/parallel/worker.ts' }, plugins: [withoutWasmBytes] });
// The browser build stays one file (plus its worker): a page or a bundler takes rede.js alone.
const browser = { ...common, platform: 'browser', format: 'esm', minify: true, external: ['node:*', '@tensorflow/*', 'h5wasm', 'h5wasm/*'] };
await build({ ...browser, entryPoints: ['src/index.ts'], outfile: 'dist/browser/rede.js' });
await build({ ...browser, entryPoints: ['src/parallel/worker.ts'], outfile: 'dist/browser/rede-worker.js', plugins: [withoutWasmBytes] });
console.log(`browser bundle dist/browser/rede.js: ${formatSizes(await inferenceSizes('dist/browser'))}`);
// rede/infer (src/infer/entry/): the inference-only bundle and the two kernel files it fetches one of.
const infer = await buildInfer();
console.log(formatInferSizes(infer));
if (infer.total > infer.budget) throw new Error(`rede/infer is ${infer.total} bytes gzipped, over its budget of ${infer.budget}: node scripts/build-infer.mjs --meta shows what each source adds`);
// The live training page (demo/) beside the bundles it uses: dist/demo (npm run demo serves it; not packed).
await buildDemo();
mkdirSync('dist/types', { recursive: true });
writeFileSync('dist/tsconfig.types.json', JSON.stringify({
  extends: '../tsconfig.json',
  compilerOptions: { noEmit: false, emitDeclarationOnly: true, declaration: true, stripInternal: true, outDir: 'types', rootDir: '../src' },
  include: ['../src'],
  exclude: ['../src/cli'], // the command line is a program, not part of the library's types
}));
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'dist/tsconfig.types.json'], { stdio: 'inherit' });
const n = fixDeclarations('dist/types');
console.log(`types: dist/types, ${n} declaration files as .d.ts (ESM) and .d.cts (CJS)`);
