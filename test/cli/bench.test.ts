// rede bench through main() with captured streams: option errors are one-line RedeErrors before any work, and
// --json prints only objects of the benchmark schema — the header (load, peaks), per-layer rows, the step's
// examples/s — with AlexNet's rows beside the lecture's Caffe figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { isTTY: false, write: (s: string) => (err += s) } });
  return { code, out, err };
}

const KEYS = ['bench', 'case', 'peer', 'variant', 'threads', 'metric', 'value', 'unit'];
interface Row { bench: string; case: string; peer: string; variant: string; threads: number; metric: string; value: number | null; unit: string; note?: string }

function jsonRows(out: string): Row[] {
  const lines = out.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'no output');
  return lines.map((l) => {
    const r = JSON.parse(l) as Row; // every line is one JSON object
    assert.deepEqual(Object.keys(r).filter((k) => k !== 'note'), KEYS, `keys of ${l}`);
    assert.ok(typeof r.value === 'number' && Number.isFinite(r.value), `finite value: ${l}`);
    assert.equal(typeof r.threads, 'number');
    return r;
  });
}

test('bench: bad options fail with one line naming the option, before any work', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rede-bench-'));
  try {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ input: [4], layers: [{ type: 'dense', unit: 3 }] }));
    const cases: [string[], RegExp][] = [
      [[], /^rede: bench: --model is required/],
      [['--model', 'lenet5', '--batchsize', '8'], /^rede: bench: unknown option '--batchsize'/],
      [['--model', 'lenet5', '--batch-size', '0'], /^rede: bench: --batch-size must be an integer in \[1, 65536\], got 0\n$/],
      [['--model', 'lenet5', '--workers', '1.5'], /^rede: bench: --workers must be an integer in \[1, 64\], got 1\.5\n$/],
      [['--model', 'lenet5', '--workers', '4', '--batch-size', '2'], /^rede: bench: --workers 4 needs --batch-size of at least 4, got 2\n$/],
      [['--model', 'lenet5', '--seconds', '0'], /^rede: bench: --seconds must be a number in \(0, 3600\], got 0\n$/],
      [['--model', 'lenet5', '--clock', 'tsc'], /^rede: bench: --clock must be 'wall' or 'cpu', got 'tsc'\n$/],
      [['--model', 'lenet6'], /^rede: bench: unknown model 'lenet6' \(expected one of lenet5, /],
      [['--model', bad], /^rede: \S*bad\.json: dense 'dense_0': unknown option 'unit' \(expected units, /],
    ];
    for (const [argv, re] of cases) {
      const r = await rede('bench', ...argv);
      assert.equal(r.code, 1, `${argv.join(' ')}: status`);
      assert.match(r.err, re, argv.join(' '));
      assert.equal(r.out, '', `${argv.join(' ')}: nothing on stdout`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bench --help lists the options', async () => {
  const r = await rede('bench', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /^usage: rede bench --model/);
  for (const o of ['--train', '--infer', '--batch-size', '--workers', '--json']) assert.ok(r.out.includes(o), o);
});

test('bench --json: header, per-layer and step rows, all in the benchmark schema', async () => {
  const r = await rede('bench', '--model', 'lenet5', '--train', '--batch-size', '8', '--seconds', '0.3', '--rounds', '3', '--json');
  assert.equal(r.code, 0, r.err);
  const rows = jsonRows(r.out);
  assert.ok(rows.every((x) => x.bench === 'rede-bench' && x.peer === 'rede'));
  assert.ok(rows.some((x) => x.case === 'machine' && x.metric === 'peak_gflops' && x.variant === 'simd'), 'peak of plain SIMD');
  assert.ok(rows.some((x) => x.case === 'machine' && x.metric === 'load_average_1m' && /commit /.test(x.note ?? '')), 'load and commit');
  for (const m of ['forward_ms', 'backward_ms', 'share', 'forward_gflops', 'forward_peak_pct', 'backward_gflops']) {
    assert.ok(rows.some((x) => x.case === 'lenet5_train_b8/c1' && x.metric === m), `c1 ${m}`);
  }
  for (const m of ['step_ms', 'accounted_ratio', 'examples_per_s', 'ms_per_example']) assert.ok(rows.some((x) => x.case === 'lenet5_train_b8' && x.metric === m), m);
  assert.ok(!rows.some((x) => x.case.includes('_infer_')), '--train only');
});

test('bench --model alexnet: ms per image for inference and learning, beside the lecture\'s Caffe K40 figures', async () => {
  // A small input keeps the test light (the layer list is AlexNet's; fc6/fc7 shrink with the maps).
  const r = await rede('bench', '--model', 'alexnet', '--input', '67,67,3', '--classes', '10', '--batch-size', '2', '--seconds', '0.2', '--rounds', '1', '--json');
  assert.equal(r.code, 0, r.err);
  const rows = jsonRows(r.out);
  for (const [mode, caffe] of [['infer', 1], ['train', 4]] as const) {
    const c = `alexnet_${mode}_b2`;
    assert.ok(rows.some((x) => x.case === c && x.peer === 'rede' && x.metric === 'ms_per_example'), `rede ${mode}`);
    const k40 = rows.find((x) => x.case === c && x.peer === 'caffe');
    assert.ok(k40 && k40.value === caffe && k40.variant === 'nvidia-k40' && /not measured here/.test(k40.note ?? ''), `caffe ${mode}`);
  }
  const text = await rede('bench', '--model', 'alexnet', '--input', '67,67,3', '--classes', '10', '--infer', '--batch-size', '1', '--seconds', '0.1', '--rounds', '1');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /inference: rede [\d.]+ ms\/image at batch 1 .*Caffe 1 ms\/image on one NVIDIA K40 GPU/);
  assert.match(text.out, /conv1 \(conv2d\)/);
});
