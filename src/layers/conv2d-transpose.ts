// Conv2DTranspose (Keras / tfjs conv2dTranspose), NHWC, weights [kh, kw, filters, cin] (tfjs's
// [kh, kw, outC, inC]: the same bytes as the HWIO weights of the convolution it transposes).
//   x [b, h, w, cin]   w [kh, kw, filters, cin]   bias [filters]   y [b, oh, ow, filters]
// A transposed convolution is the data gradient of the convolution C from y's shape to x's shape
// (C: [oh, ow, filters] → [h, w, cin] with this kernel, stride and padding), so no kernel of its own:
//   forward   y = Cᵀ(x) (+ bias, activation) conv2d_backward_data with C's descriptor, dy := x, dx := y
//   backward  dx = C(dy)                    conv2d_forward
//             dW (+)= ∂⟨dy, Cᵀ(x)⟩/∂W        conv2d_backward_filter with C's input := dy, C's dy := x
//             db (+)= Σ dy                   bias_grad
// Output size, as Keras's deconv_output_length (dilation 1):
//   outputPadding unset:  valid → h·s + max(k − s, 0)    same → h·s
//   outputPadding p < s:  valid → (h − 1)·s + k + p       same → (h − 1)·s + k − 2·⌊k/2⌋ + p
// and C's padding is TensorFlow's for a convolution over oh rows ('same': the odd row at the bottom), which is
// how tf.nn.conv2d_transpose and tf.conv2dTranspose pad. Output padding needs nothing from the kernels: the
// extra rows are rows of C's input that no tap reads (valid) or C's bottom padding (same).
import type { Engine } from '../engine/engine';
import { RedeError } from '../engine/errors';
import { fans } from '../init';
import { convScratchBytes, writeConvDesc, CONV_DESC_BYTES, type ConvGeom } from '../ops/conv';
import { RECTIFIERS, epilogueBackward, epilogueCalls, epilogueOf, type ActivationName, type Epilogue } from './activation';
import { windowGeom } from './conv2d';
import { Layer, expectInputs, handles, type BufferDecl, type Call, type Handles, type Init, type Shape, type Site, type Step } from './layer';

export interface Conv2DTransposeConfig {
  name: string; filters: number; kernel: number | [number, number]; stride?: number | [number, number];
  padding?: 'same' | 'valid'; outputPadding?: number | [number, number]; useBias?: boolean;
  activation?: Exclude<ActivationName, 'softmax'>; alpha?: number; init?: Init; l1?: number; l2?: number;
}

const pairOf = (v: number | readonly number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** One axis's output length (Keras's deconv_output_length): input `n`, kernel k, stride s, output padding p. */
export function transposedLength(n: number, k: number, s: number, padding: 'same' | 'valid', p: number | undefined): number {
  if (p === undefined) return padding === 'valid' ? n * s + Math.max(k - s, 0) : n * s;
  return (n - 1) * s + k - (padding === 'same' ? 2 * Math.floor(k / 2) : 0) + p;
}

/**
 * The convolution a transposed convolution is the data gradient of, for one example: from [oh, ow, filters]
 * (its h, w, cin) to the layer's input [h, w, cin] (its oh, ow, cout). Throws RedeError naming `where`.
 */
export function transposedConvGeom(where: string, inShape: Shape, o: Omit<Conv2DTransposeConfig, 'name' | 'useBias' | 'activation' | 'alpha' | 'init' | 'l1' | 'l2'>): ConvGeom {
  if (inShape.length !== 3) throw new RedeError(`${where}: input must be [h, w, c] per example, got [${inShape.join(', ')}]`);
  if (!Number.isInteger(o.filters) || o.filters < 1) throw new RedeError(`${where}: filters must be a positive integer, got ${o.filters}`);
  const [kh, kw] = pairOf(o.kernel), [sh, sw] = pairOf(o.stride ?? 1);
  const padding = o.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') throw new RedeError(`${where}: padding must be 'same' or 'valid', got ${JSON.stringify(padding)}`);
  for (const [name, v] of [['kernel', [kh, kw]], ['stride', [sh, sw]]] as const) {
    if (!v.every((d) => Number.isInteger(d) && d >= 1)) throw new RedeError(`${where}: ${name} must be a positive integer or [h, w] of them, got ${JSON.stringify(o[name])}`);
  }
  const op = o.outputPadding === undefined ? undefined : pairOf(o.outputPadding);
  if (op) {
    for (const [axis, p, s] of [['rows', op[0], sh], ['columns', op[1], sw]] as const) {
      if (!Number.isInteger(p) || p < 0 || p >= s) {
        throw new RedeError(`${where}: outputPadding must be an integer >= 0 and below the stride (Keras's rule), got ${p} for the ${axis} with stride ${s}`);
      }
    }
  }
  const [h, w, cin] = inShape;
  const oh = transposedLength(h, kh, sh, padding, op?.[0]), ow = transposedLength(w, kw, sw, padding, op?.[1]);
  const given = `kernel ${kh}×${kw}, stride ${sh}×${sw}, padding '${padding}' and outputPadding ${JSON.stringify(o.outputPadding)}`;
  if (oh < 1 || ow < 1) throw new RedeError(`${where}: ${given} give an empty ${oh}×${ow} output for the ${h}×${w} input`); // e.g. 'same', even k, h = 1
  const g = windowGeom(where, [oh, ow, o.filters], { cout: cin, kh, kw, stride: [sh, sw], padding });
  if (g.oh !== h || g.ow !== w) {
    // 'same' with an even kernel and an explicit outputPadding: TensorFlow rejects these output shapes too.
    throw new RedeError(`${where}: ${given} give a ${oh}×${ow} output, whose convolution back is ${g.oh}×${g.ow}, not the ${h}×${w} input; leave outputPadding unset or use an odd kernel`);
  }
  return g;
}

