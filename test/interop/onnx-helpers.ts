// Shared by the ONNX tests: onnxruntime-web (the verifier, wasm in Node, one thread) and data in both layouts.
import * as ort from 'onnxruntime-web';
import * as onnxProto from 'onnx-proto';
import type { Model } from '../../src/api/model';
import { Rng } from '../helpers/rand';

ort.env.wasm.numThreads = 1;

/** Runs an .onnx file in onnxruntime-web on one input tensor; every output's values by name. */
export async function ortRun(bytes: Uint8Array, x: Float32Array, dims: number[], input = 'input'): Promise<Map<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const r = await s.run({ [input]: new ort.Tensor('float32', x, dims) });
  const out = new Map<string, Float32Array>();
  for (const k of s.outputNames) out.set(k, r[k].data as Float32Array);
  await s.release();
  return out;
}

/** [n, h, w, c] → [n, c, h, w]. */
export function toNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + i] = x[((b * h + y) * w + i) * c + k];
  return out;
}

/** [n, c, h, w] → [n, h, w, c]. */
export function toNhwc(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) out[((b * h + y) * w + i) * c + k] = x[((b * c + k) * h + y) * w + i];
  return out;
}

export const randomArray = (rng: Rng, n: number, lo = -1, hi = 1): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));

/** Every weight and batch-norm statistic drawn afresh (variances in [0.5, 1.5], gammas near 1), so batch norms are not identities. */
export function perturb(m: Model, seed: number): void {
  const rng = new Rng(seed), w = m.getWeights();
  for (const [name, t] of w) {
    const scale = name.endsWith('/kernel') ? Math.sqrt(3 / Math.max(1, t.data.length / t.shape[t.shape.length - 1])) : 0.2;
    for (let i = 0; i < t.data.length; i++) {
      t.data[i] = name.endsWith('/moving_variance') ? rng.uniform(0.5, 1.5) : name.endsWith('/gamma') ? rng.uniform(0.7, 1.3) : rng.uniform(-scale, scale);
    }
  }
  m.setWeights(w);
}

/** onnx-proto's namespace (a CommonJS module: its export sits on default under ESM). */
export const onnx = ((onnxProto as { onnx?: typeof onnxProto.onnx }).onnx ?? (onnxProto as unknown as { default: typeof onnxProto }).default.onnx);
