// Parameter initialization by declaration: the stream is the parameter's index in the model, so each
// tensor draws its own numbers from (seed, stream, element).
import { glorotNormal, glorotUniform, heNormal, heUniform, lecunUniform } from '../init';
import type { ParamDecl } from '../layers/layer';

export function initParam(out: Float32Array, d: ParamDecl, seed: number, stream: number): void {
  switch (d.init) {
    case 'zeros': out.fill(0); return;
    case 'ones': out.fill(1); return;
    case 'glorot_uniform': glorotUniform(out, d.fanIn, d.fanOut, seed, stream); return;
    case 'glorot_normal': glorotNormal(out, d.fanIn, d.fanOut, seed, stream); return;
    case 'he_uniform': heUniform(out, d.fanIn, d.fanOut, seed, stream); return;
    case 'he_normal': heNormal(out, d.fanIn, d.fanOut, seed, stream); return;
    case 'lecun_uniform': lecunUniform(out, d.fanIn, d.fanOut, seed, stream); return;
  }
}