export class Conv2DTranspose extends Layer {
  override readonly p: Handles<'w' | 'b'>;
  override readonly g: Handles<'w' | 'b'>;
  override readonly buf = handles('desc');
  /** The convolution transposed, for one example (its input is this layer's output). */
  readonly geo: ConvGeom;
  readonly filters: number;
  readonly useBias: boolean;
  /** The activation, applied in place after the bias (any but softmax: a softmax over channels is a layer of its own). */
  readonly act: Epilogue;

  constructor(readonly cfg: Conv2DTransposeConfig, inShapes: readonly Shape[]) {
    const where = `conv2d_transpose '${cfg.name}'`;
    expectInputs(where, inShapes, 1);
    if ((cfg.activation as string) === 'softmax') throw new RedeError(`${where}: activation 'softmax' is not fused here (a softmax over channels is a layer of its own)`);
    const act = epilogueOf(where, cfg.activation, cfg.alpha);
    const geo = transposedConvGeom(where, inShapes[0], cfg);
    super('conv2d_transpose', cfg.name, inShapes, [geo.h, geo.w, geo.cin]);
    this.geo = geo;
    this.filters = cfg.filters;
    this.useBias = cfg.useBias ?? true;
    this.p = handles('w', this.useBias && 'b');
    this.g = handles('w', this.useBias && 'b');
    this.act = act;
    this.l1 = cfg.l1 ?? 0; this.l2 = cfg.l2 ?? 0;
    // Keras's fans for this shape: fanIn = kh·kw·filters, fanOut = kh·kw·cin (its Conv2DTranspose does the same).
    const wShape = [geo.kh, geo.kw, geo.cin, geo.cout];
    const { fanIn, fanOut } = fans(wShape);
    this.params.push({ name: 'w', shape: wShape, init: cfg.init ?? (RECTIFIERS.includes(act.type) ? 'he_uniform' : 'glorot_uniform'), fanIn, fanOut, regularize: true });
    if (this.useBias) this.params.push({ name: 'b', shape: [this.filters], init: 'zeros', fanIn, fanOut, regularize: false });
  }

  /** Whether the activation is a ReLU. */
  get relu(): boolean { return this.act.type === 'relu'; }

  private geom(batch: number): ConvGeom { return { ...this.geo, n: batch }; }
  /** Output pixels of `batch` examples: the bias and ReLU run over [rows, filters]. */
  private rows(batch: number): number { return batch * this.geo.h * this.geo.w; }

  /** The same multiply-adds as the convolution it transposes. */
  override flops(): number { const g = this.geo; return 2 * g.oh * g.ow * g.cout * g.kh * g.kw * g.cin; }
  override buffers(): BufferDecl[] { return [{ name: 'desc', bytes: CONV_DESC_BYTES, desc: true }]; }
  override scratchBytes(e: Engine, batch: number): number { return convScratchBytes(e, this.geom(batch)); }
  private desc(e: Engine, at: number, batch: number): number {
    return this.descriptor(e, at, batch, () => writeConvDesc(e, at, this.geom(batch)));
  }

  forwardCalls({ e, batch, x: [x], y, p, buf, scratch }: Site<this>): Call[] {
    const rows = this.rows(batch), f = this.filters;
    const calls: Call[] = [['conv2d_backward_data_f32', [this.desc(e, buf.desc, batch), x, p.w, y, scratch]]];
    if (this.useBias) calls.push(['bias_add_f32', [rows, f, y, p.b, y]]);
    calls.push(...epilogueCalls(this.act, rows, f, y, y));
    return calls;
  }

  backward(s: Step, [x]: readonly number[], y: number, dy: number, [dx]: readonly number[]): void {
    const { k } = s, rows = this.rows(s.batch), f = this.filters, acc = s.accumulate ? 1 : 0, desc = this.desc(s.e, this.buf.desc, s.batch);
    epilogueBackward(k, this.act, rows, f, y, dy); // from y alone (see epilogueOf)
    if (this.useBias) k.bias_grad_f32(rows, f, dy, this.g.b, acc);
    k.conv2d_backward_filter_f32(desc, dy, x, this.g.w, acc, s.scratch);
    if (dx) k.conv2d_forward_f32(desc, dy, this.p.w, 0, dx, 0, s.scratch);
  }

  config(): Record<string, unknown> { return { type: 'conv2d_transpose', ...this.cfg }; }
}
