// Kernel benchmark: GEMM (square) and convolution (forward, backward-data, backward-filter) in GFLOP/s,
// rede's plain-SIMD and relaxed-SIMD builds against @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; one
// thread in Node), same shapes, same run, one thread each. Medians of several samples after warm-up, the
// runners' samples interleaved.
//   npm run bench:kernels                 table with the ratio rede / tfjs-wasm per row
//   npm run bench:kernels -- --json       one JSON object per line (bench/lib.ts)
//   ... -- --filter=gemm_512 --quick      a subset, shorter runs
// FLOPs: GEMM 2·m·n·k; conv 2·n·oh·ow·cout·kh·kw·cin/groups for each of the three passes.
import type * as TF from '@tensorflow/tfjs';
import { Engine } from '../src/engine/engine';
import type { Tensor } from '../src/engine/tensor';
import { gemm } from '../src/ops/gemm';
import { convGeom, conv2dForward, conv2dBackwardData, conv2dBackwardFilter, xShape, yShape, wShape, type ConvGeom } from '../src/ops/conv';
import { parseBenchArgs, timeCallsInterleaved, loadTfjsWasm, printJsonRow, formatTable, fmt, type BenchRow, type TimeOptions } from './lib';
import { Rng } from '../test/helpers/rand';

const PEER = '@tensorflow/tfjs-backend-wasm';
const VARIANTS = ['simd', 'relaxed-simd'] as const;
type Variant = (typeof VARIANTS)[number];

interface ConvCase { name: string; n: number; h: number; w: number; cin: number; cout: number; k: number }
const GEMM_SIZES = [128, 256, 512, 1024];
const CONVS: ConvCase[] = [
  { name: 'conv5x5_28x28x1_32_b32', n: 32, h: 28, w: 28, cin: 1, cout: 32, k: 5 },
  { name: 'conv3x3_56x56x64_64_b8', n: 8, h: 56, w: 56, cin: 64, cout: 64, k: 3 },
];
const PASSES = ['fwd', 'bwd_data', 'bwd_filter'] as const;

/** One benchmark case: its FLOPs and, per runner, a prepared call (or null: not available). */
interface Case { name: string; flops: number }


function geom(c: ConvCase): ConvGeom {
  return convGeom({ n: c.n, h: c.h, w: c.w, cin: c.cin, cout: c.cout, kh: c.k, kw: c.k, padding: 'same' });
}

const convFlops = (g: ConvGeom): number => 2 * g.n * g.oh * g.ow * g.cout * g.kh * g.kw * g.cin / g.groups;
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** rede: prepared calls per case name, on one engine (the given variant). */
function redeCalls(e: Engine, rng: Rng): Map<string, () => void> {
  const calls = new Map<string, () => void>();
  const fill = (shape: number[]): Tensor => e.tensor(shape, rng.array(numel(shape)));
  for (const s of GEMM_SIZES) {
    const a = fill([s, s]), b = fill([s, s]), c = e.tensor([s, s]);
    calls.set(`gemm_${s}`, () => gemm(e, a, b, c));
  }
  for (const cc of CONVS) {
    const g = geom(cc);
    const x = fill(xShape(g)), w = fill(wShape(g)), y = e.tensor(yShape(g));
    const dy = fill(yShape(g)), dx = e.tensor(xShape(g)), dw = e.tensor(wShape(g));
    calls.set(`${cc.name}_fwd`, () => conv2dForward(e, g, x, w, null, y));
    calls.set(`${cc.name}_bwd_data`, () => conv2dBackwardData(e, g, dy, w, dx));
    calls.set(`${cc.name}_bwd_filter`, () => conv2dBackwardFilter(e, g, x, dy, dw));
  }
  return calls;
}

