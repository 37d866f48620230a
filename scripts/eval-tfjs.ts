// A saved model's test accuracy computed twice: by rede (Model.evaluate) and by @tensorflow/tfjs-backend-wasm
// running the same weights (the model lowered for inference: batch norm folded into the convs; convs, pools,
// adds and dense layers are tfjs ops). The independent check of a trained model's figure.
//   node --import tsx scripts/eval-tfjs.ts --model FILE.rede [--data mnist|fashion-mnist|DIR] [--split test|train]
import { parseArgs } from 'node:util';
import { Model } from '../src/api/model';
import { lower } from '../src/infer/lower';
import { loadData } from '../src/cli/common';
import { loadTfjsWasm } from '../bench/lib';
import { tfjsGraph } from '../test/helpers/tfjs-graph';

const { values: v } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' } } });
if (!v.model) throw new Error('usage: eval-tfjs --model FILE.rede [--data SPEC] [--split test|train]');
const split = (v.split ?? 'test') as 'test' | 'train';
const model = await Model.load(v.model);
const ds = (await loadData('eval-tfjs', v.data ?? 'mnist', split))[split]!;
model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
const rede = model.evaluate(ds, undefined, { batchSize: 128 });

const tf = await loadTfjsWasm();
const net = tfjsGraph(tf, lower(model));
const per = ds.shape[0] * ds.shape[1] * ds.shape[2], n = ds.y.length, B = 500;
let correct = 0;
for (let s = 0; s < n; s += B) {
  const b = Math.min(B, n - s);
  const pred = tf.tidy(() => tf.argMax(tf.reshape(net.forward(tf.tensor4d(ds.x.subarray(s * per, (s + b) * per), [b, ...ds.shape])), [b, -1]), 1));
  const p = pred.dataSync();
  pred.dispose();
  for (let i = 0; i < b; i++) if (p[i] === ds.y[s + i]) correct++;
}
net.dispose();
console.log(`rede accuracy ${rede.accuracy.toFixed(4)}; tfjs-wasm accuracy ${(correct / n).toFixed(4)} (${n} examples, ${split} split)`);
