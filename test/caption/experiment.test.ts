// `rede experiment captioning --quick`: a tiny captioner trains for one epoch, is scored (BLEU, localization)
// with greedy and beam decoding on test and held-out, and writes its report, table data, curve and Figure-3 PNGs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../../src/experiments/index';

const out = mkdtempSync(join(tmpdir(), 'rede-captioning-'));
test.after(() => rmSync(out, { recursive: true, force: true }));

test('captioning (quick) trains, scores and writes its files', async () => {
  const lines: string[] = [];
  const r = await runExperiment('captioning', { quick: true, outDir: out, seed: 1, log: (l) => lines.push(l) });
  assert.equal(r.name, 'captioning');
  assert.ok(lines.some((l) => l.includes('epoch 1')));
  for (const f of r.files) assert.ok(existsSync(f), `${f} written`);
  for (const name of ['captioning.md', 'captioning.json', 'captioning-curves.svg', 'captioning-attention-0.png', 'captioning-attention-1.png']) {
    assert.ok(existsSync(join(out, name)), `${name} written`);
  }
  const png = readFileSync(join(out, 'captioning-attention-0.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png[25], 2, 'RGB colour type');
  const md = readFileSync(join(out, 'captioning.md'), 'utf8');
  assert.ok(md.includes(r.table));
  const data = JSON.parse(readFileSync(join(out, 'captioning.json'), 'utf8'));
  assert.deepEqual(data.rows.map((x: { split: string; decoding: string }) => `${x.split}-${x.decoding}`), ['test-greedy', 'test-beam', 'heldout-greedy', 'heldout-beam']);
  for (const row of data.rows) {
    assert.ok(row.bleu.bleu.every((v: number) => v >= 0 && v <= 1));
    assert.ok(row.localization.rate >= 0 && row.localization.rate <= 1);
  }
  for (const c of r.checks) assert.ok(c.passed, `${c.claim} (${c.detail})`);
});
