// A Dataset is plain data: N examples of shape [H, W, C] stored NHWC in one Float32Array, and N labels.
import { RedeError } from '../engine/errors';
import { permutation } from './rng';

export interface Dataset {
  /** N × H × W × C values, example-major (NHWC). */
  x: Float32Array;
  /** N labels, each in [0, classes). */
  y: Int32Array;
  /** [H, W, C] of one example. */
  shape: [number, number, number];
  classes: number;
  /** Optional class names, `classes` of them (a model fit on the dataset keeps them: Model.classNames). */
  classNames?: string[];
  /** Used in error messages, e.g. 'fashion-mnist train'. */
  name?: string;
}

export interface ChannelStats { mean: number[]; std: number[] }

const dsName = (ds: Dataset) => `dataset '${ds.name ?? 'unnamed'}'`;

/** Whether v is a Dataset (an object with x, y, shape and classes), not an array of examples. */
export function isDataset(v: unknown): v is Dataset {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const d = v as Partial<Dataset>;
  return d.x instanceof Float32Array && d.y instanceof Int32Array && Array.isArray(d.shape) && typeof d.classes === 'number';
}

/** Number of examples. */
export function numExamples(ds: Dataset): number {
  return ds.y.length;
}

/** Values per example, H·W·C. */
export function exampleSize(ds: Dataset): number {
  return ds.shape[0] * ds.shape[1] * ds.shape[2];
}

/** Build a dataset, checking that x holds y.length examples of `shape`. */
export function makeDataset(
  x: Float32Array, y: Int32Array, shape: [number, number, number], classes: number,
  extra: { classNames?: string[]; name?: string } = {},
): Dataset {
  const ds: Dataset = { x, y, shape, classes, ...extra };
  checkLayout(ds);
  return ds;
}

function checkLayout(ds: Dataset): void {
  const [h, w, c] = ds.shape;
  if (![h, w, c].every((d) => Number.isInteger(d) && d > 0)) {
    throw new RedeError(`${dsName(ds)}: shape must be [H, W, C] of positive integers, got [${ds.shape.join(', ')}]`);
  }
  if (!Number.isInteger(ds.classes) || ds.classes < 1) {
    throw new RedeError(`${dsName(ds)}: classes must be a positive integer, got ${ds.classes}`);
  }
  const expected = ds.y.length * h * w * c;
  if (ds.x.length !== expected) {
    throw new RedeError(`${dsName(ds)}: x has ${ds.x.length} values, expected ${ds.y.length} examples × ${h}×${w}×${c} = ${expected}`);
  }
  if (ds.classNames && ds.classNames.length !== ds.classes) {
    throw new RedeError(`${dsName(ds)}: ${ds.classNames.length} class names for ${ds.classes} classes`);
  }
}

/**
 * Check layout, labels and values: every label an integer in [0, classes), every value finite and, when
 * `range` is given, inside it. Errors name the example (and the pixel).
 */
export function validateDataset(ds: Dataset, range?: [number, number]): Dataset {
  checkLayout(ds);
  const [h, w, c] = ds.shape;
  const per = h * w * c;
  for (let n = 0; n < ds.y.length; n++) {
    const label = ds.y[n];
    if (label < 0 || label >= ds.classes) {
      throw new RedeError(`${dsName(ds)}: example ${n} has label ${label}, expected an integer in [0, ${ds.classes})`);
    }
  }
  const lo = range ? range[0] : -Infinity, hi = range ? range[1] : Infinity;
  for (let i = 0; i < ds.x.length; i++) {
    const v = ds.x[i];
    if (!(v >= lo && v <= hi) || !Number.isFinite(v)) {
      const n = Math.floor(i / per), r = i % per;
      const at = `(y ${Math.floor(r / (w * c))}, x ${Math.floor(r / c) % w}, channel ${r % c})`;
      const expected = range ? `a finite value in [${lo}, ${hi}]` : 'a finite value';
      throw new RedeError(`${dsName(ds)}: example ${n} pixel ${at} is ${v}, expected ${expected}`);
    }
  }
  return ds;
}

