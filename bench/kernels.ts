// Kernel benchmark: GEMM (square), convolution (forward, backward-data, backward-filter) and LRN in GFLOP/s,
// rede's plain-SIMD and relaxed-SIMD builds against @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD; one
// thread in Node), same shapes, same run, one thread each. Medians of several samples after warm-up, the
// runners' samples interleaved.
//   npm run bench:kernels                 table with the ratio rede / tfjs-wasm per row
//   npm run bench:kernels -- --json       one JSON object per line (bench/lib.ts), the header rows first
//   ... -- --filter=gemm_512 --quick      a subset, shorter runs
//   ... -- --baseline=DIR                 DIR/rede-simd.wasm and DIR/rede-relaxed-simd.wasm (a copy of another
//                                         commit's build/wasm, same kernel ABI) as two more runners in the same
//                                         rounds ("<build> baseline"): a before/after A/B in one process
//   ... -- --clock=wall                   time by the wall clock (default: this process's CPU time, src/bench/clock.ts)
// The header states the commit, the load average and each build's peak (src/bench/header.ts). "% peak" divides
// a build's GFLOP/s by its own peak (the register-only multiply-add loop of assembly/peak.ts: FMA for relaxed
// SIMD, mul + add for plain SIMD), which runs as one more runner per build in every case's interleaved rounds,
// so both see the same machine.
// FLOPs: GEMM 2·m·n·k; conv 2·n·oh·ow·cout·kh·kw·cin/groups for each of the three passes.
// Every conv here (groups 1) runs both rede paths, interleaved: variant "<build>/gemm" (im2col + GEMM) and
// "<build>/direct" (assembly/conv_small.ts for cin ≤ 4, else assembly/conv_direct.ts); "auto" picks one of them
// (assembly/conv.ts smallWins, directWins).
import type * as TF from '@tensorflow/tfjs';
import { Engine } from '../src/engine/engine';
import type { Tensor } from '../src/engine/tensor';
import { gemm } from '../src/ops/gemm';
import { convGeom, conv2dForward, conv2dBackwardData, conv2dBackwardFilter, xShape, yShape, wShape, type ConvGeom, type ConvPath, type ConvPadding } from '../src/ops/conv';
import { lrnForward, lrnBackward, type LrnOptions } from '../src/ops/norm';
import { parseBenchArgs, parseClock, timeCallsInterleaved, loadTfjsWasm, printJsonRow, formatTable, fmt, type BenchRow, type TimeOptions } from './lib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchHeader, headerText } from '../src/bench/header';
import { headerRows } from '../src/bench/rows';
import { peakIters, peakSampler } from '../src/bench/peak';
import { enableRelaxedSimdInNode } from '../src/engine/wasm';
import { Rng } from '../test/helpers/rand';

const PEER = '@tensorflow/tfjs-backend-wasm';
const VARIANTS = ['simd', 'relaxed-simd'] as const;
type Variant = (typeof VARIANTS)[number];

interface ConvCase { name: string; n: number; h: number; w: number; cin: number; cout: number; k: number; stride?: number; padding?: ConvPadding }
const GEMM_SIZES = [128, 256, 512, 1024];
const CONVS: ConvCase[] = [
  { name: 'conv5x5_28x28x1_32_b32', n: 32, h: 28, w: 28, cin: 1, cout: 32, k: 5 },
  // LeNet-5's c1 and ResNet-20's stem at training batch size; ResNet-18's and AlexNet's stems (strided)
  { name: 'conv5x5_28x28x1_6_b64', n: 64, h: 28, w: 28, cin: 1, cout: 6, k: 5 },
  { name: 'conv3x3_32x32x3_16_b64', n: 64, h: 32, w: 32, cin: 3, cout: 16, k: 3 },
  { name: 'conv7x7s2_224x224x3_64_b4', n: 4, h: 224, w: 224, cin: 3, cout: 64, k: 7, stride: 2 },
  { name: 'conv11x11s4_224x224x3_64_b4', n: 4, h: 224, w: 224, cin: 3, cout: 64, k: 11, stride: 4, padding: 2 },
  { name: 'conv3x3_56x56x64_64_b8', n: 8, h: 56, w: 56, cin: 64, cout: 64, k: 3 },
  // ResNet-20's stage-1 3×3 conv at training batch size (direct kernels of assembly/conv_direct.ts)
  { name: 'conv3x3_32x32x16_16_b64', n: 64, h: 32, w: 32, cin: 16, cout: 16, k: 3 },
];
/** The rede paths every case runs (all are groups 1, dilation 1, where a direct kernel applies). */
const CONV_PATHS: ConvPath[] = ['gemm', 'direct', 'auto'];
const PASSES = ['fwd', 'bwd_data', 'bwd_filter'] as const;
// AlexNet's LRNs (after conv1 and conv2, batch 1): TensorFlow's parameters with AlexNet's values, and a general
// beta (the vector exp/log path). FLOPs: (2·radius + 3) per element, as the layer counts them.
interface LrnCase { name: string; shape: number[]; o: Required<LrnOptions> }
const LRN_OPTS = { depthRadius: 2, bias: 2, alpha: 1e-4 };
const LRNS: LrnCase[] = [
  { name: 'lrn_55x55x96', shape: [1, 55, 55, 96], o: { ...LRN_OPTS, beta: 0.75 } },
  { name: 'lrn_27x27x256', shape: [1, 27, 27, 256], o: { ...LRN_OPTS, beta: 0.75 } },
  { name: 'lrn_27x27x256_beta0.6', shape: [1, 27, 27, 256], o: { ...LRN_OPTS, beta: 0.6 } },
];
const lrnFlops = (c: LrnCase): number => (2 * c.o.depthRadius + 3) * c.shape.reduce((a, b) => a * b, 1);

