// LRN A/B: this tree's kernels against another build's (its generated wasm-bytes.ts, e.g. a checkout of the
// commit before), on AlexNet's LRN shapes, in one process with interleaved samples; process CPU time per call
// (less sensitive than wall time to a machine shared with other jobs), median of 9 samples.
//   node --import tsx bench/lrn-ab.ts --baseline=/path/to/other/src/engine/generated/wasm-bytes.ts [simd|relaxed-simd]
import { pathToFileURL } from 'node:url';
import { Engine } from '../src/engine/engine';
import { lrnForward, lrnBackward } from '../src/ops/norm';
import { Rng } from '../test/helpers/rand';
const baseline = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
if (!baseline) throw new Error('lrn-ab: --baseline=PATH to the other build\'s wasm-bytes.ts is required');
const { WASM_BASE64: OLD } = await import(pathToFileURL(baseline).href) as { WASM_BASE64: Record<string, string> };
const variant = (process.argv.find((a) => a === 'simd' || a === 'relaxed-simd') ?? 'relaxed-simd') as 'simd' | 'relaxed-simd';
const eNew = await Engine.create({ variant });
const mod = await WebAssembly.compile(Buffer.from(OLD[variant], 'base64'));
const eOld = await Engine.create({ module: mod, variantOfModule: variant });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const shapes = [[1, 55, 55, 96], [1, 27, 27, 256]];
for (const beta of [0.75, 0.6]) for (const shape of shapes) {
  const n = shape.reduce((a, b) => a * b, 1), r = 2, o = { depthRadius: r, bias: 2, alpha: 1e-4, beta };
  const mk = (e: Engine) => { const rng = new Rng(1); const x = e.tensor(shape, rng.array(n, -3, 3)), y = e.tensor(shape), dy = e.tensor(shape, rng.array(n)), dx = e.tensor(shape); return { e, x, y, dy, dx }; };
  const A = mk(eOld), B = mk(eNew);
  for (const pass of ['fwd', 'bwd']) {
    const fns = [A, B].map(({ e, x, y, dy, dx }) => pass === 'fwd' ? () => lrnForward(e, x, y, o) : () => lrnBackward(e, x, dy, dx, o));
    const reps = fns.map((f) => { const t0 = cpu(); let k = 0; while (cpu() - t0 < 0.2) { f(); k++; } return Math.max(1, Math.ceil(k * 0.1 / 0.2)); });
    const t: number[][] = [[], []];
    for (let s = 0; s < 9; s++) fns.forEach((f, i) => { const t0 = cpu(); for (let q = 0; q < reps[i]; q++) f(); t[i].push((cpu() - t0) / reps[i]); });
    const med = t.map((a) => a.sort((p, q) => p - q)[4]);
    const flops = (2 * r + 3) * n;
    console.log(`lrn ${shape.join('x')} beta=${beta} ${pass}: old ${(med[0] * 1e3).toFixed(3)} ms (${(flops / med[0] / 1e9).toFixed(2)} GFLOP/s)  new ${(med[1] * 1e3).toFixed(3)} ms (${(flops / med[1] / 1e9).toFixed(2)} GFLOP/s)  speedup ${(med[0] / med[1]).toFixed(1)}x`);
  }
}
