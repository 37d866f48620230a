// GEMM micro-kernel tiles against the same-process peak: each MR×NR kernel of scripts/gen-gemm-kernels.mjs on
// L1-resident packed panels (kc = 256 unless --kc=N), called from a wasm loop (no JS call per tile), beside the
// register-only peak loop of assembly/peak.ts, all runners' samples interleaved, by this process's CPU time;
// medians of 11 samples. It answers "how far is the micro-kernel itself from the core's ceiling", which
// bench/kernels.ts's gemm rows mix with packing, blocking and edge tiles.
//   node --import tsx bench/gemm-tiles.ts [--tiles=5x8,4x8,6x8,2x16,3x12] [--kc=256]
// The kernels compile into build/gemm-tiles/ (plain and relaxed SIMD, the build's asc flags).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchHeader, headerText } from '../src/bench/header';
import { CLOCKS } from '../src/bench/clock';
import { enableRelaxedSimdInNode } from '../src/engine/wasm';
import { formatTable, median } from './lib';

const argv = process.argv.slice(2);
const tiles = (argv.find((a) => a.startsWith('--tiles='))?.slice(8) ?? '5x8,4x8,6x8,2x16,3x12').split(',').map((t) => t.split('x').map(Number) as [number, number]);
const kc = Number(argv.find((a) => a.startsWith('--kc='))?.slice(5) ?? 256);
const root = process.cwd(), dir = join(root, 'build', 'gemm-tiles');
mkdirSync(dir, { recursive: true });
execFileSync(process.execPath, ['scripts/gen-gemm-kernels.mjs'], {
  env: { ...process.env, GEMM_TILES: tiles.map((t) => t.join('x')).join(','), GEMM_KERNELS_OUT: join(dir, 'gemm_kernels.ts') }, stdio: ['ignore', 'ignore', 'inherit'],
});
// reps calls of one tile over the same panels: the wasm-side loop keeps JS→wasm call costs out of the figure.
// The kernels are exported so that Binaryen keeps each a function of its own, called, as assembly/gemm.ts's
// macro_kernel calls its tile (inlined into the loop, 5×8 relaxed measured 54 % instead of 77 %: V8 then
// hoisted the five splats and spilled).
writeFileSync(join(dir, 'entry.ts'), [
  `export * from '../../assembly/peak';`,
  `export * from './gemm_kernels';`,
  `import { ${tiles.map(([m, n]) => `gemm_${m}x${n}_kernel`).join(', ')} } from './gemm_kernels';`,
  ...tiles.map(([m, n]) => `export function loop_${m}x${n}(reps: i32, kc: i32, a: usize, b: usize, c: usize): void { for (let r = 0; r < reps; r++) gemm_${m}x${n}_kernel(kc, a, b, c, ${n * 4}, 0); }`),
  `export function heap_top(): usize { return __heap_base; }`,
].join('\n'));
writeFileSync(join(dir, 'asconfig.json'), '{}');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const flags = ['--config', join(dir, 'asconfig.json'), '-O3', '--runtime', 'stub', '--noAssert', '--importMemory', '--initialMemory', '1', '--maximumMemory', '65536', '--enable', 'simd', '--use', 'abort='];
const builds = [['simd', []], ['relaxed-simd', ['--enable', 'relaxed-simd']]] as const;
for (const [name, extra] of builds) execFileSync(process.execPath, [asc, join(dir, 'entry.ts'), ...flags, ...extra, '-o', join(dir, `${name}.wasm`)], { stdio: ['ignore', 2, 2] });
await enableRelaxedSimdInNode();

const header = await benchHeader();
console.log(headerText(header));
interface Runner { build: string; name: string; flops: number; fn: () => void; t: number[] }
const runners: Runner[] = [];
for (const [name] of builds) {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(readFileSync(join(dir, `${name}.wasm`)), { env: { memory } });
  const k = instance.exports as Record<string, (...a: number[]) => number>;
  const f32 = new Float32Array(memory.buffer);
  let top = (k.heap_top() + 63) & ~63;
  const alloc = (bytes: number, fill?: number): number => { const p = top; top = (top + bytes + 63) & ~63; if (fill !== undefined) f32.fill(fill, p >> 2, (p + bytes) >> 2); return p; };
  const chains = k.peak_chains(), iters = 100_000, acc = alloc(chains * 16, 1);
  runners.push({ build: name, name: 'peak', flops: iters * chains * 8, fn: () => k.peak_madd_f32(acc, iters, 0.5, 0.5), t: [] });
  for (const [m, n] of tiles) {
    const a = alloc(kc * m * 4, 0.5), b = alloc(kc * n * 4, 0.25), c = alloc(m * n * 4), reps = Math.ceil(100_000 / kc);
    runners.push({ build: name, name: `${m}x${n}`, flops: 2 * m * n * kc * reps, fn: () => k[`loop_${m}x${n}`](reps, kc, a, b, c), t: [] });
  }
}
const cpu = CLOCKS.cpu;
const repsOf = runners.map((r) => { const t0 = performance.now(); let calls = 0; while (calls < 3 || performance.now() - t0 < 300) { r.fn(); calls++; } return Math.max(1, Math.ceil(50 / ((performance.now() - t0) / calls))); });
for (let s = 0; s < 11; s++) runners.forEach((r, i) => { const t0 = cpu(); for (let q = 0; q < repsOf[i]; q++) r.fn(); r.t.push((cpu() - t0) / repsOf[i]); });
const gflops = (r: Runner): number => r.flops / median(r.t) / 1e6;
const peakOf = (build: string): number => gflops(runners.find((r) => r.build === build && r.name === 'peak')!);
console.log(`micro-kernel on L1-resident panels, kc = ${kc}, cpu clock, median of 11 interleaved samples; % of the build's peak loop in the same rounds`);
console.log(formatTable(['tile', ...builds.flatMap(([b]) => [`${b} GFLOP/s`, '% peak'])], ['peak', ...tiles.map((t) => t.join('x'))].map((name) => [name,
  ...builds.flatMap(([b]) => { const r = runners.find((x) => x.build === b && x.name === name)!, g = gflops(r); return [g.toFixed(1), `${((100 * g) / peakOf(b)).toFixed(0)}%`]; })])));
