// rede eval: a saved model's loss and accuracy on a dataset's test split (or its training split).
import { RedeError } from '../../engine/errors';
import { Model } from '../../api/model';
import { count, firstN, type Io, loadData, num, parse } from '../common';

export const usage = `usage: rede eval --model FILE.rede [options]

  --model FILE            a model saved by 'rede train --out' (or Model.save)
  --data SPEC             mnist | fashion-mnist | a directory of IDX files   [mnist]
  --split NAME            test | train                                       [test]
  --subset N              evaluate the first N examples only
  --batch-size B                                                             [128]`;

const OPTIONS = {
  model: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' }, subset: { type: 'string' },
  'batch-size': { type: 'string' },
} as const;

export async function evaluate(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('eval', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model) throw new RedeError(`eval: --model FILE.rede is required (see 'rede eval --help')`);
  const split = v.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new RedeError(`eval: --split must be test or train, got '${split}'`);
  const batchSize = num('eval', 'batch-size', v['batch-size'], 128, { int: true, min: 1 });
  const subsetN = v.subset === undefined ? undefined : num('eval', 'subset', v.subset, 0, { int: true, min: 1 });
  const dataSpec = v.data ?? 'mnist';
  const model = await Model.load(v.model);
  const data = await loadData('eval', dataSpec, split);
  const ds = firstN('eval', data[split]!, subsetN);
  // Held-out metrics are plain cross-entropy and accuracy, whatever loss the model was trained with.
  model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const r = model.evaluate(ds, undefined, { batchSize });
  io.stdout.write(`accuracy ${r.accuracy.toFixed(4)}  loss ${r.loss.toFixed(4)}  (${count(ds.y.length)} examples of ${ds.name ?? dataSpec})\n`);
}
