// Conv2D over NHWC with HWIO weights: im2col + GEMM inside the kernel (assembly/conv.ts), optional fused ReLU.
//   x [b, h, w, cin]   w [kh, kw, cin/groups, filters]   bias [filters]   y [b, oh, ow, filters]
// backward: (ReLU mask on dy) → db = Σ dy, dW (+)= colᵀ·dy, dx = col2im(dy·Wᵀ)
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { fans } from '../init';
import { convGeom, writeConvDesc, CONV_DESC_BYTES, type ConvGeom, type ConvGeomOptions, type ConvPadding } from '../ops/conv';
import { Layer, expectInputs, handles, type BufferDecl, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface Conv2DConfig {
  name: string; filters: number; kernel: number | [number, number]; stride?: number | [number, number];
  padding?: ConvPadding; dilation?: number | [number, number]; groups?: number; useBias?: boolean;
  activation?: 'linear' | 'relu'; init?: Init; l1?: number; l2?: number;
}

/** Resolves a window geometry for one example, re-raising errors with the layer's name. */
export function windowGeom(where: string, inShape: Shape, o: Omit<ConvGeomOptions, 'n' | 'h' | 'w' | 'cin'>): ConvGeom {
  if (inShape.length !== 3) throw new RedeError(`${where}: input must be [h, w, c] per example, got [${inShape.join(', ')}]`);
  try {
    return convGeom({ n: 1, h: inShape[0], w: inShape[1], cin: inShape[2], ...o });
  } catch (e) {
    throw new RedeError(`${where}: ${(e as Error).message}`);
  }
}

export class Conv2D extends Layer {
  override readonly p: Handles<'w' | 'b'>;
  override readonly g: Handles<'w' | 'b'>;
  override readonly buf = handles('desc');
  readonly geo: ConvGeom;
  readonly useBias: boolean;
  readonly relu: boolean;

  constructor(readonly cfg: Conv2DConfig, inShapes: readonly Shape[]) {
    const where = `conv2d '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (!Number.isInteger(cfg.filters) || cfg.filters < 1) throw new RedeError(`${where}: filters must be a positive integer, got ${cfg.filters}`);
    const [kh, kw] = typeof cfg.kernel === 'number' ? [cfg.kernel, cfg.kernel] : cfg.kernel ?? [];
    if (cfg.activation !== undefined && cfg.activation !== 'linear' && cfg.activation !== 'relu') throw new RedeError(`${where}: activation must be 'linear' or 'relu' (other activations are layers of their own), got '${cfg.activation}'`);
    const geo = windowGeom(where, inShapes[0], { cout: cfg.filters, kh, kw, stride: cfg.stride, padding: cfg.padding ?? 'valid', dilation: cfg.dilation, groups: cfg.groups });
    super('conv2d', cfg.name, inShapes, [geo.oh, geo.ow, geo.cout]);
    this.geo = geo;
    this.useBias = cfg.useBias ?? true;
    this.p = handles('w', this.useBias && 'b');
    this.g = handles('w', this.useBias && 'b');
    this.relu = cfg.activation === 'relu';
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    const wShape = [kh, kw, geo.cin / geo.groups, geo.cout];
    const { fanIn, fanOut } = fans(wShape);
    this.params.push({ name: 'w', shape: wShape, init: cfg.init ?? (this.relu ? 'he_uniform' : 'glorot_uniform'), fanIn, fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: [geo.cout], init: 'zeros', fanIn, fanOut, regularize: false });
  }

  private geom(batch: number): ConvGeom { return { ...this.geo, n: batch }; }

  override flops(): number { const g = this.geo; return 2 * g.oh * g.ow * g.cout * g.kh * g.kw * (g.cin / g.groups); }
  override buffers(): BufferDecl[] { return [{ name: 'desc', bytes: CONV_DESC_BYTES, desc: true }]; }
  /** The kernel owns the tiling, so it tells the scratch size from a descriptor in memory. */
  override scratchBytes(e: Engine, batch: number): number {
    const mark = e.mark(), d = e.reserve(CONV_DESC_BYTES, 'conv descriptor');
    writeConvDesc(e, d, this.geom(batch));
    const bytes = e.k.conv2d_scratch_bytes(d);
    e.release(mark);
    return bytes;
  }
  /** The descriptor for `batch` examples at `at`, written once per engine, address and batch. */
  private desc(e: Engine, at: number, batch: number): number {
    return this.descriptor(e, at, batch, () => writeConvDesc(e, at, this.geom(batch)));
  }

  /** Direct conv (inference specializes convs: im2col + packed GEMM, src/infer/model.ts). */
  forwardCalls({ e, batch, x: [x], y, p, buf, scratch }: Site<this>): Call[] {
    return [['conv2d_forward_f32', [this.desc(e, buf.desc, batch), x, p.w, this.useBias ? p.b : 0, y, this.relu ? 1 : 0, scratch]]];
  }

  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    const { k } = s, g = this.geo, rows = s.batch * g.oh * g.ow, acc = s.accumulate ? 1 : 0, desc = this.desc(s.e, this.buf.desc, s.batch);
    if (this.relu) k.relu_backward_f32(rows * g.cout, y, dy, dy); // y > 0 exactly where the pre-activation is
    if (this.useBias) k.bias_grad_f32(rows, g.cout, dy, this.g.b, acc);
    k.conv2d_backward_filter_f32(desc, x, dy, this.g.w, acc, s.scratch);
    if (dx) k.conv2d_backward_data_f32(desc, dy, this.p.w, dx, s.scratch);
  }

  config(): Record<string, unknown> { return { type: 'conv2d', ...this.cfg }; }
}
