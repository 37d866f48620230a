// Bundles the library with esbuild: ESM and CJS for Node, ESM for browsers (node:* imports stay external
// and are reached only behind a Node check); then .d.ts files with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildDemo, formatSizes, inferenceSizes } from './build-demo.mjs';

// import.meta is empty in the CJS bundles; the code that reads it falls back to __filename there.
const common = { entryPoints: ['src/index.ts'], bundle: true, target: 'es2022', sourcemap: true, logLevel: 'warning', logOverride: { 'empty-import-meta': 'silent' } };
await build({ ...common, platform: 'node', format: 'esm', outfile: 'dist/esm/index.js', external: ['@tensorflow/*'] });
await build({ ...common, platform: 'node', format: 'cjs', outfile: 'dist/cjs/index.cjs', external: ['@tensorflow/*'] });
await build({ ...common, platform: 'browser', format: 'esm', outfile: 'dist/browser/rede.js', minify: true, external: ['node:*', '@tensorflow/*'] });
// The `rede` command (package.json bin), beside the worker bundle it starts for --workers.
await build({ ...common, entryPoints: ['src/cli/main.ts'], platform: 'node', format: 'esm', outfile: 'dist/esm/cli.js', external: ['@tensorflow/*', 'mnist'] });
// The worker entry of data-parallel training, beside each bundle (src/parallel/group.ts looks for it there).
const worker = { ...common, entryPoints: ['src/parallel/worker.ts'] };
await build({ ...worker, platform: 'node', format: 'esm', outfile: 'dist/esm/rede-worker.js' });
await build({ ...worker, platform: 'node', format: 'cjs', outfile: 'dist/cjs/rede-worker.cjs' });
await build({ ...worker, platform: 'browser', format: 'esm', outfile: 'dist/browser/rede-worker.js', minify: true, external: ['node:*'] });
// The helper thread of the inference path's 2-thread predict (src/infer/model.ts looks for it there). ESM only
// (it awaits at top level); the CJS bundle starts this one, which worker_threads loads as a module either way.
const inferWorker = { ...common, entryPoints: ['src/infer/worker.ts'] };
await build({ ...inferWorker, platform: 'node', format: 'esm', outfile: 'dist/esm/rede-infer-worker.js' });
console.log(`browser bundle dist/browser/rede.js: ${formatSizes(await inferenceSizes('dist/browser'))}`);
// The live training page (demo/) beside the bundles it uses: dist/demo (npm run demo serves it).
await buildDemo();
mkdirSync('dist/types', { recursive: true });
writeFileSync('dist/tsconfig.types.json', JSON.stringify({
  extends: '../tsconfig.json',
  compilerOptions: { noEmit: false, emitDeclarationOnly: true, declaration: true, stripInternal: true, outDir: 'types', rootDir: '../src' },
  include: ['../src'],
  exclude: ['../src/cli'], // the command line is a program, not part of the library's types
}));
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'dist/tsconfig.types.json'], { stdio: 'inherit' });
