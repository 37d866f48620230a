// The benchmarks run in the test command (not timed: only their output is checked). Each runs with --quick on
// its smallest case and must print, as JSON lines, every row it promises, with the shared schema, a finite value
// for rede's own rows, and for a peer either a finite value or null with a note saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, has } from '../helpers/bench-rows';

test('bench:kernels --quick (gemm_256): rede on both SIMD builds and tfjs-wasm, in GFLOP/s', () => {
  const rows = bench('kernels', '--filter=gemm_256');
  for (const variant of ['simd', 'relaxed-simd']) has(rows, { case: 'gemm_256', peer: 'rede', variant, metric: 'gflops' }, `rede ${variant}`);
  assert.ok(rows.some((r) => r.case === 'gemm_256' && r.peer !== 'rede'), 'a peer row for the same case');
});

test('bench:train --quick: LeNet-5 on rede (both builds), PyTorch and convnetjs rows, the arena and RSS rows', () => {
  const rows = bench('train', '--steps=200', '--filter=lenet5_b64');
  for (const variant of ['simd', 'relaxed-simd']) has(rows, { case: 'lenet5_b64', peer: 'rede', variant, metric: 'examples_per_s' }, `rede ${variant}`);
  has(rows, { case: 'lenet5_b64', peer: 'pytorch' }, 'pytorch');
  assert.ok(rows.some((r) => r.case === 'lenet5_b64' && r.peer.includes('convnetjs')), 'convnetjs');
  has(rows, { case: 'lenet5_b64_arena', peer: 'rede', variant: 'total', metric: 'bytes' }, 'arena total');
  assert.ok(rows.some((r) => r.metric === 'rss_last'), 'rss_last');
});

test('bench:parallel --quick (lenet, batch 64): one thread, 1 and 2 workers, efficiency and per-worker times', () => {
  const rows = bench('parallel', '--filter=lenet5_b64');
  has(rows, { variant: 'trainer', threads: 1, metric: 'examples_per_s' }, 'one thread');
  for (const threads of [1, 2]) has(rows, { threads, metric: 'parallel_efficiency' }, `${threads} workers`);
  has(rows, { variant: 'worker1', threads: 2, metric: 'compute_ms_per_step' }, 'worker 1 compute');
});

test('bench:rnn --quick: an LSTM layer forward + backward on rede (both builds) and tfjs (cpu, wasm), in examples/s', () => {
  const rows = bench('rnn');
  for (const variant of ['simd (round cpu)', 'relaxed-simd (round wasm)']) has(rows, { case: 'lstm_b8_t10_u64', peer: 'rede', variant, metric: 'examples_per_s' }, `rede ${variant}`);
  for (const variant of ['cpu', 'wasm']) has(rows, { case: 'lstm_b8_t10_u64', peer: 'tfjs', variant }, `tfjs ${variant}`);
  has(rows, { case: 'gemm_512', peer: 'rede', metric: 'gflops' }, 'the measured peak');
});
