// ad-hoc: CPU-time per call (process.cpuUsage), interleaved, medians; args: filter
import { Engine } from '../src/engine/engine';
import { convGeom, conv2dForward, conv2dBackwardData, conv2dBackwardFilter, xShape, yShape, wShape, type ConvPath } from '../src/ops/conv';
import { Rng } from '../test/helpers/rand';
const cases: any[] = [
  { name: 'c5_28x1_32_b32', n: 32, h: 28, w: 28, cin: 1, cout: 32, k: 5 },
  { name: 'c5_28x1_6_b64', n: 64, h: 28, w: 28, cin: 1, cout: 6, k: 5 },
  { name: 'c3_32x3_16_b64', n: 64, h: 32, w: 32, cin: 3, cout: 16, k: 3 },
  { name: 'c7s2_224x3_64_b4', n: 4, h: 224, w: 224, cin: 3, cout: 64, k: 7, stride: 2 },
  { name: 'c11s4_224x3_64_b4', n: 4, h: 224, w: 224, cin: 3, cout: 64, k: 11, stride: 4, padding: 2 },
  { name: 'c3_32x4_32_b32', n: 32, h: 32, w: 32, cin: 4, cout: 32, k: 3 },
  { name: 'c1_32x3_16_b32', n: 32, h: 32, w: 32, cin: 3, cout: 16, k: 1 },
];
const filt = process.argv[2] ?? '';
const variant = (process.argv[3] ?? 'relaxed-simd') as any;
const e = await Engine.create({ variant });
const rng = new Rng(1);
const num = (s: number[]) => s.reduce((a, b) => a * b, 1);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
for (const c of cases) {
  if (!c.name.includes(filt)) continue;
  const mk = (path: ConvPath) => convGeom({ n: c.n, h: c.h, w: c.w, cin: c.cin, cout: c.cout, kh: c.k, kw: c.k, stride: c.stride ?? 1, padding: c.padding ?? 'same', path });
  const g0 = mk('gemm');
  const fill = (s: number[]) => e.tensor(s, rng.array(num(s)));
  const x = fill(xShape(g0)), w = fill(wShape(g0)), y = e.tensor(yShape(g0)), dy = fill(yShape(g0)), dx = e.tensor(xShape(g0)), dw = e.tensor(wShape(g0));
  const flops = 2 * g0.n * g0.oh * g0.ow * g0.cout * g0.kh * g0.kw * g0.cin;
  for (const pass of ['fwd', 'data', 'filter']) {
    const fns = (['gemm', 'direct'] as ConvPath[]).map((p) => { const g = mk(p); return pass === 'fwd' ? () => conv2dForward(e, g, x, w, null, y) : pass === 'data' ? () => conv2dBackwardData(e, g, dy, w, dx) : () => conv2dBackwardFilter(e, g, x, dy, dw); });
    const reps = fns.map((f) => { const t0 = cpu(); let n = 0; while (cpu() - t0 < 0.15) { f(); n++; } return Math.max(1, Math.ceil(n * 0.1 / 0.15)); });
    const times: number[][] = [[], []];
    for (let s = 0; s < 9; s++) fns.forEach((f, i) => { const t0 = cpu(); for (let r = 0; r < reps[i]; r++) f(); times[i].push((cpu() - t0) / reps[i]); });
    const med = times.map((t) => t.sort((a, b) => a - b)[4]);
    const gf = med.map((t) => (flops / t / 1e9).toFixed(1));
    console.log(`${c.name} ${pass}: gemm ${gf[0]} direct ${gf[1]} GFLOP/s (cpu time)  ratio ${(med[0] / med[1]).toFixed(2)}x`);
  }
}
{
  const { gemm } = await import('../src/ops/gemm');
  const s = 512, a = e.tensor([s, s], rng.array(s * s)), b = e.tensor([s, s], rng.array(s * s)), c = e.tensor([s, s]);
  const f = () => gemm(e, a, b, c);
  f(); const t: number[] = [];
  for (let i = 0; i < 9; i++) { const t0 = cpu(); for (let r = 0; r < 10; r++) f(); t.push((cpu() - t0) / 10); }
  t.sort((x, y) => x - y); console.log(`gemm512 ${(2 * s ** 3 / t[4] / 1e9).toFixed(1)} GFLOP/s (cpu time)`);
}
