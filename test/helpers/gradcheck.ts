// Central finite differences against an analytic backward, in f32 memory with f64 sums.
// L = Σ y·r for a fixed random r; the backward under test receives dy = r and writes dL/dx.
// At kinks (ReLU at 0, max-pool ties) the two one-sided slopes disagree: such points are skipped,
// and the check fails if more than a quarter of the sampled points had to be skipped.
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine';
import { Rng } from './rand';

export interface GradInput { name: string; ptr: number; n: number; grad: number }

export interface GradCheck {
  e: Engine;
  inputs: GradInput[];
  /** Output region (n floats) and where the backward reads dy from. */
  y: { ptr: number; n: number };
  dy: number;
  forward: () => void;
  /** Must write (not accumulate, unless it zeroes first) every input's gradient. */
  backward: () => void;
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Points sampled per input (all if fewer). */
  samples?: number;
  seed?: number;
}

export function gradcheck(c: GradCheck): void {
  const { e } = c;
  const eps = c.eps ?? 1e-2, rtol = c.rtol ?? 2e-2, atol = c.atol ?? 2e-3;
  const rng = new Rng(c.seed ?? 7);
  const r = rng.array(c.y.n);
  const loss = (): number => {
    c.forward();
    const f = e.f32, y0 = c.y.ptr >>> 2;
    let s = 0;
    for (let i = 0; i < c.y.n; i++) s += f[y0 + i] * r[i];
    return s;
  };
  const L0 = loss();
  e.write(c.dy, r);
  c.backward();
  for (const inp of c.inputs) {
    const grad = e.read(inp.grad, inp.n);
    const count = Math.min(inp.n, c.samples ?? 64);
    let skipped = 0;
    for (let s = 0; s < count; s++) {
      const i = count === inp.n ? s : rng.int(0, inp.n);
      const xi = (inp.ptr >>> 2) + i;
      const x = e.f32[xi];
      e.f32[xi] = x + eps; const Lp = loss();
      e.f32[xi] = x - eps; const Lm = loss();
      e.f32[xi] = x;
      const right = (Lp - L0) / eps, left = (L0 - Lm) / eps;
      if (Math.abs(right - left) > 0.5 * (Math.abs(right) + Math.abs(left)) + 10 * atol) { skipped++; continue; }
      const fd = (Lp - Lm) / (2 * eps), g = grad[i];
      if (!(Math.abs(fd - g) <= atol + rtol * Math.max(Math.abs(fd), Math.abs(g)))) {
        assert.fail(`gradcheck ${inp.name}[${i}]: analytic ${g}, finite difference ${fd} (eps ${eps}, rtol ${rtol}, atol ${atol})`);
      }
    }
    assert.ok(skipped * 4 <= count, `gradcheck ${inp.name}: ${skipped} of ${count} points sit at kinks; choose inputs away from them`);
  }
  loss(); // leave the forward state as it was
}
