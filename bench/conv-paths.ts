// Conv path A/B: the direct kernels (assembly/conv_small.ts for cin ≤ 4, assembly/conv_direct.ts above) against
// im2col + GEMM on the same shapes, in one process, samples interleaved; process CPU time per call (on a machine
// shared with other jobs it is less sensitive than wall time to being descheduled), median of 9 samples.
// GFLOP/s per pass. A strided backward-data pass runs GEMM on both paths (the direct one needs stride 1).
//   node --import tsx bench/conv-paths.ts [--json] [--filter=text] [simd|relaxed-simd]
import { Engine } from '../src/engine/engine';
import { convGeom, conv2dForward, conv2dBackwardData, conv2dBackwardFilter, xShape, yShape, wShape, type ConvPath, type ConvPadding } from '../src/ops/conv';
import { parseBenchArgs, printJsonRow, median } from './lib';
import { Rng } from '../test/helpers/rand';

interface Case { name: string; n: number; h: number; w: number; cin: number; cout: number; k: number; stride?: number; padding?: ConvPadding }
const CASES: Case[] = [
  { name: 'conv5x5_28x28x1_32_b32', n: 32, h: 28, w: 28, cin: 1, cout: 32, k: 5 },
  { name: 'conv5x5_28x28x1_6_b64', n: 64, h: 28, w: 28, cin: 1, cout: 6, k: 5 },
  { name: 'conv3x3_32x32x3_16_b64', n: 64, h: 32, w: 32, cin: 3, cout: 16, k: 3 },
  { name: 'conv3x3_32x32x4_32_b32', n: 32, h: 32, w: 32, cin: 4, cout: 32, k: 3 },
  { name: 'conv7x7s2_224x224x3_64_b4', n: 4, h: 224, w: 224, cin: 3, cout: 64, k: 7, stride: 2 },
  { name: 'conv11x11s4_224x224x3_64_b4', n: 4, h: 224, w: 224, cin: 3, cout: 64, k: 11, stride: 4, padding: 2 },
  { name: 'conv1x1_32x32x3_16_b32', n: 32, h: 32, w: 32, cin: 3, cout: 16, k: 1 },
  // LeNet-5's c3 (batch 64): 14×14×6 → 10×10×16, 5×5 valid
  { name: 'lenet5_c3_5x5_14x14x6_16_b64', n: 64, h: 14, w: 14, cin: 6, cout: 16, k: 5, padding: 'valid' },
  // ResNet-20 (CIFAR, batch 64): its 3×3 convs per stage, the strided ones and the 1×1/2 shortcuts
  { name: 'resnet20_3x3_32x32x16_16_b64', n: 64, h: 32, w: 32, cin: 16, cout: 16, k: 3 },
  { name: 'resnet20_3x3s2_32x32x16_32_b64', n: 64, h: 32, w: 32, cin: 16, cout: 32, k: 3, stride: 2 },
  { name: 'resnet20_3x3_16x16x32_32_b64', n: 64, h: 16, w: 16, cin: 32, cout: 32, k: 3 },
  { name: 'resnet20_3x3_8x8x64_64_b64', n: 64, h: 8, w: 8, cin: 64, cout: 64, k: 3 },
  { name: 'resnet20_1x1s2_32x32x16_32_b64', n: 64, h: 32, w: 32, cin: 16, cout: 32, k: 1, stride: 2 },
  // ResNet-18 (224, batch 1): wider channels on the same rule
  { name: 'resnet18_3x3_56x56x64_64_b1', n: 1, h: 56, w: 56, cin: 64, cout: 64, k: 3 },
  { name: 'resnet18_3x3_28x28x128_128_b1', n: 1, h: 28, w: 28, cin: 128, cout: 128, k: 3 },
  { name: 'resnet18_3x3_14x14x256_256_b1', n: 1, h: 14, w: 14, cin: 256, cout: 256, k: 3 },
  // odd sizes
  { name: 'conv3x3_15x13x24_20_b8', n: 8, h: 15, w: 13, cin: 24, cout: 20, k: 3 },
];
const PATHS: ConvPath[] = ['gemm', 'direct'];

const args = parseBenchArgs();
const variant = process.argv.includes('simd') ? 'simd' : 'relaxed-simd';
const e = await Engine.create({ variant });
const rng = new Rng(1);
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const cpuSeconds = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

for (const c of CASES.filter((x) => x.name.includes(args.filter))) {
  const geom = (path: ConvPath) => convGeom({ n: c.n, h: c.h, w: c.w, cin: c.cin, cout: c.cout, kh: c.k, kw: c.k, stride: c.stride ?? 1, padding: c.padding ?? 'same', path });
  const g0 = geom('gemm');
  const fill = (s: number[]) => e.tensor(s, rng.array(numel(s)));
  const x = fill(xShape(g0)), w = fill(wShape(g0)), y = e.tensor(yShape(g0)), dy = fill(yShape(g0)), dx = e.tensor(xShape(g0)), dw = e.tensor(wShape(g0));
  const flops = 2 * g0.n * g0.oh * g0.ow * g0.cout * g0.kh * g0.kw * g0.cin;
  for (const pass of ['fwd', 'bwd_data', 'bwd_filter'] as const) {
    const fns = PATHS.map((p) => {
      const g = geom(p);
      if (pass === 'fwd') return () => conv2dForward(e, g, x, w, null, y);
      return pass === 'bwd_data' ? () => conv2dBackwardData(e, g, dy, w, dx) : () => conv2dBackwardFilter(e, g, x, dy, dw);
    });
    // warm up 150 ms of CPU each, then samples of ≥ 100 ms, round-robin
    const reps = fns.map((f) => { const t0 = cpuSeconds(); let k = 0; while (cpuSeconds() - t0 < 0.15) { f(); k++; } return Math.max(1, Math.ceil(k * 0.1 / 0.15)); });
    const times: number[][] = fns.map(() => []);
    for (let s = 0; s < (args.quick ? 3 : 9); s++) fns.forEach((f, i) => { const t0 = cpuSeconds(); for (let r = 0; r < reps[i]; r++) f(); times[i].push((cpuSeconds() - t0) / reps[i]); });
    const gf = times.map((t) => Math.round(flops / median(t) / 1e7) / 100);
    if (args.json) {
      PATHS.forEach((p, i) => printJsonRow({ bench: 'conv-paths', case: `${c.name}_${pass}`, peer: 'rede', variant: `${variant}/${p}`, threads: 1, metric: 'gflops_cpu_time', value: gf[i], unit: 'GFLOP/s' }));
    } else {
      console.log(`${`${c.name}_${pass}`.padEnd(40)} gemm ${gf[0].toFixed(1).padStart(5)}  direct ${gf[1].toFixed(1).padStart(5)} GFLOP/s (CPU time)  direct/gemm ${(gf[1] / gf[0]).toFixed(2)}x`);
    }
  }
}
