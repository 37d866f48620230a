// ResNet-18 and GoogLeNet (with its two auxiliary heads) through ONNX: onnxruntime-web runs the exported file and
// gives rede's outputs within 1e-4 (batch norms with drawn statistics); importing the file back gives a rede model
// whose every weight is bitwise the original's and whose predictions are rede's own, exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import type { ModelConfig } from '../../src/model/config';
import { googlenet, resnet18 } from '../../src/zoo/index';
import { exportOnnx } from '../../src/interop/onnx/export';
import { importOnnx } from '../../src/interop/onnx/import';
import { assertClose } from '../helpers/close';
import { Rng } from '../helpers/rand';
import { ortRun, perturb, randomArray, toNchw } from './onnx-helpers';

const TOL = { rtol: 1e-4, atol: 1e-4 };

async function check(config: ModelConfig, hw: number, seed: number): Promise<void> {
  const m = await Model.create(config, { seed });
  perturb(m, seed + 1);
  const n = 2, x = randomArray(new Rng(seed + 2), n * hw * hw * 3);
  const bytes = exportOnnx(m);
  const y = m.predict(x);
  const outs = m.outputs.map((i) => m.e.read(m.act[i], n * m.graph.nodes[i].layer.outShape[0]));
  const r = await ortRun(bytes, toNchw(x, n, hw, hw, 3), [n, 3, hw, hw]);
  assert.deepEqual([...r.keys()], m.outputs.map((i) => m.graph.nodes[i].layer.name));
  m.outputs.forEach((i, k) => assertClose(r.get(m.graph.nodes[i].layer.name)!, outs[k], `${config.name} output ${k}`, TOL));
  // Back into rede: the same weights, bit for bit, and the same predictions.
  const back = await importOnnx(bytes, { source: `${config.name}.onnx` });
  const a = m.getWeights(), b = back.getWeights();
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [name, t] of a) {
    const u = b.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    assert.ok(Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer)), `${name} bitwise`);
  }
  assert.deepEqual(back.graph.nodes.map((nd) => nd.layer.type), m.graph.nodes.map((nd) => nd.layer.type));
  assert.deepEqual(back.predict(x), y);
}

test('ResNet-18 → ONNX: onnxruntime-web agrees within 1e-4; → rede again: weights bitwise, same predictions', () => check(resnet18([32, 32, 3], 10), 32, 11));

test('GoogLeNet with auxiliary heads (LRN, 5×5 branches, three outputs) → ONNX → rede', () => check(googlenet([96, 96, 3], 10, { aux: true }), 96, 21));
