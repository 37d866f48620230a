// Seeded weight initializers. Element i of a tensor is drawn from the counter hash of (seed, stream, i),
// so the result does not depend on how initialization is split across workers; `stream` tells the
// tensors of one model apart (e.g. the layer index).
//
// Glorot & Bengio (2010): Var = 2 / (fanIn + fanOut).  He et al. (2015): Var = 2 / fanIn.  LeCun (1998): Var = 1 / fanIn.
// Uniform on [-L, L] has Var = L² / 3, hence L = sqrt(6 / (fanIn + fanOut)), sqrt(6 / fanIn) and sqrt(3 / fanIn).
// The normal variants are plain (not truncated) normals with those variances.
import { RedeError } from './engine/errors';
import { normalAt, uniform01 } from './data/rng';

function checkFans(what: string, fanIn: number, fanOut: number): void {
  if (!(fanIn > 0) || !(fanOut > 0) || !Number.isFinite(fanIn) || !Number.isFinite(fanOut)) {
    throw new RedeError(`${what}: fanIn and fanOut must be positive, got fanIn=${fanIn}, fanOut=${fanOut}`);
  }
}

function fillUniform(out: Float32Array, limit: number, seed: number, stream: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = limit * (2 * uniform01(seed, stream, i, 0) - 1);
  return out;
}

function fillNormal(out: Float32Array, std: number, seed: number, stream: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = std * normalAt(seed, stream, i);
  return out;
}

/** Uniform on ±sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(out: Float32Array, fanIn: number, fanOut: number, seed: number, stream = 0): Float32Array {
  checkFans('glorotUniform', fanIn, fanOut);
  return fillUniform(out, Math.sqrt(6 / (fanIn + fanOut)), seed, stream);
}

/** Normal with std sqrt(2 / (fanIn + fanOut)). */
export function glorotNormal(out: Float32Array, fanIn: number, fanOut: number, seed: number, stream = 0): Float32Array {
  checkFans('glorotNormal', fanIn, fanOut);
  return fillNormal(out, Math.sqrt(2 / (fanIn + fanOut)), seed, stream);
}

/** Uniform on ±sqrt(6 / fanIn) (fanOut is accepted for a uniform signature and checked, not used). */
export function heUniform(out: Float32Array, fanIn: number, fanOut: number, seed: number, stream = 0): Float32Array {
  checkFans('heUniform', fanIn, fanOut);
  return fillUniform(out, Math.sqrt(6 / fanIn), seed, stream);
}

/**
 * Uniform on ±sqrt(3 / fanIn): Keras's lecun_uniform, and Caffe's `xavier` filler in its default
 * variance_norm FAN_IN (Caffe's fan_in, count / num_output, is kh·kw·cin/groups as here).
 */
export function lecunUniform(out: Float32Array, fanIn: number, fanOut: number, seed: number, stream = 0): Float32Array {
  checkFans('lecunUniform', fanIn, fanOut);
  return fillUniform(out, Math.sqrt(3 / fanIn), seed, stream);
}

/** Normal with std sqrt(2 / fanIn). */
export function heNormal(out: Float32Array, fanIn: number, fanOut: number, seed: number, stream = 0): Float32Array {
  checkFans('heNormal', fanIn, fanOut);
  return fillNormal(out, Math.sqrt(2 / fanIn), seed, stream);
}

/**
 * Fans of a weight shape: dense [in, out] → (in, out); conv HWIO [kh, kw, cin/groups, cout] →
 * (kh·kw·cin/groups, kh·kw·cout), as Keras computes them.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  if (shape.length >= 3) {
    let receptive = 1;
    for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i];
    return { fanIn: receptive * shape[shape.length - 2], fanOut: receptive * shape[shape.length - 1] };
  }
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  throw new RedeError(`fans: a weight shape needs at least one dimension, got []`);
}
