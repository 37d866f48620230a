// What people pass as a model's input or labels, made into the Float32Array / Int32Array the kernels read: one
// conversion for predict, fit, evaluate, forward and InferenceModel.predict.
//   Float32Array                      used as it is (no copy): n examples back to back
//   any other typed array, number[]   copied into f32, values unchanged (a Uint8Array of pixels stays 0..255)
//   nested arrays, batch first        [n, ...shape]; [n, ...shape without its trailing 1] ([n, 28, 28] for an
//                                     input [28, 28, 1]); or [n, values per example]. Inner levels may be typed arrays.
// Every value must be finite. Errors name the call, what was given and what was expected.
import { RedeError, shapeStr } from '../engine/errors';
import { numel } from '../engine/tensor';

/** Any typed array of numbers (not BigInt64Array / BigUint64Array). */
export type NumericArray = Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;
/** Nested arrays of numbers, batch first; the innermost level may be a typed array. */
export type Nested = readonly (number | NumericArray | Nested)[];
/** A batch of examples in any of the accepted forms. */
export type InputData = NumericArray | readonly number[] | Nested;
/** Class labels (sparse losses) or float targets (dense losses), in the same forms. */
export type LabelData = InputData;

const isNumericView = (v: unknown): v is NumericArray =>
  ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);

/** Whether v is one of the accepted array forms (as opposed to a Dataset or an options object). */
export function isInputData(v: unknown): v is InputData { return Array.isArray(v) || isNumericView(v); }

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'string') return `'${v.length > 20 ? `${v.slice(0, 20)}...` : v}'`;
  if (typeof v === 'object') return (v as object).constructor?.name === 'Object' ? 'an object' : `a ${(v as object).constructor?.name ?? 'object'}`;
  return String(v);
};

/** The dims of nested arrays, from their first elements, then checked to be rectangular while flattening. */
function flattenNested(where: string, what: string, x: readonly unknown[]): { dims: number[]; data: Float32Array } {
  const dims: number[] = [];
  for (let cur: unknown = x; Array.isArray(cur) || isNumericView(cur); cur = (cur as ArrayLike<unknown>)[0]) {
    const len = (cur as ArrayLike<unknown>).length;
    if (len === 0) throw new RedeError(`${where}: ${what}${'[0]'.repeat(dims.length)} is empty`);
    dims.push(len);
  }
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  let at = 0;
  const walk = (v: unknown, level: number, path: string): void => {
    if (level === dims.length) {
      if (typeof v !== 'number') throw new RedeError(`${where}: ${what}${path} is ${describe(v)}, expected a number (${what} has shape ${shapeStr(dims)} from its first elements)`);
      data[at++] = v;
      return;
    }
    if (!(Array.isArray(v) || isNumericView(v))) throw new RedeError(`${where}: ${what}${path} is ${describe(v)}, expected an array of ${dims[level]} (${what} has shape ${shapeStr(dims)} from its first elements)`);
    const a = v as ArrayLike<unknown>;
    if (a.length !== dims[level]) throw new RedeError(`${where}: ${what}${path} has ${a.length} entries, expected ${dims[level]} like ${what}${'[0]'.repeat(level)} (ragged nested arrays)`);
    if (level === dims.length - 1 && isNumericView(a)) { data.set(a, at); at += a.length; return; }
    for (let i = 0; i < a.length; i++) walk(a[i], level + 1, `${path}[${i}]`);
  };
  walk(x, 0, '');
  return { dims, data };
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The nested shapes that hold n examples of `shape`: [n, ...shape], [n, ...shape minus a trailing 1], [n, numel]. */
function acceptedShapes(shape: readonly number[]): number[][] {
  const forms = [[...shape]];
  if (shape.length > 1 && shape[shape.length - 1] === 1) forms.push(shape.slice(0, -1));
  if (shape.length > 1) forms.push([numel(shape)]);
  return forms;
}

/**
 * x as n examples of `shape` in one Float32Array (x itself when it is one). `where` names the call (predict,
 * fit...), `what` the argument (x, input).
 */
export function toExamples(where: string, what: string, x: unknown, shape: readonly number[]): { data: Float32Array; n: number } {
  const per = numel(shape);
  let data: Float32Array;
  if (x instanceof Float32Array) data = x;
  else if (isNumericView(x)) data = Float32Array.from(x);
  else if (Array.isArray(x)) {
    if (x.length === 0) throw new RedeError(`${where}: ${what} is empty, expected examples of shape ${shapeStr(shape)}`);
    if (x.every((v) => typeof v === 'number')) data = Float32Array.from(x as number[]);
    else {
      const nested = flattenNested(where, what, x), forms = acceptedShapes(shape), [n, ...rest] = nested.dims;
      if (!forms.some((f) => same(rest, f))) {
        const one = forms.some((f) => same(nested.dims, f)) ? ' (one example? batch first: wrap it in [ ])' : '';
        throw new RedeError(`${where}: ${what} has shape ${shapeStr(nested.dims)}, expected ${forms.map((f) => `[n, ${f.join(', ')}]`).join(' or ')}${one}`);
      }
      if (nested.dims.length === 1) throw new RedeError(`${where}: ${what} has shape [${n}], expected examples of shape ${shapeStr(shape)}`);
      data = nested.data;
    }
  } else {
    throw new RedeError(`${where}: ${what} must be a Float32Array, another typed array, a number[] or nested arrays (batch first), got ${describe(x)}`);
  }
  if (data.length === 0 || data.length % per !== 0) {
    throw new RedeError(`${where}: ${what} has ${data.length} values, not a whole number of examples of shape ${shapeStr(shape)} (${per} values each)`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new RedeError(`${where}: ${what} value ${i} (example ${Math.floor(i / per)}) is ${data[i]}`);
  }
  return { data, n: data.length / per };
}

/**
 * y as n class labels (Int32Array; y itself when it is one): a typed array, number[] or nested [n] / [n, 1], each
 * an integer in [0, classes).
 */
export function toLabels(where: string, y: unknown, n: number, classes: number): Int32Array {
  let values: ArrayLike<number>;
  if (isNumericView(y) || (Array.isArray(y) && y.length > 0 && y.every((v) => typeof v === 'number'))) values = y as ArrayLike<number>;
  else if (Array.isArray(y) && y.length > 0) {
    const { dims, data } = flattenNested(where, 'y', y);
    if (!(dims.length === 2 && dims[1] === 1)) throw new RedeError(`${where}: y has shape ${shapeStr(dims)}, expected [${n}] class labels (or [${n}, 1])`);
    values = data;
  } else {
    throw new RedeError(`${where}: y must be class labels (an Int32Array, another typed array or a number[]), got ${Array.isArray(y) ? 'an empty array' : describe(y)}`);
  }
  if (values.length !== n) throw new RedeError(`${where}: y has ${values.length} values, expected ${n} (${n} examples × 1 label)`);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) throw new RedeError(`${where}: label of example ${i} is ${v}, expected an integer in [0, ${classes})`);
  }
  return y instanceof Int32Array ? y : Int32Array.from(values);
}
