// A slice of each fuzz target (scripts/fuzz.ts), in process: every refusal is a RedeError, no input takes a
// second, and the process stays under 512 MB. 20,000 inputs each, fewer for the model-interchange readers whose
// inputs cost 2–20 ms (onnx, tfjs, keras; each also has its own fuzz test in test/interop/). The 100,000 and
// million-input runs are in docs/reliability.md and docs/interop.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, runFuzz, violations } from '../../scripts/fuzz/run';
import { TARGETS } from '../../scripts/fuzz/targets';

const COUNTS: Partial<Record<(typeof TARGETS)[number], number>> = { onnx: 5_000, tfjs: 5_000, keras: 2_000 };

for (const target of TARGETS) {
  const COUNT = COUNTS[target] ?? 20_000;
  test(`fuzz ${target}: ${COUNT.toLocaleString('en-US')} mutated inputs, only RedeErrors, none over 1 s, peak RSS < 512 MB`, async (t) => {
    const r = await runFuzz({ target, count: COUNT, seed: 1 });
    t.diagnostic(formatReport(r));
    assert.equal(r.inputs, COUNT);
    // Most inputs must be refused and some accepted, or the mutator is not reaching the checks.
    assert.ok(r.refused > COUNT / 2 && r.accepted > COUNT / 100, `${r.refused} refused, ${r.accepted} accepted`);
    assert.deepEqual(violations(r), [], formatReport(r));
  });
}
