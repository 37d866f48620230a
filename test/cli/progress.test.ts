// The progress display: a live bar only on a terminal, plain epoch lines otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, barLine, clock, epochLine, type BatchState } from '../../src/train/progress';

const capture = (isTTY: boolean, columns?: number) => {
  const chunks: string[] = [];
  return { stream: { isTTY, columns, write: (s: string) => chunks.push(s) }, text: () => chunks.join('') };
};
const state = (batch: number): BatchState => ({ epoch: 2, epochs: 5, batch, batches: 10, loss: 0.25, accuracy: 0.9, examples: batch * 32, seconds: batch * 0.5 });

test('clock formats m:ss and h:mm:ss', () => {
  assert.equal(clock(0), '0:00');
  assert.equal(clock(65.4), '1:05');
  assert.equal(clock(3725), '1:02:05');
});

test('barLine shows epoch, batch/total, ETA, loss, accuracy and examples/s', () => {
  const s = barLine(state(4));
  assert.match(s, /^epoch 2\/5 \[=========> {14}\]  4\/10/);
  assert.match(s, /ETA 0:03/); // 0.5 s per batch, 6 batches left
  assert.match(s, /loss 0\.2500  acc 0\.9000  64 ex\/s$/);
  assert.match(barLine(state(10)), /\[={24}\] 10\/10  ETA 0:00/);
});

test('epochLine prints the metrics present in fit logs', () => {
  const line = epochLine(3, 10, { loss: 0.5, accuracy: 0.875, val_loss: 0.4, val_accuracy: 0.9, seconds: 2.25, examples_per_s: 3555.5, lr: 0.1 });
  assert.equal(line, 'epoch 3/10  loss 0.5000  acc 0.8750  val_loss 0.4000  val_acc 0.9000  2.3 s  3,556 ex/s');
  assert.equal(epochLine(1, 1, { loss: 1 }), 'epoch 1/1  loss 1.0000');
});

test('on a terminal the bar is redrawn in place, throttled, and replaced by epoch lines', () => {
  const c = capture(true, 60);
  const p = new Progress(c.stream);
  assert.equal(p.live, true);
  p.batch(state(1));
  p.batch(state(2)); // within 100 ms: skipped
  p.batch(state(10)); // the last batch is always drawn
  p.line('epoch 2/5  loss 0.2500');
  const out = c.text();
  assert.equal(out.split('\r').length - 1 >= 3, true);
  assert.ok(!out.includes(' 2/10'), 'throttled redraw was skipped');
  assert.ok(out.includes('10/10'));
  assert.ok(out.endsWith('\r\x1b[Kepoch 2/5  loss 0.2500\n'));
  for (const drawn of out.split('\r').filter((s) => s.startsWith('epoch') && !s.includes('\n'))) {
    assert.ok(drawn.replace('\x1b[K', '').length < 60, 'cut to the terminal width');
  }
});

test('off a terminal there is no bar and no control characters', () => {
  const c = capture(false);
  const p = new Progress(c.stream);
  for (let b = 1; b <= 10; b++) p.batch(state(b), true);
  p.line('epoch 2/5  loss 0.2500');
  assert.equal(c.text(), 'epoch 2/5  loss 0.2500\n');
});
