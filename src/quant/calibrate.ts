// Activation ranges for post-training quantization: the trained model runs (inference mode) over calibration
// examples and each observed node's output is summarized, then a range becomes int8 parameters.
//   minmax      the observed [min, max]
//   percentile  the central `percentile` % of the values: a second pass fills a 2048-bin histogram over
//               [min, max] per node, and the range is cut at the (100 − p)/2 % quantiles on either side
//               (outliers no longer stretch the scale of every other value).
// A range always includes 0 (so real 0 — ReLU's floor, padding — is exact). Asymmetric: scale = (hi − lo)/255,
// zero = round(−128 − lo/scale); symmetric: zero = 0, scale = max(|lo|, |hi|)/127.
import { numelOf } from '../layers/layer';
import type { Network } from '../model/network';
import type { QParams } from '../infer/qops';

export type CalibrationMethod = 'minmax' | 'percentile';

const BINS = 2048;
/** Examples per forward pass while calibrating. */
const CHUNK = 32;

export interface Range { lo: number; hi: number }

/** Ranges of the model input (node −1) and of `nodes`' outputs over the n examples of x. */
export function observeRanges(model: Network, x: Float32Array, n: number, nodes: number[], method: CalibrationMethod, percentile: number): Map<number, Range> {
  const per = numelOf(model.graph.input);
  const sizes = new Map(nodes.map((i) => [i, numelOf(model.graph.nodes[i].layer.outShape)]));
  /** Calls visit(node, values) for the input and every observed node, chunk by chunk. */
  const pass = (visit: (node: number, v: Float32Array) => void): void => {
    for (let i = 0; i < n; i += CHUNK) {
      const b = Math.min(CHUNK, n - i), xb = x.subarray(i * per, (i + b) * per);
      visit(-1, xb);
      model.forward(xb);
      const f = model.e.f32;
      for (const node of nodes) {
        const at = model.act[node] >>> 2;
        visit(node, f.subarray(at, at + b * sizes.get(node)!));
      }
    }
  };
  const mm = new Map<number, Range>();
  pass((node, v) => {
    const r = mm.get(node) ?? { lo: Infinity, hi: -Infinity };
    for (let i = 0; i < v.length; i++) { const a = v[i]; if (a < r.lo) r.lo = a; if (a > r.hi) r.hi = a; }
    mm.set(node, r);
  });
  if (method === 'minmax') return mm;
  const hist = new Map<number, Float64Array>([...mm.keys()].map((k) => [k, new Float64Array(BINS)]));
  pass((node, v) => {
    const { lo, hi } = mm.get(node)!, h = hist.get(node)!, w = (hi - lo) / BINS || 1;
    for (let i = 0; i < v.length; i++) h[Math.min(BINS - 1, Math.max(0, Math.floor((v[i] - lo) / w)))]++;
  });
  const out = new Map<number, Range>();
  const tail = (100 - percentile) / 200;
  for (const [node, { lo, hi }] of mm) {
    const h = hist.get(node)!, total = h.reduce((s, c) => s + c, 0), w = (hi - lo) / BINS;
    let acc = 0, a = 0, b = BINS - 1;
    for (; a < BINS; a++) { acc += h[a]; if (acc > tail * total) break; }
    acc = 0;
    for (; b >= 0; b--) { acc += h[b]; if (acc > tail * total) break; }
    out.set(node, { lo: Math.min(lo + a * w, hi), hi: Math.max(lo + (b + 1) * w, lo) });
  }
  return out;
}

/** int8 parameters of a range (see the header); a range of only zeros gets scale 1. */
export function rangeParams({ lo, hi }: Range, symmetric: boolean): QParams {
  const l = Math.min(lo, 0), h = Math.max(hi, 0);
  if (symmetric) {
    const m = Math.max(-l, h);
    return { scale: m > 0 ? m / 127 : 1, zero: 0 };
  }
  if (!(h - l > 0)) return { scale: 1, zero: 0 };
  const scale = (h - l) / 255;
  return { scale, zero: Math.max(-128, Math.min(127, Math.round(-128 - l / scale))) };
}
