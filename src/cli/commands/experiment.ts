// rede experiment NAME: the lecture's experiments (src/experiments) — a table, plots and a report.
import { RedeError } from '../../engine/errors';
import { EXPERIMENTS, runExperiment } from '../../experiments/index';
import { type Io, num, parse } from '../common';

export const usage = `usage: rede experiment NAME [--quick] [--out DIR] [--seed S]

${Object.entries(EXPERIMENTS).map(([name, e]) => `  ${name.padEnd(20)} ${e.what}`).join('\n')}

  --quick      a small version (under a minute) that still checks the direction of each effect
  --out DIR    where the report, plots and numbers go                            [experiments-out]
Exit status 1 when one of the experiment's checks fails.`;

const OPTIONS = { quick: { type: 'boolean' }, out: { type: 'string' }, seed: { type: 'string' } } as const;

export async function experiment(argv: string[], io: Io): Promise<void> {
  const { values: v, positionals } = parse('experiment', argv, OPTIONS, true);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (positionals.length !== 1) throw new RedeError(`experiment: name one experiment (${Object.keys(EXPERIMENTS).join(', ')})`);
  const seed = num('experiment', 'seed', v.seed, 1, { int: true, min: 0 });
  const r = await runExperiment(positionals[0], { quick: v.quick, outDir: v.out ?? 'experiments-out', seed, log: (l: string) => io.stderr.write(`${l}\n`) });
  io.stdout.write(`${r.table}\n${r.checks.map((c) => `${c.passed ? 'PASS' : 'FAIL'}: ${c.claim} — ${c.detail}`).join('\n')}\n`);
  for (const f of r.files) io.stdout.write(`wrote ${f}\n`);
  const failed = r.checks.filter((c) => !c.passed);
  if (failed.length) throw new RedeError(`experiment ${positionals[0]}: ${failed.length} check(s) failed: ${failed.map((c) => c.claim).join('; ')}`);
}
