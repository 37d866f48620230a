// A short slice of the tfjs and keras fuzz targets (scripts/fuzz/interop.ts): mutated model.json files and
// weights, .h5 model_configs and .keras zips are refused with RedeErrors only, none over 1 s. The 100,000-input
// runs are in docs/interop.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runFuzz, violations } from '../../scripts/fuzz/run';

for (const [target, count] of [['tfjs', 3000], ['keras', 1500]] as const) {
  test(`fuzz ${target}: ${count} mutated inputs, only RedeErrors`, async (t) => {
    const r = await runFuzz({ target, count, seed: 2 });
    t.diagnostic(formatReport(r));
    assert.equal(r.inputs, count);
    assert.ok(r.refused > count / 2 && r.accepted > count / 100, `${r.refused} refused, ${r.accepted} accepted`);
    assert.deepEqual(violations(r), [], formatReport(r));
  });
}
