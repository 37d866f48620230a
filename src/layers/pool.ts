// Pooling over NHWC. Max pool keeps an argmax per output (i32) so backward is a scatter; average pool
// follows TensorFlow ('same' averages over the valid cells only). Padding is 'valid', 'same', or explicit
// ([top, bottom, left, right] or one number, as ONNX and Caffe files give it), each side smaller than the
// window so every window holds a pixel of the image; average pool then averages the cells inside the image.
//   x [b, h, w, c] → y [b, oh, ow, c];   global: x [b, h, w, c] → y [b, c]
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import type { ConvGeom, ConvPadding } from '../ops/conv';
import { POOL_DESC_BYTES, writePoolDesc } from '../engine/generated/abi';
import { windowGeom } from './conv2d';
import { Layer, expectInputs, expectRank, handles, numelOf, type BufferDecl, type Call, type Handles, type Shape, type Site, type Step } from './layer';

export interface PoolConfig { name: string; pool: number | [number, number]; stride?: number | [number, number]; padding?: ConvPadding }

abstract class Pool2D extends Layer {
  override readonly buf: Handles<'desc'> = handles('desc');
  readonly geo: ConvGeom;
  constructor(type: 'maxpool2d' | 'avgpool2d', readonly cfg: PoolConfig, inShapes: readonly Shape[]) {
    const where = `${type} '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    const [kh, kw] = typeof cfg.pool === 'number' ? [cfg.pool, cfg.pool] : cfg.pool ?? [];
    // Keras: the stride defaults to the window.
    const geo = windowGeom(where, inShapes[0], { cout: inShapes[0][2], kh, kw, stride: cfg.stride ?? [kh, kw], padding: cfg.padding ?? 'valid' });
    if (Math.max(geo.padTop, geo.padBottom) >= geo.kh || Math.max(geo.padLeft, geo.padRight) >= geo.kw) {
      throw new RedeError(`${where}: padding [${geo.padTop}, ${geo.padBottom}, ${geo.padLeft}, ${geo.padRight}] (top, bottom, left, right) must be smaller than the ${geo.kh}×${geo.kw} window on each side`);
    }
    super(type, cfg.name, inShapes, [geo.oh, geo.ow, geo.cin]);
    this.geo = geo;
  }
  override flops(): number { const g = this.geo; return g.oh * g.ow * g.cin * g.kh * g.kw; }
  override buffers(batch: number): BufferDecl[] { return [{ name: 'desc', bytes: POOL_DESC_BYTES, desc: true }, ...this.saved(batch)]; }
  /** What the subclass keeps from forward to backward. */
  protected saved(_batch: number): BufferDecl[] { return []; }
  /** The kernels' descriptor (geometry for `batch` examples) at `at`, written once per engine, address and batch. */
  protected desc(e: Engine, at: number, batch: number): number {
    const g = this.geo;
    return this.descriptor(e, at, batch, () => writePoolDesc(e, at, { n: batch, h: g.h, w: g.w, c: g.cin, kh: g.kh, kw: g.kw,
      strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow }));
  }
  config(): Record<string, unknown> { return { type: this.type, ...this.cfg }; }
}

export class MaxPool2D extends Pool2D {
  override readonly buf = handles('argmax', 'desc');
  constructor(cfg: PoolConfig, inShapes: readonly Shape[]) { super('maxpool2d', cfg, inShapes); }
  protected override saved(batch: number): BufferDecl[] { return [{ name: 'argmax', bytes: 4 * batch * numelOf(this.outShape) }]; }
  forwardCalls({ e, batch, x: [x], y, buf }: Site<this>): Call[] {
    return [['maxpool2d_forward_f32', [this.desc(e, buf.desc, batch), x, y, buf.argmax]]];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    s.k.maxpool2d_backward_f32(this.desc(s.e, this.buf.desc, s.batch), this.buf.argmax, dy, dx, 0);
  }
}

export class AvgPool2D extends Pool2D {
  constructor(cfg: PoolConfig, inShapes: readonly Shape[]) { super('avgpool2d', cfg, inShapes); }
  forwardCalls({ e, batch, x: [x], y, buf }: Site<this>): Call[] {
    return [['avgpool2d_forward_f32', [this.desc(e, buf.desc, batch), x, y]]];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    s.k.avgpool2d_backward_f32(this.desc(s.e, this.buf.desc, s.batch), dy, dx, 0);
  }
}

export class GlobalAvgPool2D extends Layer {
  constructor(readonly cfg: { name: string }, inShapes: readonly Shape[]) {
    const where = `globalavgpool2d '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    expectRank(where, inShapes[0], [3]);
    super('globalavgpool2d', cfg.name, inShapes, [inShapes[0][2]]);
  }
  override flops(): number { return numelOf(this.inShapes[0]); }
  forwardCalls({ batch, x: [x], y }: Site): Call[] {
    const [h, w, c] = this.inShapes[0];
    return [['global_avgpool_forward_f32', [batch, h * w, c, x, y]]];
  }
  backward(s: Step, _x: readonly number[], _y: number, dy: number, [dx]: readonly number[]): void {
    if (!dx) return;
    const [h, w, c] = this.inShapes[0];
    s.k.global_avgpool_backward_f32(s.batch, h * w, c, dy, dx, 0);
  }
  config(): Record<string, unknown> { return { type: 'globalavgpool2d', ...this.cfg }; }
}
