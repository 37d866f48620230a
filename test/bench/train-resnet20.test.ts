// bench:train's ResNet-20 rows (in a file of its own: node's runner gives each test file 120 s, and a ResNet-20
// step takes seconds on a loaded machine). Like test/bench/bench.test.ts: run with --quick, only the output checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, has } from '../helpers/bench-rows';

test('bench:train --quick --filter=resnet20_b64: rede and PyTorch on 1 and 2 threads, after the header (load, peaks)', () => {
  const rows = bench('train', '--filter=resnet20_b64');
  for (const threads of [1, 2]) {
    has(rows, { case: 'resnet20_b64', peer: 'rede', threads, metric: 'examples_per_s' }, `rede ${threads} threads`);
    has(rows, { case: 'resnet20_b64', peer: 'pytorch', threads, metric: 'examples_per_s' }, `pytorch ${threads} threads`);
  }
  // One-thread rates also as GFLOP/s (examples/s × ResNet-20's 246.16 nominal MFLOP per training example) and as a share of rede's peak.
  const one = (peer: string, metric: string) => rows.find((r) => r.case === 'resnet20_b64' && r.peer === peer && r.threads === 1 && r.metric === metric);
  for (const peer of ['rede', 'pytorch']) {
    const rate = one(peer, 'examples_per_s')?.value;
    if (peer === 'pytorch' && rate === null) continue; // no PyTorch here: its row says why, and there is nothing to convert
    const g = one(peer, 'gflops')?.value;
    assert.ok(typeof rate === 'number' && typeof g === 'number', `${peer}: examples/s ${rate} and GFLOP/s ${g} rows`);
    assert.ok(Math.abs(g / rate - 0.246157056) < 1e-9, `${peer}: GFLOP/s ÷ examples/s = ${g / rate}, want 0.246157056`);
    has(rows, { case: 'resnet20_b64', peer, threads: 1, metric: 'share_of_rede_peak' }, `${peer} share of rede's peak`);
  }
  has(rows, { case: 'machine', metric: 'load_average_1m' }, 'load average');
  has(rows, { case: 'machine', variant: 'simd', metric: 'peak_gflops' }, 'peak');
  assert.ok(!rows.some((r) => r.case.startsWith('lenet5')), '--filter picks the net');
});
