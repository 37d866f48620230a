// rede train --solver FILE: a Caffe solver (prototxt or JSON) and the net it names, run as Caffe runs it
// (src/interop/caffe/solve.ts), on the data its data layers name or --data.
import { RedeError } from '../../engine/errors';
import { Solver } from '../../interop/caffe/solve';
import { checkWritable, count, type Io, num } from '../common';
import type { AugmentOptions } from '../../data/augment';

/** The train options that go with --solver; the rest (model, optimizer, epochs, …) come from the solver. */
export const SOLVER_FLAGS = ['solver', 'data', 'seed', 'out', 'snapshot-prefix', 'max-iter', 'augment', 'help'] as const;

export const solverUsage = `  --solver FILE           a Caffe solver (.prototxt or .json) and the net it names: Caffe's model,
                          optimizer, lr_policy, max_iter, tests and snapshots (docs/caffe.md). With it:
                          --data, --seed (overrides random_seed), --out, --snapshot-prefix P ('' for none),
                          --max-iter N (stop early; the schedule keeps max_iter), --augment (rede's, not Caffe's)`;

/** `augmentFor` is train's --augment transform for a data spec (passed in: train.ts imports this file). */
export async function trainSolver(v: Record<string, string | boolean | undefined>, io: Io, augmentFor: (data: string) => AugmentOptions): Promise<void> {
  const extra = Object.keys(v).filter((k) => v[k] !== undefined && !(SOLVER_FLAGS as readonly string[]).includes(k));
  if (extra.length) throw new RedeError(`train: --solver sets the model, optimizer and schedule; it does not go with ${extra.map((k) => `--${k}`).join(', ')}`);
  const path = v.solver as string, out = v.out as string | undefined;
  if (out !== undefined) checkWritable('train', 'out', out);
  const seed = v.seed === undefined ? undefined : num('train', 'seed', v.seed as string, 1, { int: true, min: 0 });
  const maxIter = v['max-iter'] === undefined ? undefined : num('train', 'max-iter', v['max-iter'] as string, 1, { int: true, min: 1 });
  const solver = await Solver.fromFile(path);
  const data = await solver.loadData(v.data as string | undefined);
  const conv = solver.convert(data.train.shape);
  const s = solver.solver, net = solver.net;
  io.stderr.write(`${path}: net ${solver.netPath} (${net.name ?? 'unnamed'}), ${s.type} lr ${s.base_lr} lr_policy ${s.lr_policy}, ` +
    `${count(maxIter ?? s.max_iter)} iterations of batch ${net.train!.batchSize}; data ${data.why}\n`);
  for (const note of conv.notes) io.stderr.write(`  note: ${note}\n`);
  if (v.augment) io.stderr.write(`  note: --augment: rede's augmentation of the training batches (not in Caffe's solver)\n`);
  const run = await solver.train(data, {
    seed, maxIter, augment: v.augment ? augmentFor(v.data as string | undefined ?? 'mnist') : undefined, snapshotPrefix: v['snapshot-prefix'] as string | undefined, log: (line) => io.stderr.write(`${line}\n`),
  });
  if (out !== undefined) { await run.model.save(out); io.stdout.write(`saved ${out}\n`); }
  const last = run.tests[run.tests.length - 1];
  if (data.test) {
    const t = run.model.evaluate(data.test, undefined, { batchSize: 128 });
    io.stdout.write(`test accuracy ${t.accuracy.toFixed(4)}  loss ${t.loss.toFixed(4)}  (${count(data.test.y.length)} examples of ${data.test.name ?? 'test'}; ${run.seconds.toFixed(1)} s)\n`);
  } else if (!last) {
    io.stderr.write('no test split: held-out accuracy not measured\n');
  }
}
