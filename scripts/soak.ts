// Soak (a script, not a test): N parallel steps of LeNet-5 with 2 workers, sampling heap and RSS, then M more
// models trained with workers and dropped, and the thread count after a collection. Flat heap and RSS and a
// thread count back at its baseline are what docs/reliability.md promises.
//   node --expose-gc --import tsx scripts/soak.ts [--steps 60000] [--models 6] [--json]
// Prints one JSON object (with --json) or a short table; exits 1 if the heap grew by more than 100 bytes a step
// or threads did not return to the baseline (96b79f7: 322 bytes a step over 6,000 steps; 12 → 40 threads).
import { readFileSync } from 'node:fs';
import { Model } from '../src/api/model';
import { lenet5 } from '../src/zoo/lenet5';

const arg = (name: string, dflt: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : dflt;
};
const steps = arg('steps', 60000), models = arg('models', 6), json = process.argv.includes('--json');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('soak: run with node --expose-gc');

const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const settle = async () => { for (let i = 0; i < 6; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); } };
await settle();
const baseline = threads();

// Phase 1: one model, `steps` steps with 2 workers, in epochs of 100 batches of 16 (the loop's own path).
const B = 16, n = 1600, x = new Float32Array(n * 784), y = new Int32Array(n);
for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 0) / 2 ** 32;
for (let i = 0; i < n; i++) y[i] = i % 10;
const heap: number[] = [], rss: number[] = [];
const sample = () => { gc(); const m = process.memoryUsage(); heap.push(m.heapUsed); rss.push(m.rss); };
// In functions, so that no module-level binding keeps a model (and its worker group) alive.
async function phase1(): Promise<void> {
  const m = await Model.create(lenet5(), { seed: 1 });
  m.compile({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  const per = n / B, epochs = Math.max(3, Math.ceil(steps / per)), every = Math.max(1, Math.floor(epochs / 20));
  // One fit, sampled at epoch ends; the first two epochs warm up code and caches.
  await m.fit(x, y, { epochs, batchSize: B, workers: 2, callbacks: [{ onEpochEnd: (e) => { if (e >= 1 && ((e - 1) % every === 0 || e === epochs - 1)) sample(); } }] });
}
await phase1();
const stepsRun = Math.max(3, Math.ceil(steps / (n / B))) * (n / B);
// Growth per step: the least-squares slope over the samples (first and last alone are at the mercy of one GC).
const stepsAt = heap.map((_, i) => i), mx = (heap.length - 1) / 2, my = heap.reduce((a, b) => a + b, 0) / heap.length;
const slope = stepsAt.reduce((a, i) => a + (i - mx) * (heap[i] - my), 0) / Math.max(1e-9, stepsAt.reduce((a, i) => a + (i - mx) ** 2, 0));
const perStep = slope / Math.max(1, (stepsRun - 2 * (n / B)) / Math.max(1, heap.length - 1));

// Phase 2: `models` models trained with workers and dropped; their threads must go.
async function dropped(i: number): Promise<void> {
  const m = await Model.create(lenet5(), { seed: i });
  m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  await m.fit(x.subarray(0, 64 * 784), y.subarray(0, 64), { epochs: 1, batchSize: 32, workers: 2 });
}
for (let i = 0; i < models; i++) await dropped(i);
const during = threads();
await settle();
await new Promise((r) => setTimeout(r, 500));
await settle();
const after = threads();

const out = {
  steps: stepsRun, heap_first: heap[0], heap_last: heap[heap.length - 1], heap_peak: Math.max(...heap),
  rss_first: rss[0], rss_last: rss[rss.length - 1], rss_peak: Math.max(...rss), heap_bytes_per_step: perStep,
  threads_baseline: baseline, threads_with_dropped_models: during, threads_after_gc: after, models,
};
if (json) console.log(JSON.stringify(out));
else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(28)} ${typeof v === 'number' && v > 1e5 ? `${(v / 2 ** 20).toFixed(1)} MiB` : Number(v.toFixed?.(1) ?? v)}`);
// The main thread of one fit keeps no worker: back to the baseline (a pool thread of Node's may come and go).
const ok = perStep <= 100 && after <= baseline + 2;
if (!ok) { console.error(`soak: heap ${perStep.toFixed(1)} bytes/step, threads ${baseline} → ${after}`); process.exit(1); }
