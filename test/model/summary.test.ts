// summary(): Keras' three totals. Batch norm's gamma and beta are trainable, its running mean and variance are
// not; a layer's Params column counts both, as Keras' does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph } from '../../src/model/graph';
import type { ModelConfig } from '../../src/model/config';
import { summaryRows, summaryText } from '../../src/model/summary';

const config: ModelConfig = {
  name: 'bn_net', input: [8, 8, 3], layers: [
    { type: 'conv2d', name: 'conv', filters: 4, kernel: 3, padding: 'same', useBias: false },
    { type: 'batchnorm', name: 'bn' },
    { type: 'relu', name: 'relu' },
    { type: 'flatten', name: 'flat' },
    { type: 'dense', name: 'fc', units: 5 },
  ],
};

test('summary splits trainable parameters from non-trainable state', () => {
  const g = buildGraph(config);
  const m = { config, inputShape: g.input, layers: g.nodes.map((n) => n.layer) };
  const rows = Object.fromEntries(summaryRows(m).map((r) => [r.name, r]));
  // conv 3·3·3·4 weights, no bias; bn: gamma, beta (4 each) trainable, running mean, variance (4 each) not.
  assert.deepEqual([rows.conv.trainable, rows.conv.nonTrainable, rows.conv.params], [108, 0, 108]);
  assert.deepEqual([rows.bn.trainable, rows.bn.nonTrainable, rows.bn.params], [8, 8, 16]);
  assert.deepEqual([rows.fc.trainable, rows.fc.nonTrainable], [8 * 8 * 4 * 5 + 5, 0]);
  const text = summaryText(m);
  assert.match(text, /^bn \(batchnorm\)\s+\[8, 8, 4\]\s+16\s/m);
  const trainable = 108 + 8 + 1285;
  assert.match(text, new RegExp(`^Total params: ${(trainable + 8).toLocaleString('en-US')}\nTrainable params: ${trainable.toLocaleString('en-US')}\nNon-trainable params: 8\nFLOPs per example \\(forward\\): [\\d,]+$`, 'm'));
});
