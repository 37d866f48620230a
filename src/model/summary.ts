// summary(): layer, output shape, parameters and FLOPs per layer, with totals — as Keras prints it. A layer's
// "Params" counts its trainable parameters and its non-trainable state (batch norm's running mean and
// variance), as Keras does; the totals split the two.
import { numelOf, type Layer, type Shape } from '../layers/layer';
import type { ModelConfig } from './config';

/** What a summary needs: a built graph's layers (a Model, or buildGraph's nodes — no memory needed). */
export interface Summarizable { config: ModelConfig; inputShape: Shape; layers: readonly Layer[] }

export interface SummaryRow {
  name: string;
  type: string;
  output: number[];
  /** trainable + nonTrainable. */
  params: number;
  /** Floats the optimizer updates (weights, biases, batch norm's gamma and beta). */
  trainable: number;
  /** Saved state no gradient reaches (batch norm's running statistics). */
  nonTrainable: number;
  flops: number;
}

export function summaryRows(m: Summarizable): SummaryRow[] {
  return m.layers.map((L) => {
    const params = L.params.reduce((s, p) => s + numelOf(p.shape), 0), state = L.state.reduce((s, st) => s + st.floats, 0);
    // A frozen layer's parameters count as non-trainable, as in Keras.
    const trainable = L.trainable ? params : 0, nonTrainable = state + (L.trainable ? 0 : params);
    return { name: L.name, type: L.type, output: [...L.outShape], params: trainable + nonTrainable, trainable, nonTrainable, flops: L.flops() };
  });
}

export function summaryText(m: Summarizable): string {
  const rows = summaryRows(m);
  const fmt = (n: number) => n.toLocaleString('en-US');
  const table = [['Layer (type)', 'Output shape', 'Params', 'FLOPs'],
    ...rows.map((r) => [`${r.name} (${r.type})`, `[${r.output.join(', ')}]`, fmt(r.params), fmt(r.flops)])];
  const w = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((s, c) => (c === 0 || c === 1 ? s.padEnd(w[c]) : s.padStart(w[c]))).join('   ');
  const sum = (k: 'params' | 'trainable' | 'nonTrainable' | 'flops') => rows.reduce((s, r) => s + r[k], 0);
  const sep = '-'.repeat(line(table[0]).length);
  return [
    `Model: ${m.config.name ?? 'model'}   input [${m.inputShape.join(', ')}]`, sep, line(table[0]), sep,
    ...table.slice(1).map(line), sep,
    `Total params: ${fmt(sum('params'))}`,
    `Trainable params: ${fmt(sum('trainable'))}`,
    `Non-trainable params: ${fmt(sum('nonTrainable'))}`,
    `FLOPs per example (forward): ${fmt(sum('flops'))}`,
  ].join('\n');
}
