// Throughput of the int8 and f32 inner-loop instructions under this runtime: compiles LOOPS_AS below (relaxed
// SIMD build, in a temporary folder) and times each loop, interleaved, medians of 5. Why rede's int8 GEMM uses dot_i16x8_s
// rather than the relaxed int8 dot product: docs/int8.md.
//   node --import tsx bench/int8-dot.ts [--json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { median, printJsonRow, parseBenchArgs } from './lib';

/** Register-only multiply-add loops, AssemblyScript: 4×8 tiles of int16-pair dots (dot_i16x8_s + add, 64 MACs a
 *  step), relaxed int8 dots (relaxed_dot_i8x16_i7x16_add_s, 128 MACs a step) and f32 FMA (relaxed_madd, 32 MACs),
 *  operands from one cache line, so only the instructions are measured. */
const LOOPS_AS = 'export function dot16(n: i32, p: usize): i32 {\n  let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0), c4 = i32x4.splat(0), c5 = i32x4.splat(0), c6 = i32x4.splat(0), c7 = i32x4.splat(0);\n  for (let i = 0; i < n; i++) {\n    const b0 = v128.load(p), b1 = v128.load(p, 16);\n    const a0 = v128.load32_splat(p, 32), a1 = v128.load32_splat(p, 36), a2 = v128.load32_splat(p, 40), a3 = v128.load32_splat(p, 44);\n    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(a0, b0)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(a0, b1));\n    c2 = i32x4.add(c2, i32x4.dot_i16x8_s(a1, b0)); c3 = i32x4.add(c3, i32x4.dot_i16x8_s(a1, b1));\n    c4 = i32x4.add(c4, i32x4.dot_i16x8_s(a2, b0)); c5 = i32x4.add(c5, i32x4.dot_i16x8_s(a2, b1));\n    c6 = i32x4.add(c6, i32x4.dot_i16x8_s(a3, b0)); c7 = i32x4.add(c7, i32x4.dot_i16x8_s(a3, b1));\n  }\n  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));\n  return i32x4.extract_lane(s, 0);\n}\nexport function dot8(n: i32, p: usize): i32 {\n  let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0), c4 = i32x4.splat(0), c5 = i32x4.splat(0), c6 = i32x4.splat(0), c7 = i32x4.splat(0);\n  for (let i = 0; i < n; i++) {\n    const b0 = v128.load(p), b1 = v128.load(p, 16);\n    const a0 = v128.load32_splat(p, 32), a1 = v128.load32_splat(p, 36), a2 = v128.load32_splat(p, 40), a3 = v128.load32_splat(p, 44);\n    c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a0, b0, c0); c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a0, b1, c1);\n    c2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a1, b0, c2); c3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a1, b1, c3);\n    c4 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a2, b0, c4); c5 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a2, b1, c5);\n    c6 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a3, b0, c6); c7 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a3, b1, c7);\n  }\n  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));\n  return i32x4.extract_lane(s, 0);\n}\nexport function fma(n: i32, p: usize): f32 {\n  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);\n  for (let i = 0; i < n; i++) {\n    const b0 = v128.load(p), b1 = v128.load(p, 16);\n    const a0 = v128.load32_splat(p, 32), a1 = v128.load32_splat(p, 36), a2 = v128.load32_splat(p, 40), a3 = v128.load32_splat(p, 44);\n    c0 = f32x4.relaxed_madd(a0, b0, c0); c1 = f32x4.relaxed_madd(a0, b1, c1);\n    c2 = f32x4.relaxed_madd(a1, b0, c2); c3 = f32x4.relaxed_madd(a1, b1, c3);\n    c4 = f32x4.relaxed_madd(a2, b0, c4); c5 = f32x4.relaxed_madd(a2, b1, c5);\n    c6 = f32x4.relaxed_madd(a3, b0, c6); c7 = f32x4.relaxed_madd(a3, b1, c7);\n  }\n  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));\n  return f32x4.extract_lane(s, 0);\n}\n';

const args = parseBenchArgs();
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rede-int8-dot-'));
let bytes: Uint8Array<ArrayBuffer>;
try {
  writeFileSync(join(dir, 'loops.ts'), LOOPS_AS);
  // cwd: the temporary folder, so the repository's asconfig.json (imported memory) does not apply
  execFileSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), 'loops.ts', '-O3', '--runtime', 'stub',
    '--enable', 'simd', '--enable', 'relaxed-simd', '--initialMemory', '1', '-o', 'k.wasm'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  bytes = Uint8Array.from(readFileSync(join(dir, 'k.wasm')));
} finally { rmSync(dir, { recursive: true, force: true }); }
const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), { env: { abort() {} } });
const k = instance.exports as Record<string, (n: number, p: number) => number>;
const LOOPS = { dot16: 64, dot8: 128, fma: 32 } as const, N = 2e7;
const times = new Map<string, number[]>(Object.keys(LOOPS).map((f) => [f, []]));
for (const f of Object.keys(LOOPS)) k[f](N / 10, 64); // warm up (tier-up)
for (let s = 0; s < 5; s++) for (const f of Object.keys(LOOPS)) { const t0 = performance.now(); k[f](N, 64); times.get(f)!.push(performance.now() - t0); }
const name = { dot16: 'i32x4.dot_i16x8_s + add', dot8: 'i32x4.relaxed_dot_i8x16_i7x16_add_s', fma: 'f32x4.relaxed_madd' };
if (!args.json) console.log(`register-only loops; ${cpus().length} × ${cpus()[0]?.model}, Node ${process.versions.node}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; medians of 5`);
for (const [f, macs] of Object.entries(LOOPS)) {
  const g = N * macs / median(times.get(f)!) / 1e6;
  if (args.json) printJsonRow({ bench: 'int8-dot', case: f, peer: 'rede', variant: 'relaxed-simd', threads: 1, metric: 'gmac_per_s', value: g, unit: 'GMAC/s' });
  else console.log(`${name[f as keyof typeof name].padEnd(38)} ${g.toFixed(1)} GMAC/s`);
}
