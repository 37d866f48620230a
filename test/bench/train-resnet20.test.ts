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
  has(rows, { case: 'machine', metric: 'load_average_1m' }, 'load average');
  has(rows, { case: 'machine', variant: 'simd', metric: 'peak_gflops' }, 'peak');
  assert.ok(!rows.some((r) => r.case.startsWith('lenet5')), '--filter picks the net');
});
