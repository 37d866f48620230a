// rede quantize: a saved f32 model → an int8 model file (post-training quantization, docs/int8.md), calibrated on
// the first N training examples of a dataset; then, when the data has a test split, the f32 and int8 models'
// accuracy and agreement on its first --eval examples.
import { RedeError } from '../../engine/errors';
import { Model } from '../../api/model';
import { InferenceModel } from '../../infer/model';
import { quantize, QuantizedModel } from '../../quant/index';
import { checkDistinct, checkWritable, count, type Io, loadData, num, parse } from '../common';

export const usage = `usage: rede quantize --model FILE.rede --calibrate DATA --out FILE.int8.rede [options]

  --model FILE            an f32 model saved by 'rede train --out' (or Model.save)
  --calibrate DATA        mnist | fashion-mnist | a directory of IDX files: the training split calibrates
  --out FILE              where the int8 model goes (.rede; load it with QuantizedModel.load)
  --examples N            calibration examples                                       [1000]
  --method NAME           minmax | percentile                                        [minmax]
  --percentile P          percentile: the central P % of each activation's values    [99.99]
  --symmetric             symmetric int8 activations (zero point 0)
  --eval N                compare f32 and int8 on the first N test examples (0: skip) [1000]`;

const OPTIONS = {
  model: { type: 'string' }, calibrate: { type: 'string' }, out: { type: 'string' }, examples: { type: 'string' },
  method: { type: 'string' }, percentile: { type: 'string' }, symmetric: { type: 'boolean' }, eval: { type: 'string' },
} as const;

export async function quantizeCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('quantize', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model) throw new RedeError(`quantize: --model FILE.rede is required (see 'rede quantize --help')`);
  if (!v.calibrate) throw new RedeError(`quantize: --calibrate DATA is required (mnist, fashion-mnist or a directory of IDX files)`);
  if (!v.out) throw new RedeError(`quantize: --out FILE.int8.rede is required`);
  const method = v.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile') throw new RedeError(`quantize: --method must be minmax or percentile, got '${method}'`);
  const examples = num('quantize', 'examples', v.examples, 1000, { int: true, min: 1 });
  const percentile = num('quantize', 'percentile', v.percentile, 99.99, { above: 50, max: 100 });
  const evalN = num('quantize', 'eval', v.eval, 1000, { int: true, min: 0 });
  checkDistinct('quantize', [['model', v.model], ['out', v.out]]);
  checkWritable('quantize', 'out', v.out);
  const model = await Model.load(v.model);
  const data = await loadData('quantize', v.calibrate, 'train');
  const train = data.train!;
  if (train.shape.join() !== model.graph.input.join()) {
    throw new RedeError(`quantize: --calibrate ${v.calibrate} has images [${train.shape.join(', ')}] but the model takes [${model.graph.input.join(', ')}]`);
  }
  const n = Math.min(examples, train.y.length);
  const t0 = performance.now();
  const qm = quantize(model, train.x.subarray(0, n * train.x.length / train.y.length), { method, percentile, symmetric: !!v.symmetric, examples: n });
  await qm.save(v.out);
  const bytes = qm.toBytes().length;
  io.stdout.write(`quantized ${v.model} on ${count(n)} examples of ${train.name ?? v.calibrate} (${method}${method === 'percentile' ? ` ${percentile} %` : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${v.out} (${count(bytes)} bytes)\n`);
  const test = data.test;
  if (evalN === 0 || !test) return;
  const m = Math.min(evalN, test.y.length), x = test.x.subarray(0, m * test.x.length / test.y.length), y = test.y.subarray(0, m);
  const f32 = await InferenceModel.from(model), int8 = await (await QuantizedModel.load(v.out)).compile();
  const cf = f32.predictClasses(x), cq = int8.predictClasses(x);
  let af = 0, aq = 0, agree = 0;
  for (let i = 0; i < m; i++) { af += cf[i] === y[i] ? 1 : 0; aq += cq[i] === y[i] ? 1 : 0; agree += cf[i] === cq[i] ? 1 : 0; }
  io.stdout.write(`accuracy on ${count(m)} test examples: f32 ${(af / m).toFixed(4)}  int8 ${(aq / m).toFixed(4)}  (${((aq - af) / m * 100).toFixed(2)} points); same class ${(agree / m * 100).toFixed(2)} %\n`);
}