/** tfjs-wasm: prepared calls per case name; backward-filter has no kernel in tfjs-backend-wasm. */
function tfjsCalls(tf: typeof TF, rng: Rng): Map<string, (() => void) | string> {
  const calls = new Map<string, (() => void) | string>();
  const fill = (shape: number[]) => tf.tensor(rng.array(numel(shape)), shape);
  for (const s of GEMM_SIZES) {
    const a = fill([s, s]), b = fill([s, s]);
    calls.set(`gemm_${s}`, () => tf.matMul(a, b).dispose());
  }
  for (const cc of CONVS) {
    const g = geom(cc);
    const x = fill(xShape(g)) as TF.Tensor4D, w = fill(wShape(g)) as TF.Tensor4D, dy = fill(yShape(g)) as TF.Tensor4D;
    const xs = xShape(g) as [number, number, number, number];
    calls.set(`${cc.name}_fwd`, () => tf.conv2d(x, w, 1, 'same').dispose());
    // conv2dTranspose(dy, w, xShape) is Conv2DBackpropInput: the data gradient of conv2d(x, w).
    calls.set(`${cc.name}_bwd_data`, () => tf.conv2dTranspose(dy, w, xs, 1, 'same').dispose());
    calls.set(`${cc.name}_bwd_filter`, 'not available: tfjs-backend-wasm has no Conv2DBackpropFilter kernel');
  }
  return calls;
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const timing: TimeOptions = args.quick ? { warmupMs: 150, samples: 3, minSampleMs: 60 } : { warmupMs: 500, samples: 11, minSampleMs: 200 };
  const cases: Case[] = [
    ...GEMM_SIZES.map((s) => ({ name: `gemm_${s}`, flops: 2 * s ** 3 })),
    ...CONVS.flatMap((cc) => PASSES.map((p) => ({ name: `${cc.name}_${p}`, flops: convFlops(geom(cc)) }))),
  ].filter((c) => c.name.includes(args.filter));
  const rows: BenchRow[] = [];
  const row = (c: Case, peer: string, variant: string, value: number | null, note?: string): void => {
    const r: BenchRow = { bench: 'kernels', case: c.name, peer, variant, threads: 1, metric: 'gflops', value, unit: 'GFLOP/s', ...(note ? { note } : {}) };
    rows.push(r);
    if (args.json) printJsonRow(r);
  };
  const gflops = (c: Case, seconds: number): number => Math.round(c.flops / seconds / 1e7) / 100;

  const engines = new Map<Variant, Map<string, () => void>>();
  for (const v of VARIANTS) engines.set(v, redeCalls(await Engine.create({ variant: v }), new Rng(1)));
  const tf = await loadTfjsWasm();
  const peer = tfjsCalls(tf, new Rng(1));

  for (const c of cases) {
    // The three runners' samples alternate (bench/lib.ts), so a busy machine slows them alike.
    const p = peer.get(c.name)!;
    const runners: [string, string, () => void][] = VARIANTS.map((v) => ['rede', v, engines.get(v)!.get(c.name)!]);
    if (typeof p !== 'string') runners.push([PEER, 'simd', p]);
    const seconds = timeCallsInterleaved(runners.map((r) => r[2]), timing);
    runners.forEach(([peerName, variant], i) => row(c, peerName, variant, gflops(c, seconds[i])));
    if (typeof p === 'string') row(c, PEER, 'simd', null, p);
    if (!args.json) process.stderr.write(`  ${c.name} done\n`);
  }
  if (args.json) return;

  const get = (name: string, peerName: string, variant: string) =>
    rows.find((r) => r.case === name && r.peer === peerName && r.variant === variant)?.value ?? null;
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? 'n/a' : `${(a / b).toFixed(2)}x`);
  const table = cases.map((c) => {
    const s = get(c.name, 'rede', 'simd'), r = get(c.name, 'rede', 'relaxed-simd'), t = get(c.name, PEER, 'simd');
    return [c.name, fmt(s), fmt(r), fmt(t), ratio(s, t), ratio(r, t)];
  });
  console.log(`GFLOP/s, one thread, median of ${timing.samples} samples after ${timing.warmupMs} ms warm-up (tfjs-wasm ${tf.version.tfjs}, SIMD, XNNPACK)`);
  console.log(formatTable(['case', 'rede simd', 'rede relaxed', 'tfjs-wasm', 'simd/tfjs', 'relaxed/tfjs'], table));
  const notes = [...new Set(rows.filter((r) => r.note).map((r) => r.note))];
  for (const n of notes) console.log(`n/a: ${n}`);
}

await main();
