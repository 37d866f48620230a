// Where the time of one batch-1 forward goes, op by op, in rede's f32 and int8 plans on 1 thread: the same
// models as bench/infer.ts (f32: random He weights; int8: that kind of model quantized, calibrated on one random
// input), each op's median over interleaved rounds (InferenceModel.opTimes), with each conv / dense layer's
// GMAC/s and the f32 ÷ int8 ratio per layer. The int8 plan's own ops (quantize, a residual add split off its
// conv as '<conv>:add') are listed under their names; in f32 that add is inside the conv.
//   node --import tsx bench/infer-ops.ts [--filter=resnet18] [--clock=cpu|wall] [--rounds=15] [--json]
// --clock=cpu (default) reads this process's CPU time, which leaves out the time other processes hold the
// core (the figures still include a busy sibling hyperthread's share of the core's ports).
import { buildGraph } from '../src/model/graph';
import { numelOf } from '../src/layers/layer';
import { InferenceModel } from '../src/infer/model';
import { lowerGraph, type Lowered } from '../src/infer/lower';
import { Model } from '../src/api/model';
import { quantize } from '../src/quant/index';
import { resnet18 } from '../src/zoo/resnet';
import { resnet20 } from '../src/zoo/small';
import type { ModelConfig } from '../src/model/config';
import { parseBenchArgs, printJsonRow, formatTable, fmt, randomWeights } from './lib';
import { CLOCKS } from '../src/bench/clock';
import { Rng } from '../test/helpers/rand';

const MODELS: Record<string, () => ModelConfig> = { resnet18: () => resnet18(), resnet20: () => resnet20([32, 32, 3]) };
const args = parseBenchArgs();
const opt = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const clockName = opt('clock') ?? 'cpu', rounds = Number(opt('rounds') ?? 15);
if (clockName !== 'cpu' && clockName !== 'wall') throw new Error(`bench: --clock must be cpu or wall, got ${clockName}`);
const clock = CLOCKS[clockName];

/** Multiply-adds per conv / dense op of the f32 graph, by name. */
function macs(g: Lowered): Map<string, number> {
  const m = new Map<string, number>();
  for (const op of g.ops) {
    if (op.kind === 'conv') { const o = op.geo; m.set(op.name, o.oh * o.ow * o.cout * o.kh * o.kw * o.cin / o.groups); }
    else if (op.kind === 'dense') m.set(op.name, op.k * op.n);
  }
  return m;
}

for (const name of Object.keys(MODELS).filter((n) => n.includes(args.filter))) {
  const config = MODELS[name](), per = numelOf(config.input), x = new Rng(5).array(per, 0, 1);
  const g = lowerGraph(buildGraph(config), randomWeights(1));
  const f32 = await InferenceModel.fromLowered(g, { workers: 1, batchSize: 1 });
  const int8 = await quantize(await Model.create(config, { seed: 1 }), new Rng(7).array(per, 0, 1)).compile({ workers: 1, batchSize: 1 });
  f32.predict(x); int8.predict(x); // warm up (tier-up)
  // interleaved: a round of each model in turn, so load from other processes falls on both alike
  const tf: { name: string; ms: number }[][] = [], tq: { name: string; ms: number }[][] = [];
  for (let r = 0; r < rounds; r++) { tf.push(f32.opTimes(x, 1, clock)); tq.push(int8.opTimes(x, 1, clock)); }
  const med = (runs: { name: string; ms: number }[][], i: number): number => runs.map((t) => t[i].ms).sort((a, b) => a - b)[runs.length >> 1];
  const fOps = tf[0].map((o, i) => ({ name: o.name, ms: med(tf, i) })), qOps = tq[0].map((o, i) => ({ name: o.name, ms: med(tq, i) }));
  const fBy = new Map(fOps.map((o) => [o.name, o.ms])), work = macs(g), table: string[][] = [];
  for (const o of qOps) {
    const fm = fBy.get(o.name), w = work.get(o.name);
    if (args.json) {
      printJsonRow({ bench: 'infer-ops', case: `${name}_b1:${o.name}`, peer: 'rede', variant: 'int8', threads: 1, metric: `${clockName}_ms`, value: o.ms, unit: 'ms' });
      if (fm !== undefined) printJsonRow({ bench: 'infer-ops', case: `${name}_b1:${o.name}`, peer: 'rede', variant: 'relaxed-simd', threads: 1, metric: `${clockName}_ms`, value: fm, unit: 'ms' });
    }
    table.push([o.name, fm === undefined ? '–' : fmt(fm, 3), fmt(o.ms, 3), fm === undefined ? '' : fmt(fm / o.ms, 2),
      w && fm ? fmt(w / fm / 1e6, 1) : '', w ? fmt(w / o.ms / 1e6, 1) : '']);
  }
  for (const o of fOps) if (!qOps.some((q) => q.name === o.name)) table.push([o.name, fmt(o.ms, 3), '–', '', '', '']);
  const sf = fOps.reduce((s, o) => s + o.ms, 0), sq = qOps.reduce((s, o) => s + o.ms, 0);
  table.push(['total', fmt(sf, 2), fmt(sq, 2), fmt(sf / sq, 2), '', '']);
  if (!args.json) {
    const os = await import('node:os');
    console.log(`${name}, batch 1, 1 thread, ${clockName} ms per op (medians of ${rounds} interleaved rounds); ${os.cpus()[0]?.model}, Node ${process.versions.node}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(formatTable(['op', 'f32 ms', 'int8 ms', 'f32 ÷ int8', 'f32 GMAC/s', 'int8 GMAC/s'], table));
  }
  await f32.close(); await int8.close();
}