/** One benchmark case: its FLOPs and the rede conv paths it runs (absent: one path, no tag). */
interface Case { name: string; flops: number; paths?: ConvPath[] }


function geom(c: ConvCase, path: ConvPath = 'auto'): ConvGeom {
  return convGeom({ n: c.n, h: c.h, w: c.w, cin: c.cin, cout: c.cout, kh: c.k, kw: c.k, stride: c.stride ?? 1, padding: c.padding ?? 'same', path });
}

const convFlops = (g: ConvGeom): number => 2 * g.n * g.oh * g.ow * g.cout * g.kh * g.kw * g.cin / g.groups;
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** rede: prepared calls per case name (and, for small-channel convs, per "/path"), on one engine. */
function redeCalls(e: Engine, rng: Rng): Map<string, () => void> {
  const calls = new Map<string, () => void>();
  const fill = (shape: number[]): Tensor => e.tensor(shape, rng.array(numel(shape)));
  for (const s of GEMM_SIZES) {
    const a = fill([s, s]), b = fill([s, s]), c = e.tensor([s, s]);
    calls.set(`gemm_${s}`, () => gemm(e, a, b, c));
  }
  for (const cc of CONVS) {
    const g0 = geom(cc);
    const x = fill(xShape(g0)), w = fill(wShape(g0)), y = e.tensor(yShape(g0));
    const dy = fill(yShape(g0)), dx = e.tensor(xShape(g0)), dw = e.tensor(wShape(g0));
    for (const path of CONV_PATHS) {
      const g = geom(cc, path), tag = `/${path}`;
      calls.set(`${cc.name}_fwd${tag}`, () => conv2dForward(e, g, x, w, null, y));
      calls.set(`${cc.name}_bwd_data${tag}`, () => conv2dBackwardData(e, g, dy, w, dx));
      calls.set(`${cc.name}_bwd_filter${tag}`, () => conv2dBackwardFilter(e, g, x, dy, dw));
    }
  }
  for (const lc of LRNS) {
    const x = fill(lc.shape), y = e.tensor(lc.shape), dy = fill(lc.shape), dx = e.tensor(lc.shape);
    calls.set(`${lc.name}_fwd`, () => lrnForward(e, x, y, lc.o));
    calls.set(`${lc.name}_bwd`, () => lrnBackward(e, x, dy, dx, lc.o));
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
    const s = cc.stride ?? 1;
    const pad = typeof cc.padding === 'number'
      ? [[0, 0], [g.padTop, g.padBottom], [g.padLeft, g.padRight], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]
      : 'same';
    calls.set(`${cc.name}_fwd`, () => tf.conv2d(x, w, s, pad).dispose());
    // conv2dTranspose(dy, w, xShape) is Conv2DBackpropInput: the data gradient of conv2d(x, w).
    if (typeof pad === 'string') calls.set(`${cc.name}_bwd_data`, () => tf.conv2dTranspose(dy, w, xs, s, pad).dispose());
    else calls.set(`${cc.name}_bwd_data`, 'not available: tf.conv2dTranspose takes no explicit padding');
    calls.set(`${cc.name}_bwd_filter`, 'not available: tfjs-backend-wasm has no Conv2DBackpropFilter kernel');
  }
  for (const lc of LRNS) {
    const x = fill(lc.shape) as TF.Tensor4D, dy = fill(lc.shape), { depthRadius, bias, alpha, beta } = lc.o;
    const y = tf.localResponseNormalization(x, depthRadius, bias, alpha, beta);
    calls.set(`${lc.name}_fwd`, () => tf.localResponseNormalization(x, depthRadius, bias, alpha, beta).dispose());
    // the backward kernel alone (tf.grad would rerun the forward)
    calls.set(`${lc.name}_bwd`, () => (tf.engine().runKernel('LRNGrad', { x, y, dy }, { depthRadius, bias, alpha, beta }) as TF.Tensor).dispose());
  }
  return calls;
}

