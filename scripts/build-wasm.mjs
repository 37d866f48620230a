// Builds the kernels (assembly/index.ts) in four variants — {plain SIMD, relaxed SIMD} × {non-shared, shared
// memory} — and generates the TypeScript that the engine imports:
//   src/engine/generated/abi.ts        constants and descriptor layouts shared with assembly/abi.ts, both from
//                                      scripts/abi.mjs (scripts/gen-abi.mjs)
//   src/engine/generated/kernels.ts    the Kernels interface, read off asc's .d.ts (never written by hand)
//   src/engine/generated/wasm-bytes.ts the binaries, base64, so one bundle works in Node and browsers (a shared
//                                      build as its twin plus the one byte that differs)
// and the inference kernels (assembly/infer.ts: forward and int8 kernels only), compiled in the same four
// variants, of which the two non-shared ones are kept as build/wasm/rede-infer-<variant>.wasm: files that
// rede/infer fetches one of (src/infer/entry/kernels.ts), never inlined, and src/engine/generated/infer-wasm.ts
// the offset of the one byte that makes each the shared build.
// Skips the compile when nothing it reads has changed since the last build (see upToDate below); --force
// compiles anyway.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, statSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'wasm');
const gen = join(root, 'src', 'engine', 'generated');
mkdirSync(out, { recursive: true });
mkdirSync(gen, { recursive: true });

// 65536 pages = 4 GiB: the import's ceiling; the engine picks the real maximum when it creates the memory.
const common = ['assembly/index.ts', '-O3', '--runtime', 'stub', '--noAssert', '--importMemory',
  '--initialMemory', '1', '--maximumMemory', '65536', '--enable', 'simd', '--use', 'abort='];
const variants = [
  { name: 'simd', flags: [] },
  { name: 'relaxed-simd', flags: ['--enable', 'relaxed-simd'] },
  { name: 'simd-shared', flags: ['--sharedMemory', '--enable', 'threads'] },
  { name: 'relaxed-simd-shared', flags: ['--enable', 'relaxed-simd', '--sharedMemory', '--enable', 'threads'] },
];
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
// Progress goes to stderr: benchmarks that build first keep stdout for their JSON lines.
console.log = (...a) => console.error(...a);

