// A run of one generative experiment with some of its settings overridden (trials of a recipe, or only some of
// its rows), reported like `rede experiment` does:
//   node --import tsx scripts/experiment-tuned.mts gan|autoencoder-vs-pca OUT_DIR '{"epochs": 40, "batch": 32}'
// The overrides are GanSettings / AeSettings fields (src/experiments/gan.ts, autoencoder.ts); the report's
// settings line states what ran.
import { autoencoderVsPca } from '../src/experiments/autoencoder';
import { gan } from '../src/experiments/gan';

const [name, outDir, json = '{}'] = process.argv.slice(2);
const run = name === 'gan' ? gan : name === 'autoencoder-vs-pca' ? autoencoderVsPca : null;
if (!run || !outDir) {
  console.error('usage: experiment-tuned.mts gan|autoencoder-vs-pca OUT_DIR [JSON overrides]');
  process.exit(2);
}
const t0 = Date.now();
const r = await run({ outDir, log: (l) => console.error(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${l}`) }, JSON.parse(json));
console.log(r.table);
for (const c of r.checks) console.log(`${c.passed ? 'PASS' : 'FAIL'}: ${c.claim} — ${c.detail}`);
