// npm run fuzz -- --target idx|rede|config|prototxt|safetensors|onnx|tfjs|keras --count N [--seed S] [--only I]
// Feeds N mutated inputs to one target (scripts/fuzz/targets.ts) and prints a summary; exits 1 when an
// input raised anything but a RedeError, took over 1 s, or the peak RSS reached 512 MB. --only I re-runs
// input I of that seed alone and prints whatever it raised. Several targets: --target idx,rede,config.
import { parseArgs } from 'node:util';
import { formatReport, runFuzz, violations } from './fuzz/run';
import { TARGETS, type TargetName } from './fuzz/targets';

const { values: v } = parseArgs({ options: { target: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } } });
const int = (flag: string, s: string | undefined, def: number): number => {
  const x = s === undefined ? def : Number(s);
  if (!Number.isSafeInteger(x) || x < 0) { console.error(`fuzz: --${flag} must be an integer >= 0, got '${s}'`); process.exit(2); }
  return x;
};
const targets = (v.target ?? '').split(',').filter(Boolean) as TargetName[];
if (targets.length === 0 || !targets.every((t) => TARGETS.includes(t))) {
  console.error(`fuzz: --target must be ${TARGETS.join(', ')} or a comma list of them, got '${v.target ?? ''}'`);
  process.exit(2);
}
const count = int('count', v.count, 10_000), seed = int('seed', v.seed, 1);
const only = v.only === undefined ? undefined : int('only', v.only, 0);
let failed = false;
for (const target of targets) {
  const r = await runFuzz({ target, count, seed, only, progressEvery: 100_000,
    progress: (done, p) => console.error(`  ${target}: ${done.toLocaleString('en-US')} inputs, ${p.errors} errors, ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`) });
  console.log(formatReport(r));
  const bad = violations(r);
  if (bad.length) { failed = true; console.log(`  VIOLATION: ${bad.join('; ')}`); }
}
process.exit(failed ? 1 : 0);