// The ABI and the micro-kernels are generated; regenerating on every build means the committed files
// (assembly/abi.ts, assembly/gemm_kernels.ts) can never drift from their sources.
for (const gen of ['gen-abi.mjs', 'gen-gemm-kernels.mjs']) {
  execFileSync(process.execPath, [join(root, 'scripts', gen)], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

// A content hash of everything the outputs depend on: assembly/ (minus its as-pect specs, which asc never
// reads here), this script and the generator (flags, variants), asc's version, and GEMM_TILES. Content, not
// mtimes: the generator rewrites gemm_kernels.ts on every run, and a checkout sets mtimes to checkout time.
const stampFile = join(gen, 'inputs.sha256');
const outputs = [
  ...variants.map((v) => join(out, `rede-${v.name}.wasm`)), join(out, 'rede-infer-simd.wasm'), join(out, 'rede-infer-relaxed-simd.wasm'), join(gen, 'infer-wasm.ts'), join(out, 'rede-simd.d.ts'), join(out, 'rede-simd.wat'),
  join(gen, 'kernels.ts'), join(gen, 'wasm-bytes.ts'),
];
function inputsHash() {
  const h = createHash('sha256');
  const add = (name, bytes) => h.update(`${name}\0${bytes.length}\0`).update(bytes);
  const walk = (dir) => readdirSync(join(root, dir), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .forEach((e) => {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) { if (rel !== 'assembly/__tests__') walk(rel); } else add(rel, readFileSync(join(root, rel)));
    });
  walk('assembly');
  for (const f of ['scripts/build-wasm.mjs', 'scripts/gen-gemm-kernels.mjs', 'node_modules/assemblyscript/package.json']) add(f, readFileSync(join(root, f)));
  add('GEMM_TILES', Buffer.from(process.env.GEMM_TILES ?? ''));
  return h.digest('hex');
}
const hash = inputsHash();
const upToDate = !process.argv.includes('--force') && outputs.every((f) => existsSync(f)) &&
  existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash;
if (upToDate) {
  console.log(`wasm: up to date (inputs ${hash.slice(0, 12)}; --force rebuilds)`);
  process.exit(0);
}

// `export *` silently lets one family's export shadow another's of the same name: refuse that here.
const owners = new Map();
for (const f of readdirSync(join(root, 'assembly')).filter((f) => f.endsWith('.ts'))) {
  for (const [, name] of readFileSync(join(root, 'assembly', f), 'utf8').matchAll(/^export function (\w+)/gm)) {
    if (owners.has(name)) throw new Error(`build-wasm: '${name}' is exported by both assembly/${owners.get(name)} and assembly/${f}; rename one`);
    owners.set(name, f);
  }
}

// Compile into a private folder, then rename into place: concurrent builds never see half-written files.
const tmp = mkdtempSync(join(out, '.tmp-'));
const bytes = {}, inferShared = {};
try {
  for (const v of variants) {
    const file = join(tmp, `rede-${v.name}.wasm`);
    const extra = v.name === 'simd' ? ['--bindings', 'raw', '--textFile', join(tmp, 'rede-simd.wat')] : [];
    execFileSync(process.execPath, [asc, ...common, ...v.flags, ...extra, '-o', file], { cwd: root, stdio: ['ignore', 2, 2] });
    bytes[v.name] = readFileSync(file).toString('base64');
    console.log(`wasm ${v.name}: ${statSync(file).size} bytes`);
  }
  // asc merges ./asconfig.json (whose entry is assembly/index.ts) into every run in this folder: an empty
  // config keeps the inference module to its own entry.
  const none = join(tmp, 'asconfig.none.json');
  writeFileSync(none, '{}');
  const inferBytes = {};
  for (const v of variants) {
    const file = join(tmp, `rede-infer-${v.name}.wasm`);
    execFileSync(process.execPath, [asc, 'assembly/infer.ts', '--config', none, ...common.slice(1), ...v.flags, '-o', file], { cwd: root, stdio: ['ignore', 2, 2] });
    inferBytes[v.name] = readFileSync(file);
    console.log(`wasm infer ${v.name}: ${inferBytes[v.name].length} bytes, ${gzipSync(inferBytes[v.name], { level: 9 }).length} gzipped`);
  }
  // Only the non-shared inference builds are files: rede/infer makes the shared one by setting the memory
  // limits flag (the one byte they differ in, checked here) after fetching, so a package carries two, not four.
  for (const v of ['simd', 'relaxed-simd']) {
    const a = inferBytes[v], b = inferBytes[`${v}-shared`], diff = [];
    for (let i = 0; i < Math.max(a.length, b.length) && diff.length < 2; i++) if (a[i] !== b[i]) diff.push(i);
    if (!(a.length === b.length && diff.length === 1 && a[diff[0]] === 0x01 && b[diff[0]] === 0x03)) {
      throw new Error(`build-wasm: the shared inference build (${v}) differs from the non-shared one in more than the memory limits flag`);
    }
    inferShared[v] = diff[0];
  }
  for (const f of ['rede-simd.wasm', 'rede-relaxed-simd.wasm', 'rede-simd-shared.wasm', 'rede-relaxed-simd-shared.wasm', 'rede-simd.d.ts', 'rede-simd.wat',
    'rede-infer-simd.wasm', 'rede-infer-relaxed-simd.wasm']) {
    renameSync(join(tmp, f), join(out, f));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const writeAtomic = (file, text) => { writeFileSync(`${file}.${process.pid}.tmp`, text); renameSync(`${file}.${process.pid}.tmp`, file); };

// asc's raw bindings declare each export as `export function name(a: number, ...): number|void;`.
const dts = readFileSync(join(out, 'rede-simd.d.ts'), 'utf8');
const fns = [...dts.matchAll(/export function (\w+)\(([^)]*)\): (\w+);/g)].map(([, name, params, ret]) =>
  `  ${name}(${params}): ${ret};`);
if (fns.length === 0) throw new Error('build-wasm: no exports found in rede-simd.d.ts');
// ...and its exported values as `export const name: Type;` (the memory it runs on).
const values = [...dts.matchAll(/export const (\w+): ([\w.]+);/g)].map(([, name, type]) => `  readonly ${name}: ${type};`);
writeAtomic(join(gen, 'kernels.ts'),
  `// Generated by scripts/build-wasm.mjs from asc's declarations. Do not edit.\n` +
  `/** Every export of the kernels module: pointers are byte addresses in the engine's memory. */\n` +
  `export interface Kernels {\n${[...values, ...fns].join('\n')}\n}\n`);
// A shared build differs from its non-shared twin in one byte: the imported memory's limits flag, 0x01 (has a
// maximum) → 0x03 (has a maximum, shared). Inline the twin and that byte's offset instead of a second binary:
// it halves the wasm in every bundle. If asc ever emits more differences, the whole shared binary is inlined.
const inlined = {}, shared = {};
for (const v of ['simd', 'relaxed-simd']) {
  const a = Buffer.from(bytes[v], 'base64'), b = Buffer.from(bytes[`${v}-shared`], 'base64');
  const diff = [];
  for (let i = 0; i < Math.max(a.length, b.length) && diff.length < 2; i++) if (a[i] !== b[i]) diff.push(i);
  inlined[v] = bytes[v];
  shared[v] = a.length === b.length && diff.length === 1 && a[diff[0]] === 0x01 && b[diff[0]] === 0x03 ? diff[0] : bytes[`${v}-shared`];
  console.log(`wasm ${v}-shared: ${typeof shared[v] === 'number' ? `the ${v} binary with its memory limits flag at byte ${shared[v]} set to shared` : 'inlined whole (differs in more than the limits flag)'}`);
}
writeAtomic(join(gen, 'wasm-bytes.ts'),
  `// Generated by scripts/build-wasm.mjs. Do not edit.\n` +
  `export const WASM_BASE64: Record<'simd' | 'relaxed-simd', string> = ${JSON.stringify(inlined, null, 2)};\n` +
  `/** The shared-memory build of each variant: the offset of the one byte (the memory limits flag, 0x01 → 0x03) in\n` +
  ` * which it differs from the non-shared binary, or its own base64 when it differs in more. */\n` +
  `export const WASM_SHARED: Record<'simd' | 'relaxed-simd', number | string> = ${JSON.stringify(shared, null, 2)};\n`);
writeAtomic(join(gen, 'infer-wasm.ts'),
  `// Generated by scripts/build-wasm.mjs. Do not edit.\n` +
  `/** Per inference build (build/wasm/rede-infer-<variant>.wasm): the offset of its memory limits flag, 0x01 → 0x03 in the shared build. */\n` +
  `export const INFER_SHARED_FLAG: Record<'simd' | 'relaxed-simd', number> = ${JSON.stringify(inferShared)};\n`);
// Last: a build that stops early leaves the old stamp, so the next run compiles again.
writeAtomic(stampFile, `${hash}\n`);
console.log(`generated ${fns.length} kernel signatures`);
