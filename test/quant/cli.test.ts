// rede quantize: an f32 .rede in, an int8 .rede out that QuantizedModel loads, the f32/int8 comparison line;
// bad options are one line `rede: quantize: …` with status 1 and write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { Model } from '../../src/api/model';
import { lenet5 } from '../../src/zoo/lenet5';
import { QuantizedModel } from '../../src/quant/index';

async function rede(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const io = { stdout: { write: (s: string) => { out += s; return true; } }, stderr: { write: (s: string) => { err += s; return true; } } };
  const code = await main(argv, io as never);
  return { code, out, err };
}

test('rede quantize writes an int8 model and compares it with the f32 one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rede-quantize-'));
  try {
    const f32 = join(dir, 'lenet.rede'), int8 = join(dir, 'lenet.int8.rede');
    await (await Model.create(lenet5(), { seed: 1 })).save(f32);
    const r = await rede('quantize', '--model', f32, '--calibrate', 'mnist', '--out', int8, '--examples', '64', '--eval', '200', '--method', 'percentile');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^quantized .*lenet\.rede on 64 examples of mnist digits train \(percentile 99\.99 %\) in [\d.]+ s → .*lenet\.int8\.rede \([\d,]+ bytes\)\n/);
    assert.match(r.out, /accuracy on 200 test examples: f32 0\.\d{4} {2}int8 0\.\d{4} {2}\(-?\d+\.\d\d points\); same class \d+\.\d\d %\n$/);
    const qm = await QuantizedModel.load(int8);
    assert.equal(qm.spec.calibration.examples, 64);
    assert.equal(qm.spec.calibration.method, 'percentile');

    const bad: [string[], RegExp][] = [
      [['quantize', '--model', f32, '--out', int8], /^rede: quantize: --calibrate DATA is required/],
      [['quantize', '--model', f32, '--calibrate', 'mnist'], /^rede: quantize: --out FILE\.int8\.rede is required/],
      [['quantize', '--model', f32, '--calibrate', 'mnist', '--out', join(dir, 'x.rede'), '--method', 'kl'], /^rede: quantize: --method must be minmax or percentile, got 'kl'\n$/],
      [['quantize', '--model', f32, '--calibrate', 'mnist', '--out', join(dir, 'x.rede'), '--percentile', '40'], /^rede: quantize: --percentile must be a number in \(50, 100\], got 40\n$/],
      [['quantize', '--model', f32, '--calibrate', 'mnist', '--out', f32], /^rede: quantize: /],
      [['quantize', '--model', int8, '--calibrate', 'mnist', '--out', join(dir, 'x.rede')], /^rede: /],
    ];
    for (const [argv, re] of bad) {
      const b = await rede(...argv);
      assert.equal(b.code, 1, argv.join(' '));
      assert.match(b.err, re, argv.join(' '));
    }
    assert.ok(!existsSync(join(dir, 'x.rede')), 'a refused run writes nothing');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