/** In place: x ← x / max (e.g. bytes 0..255 → [0, 1]). */
export function scaleToUnit(ds: Dataset, max = 255): Dataset {
  const s = 1 / max;
  for (let i = 0; i < ds.x.length; i++) ds.x[i] *= s;
  return ds;
}

/** Per-channel mean and (population) standard deviation over all examples and pixels (f64 sums). */
export function channelStats(ds: Dataset): ChannelStats {
  const c = ds.shape[2];
  const sum = new Float64Array(c), sq = new Float64Array(c);
  for (let i = 0; i < ds.x.length; i++) { const v = ds.x[i]; sum[i % c] += v; sq[i % c] += v * v; }
  const count = ds.x.length / c;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(0, s / count - mean[k] * mean[k])));
  return { mean, std };
}

/**
 * In place: x ← (x − mean[c]) / std[c]. Pass the training set's stats when standardizing a test set.
 * Returns the stats used. A zero std (constant channel) divides by 1 instead.
 */
export function standardize(ds: Dataset, stats: ChannelStats = channelStats(ds)): ChannelStats {
  const c = ds.shape[2];
  if (stats.mean.length !== c || stats.std.length !== c) {
    throw new RedeError(`standardize ${dsName(ds)}: stats have ${stats.mean.length} means and ${stats.std.length} stds, the data has ${c} channels`);
  }
  const inv = stats.std.map((s) => (s > 0 ? 1 / s : 1));
  for (let i = 0; i < ds.x.length; i++) ds.x[i] = (ds.x[i] - stats.mean[i % c]) * inv[i % c];
  return stats;
}

/** Examples [from, to) as views (no copy): writing to the subset writes to the original. */
export function subset(ds: Dataset, from: number, to = numExamples(ds)): Dataset {
  const n = numExamples(ds);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > n || from > to) {
    throw new RedeError(`subset of ${dsName(ds)}: range [${from}, ${to}) is not inside [0, ${n}]`);
  }
  const per = exampleSize(ds);
  return { ...ds, x: ds.x.subarray(from * per, to * per), y: ds.y.subarray(from, to) };
}

/** A copy holding the examples at `indices`, in that order. */
export function take(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const n = numExamples(ds), per = exampleSize(ds);
  const x = new Float32Array(indices.length * per), y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RedeError(`take from ${dsName(ds)}: index ${i} (position ${k}) is not in [0, ${n})`);
    }
    x.set(ds.x.subarray(i * per, (i + 1) * per), k * per);
    y[k] = ds.y[i];
  }
  return { ...ds, x, y, name };
}

/**
 * Seeded random split into copies: `first` gets `count` examples (or round(fraction·N) when 0 < count < 1),
 * `second` the rest. The same (dataset, count, seed) always gives the same split.
 */
export function split(ds: Dataset, count: number, seed: number): [first: Dataset, second: Dataset] {
  const n = numExamples(ds);
  const k = count > 0 && count < 1 ? Math.round(count * n) : count;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new RedeError(`split of ${dsName(ds)}: ${count} is neither a fraction in (0, 1) nor a count in [0, ${n}]`);
  }
  const order = permutation(new Int32Array(n), seed, 0x5b1e, 0);
  const name = ds.name ?? 'unnamed';
  return [take(ds, order.subarray(0, k), `${name} [split 1]`), take(ds, order.subarray(k), `${name} [split 2]`)];
}

/** Convert labelled bytes (e.g. IDX u8 pixels) to a dataset, scaling by 1/255 unless `scale` is false. */
export function fromBytes(
  pixels: ArrayLike<number>, labels: ArrayLike<number>, shape: [number, number, number], classes: number,
  opts: { scale?: boolean; classNames?: string[]; name?: string } = {},
): Dataset {
  const d = opts.scale === false ? 1 : 255;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i] / d;
  return makeDataset(x, Int32Array.from(labels), shape, classes, { classNames: opts.classNames, name: opts.name });
}