/** The peak loop of engine e's build as a runner (src/bench/peak.ts): about 2 ms a call, and its FLOPs per call. */
function peakCall(e: Engine): { fn: () => void; flops: number } {
  const iters = peakIters(e, 2), s = peakSampler(e); // held for the whole run: the arena is this bench's alone
  return { fn: () => s.run(iters), flops: s.flops(iters) };
}

/** A build that runs every case: this tree's two, and with --baseline another commit's two. */
interface Build { label: string; variant: Variant; calls: Map<string, () => void> }

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const argv = process.argv.slice(2);
  const baselineDir = argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
  const { clock, now } = parseClock('bench/kernels', argv);
  const timing: TimeOptions = {
    ...(args.quick ? { warmupMs: 150, samples: 3, minSampleMs: 60 } : { warmupMs: 500, samples: 11, minSampleMs: 200 }),
    now,
  };
  const header = await benchHeader();
  if (args.json) headerRows('kernels', header).forEach(printJsonRow);
  else console.log(headerText(header));
  const cases: Case[] = [
    ...GEMM_SIZES.map((s) => ({ name: `gemm_${s}`, flops: 2 * s ** 3 })),
    ...CONVS.flatMap((cc) => PASSES.map((p) => ({ name: `${cc.name}_${p}`, flops: convFlops(geom(cc)), paths: CONV_PATHS }))),
    ...LRNS.flatMap((lc) => ['fwd', 'bwd'].map((p) => ({ name: `${lc.name}_${p}`, flops: lrnFlops(lc) }))),
  ].filter((c) => c.name.includes(args.filter));
  const rows: BenchRow[] = [];
  const row = (c: Case, peer: string, variant: string, value: number | null, note?: string): void => {
    const r: BenchRow = { bench: 'kernels', case: c.name, peer, variant, threads: 1, metric: 'gflops', value, unit: 'GFLOP/s', ...(note ? { note } : {}) };
    rows.push(r);
    if (args.json) printJsonRow(r);
  };
  const gflops = (c: Case, seconds: number): number => Math.round(c.flops / seconds / 1e7) / 100;

  const builds: Build[] = [];
  const peaks = new Map<Variant, { fn: () => void; flops: number }>();
  for (const v of VARIANTS) {
    const e = await Engine.create({ variant: v });
    builds.push({ label: v, variant: v, calls: redeCalls(e, new Rng(1)) });
    peaks.set(v, peakCall(e));
  }
  if (baselineDir) {
    await enableRelaxedSimdInNode();
    for (const v of VARIANTS) {
      const module = await WebAssembly.compile(readFileSync(join(baselineDir, `rede-${v}.wasm`)));
      builds.push({ label: `${v} baseline`, variant: v, calls: redeCalls(await Engine.create({ module, variantOfModule: v }), new Rng(1)) });
    }
  }
  const tf = await loadTfjsWasm();
  const peer = tfjsCalls(tf, new Rng(1));
  const peakPct = new Map<string, number>(); // `${case}|${build label}${tag}` → % of that build's peak in the same rounds

  for (const c of cases) {
    // All runners' samples alternate (bench/lib.ts), so a busy machine slows them alike; the peak loops too.
    const p = peer.get(c.name)!;
    const tags = c.paths && c.paths.length > 1 ? c.paths.map((p) => `/${p}`) : [''];
    const runners: { peer: string; variant: string; build?: Build; fn: () => void }[] = builds.flatMap((b) =>
      tags.map((t) => ({ peer: 'rede', variant: `${b.label}${t}`, build: b, fn: b.calls.get(`${c.name}${t}`)! })));
    if (typeof p !== 'string') runners.push({ peer: PEER, variant: 'simd', fn: p });
    const peakRunners = VARIANTS.map((v) => peaks.get(v)!);
    const seconds = timeCallsInterleaved([...runners.map((r) => r.fn), ...peakRunners.map((r) => r.fn)], timing);
    const peakOf = new Map(VARIANTS.map((v, i) => [v, peakRunners[i].flops / seconds[runners.length + i] / 1e9]));
    for (const v of VARIANTS) {
      const r: BenchRow = { bench: 'kernels', case: c.name, peer: 'rede', variant: `${v} peak`, threads: 1, metric: 'peak_gflops', value: Math.round(peakOf.get(v)! * 100) / 100, unit: 'GFLOP/s', note: `${v === 'simd' ? 'mul+add' : 'fma'} register-only loop in this case's rounds (${clock} clock)` };
      rows.push(r);
      if (args.json) printJsonRow(r);
    }
    runners.forEach((r, i) => {
      const g = gflops(c, seconds[i]);
      row(c, r.peer, r.variant, g);
      if (!r.build) return;
      const pct = Math.round((1000 * g) / peakOf.get(r.build.variant)!) / 10;
      peakPct.set(`${c.name}|${r.variant}`, pct);
      const pr: BenchRow = { bench: 'kernels', case: c.name, peer: 'rede', variant: r.variant, threads: 1, metric: 'peak_pct', value: pct, unit: '%' };
      rows.push(pr);
      if (args.json) printJsonRow(pr);
    });
    if (typeof p === 'string') row(c, PEER, 'simd', null, p);
    if (!args.json) process.stderr.write(`  ${c.name} done\n`);
  }
  if (args.json) return;

  const get = (name: string, peerName: string, variant: string) =>
    rows.find((r) => r.case === name && r.peer === peerName && r.variant === variant && r.metric === 'gflops')?.value ?? null;
  const pct = (name: string, variant: string) => { const v = peakPct.get(`${name}|${variant}`); return v === undefined ? 'n/a' : `${v.toFixed(0)}%`; };
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? 'n/a' : `${(a / b).toFixed(2)}x`);
  const base = baselineDir !== undefined;
  const table = cases.flatMap((c) => (c.paths && c.paths.length > 1 ? c.paths : ['']).map((path) => {
    const t = path ? `/${path}` : '';
    const s = get(c.name, 'rede', `simd${t}`), r = get(c.name, 'rede', `relaxed-simd${t}`), tf1 = get(c.name, PEER, 'simd');
    const cells = [`${c.name}${t}`, fmt(s), pct(c.name, `simd${t}`), fmt(r), pct(c.name, `relaxed-simd${t}`)];
    if (base) {
      const bs = get(c.name, 'rede', `simd baseline${t}`), br = get(c.name, 'rede', `relaxed-simd baseline${t}`);
      cells.push(fmt(bs), fmt(br), ratio(s, bs), ratio(r, br));
    }
    return [...cells, fmt(tf1), ratio(s, tf1), ratio(r, tf1)];
  }));
  const peakCells = (v: Variant) => { const xs = rows.filter((r) => r.metric === 'peak_gflops' && r.variant === `${v} peak`).map((r) => r.value!); return xs.length ? `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}` : 'n/a'; };
  console.log(`GFLOP/s, one thread, ${clock} clock, median of ${timing.samples} samples after ${timing.warmupMs} ms warm-up (tfjs-wasm ${tf.version.tfjs}, SIMD, XNNPACK); ` +
    `% peak: of the build's own peak loop in the same rounds (simd mul+add ${peakCells('simd')}, relaxed fma ${peakCells('relaxed-simd')} GFLOP/s over the cases)`);
  console.log(formatTable(['case', 'rede simd', '% peak', 'rede relaxed', '% peak', ...(base ? ['base simd', 'base relaxed', 'simd/base', 'relaxed/base'] : []), 'tfjs-wasm', 'simd/tfjs', 'relaxed/tfjs'], table));
  const notes = [...new Set(rows.filter((r) => r.value === null && r.note).map((r) => r.note))];
  for (const n of notes) console.log(`n/a: ${n}`);
}

await main();
