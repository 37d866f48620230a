// rede/infer as built (scripts/build-infer.mjs into a temporary folder): its size budget (JS + the one wasm it
// fetches + its helper thread, gzipped ≤ 40 kB), that no training code is in it (esbuild's metafile), and
// that the bundle itself — run by a separate Node process, as ESM and as CJS — loads an f32 and an int8 .rede
// file, reads exactly one kernels file (of two), runs on 2 threads, and predicts what the library's own
// InferenceModel predicts (f32 within 1e-5, int8 the same bytes). Also: a layer it cannot run is refused by
// name, and a bad kernels folder is an error naming the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInfer, formatInferSizes } from '../../scripts/build-infer.mjs';
import { Model } from '../../src/api/model';
import { quantize } from '../../src/quant/quantize';
import { InferenceModel } from '../../src/infer/model';
import { load } from '../../src/infer/entry/index';
import { RedeError } from '../../src/engine/errors';
import type { ModelConfig } from '../../src/model/config';

const root = new URL('../../', import.meta.url).pathname;
let dir = '', built: Awaited<ReturnType<typeof buildInfer>>;
const N = 6;
let s = 7;
const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const x = Float32Array.from({ length: N * 8 * 8 * 1 }, rand);
// conv → BN → ReLU, a residual block, max pool, global pool, softmax dense: every int8 op kind but depthwise.
const config: ModelConfig = { input: [8, 8, 1], layers: [
  { type: 'conv2d', name: 'c1', filters: 8, kernel: 3, padding: 'same', useBias: false }, { type: 'batchnorm', name: 'b1' }, { type: 'relu', name: 'r1' },
  { type: 'conv2d', name: 'c2', filters: 8, kernel: 3, padding: 'same' }, { type: 'add', name: 'a', inputs: ['c2', 'r1'] }, { type: 'relu', name: 'r2' },
  { type: 'maxpool2d', name: 'p', pool: 2 }, { type: 'globalavgpool2d', name: 'g' }, { type: 'dense', name: 'fc', units: 5, activation: 'softmax' }] };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rede-infer-'));
  built = await buildInfer({ out: join(dir, 'infer') });
  console.log(`# ${formatInferSizes(built)}`);
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('the entry JS + the largest wasm it may fetch + its helper thread are within 40 kB gzipped', () => {
  assert.ok(built.total <= 40_000, formatInferSizes(built));
  assert.equal(built.budget, 40_000);
  for (const v of Object.values(built.wasm)) assert.ok(v.raw < 40_000, `an inference kernels build is ${v.raw} bytes raw`);
});

test('no training code, optimizer, zoo, data loader, command line, reference kernel or inlined wasm is in the bundle', () => {
  const banned = /^src\/(train|optim|zoo|cli|api|parallel\/(?!worker-api)|experiments|bridge|viz|interop|bench)|^src\/data\/(?!input|rng)|^src\/ref\/(?!qmath)|generated\/wasm-bytes\.ts$|src\/layers\/(rnn|embedding|conv2d-transpose|time-distributed|upsampling)\.ts$|^node_modules/;
  assert.deepEqual(built.inputs.filter((f) => banned.test(f)), []);
  assert.ok(built.inputs.includes('src/infer/model.ts') && built.inputs.includes('src/infer/entry/index.ts'));
  const js = readFileSync(join(built.out, 'index.js'), 'utf8');
  assert.ok(!/[A-Za-z0-9+/]{4000}/.test(js), 'a long base64 run (inlined wasm?) is in index.js');
});

