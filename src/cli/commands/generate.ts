// rede generate: samples of a saved generator (e.g. `rede experiment gan` writes gan-digits-gan-generator.rede)
// as one PNG grid. The generator's input is noise — standard normal, seeded — and, for a class-conditional one,
// a one-hot class in its last --classes inputs; its output is a grey image [h, w, 1] with values in [0, 1].
import { RedeError } from '../../engine/errors';
import { Model } from '../../api/model';
import { truncatedNormalAt } from '../../data/rng';
import { writeFileAtomic } from '../../io/atomic';
import { numelOf } from '../../layers/layer';
import { greyGridPng } from '../../viz/grid';
import { checkWritable, type Io, num, parse } from '../common';

export const usage = `usage: rede generate --model FILE.rede --out FILE.png [options]

  --model FILE.rede   a generator: input [noise (+ classes)], output [h, w, 1] in [0, 1]
  --out FILE.png      where the grid of samples goes
  --count N           samples                                                            [100]
  --cols N            columns of the grid                                                [10]
  --classes K         a class-conditional generator: its last K inputs are a one-hot class;
                      the samples go through the classes in turn, count/K of each (a row per class at 10 × 10)
  --class k           only class k (with --classes)
  --seed S            seeds the noise                                                    [1]
  --truncation T      noise drawn inside [-T, T] (T ≥ 0.25): surer samples, less variety  [none]
  --scale N           pixels per image pixel                                             [2]`;

const OPTIONS = {
  model: { type: 'string' }, out: { type: 'string' }, count: { type: 'string' }, cols: { type: 'string' }, classes: { type: 'string' },
  class: { type: 'string' }, seed: { type: 'string' }, scale: { type: 'string' }, truncation: { type: 'string' },
} as const;

export async function generate(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('generate', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model) throw new RedeError(`generate: --model is required (see 'rede generate --help')`);
  if (!v.out) throw new RedeError(`generate: --out is required (see 'rede generate --help')`);
  checkWritable('generate', '--out', v.out);
  const count = num('generate', 'count', v.count, 100, { int: true, min: 1, max: 10000 });
  const cols = num('generate', 'cols', v.cols, 10, { int: true, min: 1, max: 1000 });
  const scale = num('generate', 'scale', v.scale, 2, { int: true, min: 1, max: 16 });
  const seed = num('generate', 'seed', v.seed, 1, { int: true, min: 0 });
  const tau = v.truncation === undefined ? Infinity : num('generate', 'truncation', v.truncation, 0, { min: 0.25 });
  const classes = num('generate', 'classes', v.classes, 0, { int: true, min: 0, max: 100000 });
  if (v.class !== undefined && classes === 0) throw new RedeError('generate: --class needs --classes (the number of classes the generator was trained with)');
  const only = v.class === undefined ? -1 : num('generate', 'class', v.class, 0, { int: true, min: 0, max: Math.max(0, classes - 1) });
  const g = await Model.load(v.model);
  const inputs = numelOf(g.inputShape), out = g.outputShape;
  if (g.inputShape.length !== 1) throw new RedeError(`generate: ${v.model} takes input ${JSON.stringify(g.inputShape)}, expected a vector [noise${classes ? ` + ${classes} classes` : ''}]`);
  if (out.length !== 3 || out[2] !== 1) throw new RedeError(`generate: ${v.model} makes ${JSON.stringify(out)}, expected grey images [h, w, 1]`);
  const latent = inputs - classes;
  if (latent < 1) throw new RedeError(`generate: ${v.model} has ${inputs} inputs, not enough for --classes ${classes} plus noise`);
  const z = new Float32Array(count * inputs), per = Math.max(1, Math.ceil(count / Math.max(1, classes)));
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < latent; j++) z[i * inputs + j] = truncatedNormalAt(tau, seed, i, j); // tau = Infinity: normalAt's draw
    if (classes) z[i * inputs + latent + (only >= 0 ? only : Math.min(classes - 1, Math.floor(i / per)))] = 1;
  }
  const x = g.predict(z);
  await writeFileAtomic(v.out, greyGridPng(x, count, out[0], out[1], cols, scale));
  io.stdout.write(`wrote ${v.out}: ${count} samples of ${out[0]}×${out[1]} from ${v.model}${classes ? (only >= 0 ? `, class ${only}` : `, ${per} per class`) : ''}${tau === Infinity ? '' : `, noise truncated to ±${tau}`}\n`);
}
