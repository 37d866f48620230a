// Activation memory for a batch of examples (one plan per batch size), planned once: each value lives from the op that writes it to its last
// reader, and values whose lifetimes do not overlap share bytes. An op's scratch (im2col band, GEMM packing
// buffer, max pool's argmax) is a temporary alive during that op only, planned in the same pool (as
// TensorFlow Lite plans its kernels' temporaries), so it reuses bytes that no live value holds at that op.
// Placement is greedy by size (TensorFlow Lite's "greedy by size" arena planner): largest first, each at
// the lowest offset that does not collide with an already placed block alive at the same time. The model
// input lives until its last reader; the output until the end.
import { alignUp } from '../engine/plan';
import { opInputs, type Lowered } from './lower';

export interface ActivationPlan {
  /** Byte offset of each value in the pool (−1: never used). */
  offset: number[];
  /** Byte offset of each op's scratch in the pool (−1: the op asked for none). */
  tempOffset: number[];
  /** Bytes of the pool. */
  bytes: number;
  /** Per value: [first op that needs it (−1: the input), last op that reads it (ops.length: the output)]. */
  live: [number, number][];
  /** Most bytes alive at once over all ops, values and scratch (a lower bound for any plan). */
  peakLiveBytes: number;
  /** The sum of all value sizes (what one buffer per value would take). */
  naiveBytes: number;
}

/** `temps[i]`: bytes op i needs as scratch while it runs (missing or 0: none); values hold `batch` examples. */
export function planActivations(g: Lowered, temps: readonly number[] = [], batch = 1): ActivationPlan {
  const n = g.values.length, end = g.ops.length;
  const live: [number, number][] = g.values.map(() => [Infinity, -Infinity]);
  live[0] = [-1, -1];
  g.ops.forEach((op, i) => {
    for (const v of opInputs(op)) live[v][1] = Math.max(live[v][1], i);
    live[op.y][0] = Math.min(live[op.y][0], i);
    live[op.y][1] = Math.max(live[op.y][1], i);
  });
  live[g.output][1] = end;
  // Blocks 0..n−1 are the values, n + i the scratch of op i.
  const span: [number, number][] = [...live, ...g.ops.map((_, i): [number, number] => [i, i])];
  const bytes = [...g.values.map((v) => alignUp(v.floats * batch * 4)), ...g.ops.map((_, i) => alignUp(temps[i] ?? 0))];
  const used = (b: number): boolean => span[b][0] <= span[b][1] && bytes[b] > 0;
  const order = [...span.keys()].filter(used).sort((a, b) => bytes[b] - bytes[a] || a - b);
  const offset = new Array<number>(span.length).fill(-1);
  const placed: number[] = [];
  let pool = 0;
  for (const v of order) {
    // Placed blocks alive at the same time as v, by offset: take the first gap that fits.
    const clash = placed.filter((u) => span[u][0] <= span[v][1] && span[v][0] <= span[u][1]).sort((a, b) => offset[a] - offset[b]);
    let at = 0;
    for (const u of clash) {
      if (at + bytes[v] <= offset[u]) break;
      at = Math.max(at, offset[u] + bytes[u]);
    }
    offset[v] = at;
    placed.push(v);
    pool = Math.max(pool, at + bytes[v]);
  }
  let peakLiveBytes = 0;
  for (let i = -1; i <= end; i++) {
    let s = 0;
    for (const v of order) if (span[v][0] <= i && i <= span[v][1]) s += bytes[v];
    peakLiveBytes = Math.max(peakLiveBytes, s);
  }
  return {
    offset: offset.slice(0, n), tempOffset: offset.slice(n), bytes: pool, live, peakLiveBytes,
    naiveBytes: order.filter((b) => b < n).reduce((s, v) => s + bytes[v], 0),
  };
}
