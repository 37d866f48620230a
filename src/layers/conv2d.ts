// Conv2D over NHWC with HWIO weights: im2col + GEMM inside the kernel (assembly/conv.ts), then the activation
// (ReLU fused into the kernel; any other of ACTIVATIONS in place on y; softmax over channels, from a logits buffer).
//   x [b, h, w, cin]   w [kh, kw, cin/groups, filters]   bias [filters]   y [b, oh, ow, filters]
// backward: (dy ← dL/dpre from y) → db = Σ dy, dW (+)= colᵀ·dy, dx = col2im(dy·Wᵀ)
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { fans } from '../init';
import { convGeom, writeConvDesc, CONV_DESC_BYTES, type ConvGeom, type ConvGeomOptions, type ConvPadding } from '../ops/conv';
import { RECTIFIERS, epilogueBackward, epilogueCalls, epilogueOf, type ActivationName, type Epilogue } from './activation';
import { Layer, expectInputs, handles, type BufferDecl, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface Conv2DConfig {
  name: string; filters: number; kernel: number | [number, number]; stride?: number | [number, number];
  padding?: ConvPadding; dilation?: number | [number, number]; groups?: number; useBias?: boolean;
  activation?: ActivationName; alpha?: number; init?: Init; l1?: number; l2?: number;
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
  override readonly buf: Handles<'desc' | 'logits'>;
  readonly geo: ConvGeom;
  readonly useBias: boolean;
  readonly act: Epilogue;

  constructor(readonly cfg: Conv2DConfig, inShapes: readonly Shape[]) {
    const where = `conv2d '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if (!Number.isInteger(cfg.filters) || cfg.filters < 1) throw new RedeError(`${where}: filters must be a positive integer, got ${cfg.filters}`);
    const [kh, kw] = typeof cfg.kernel === 'number' ? [cfg.kernel, cfg.kernel] : cfg.kernel ?? [];
    const act = epilogueOf(where, cfg.activation, cfg.alpha);
    const geo = windowGeom(where, inShapes[0], { cout: cfg.filters, kh, kw, stride: cfg.stride, padding: cfg.padding ?? 'valid', dilation: cfg.dilation, groups: cfg.groups });
    super('conv2d', cfg.name, inShapes, [geo.oh, geo.ow, geo.cout]);
    this.geo = geo;
    this.useBias = cfg.useBias ?? true;
    this.p = handles('w', this.useBias && 'b');
    this.g = handles('w', this.useBias && 'b');
    this.act = act;
    this.buf = handles('desc', act.type === 'softmax' && 'logits');
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    const wShape = [kh, kw, geo.cin / geo.groups, geo.cout];
    const { fanIn, fanOut } = fans(wShape);
    this.params.push({ name: 'w', shape: wShape, init: cfg.init ?? (RECTIFIERS.includes(act.type) ? 'he_uniform' : 'glorot_uniform'), fanIn, fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: [geo.cout], init: 'zeros', fanIn, fanOut, regularize: false });
  }

  private geom(batch: number): ConvGeom { return { ...this.geo, n: batch }; }

  override flops(): number { const g = this.geo; return 2 * g.oh * g.ow * g.cout * g.kh * g.kw * (g.cin / g.groups); }
  override buffers(batch: number): BufferDecl[] {
    const g = this.geo, logits: BufferDecl[] = this.act.type === 'softmax' ? [{ name: 'logits', bytes: 4 * batch * g.oh * g.ow * g.cout }] : [];
    return [{ name: 'desc', bytes: CONV_DESC_BYTES, desc: true }, ...logits];
  }
  override logits(): number { return this.act.type === 'softmax' ? this.buf.logits : 0; }
  /** Whether the activation is a ReLU (fused into the conv kernel; the inference compiler's epilogue test). */
  get relu(): boolean { return this.act.type === 'relu'; }
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
    const g = this.geo, z = this.act.type === 'softmax' ? buf.logits : y;
    return [['conv2d_forward_f32', [this.desc(e, buf.desc, batch), x, p.w, this.useBias ? p.b : 0, z, this.relu ? 1 : 0, scratch]],
      ...(this.relu ? [] : epilogueCalls(this.act, batch * g.oh * g.ow, g.cout, z, y))];
  }

  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[], fromLogits = false): void {
    const { k } = s, g = this.geo, rows = s.batch * g.oh * g.ow, acc = s.accumulate ? 1 : 0, desc = this.desc(s.e, this.buf.desc, s.batch);
    if (!fromLogits) epilogueBackward(k, this.act, rows, g.cout, y, dy);
    if (this.useBias) k.bias_grad_f32(rows, g.cout, dy, this.g.b, acc);
    k.conv2d_backward_filter_f32(desc, x, dy, this.g.w, acc, s.scratch);
    if (dx) k.conv2d_backward_data_f32(desc, dy, this.p.w, dx, s.scratch);
  }

  config(): Record<string, unknown> { return { type: 'conv2d', ...this.cfg }; }
}
