// UpSampling2D (Keras): repeats (nearest) or interpolates (bilinear, half-pixel centers) by integer factors.
//   x [b, h, w, c] → y [b, h·sizeH, w·sizeW, c]; no parameters. Kernels and the coordinate rule: assembly/upsample.ts.
// Keras's layer resizes with tf.image.resize, whose bilinear uses half-pixel centers; tfjs-layers'
// upSampling2d calls resizeBilinear without them (a legacy mapping), so rede follows Keras.
import type { Engine } from '../engine/engine';
import { RedeError, shapeStr } from '../engine/errors';
import { UPSAMPLE_DESC_BYTES, writeUpsampleDesc } from '../engine/generated/abi';
import { Layer, expectInputs, handles, numelOf, type BufferDecl, type Call, type Shape, type Site, type Step } from './layer';

export type Interpolation = 'nearest' | 'bilinear';

export interface UpSampling2DConfig { name: string; size?: number | [number, number]; interpolation?: Interpolation }

export class UpSampling2D extends Layer {
  override readonly buf = handles('desc');
  readonly sizeH: number;
  readonly sizeW: number;
  readonly interpolation: Interpolation;

  constructor(readonly cfg: UpSampling2DConfig, inShapes: readonly Shape[]) {
    const where = `upsampling2d '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    const x = inShapes[0];
    if (x.length !== 3) throw new RedeError(`${where}: input must be [h, w, c] per example, got ${shapeStr(x)}`);
    const size = cfg.size ?? 2;
    const [sh, sw] = typeof size === 'number' ? [size, size] : size;
    for (const [axis, s] of [['size[0] (rows)', sh], ['size[1] (columns)', sw]] as const) {
      if (!Number.isInteger(s) || s < 1) throw new RedeError(`${where}: ${typeof size === 'number' ? 'size' : axis} must be a positive integer, got ${s}`);
    }
    const interpolation = cfg.interpolation ?? 'nearest';
    if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw new RedeError(`${where}: interpolation must be 'nearest' or 'bilinear', got '${String(interpolation)}'`);
    super('upsampling2d', cfg.name, inShapes, [x[0] * sh, x[1] * sw, x[2]]);
    this.sizeH = sh; this.sizeW = sw; this.interpolation = interpolation;
  }

  /** Per output value: one copy (nearest) or three lerps (bilinear, 2 flops each). */
  override flops(): number { return (this.interpolation === 'bilinear' ? 6 : 0) * numelOf(this.outShape); }
  override buffers(): BufferDecl[] { return [{ name: 'desc', bytes: UPSAMPLE_DESC_BYTES, desc: true }]; }

  private desc(e: Engine, at: number, batch: number): number {
    const [h, w, c] = this.inShapes[0];
    return this.descriptor(e, at, batch, () => writeUpsampleDesc(e, at, { n: batch, h, w, c, sizeH: this.sizeH, sizeW: this.sizeW }));
  }

  forwardCalls({ e, batch, x: [x], y, buf }: Site<this>): Call[] {
    const kernel = this.interpolation === 'bilinear' ? 'upsample_bilinear_forward_f32' : 'upsample_nearest_forward_f32';
    return [[kernel, [this.desc(e, buf.desc, batch), x, y]]];
  }

  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    const desc = this.desc(s.e, this.buf.desc, s.batch);
    if (this.interpolation === 'bilinear') s.k.upsample_bilinear_backward_f32(desc, dy, dx);
    else s.k.upsample_nearest_backward_f32(desc, dy, dx);
  }

  config(): Record<string, unknown> { return { type: 'upsampling2d', ...this.cfg }; }
}
