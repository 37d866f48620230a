// The examples assert their own targets (tinygrad style); here their QUICK variants run as real processes,
// so a broken example, or broken learning, fails the suite. Each prints its accuracy on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function example(file: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8', env: { ...process.env, QUICK: '1', ...env }, timeout: 180_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const accuracyOf = (out: string): number => Number(/test accuracy (\d\.\d+)/.exec(out)?.[1] ?? NaN);

test('examples/lenet5-digits.ts (QUICK) reaches its bar', () => {
  const r = example('examples/lenet5-digits.ts');
  assert.equal(r.status, 0, r.out + r.err);
  assert.match(r.out, /^lenet5-digits \(QUICK\): 61,706 parameters, 2000 training \/ 2000 test digits, 3 epochs/);
  assert.ok(accuracyOf(r.out) >= 0.9, r.out);
});

test('examples/fashion-bn-augment.ts (QUICK) reaches its bar', () => {
  const r = example('examples/fashion-bn-augment.ts');
  assert.equal(r.status, 0, r.out + r.err);
  assert.match(r.out, /^fashion-bn-augment \(QUICK\): [\d,]+ parameters, 4000 training \/ 1000 test images, 3 epochs/);
  assert.equal(r.out.split('\n').filter((l) => l.startsWith('epoch ')).length, 3);
  assert.ok(accuracyOf(r.out) >= 0.8, r.out);
});

test('examples/fashion-bn-augment.ts fails with the install hint when the dataset is missing', () => {
  const r = example('examples/fashion-bn-augment.ts', { FASHION_MNIST_DIR: '/nonexistent/fashion-mnist' });
  assert.notEqual(r.status, 0);
  assert.match(r.err, /Fashion-MNIST not found.*apt-get install dataset-fashion-mnist/);
});

for (const workers of [1, 2]) {
  test(`examples/chained-autoencoder.ts (QUICK) with ${workers} worker${workers > 1 ? 's' : ''}: the reconstruction error falls; a frozen decoder stays bitwise`, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/chained-autoencoder.ts', '--workers', String(workers)], {
      encoding: 'utf8', env: { ...process.env, QUICK: '1' }, timeout: 180_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const m = /150 steps of 64 with (\d) workers? in [\d.]+ s: mse (\d\.\d+) → (\d\.\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[1]), workers);
    assert.ok(Number(m[3]) < 0.6 * Number(m[2]), `mse ${m[2]} → ${m[3]}`);
    assert.match(r.stdout, /frozen decoder unchanged bitwise: true; encoder moved: true/);
  });
}
