// The step program's gradients — through a chain of two networks, a softmax folded into its cross-entropy,
// and two weighted heads — checked by central finite differences of the step's own loss (forward + the
// objective, no backward), for parameters of every network in the chain and for a frozen link's input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/api/model';
import type { Network } from '../../src/model/network';
import { Objective } from '../../src/train/objective';
import { StepProgram, type Link } from '../../src/train/program';
import { Optimizer } from '../../src/optim/optimizer';
import { Rng } from '../helpers/rand';

const B = 3;

function fdCheck(p: StepProgram, fill: () => void, what: string): void {
  const loss = (): number => {
    fill();
    p.forward(B, { step: 0, seed: 1 });
    return p.objective.run(p.last, p.heads(), B, false);
  };
  fill();
  p.gradients(B, { step: 0, seed: 1 });
  const rng = new Rng(9), eps = 1e-2;
  p.links.forEach((l, li) => {
    const net: Network = l.net, grad = net.e.read(net.grads, net.paramFloats);
    for (const en of net.entries) {
      for (let s = 0; s < 6; s++) {
        const i = en.offset + rng.int(0, en.n), at = (net.params >>> 2) + i, x = net.e.f32[at];
        net.e.f32[at] = x + eps; const Lp = loss();
        net.e.f32[at] = x - eps; const Lm = loss();
        net.e.f32[at] = x;
        const fd = (Lp - Lm) / (2 * eps), g = grad[i];
        assert.ok(Math.abs(fd - g) <= 2e-3 + 2e-2 * Math.max(Math.abs(fd), Math.abs(g)),
          `${what}: network ${li} ${en.layer.name}.${en.name}[${i - en.offset}]: analytic ${g}, finite difference ${fd}`);
      }
    }
  });
}

const link = (net: Network, trainable = true): Link => ({ net, opt: trainable ? { optimizer: new Optimizer('sgd'), state: 0 } : null });

test('a chain of two networks ending in a folded softmax: every parameter gradient matches finite differences', async () => {
  const a = await Model.create({ input: [6], layers: [{ type: 'dense', units: 5 }, { type: 'tanh' }] }, { seed: 1 });
  const b = await Model.create({ input: [5], layers: [{ type: 'dense', units: 7 }, { type: 'tanh' }, { type: 'dense', units: 4 }, { type: 'softmax' }] }, { seed: 2 });
  const p = new StepProgram([link(a), link(b, false)], new Objective(1, 'sparse_categorical_crossentropy'));
  p.ensureCapacity(B);
  const rng = new Rng(3), x = rng.array(B * 6), y = Int32Array.from([0, 3, 2]);
  assert.ok(p.heads()[0].folded, 'the softmax is folded into the loss');
  fdCheck(p, () => { const s = p.slots(B); s.x.set(x); s.labels!.set(y); }, 'chain + softmax');
});

test('two weighted heads (mse 1 and 0.5) on a shared trunk: every parameter gradient matches finite differences', async () => {
  const m = await Model.create({
    input: [4], outputs: ['main', 'aux'], layers: [
      { type: 'dense', name: 'trunk', units: 6 }, { type: 'tanh', name: 't' },
      { type: 'dense', name: 'main', units: 3, inputs: ['t'] }, { type: 'dense', name: 'aux', units: 3, inputs: ['t'] },
    ],
  }, { seed: 4 });
  const p = new StepProgram([link(m)], new Objective(2, 'mse', [1, 0.5]));
  p.ensureCapacity(B);
  const rng = new Rng(5), x = rng.array(B * 4), t = rng.array(B * 3);
  fdCheck(p, () => { const s = p.slots(B); s.x.set(x); s.targets!.set(t); }, 'two heads');
});
