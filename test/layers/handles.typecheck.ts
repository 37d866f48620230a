// Type-level test of typed layer handles: `npm run typecheck` checks this file (tsconfig includes test/);
// nothing runs it. Each @ts-expect-error must meet an error on its next line: if a layer's handles accepted
// any name (as a string-keyed record does), the directive would be unused (TS2578) and the typecheck fails.
import type { Conv2D } from '../../src/layers/conv2d';
import { Dense } from '../../src/layers/dense';
import type { Layer } from '../../src/layers/layer';
import type { BatchNorm } from '../../src/layers/norm';
import type { MaxPool2D } from '../../src/layers/pool';
import type { Conv2DTranspose } from '../../src/layers/conv2d-transpose';
import type { UpSampling2D } from '../../src/layers/upsampling';

/** The brief's case: a misspelled handle inside a layer's own forward. */
export class MisspelledDense extends Dense {
  weight(): number {
    // @ts-expect-error: dense declares w and b
    return this.p.wt;
  }
}

export function declaredNamesOnly(d: Dense, c: Conv2D, bn: BatchNorm, mp: MaxPool2D): number[] {
  // The declared names type-check as addresses.
  const ok: number[] = [d.p.w, d.p.b, d.g.w, d.g.b, c.p.w, c.g.b, c.buf.desc, bn.p.gamma, bn.g.beta,
    bn.s.running_mean, bn.s.running_var, bn.buf.mean, bn.buf.invstd, mp.buf.argmax];
  // @ts-expect-error: gradients have the parameters' names
  ok.push(d.g.wt);
  // @ts-expect-error: conv2d declares w and b
  ok.push(c.p.weights);
  // @ts-expect-error: conv2d's only buffer is desc
  ok.push(c.buf.argmax);
  // @ts-expect-error: batchnorm's state is running_mean and running_var
  ok.push(bn.s.running_men);
  // @ts-expect-error: batchnorm's buffers are mean and invstd
  ok.push(bn.buf.var);
  // @ts-expect-error: batchnorm has no state named like its parameters
  ok.push(bn.s.gamma);
  // @ts-expect-error: maxpool2d's buffer is argmax
  ok.push(mp.buf.argmx);
  return ok;
}

export function generativeLayers(t: Conv2DTranspose, u: UpSampling2D): number[] {
  const ok: number[] = [t.p.w, t.p.b, t.g.w, t.g.b, t.buf.desc, u.buf.desc];
  // @ts-expect-error: conv2d_transpose declares w and b (its kernel is w, as conv2d's)
  ok.push(t.p.kernel);
  // @ts-expect-error: upsampling2d's only buffer is desc
  ok.push(u.buf.argmax);
  return ok;
}

export function bindOnlyThroughLayer(d: Dense, bn: BatchNorm, L: Layer): void {
  // @ts-expect-error: handles are read-only; the model binds them with bindParam (checked)
  d.p.w = 1024;
  // @ts-expect-error: bindState, not a write (step.ts's running statistics)
  bn.s.running_mean = 1024;
  // @ts-expect-error: nor through the generic view
  L.buf['argmax'] = 1024;
  // @ts-expect-error: nor by replacing the whole set
  L.s = {};
  // Generic code (persist, lower, monitor) reads any layer's handles by declared name.
  const n: number = L.p[L.params[0].name] + L.s['running_mean'];
  d.bindParam('w', n);
}
