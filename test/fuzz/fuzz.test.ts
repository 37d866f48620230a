// A 20,000-input slice of each fuzz target (scripts/fuzz.ts), in process: every refusal is a RedeError,
// no input takes a second, and the process stays under 512 MB. The million-input runs are in
// docs/reliability.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runFuzz, violations } from '../../scripts/fuzz/run';
import { TARGETS } from '../../scripts/fuzz/targets';

const COUNT = 20_000;

for (const target of TARGETS) {
  test(`fuzz ${target}: ${COUNT.toLocaleString('en-US')} mutated inputs, only RedeErrors, none over 1 s, peak RSS < 512 MB`, async (t) => {
    const r = await runFuzz({ target, count: COUNT, seed: 1 });
    t.diagnostic(formatReport(r));
    assert.equal(r.inputs, COUNT);
    // Most inputs must be refused and some accepted, or the mutator is not reaching the checks.
    assert.ok(r.refused > COUNT / 2 && r.accepted > COUNT / 100, `${r.refused} refused, ${r.accepted} accepted`);
    assert.deepEqual(violations(r), [], formatReport(r));
  });
}
