// bench:infer in a file of its own: quantizing and timing ResNet-18 on four runners takes 75–90 s on two cores,
// which together with the other benches overran one file's 120 s limit. Rows checked as in bench.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench, has } from '../helpers/bench-rows';

test('bench:infer --quick (resnet18): rede, tfjs-wasm and onnxruntime-web on 1 and 2 threads, and the arena rows', () => {
  const rows = bench('infer', '--filter=resnet18');
  for (const threads of [1, 2]) {
    has(rows, { case: 'resnet18_224_b1', peer: 'rede', threads }, `rede ${threads} threads`);
    has(rows, { case: 'resnet18_224_b1', peer: '@tensorflow/tfjs-backend-wasm', threads }, `tfjs-wasm ${threads}`);
    has(rows, { case: 'resnet18_224_b1', peer: 'onnxruntime-web', threads }, `onnxruntime-web ${threads}`);
    has(rows, { case: 'resnet18_224_b1', peer: 'rede', variant: 'int8', threads, metric: 'speedup_vs_f32' }, `rede int8 ${threads} threads`);
    has(rows, { case: 'resnet18_224_b1', peer: 'onnxruntime-web', variant: 'int8', threads, metric: 'speedup_vs_f32' }, `onnxruntime-web int8 ${threads} threads`);
  }
  assert.ok(rows.some((r) => r.metric.startsWith('arena') || r.case.includes('arena')), 'arena rows');
});