/** The bundle, in its own process: loads each file on 1 and 2 threads, prints predictions and what it read. */
function runBundle(kind: 'mjs' | 'cjs', files: string[]): { results: { file: string; threads: number; variant: string; fetched: string[]; y: number[] }[] } {
  const entry = join(built.out, kind === 'mjs' ? 'index.js' : 'index.cjs');
  const head = kind === 'mjs' ? `import * as infer from ${JSON.stringify(entry)};` : `const infer = require(${JSON.stringify(entry)});`;
  const script = `${head}
const { readFile } = require_('node:fs/promises');
const x = Float32Array.from(${JSON.stringify(Array.from(x))});
(async () => {
  const results = [];
  for (const file of ${JSON.stringify(files)}) for (const workers of [1, 2]) {
    const fetched = [];
    const wasm = async (f) => { fetched.push(f); return readFile(${JSON.stringify(built.out)} + '/' + f); };
    const m = await infer.load(file, { workers, wasm });
    results.push({ file, threads: m.threads, variant: m.e.variant, fetched, y: Array.from(m.predict(x)) });
    await m.close();
  }
  // The default location: beside the bundle.
  const d = await infer.load(${JSON.stringify(files[0])});
  results.push({ file: 'default', threads: d.threads, variant: d.e.variant, fetched: [], y: Array.from(d.predict(x)) });
  console.log(JSON.stringify({ results }));
})().catch((e) => { console.error(e); process.exit(1); });`;
  const path = join(dir, `run.${kind}`);
  writeFileSync(path, kind === 'mjs' ? `import { createRequire } from 'node:module'; const require_ = createRequire(import.meta.url);\n${script}` : `const require_ = require;\n${script}`);
  const r = spawnSync(process.execPath, [path], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout);
}

test('the bundle (ESM and CJS) loads f32 and int8 files, reads one kernels file, threads, and predicts as the library', async () => {
  const m = await Model.create(config, { seed: 3 });
  const f32File = join(dir, 'm.rede'), int8File = join(dir, 'm.int8.rede');
  writeFileSync(f32File, m.toBytes());
  const qm = quantize(m, x);
  writeFileSync(int8File, qm.toBytes());
  const want = { [f32File]: (await InferenceModel.from(m)).predict(x), [int8File]: (await qm.compile()).predict(x) };
  for (const kind of ['mjs', 'cjs'] as const) {
    const { results } = runBundle(kind, [f32File, int8File]);
    for (const r of results) {
      const file = r.file === 'default' ? f32File : r.file, y = want[file];
      const what = `${kind} ${r.file} on ${r.threads} thread(s)`;
      if (r.file !== 'default') {
        assert.equal(r.fetched.length, 1, `${what} read ${r.fetched.join(', ')}`);
        assert.equal(r.fetched[0], `rede-infer-${r.variant}.wasm`); // the shared build (threads) is made from the same file
      }
      assert.equal(y.length, r.y.length);
      if (file === int8File) assert.deepEqual(r.y, Array.from(y), what);
      else assert.ok(r.y.every((v, i) => Math.abs(v - y[i]) <= 1e-5 * (1 + Math.abs(y[i]))), what);
    }
    assert.deepEqual(results.map((r) => r.threads), [1, 2, 1, 2, 1]);
  }
});

test('rede/infer refuses a layer its kernels do not have, by name, and a missing kernels file, by path', async () => {
  const lstm = await Model.create({ input: [4, 3], layers: [{ type: 'lstm', name: 'rec', units: 2 }, { type: 'dense', units: 2 }] }, { seed: 1 });
  await assert.rejects(load(lstm.toBytes()), (e: Error) => e instanceof RedeError && /model bytes: layer 'rec' is a lstm, which rede\/infer does not run/.test(e.message));
  const m = await Model.create(config, { seed: 3 });
  await assert.rejects(load(m.toBytes(), { wasm: join(dir, 'nowhere') }), (e: Error) => e instanceof RedeError && /cannot read the kernels .*nowhere\/rede-infer-(relaxed-)?simd\.wasm/.test(e.message));
  await assert.rejects(load(m.toBytes(), { wasm: async () => new Uint8Array(8) }), (e: Error) => e instanceof RedeError && /is not a kernels module this runtime compiles/.test(e.message));
  await assert.rejects(load(m.toBytes(), { wrokers: 2 } as never), (e: Error) => e instanceof RedeError && /unknown option 'wrokers' \(did you mean 'workers'\?\)/.test(e.message));
  assert.ok(root);
});
