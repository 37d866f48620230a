// bench:train's backend rows (in a file of its own: node's runner gives each test file 120 s). LeNet-5 only:
// tfjs-cpu trains ResNet-20 at about one example a minute, too slow for a test. Only the output is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, has } from '../helpers/bench-rows';

test('bench:train --quick --filter=lenet5_b32_backends: LeNet-5 through fit on the wasm engine and on tfjs-cpu, after the header', () => {
  const rows = bench('train', '--filter=lenet5_b32_backends');
  has(rows, { bench: 'train', case: 'lenet5_b32_backends', peer: 'rede', variant: 'wasm', metric: 'examples_per_s' }, 'wasm backend');
  has(rows, { bench: 'train', case: 'lenet5_b32_backends', peer: 'rede', variant: 'tfjs-cpu', metric: 'examples_per_s' }, 'tfjs backend');
  has(rows, { case: 'machine', metric: 'load_average_1m' }, 'load average');
  assert.ok(rows.filter((r) => r.case.endsWith('_backends')).every((r) => /^backend (wasm|tfjs), /.test(r.note ?? '')), 'each row names its backend and device');
  assert.ok(!rows.some((r) => r.case === 'lenet5_b64' || r.case.startsWith('resnet20')), '--filter picks the case');
});
