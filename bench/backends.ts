// Training throughput by compute backend: the wasm engine vs TensorFlow.js on the same config, seed and data
// (the cases are in bench/backend-cases.ts; `npm run bench:train` prints the same rows after its own). Not a
// test: no assertion on speed.
//   node --import tsx bench/backends.ts [--json] [--quick] [--samples=N] [--tfjs=cpu,wasm] [--filter=lenet5]
// With --json: the header rows (commit, load average, the same-process peak; src/bench/rows.ts), then
//   {"bench":"backends","case":"lenet5_b32_backends","peer":"rede","variant":"tfjs-cpu","threads":1,"metric":"examples_per_s",...}
// and a last row with the load average at the end.
import { loadavg } from 'node:os';
import { benchHeader, headerText } from '../src/bench/header';
import { headerRows } from '../src/bench/rows';
import { backendRows } from './backend-cases';
import { fmt, formatTable, parseBenchArgs, printJsonRow } from './lib';

const args = parseBenchArgs();
const tfjs = (process.argv.find((a) => a.startsWith('--tfjs='))?.slice(7) ?? 'cpu').split(',').filter(Boolean);
const samplesArg = Number(process.argv.find((a) => a.startsWith('--samples='))?.slice(10));
const samples = Number.isInteger(samplesArg) && samplesArg > 0 ? samplesArg : undefined;

const header = await benchHeader();
if (args.json) headerRows('backends', header).forEach(printJsonRow);
const rows = await backendRows({ bench: 'backends', tfjs, quick: args.quick, filter: args.filter, samples, onRow: (r) => { if (args.json) printJsonRow(r); } });
const end = loadavg()[0];
if (args.json) printJsonRow({ bench: 'backends', case: 'footer', peer: 'machine', variant: 'load_1m', threads: 1, metric: 'load_average', value: +end.toFixed(2), unit: '' });
else {
  console.log(headerText(header));
  console.log(formatTable(['case', 'backend', 'examples/s', '÷ wasm', 'device'], rows.map((r) => {
    const wasm = rows.find((w) => w.case === r.case && w.variant === 'wasm')!.value!;
    return [r.case, r.variant, fmt(r.value, 1), fmt(r.value! / wasm, 3), r.note ?? ''];
  })));
  console.log(`load average at the end: ${end.toFixed(2)}`);
}
