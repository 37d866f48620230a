// Caffe's NetParameter (a net .prototxt) → a rede model config, for training from scratch.
//
// Caffe wires layers by blob names (bottom → top; an in-place layer's top is its bottom); rede by layer names.
// The converter walks the TRAIN phase in file order, keeping for each blob the rede layer that last wrote it,
// and builds each rede layer as it goes (buildLayer), so shapes are rede's own and every option is checked.
// Layouts: Caffe is NCHW and rede NHWC; a net trained from scratch does not see the difference (weights are not
// imported here). What maps:
//   Convolution → conv2d      Pooling MAX/AVE → maxpool2d/avgpool2d (global AVE → globalavgpool2d)
//   InnerProduct → [flatten] + dense                 ReLU (negative_slope) / Sigmoid / TanH / Softmax / Dropout
//   LRN ACROSS_CHANNELS → lrn (α/local_size: Caffe divides α by the window, rede does not)
//   BatchNorm [+ Scale] → batchnorm (rede's has Scale's γ, β built in; momentum = 1 − moving_average_fraction)
//   Eltwise SUM → add    Concat (channels) → concat    Flatten → flatten
//   SoftmaxWithLoss → softmax + sparse cross-entropy (training folds the softmax into the loss)
//   Accuracy → the accuracy / topK metric              Data, Input, MemoryData → the data (see CaffeData)
// Anything else is an error listing every such layer at once.
import { RedeError, shapeStr } from '../../engine/errors';
import type { Shape } from '../../layers/layer';
import { buildLayer } from '../../layers/index';
import type { LayerConfig, ModelConfig } from '../../model/config';
import { weightName } from '../../model/weights';
import { Fields } from './fields';
import { parsePrototxt, type TextField } from './prototxt';

export type Phase = 'TRAIN' | 'TEST';

/** A data layer of one phase: where its examples come from, and Caffe's transform_param. */
export interface CaffeData {
  layer: string;
  type: 'Data' | 'Input' | 'MemoryData';
  /** data_param.source (an LMDB/LevelDB path in Caffe). */
  source?: string;
  batchSize?: number;
  /** [h, w, c] when the layer states it (Input, MemoryData). */
  shape?: [number, number, number];
  /** Caffe's x' = (x − mean)·scale, on the byte values 0..255. */
  scale: number;
  mean: number[];
  mirror: boolean;
  /** The blobs it writes: data, then label when there is one. */
  tops: string[];
}

export interface CaffeNetSpec {
  source: string;
  name?: string;
  train?: CaffeData;
  test?: CaffeData;
  /** The TRAIN phase's layers other than data layers, in file order. */
  layers: Fields[];
  /** Accuracy layers (any phase): their top_k. */
  accuracyTopK: number[];
}

export interface ConvertedNet {
  config: ModelConfig;
  metrics: ('accuracy' | `top${number}`)[];
  /**
   * Caffe's param { lr_mult, decay_mult } per rede weight (`conv1/kernel`, `conv1/bias`; Caffe's first param is
   * the weights, the second the bias, each 1 when not given): the solver's rate and weight_decay are multiplied
   * by them for that tensor (Caffe's local_rate and local_decay in SGDSolver::ApplyUpdate / Regularize).
   */
  params: Map<string, { lrMult: number; decayMult: number }>;
  /** What rede does differently from Caffe for this net (printed by the CLI, listed in docs/caffe.md). */
  notes: string[];
}

const SUPPORTED = ['Convolution', 'Pooling', 'InnerProduct', 'ReLU', 'Sigmoid', 'TanH', 'Softmax', 'SoftmaxWithLoss', 'Dropout',
  'LRN', 'BatchNorm', 'Scale', 'Eltwise', 'Concat', 'Flatten', 'Accuracy', 'Data', 'Input', 'MemoryData'];
const DATA_TYPES = ['Data', 'Input', 'MemoryData'];
const LAYER_FIELDS = ['name', 'type', 'bottom', 'top', 'phase', 'include', 'exclude', 'param', 'loss_weight', 'propagate_down',
  'transform_param', 'loss_param', 'data_param', 'input_param', 'memory_data_param', 'convolution_param', 'pooling_param',
  'inner_product_param', 'relu_param', 'sigmoid_param', 'tanh_param', 'softmax_param', 'dropout_param', 'lrn_param',
  'batch_norm_param', 'scale_param', 'eltwise_param', 'concat_param', 'flatten_param', 'accuracy_param'];

/** Reads a net prototxt: its phases' data layers and the TRAIN phase's layers; unsupported layers are one error. */
export function parseNet(text: string, source = 'net'): CaffeNetSpec {
  const net = new Fields(source, parsePrototxt(text, { source }), 'net');
  if (net.has('layers')) throw new RedeError(`${source}: net: this is Caffe's old V1 format ('layers' fields); convert it with Caffe's upgrade_net_proto_text, then use the 'layer' fields it writes`);
  net.only(['name', 'layer', 'input', 'input_shape', 'input_dim', 'force_backward', 'state', 'debug_info']);
  const spec: CaffeNetSpec = { source, name: net.string('name'), layers: [], accuracyTopK: [] };
  const unsupported: string[] = [];
  const netInputs = net.strings('input');
  if (netInputs.length > 1) throw new RedeError(`${source}: net: ${netInputs.length} net inputs; rede's models have one input`);
  if (netInputs.length === 1) {
    const dims = net.has('input_shape') ? net.messages('input_shape')[0].only(['dim']).numbers('dim', { integer: true, min: 1 }) : net.numbers('input_dim', { integer: true, min: 1 });
    const shape = chw(source, 'net input', dims);
    spec.train = spec.test = { layer: netInputs[0], type: 'Input', shape, scale: 1, mean: [], mirror: false, tops: [netInputs[0]] };
  }
  for (const layer of net.messages('layer', 'layer')) {
    const name = layer.string('name') ?? '(unnamed)';
    const l = new Fields(source, layer.fields, `layer '${name}'`);
    const type = l.string('type');
    if (type === undefined) throw new RedeError(`${source}: layer '${name}': type is required`);
    if (!SUPPORTED.includes(type)) { unsupported.push(`'${name}' (${type})`); continue; }
    l.only(LAYER_FIELDS);
    const inTrain = inPhase(l, 'TRAIN'), inTest = inPhase(l, 'TEST');
    if (type === 'Accuracy') {
      const a = l.message('accuracy_param');
      a?.only(['top_k', 'axis', 'ignore_label']);
      if (a?.has('ignore_label')) throw new RedeError(`${l.at(a.all('ignore_label')[0])}: ignore_label is not supported`);
      spec.accuracyTopK.push(a?.number('top_k', { integer: true, min: 1 }) ?? 1);
      continue;
    }
    if (DATA_TYPES.includes(type)) {
      const d = dataLayer(l, name, type as CaffeData['type']);
      for (const [phase, on] of [['train', inTrain], ['test', inTest]] as const) {
        if (!on) continue;
        if (spec[phase] && spec[phase]!.layer !== d.layer) throw new RedeError(`${source}: layer '${name}': a second ${phase.toUpperCase()} data layer (after '${spec[phase]!.layer}'); rede's models have one input`);
        spec[phase] = d;
      }
      continue;
    }
    if (inTrain) spec.layers.push(l);
  }
  if (unsupported.length) {
    throw new RedeError(`${source}: rede has no layer for ${unsupported.length === 1 ? 'this Caffe layer' : `these ${unsupported.length} Caffe layers`}: ${unsupported.join(', ')} (it converts ${SUPPORTED.join(', ')})`);
  }
  if (!spec.train) throw new RedeError(`${source}: net: no data layer in the TRAIN phase (Data, Input or MemoryData), so the input is unknown`);
  return spec;
}

function inPhase(l: Fields, phase: Phase): boolean {
  const rule = (r: Fields) => {
    r.only(['phase', 'min_level', 'max_level', 'stage', 'not_stage']);
    if (r.has('stage') || r.has('not_stage') || r.has('min_level') || r.has('max_level')) {
      throw new RedeError(`${l.source}: ${l.where}: include/exclude by stage or level is not supported (rede has the phases TRAIN and TEST)`);
    }
    return r.enum('phase', ['TRAIN', 'TEST'] as const);
  };
  const own = l.enum('phase', ['TRAIN', 'TEST'] as const);
  if (own !== undefined && own !== phase) return false;
  const inc = l.messages('include').map(rule), exc = l.messages('exclude').map(rule);
  if (inc.length && !inc.some((p) => p === undefined || p === phase)) return false;
  return !exc.some((p) => p === undefined || p === phase);
}

/** NCHW dims (N first) → [h, w, c]. */
function chw(source: string, what: string, dims: number[]): [number, number, number] {
  if (dims.length !== 4) throw new RedeError(`${source}: ${what}: shape must have 4 dims (N, C, H, W), got ${shapeStr(dims)}`);
  return [dims[2], dims[3], dims[1]];
}

function dataLayer(l: Fields, name: string, type: CaffeData['type']): CaffeData {
  const tops = l.strings('top');
  if (tops.length < 1 || tops.length > 2) throw new RedeError(`${l.source}: ${l.where}: a data layer writes data and optionally label (1 or 2 tops), got ${tops.length}`);
  const d: CaffeData = { layer: name, type, scale: 1, mean: [], mirror: false, tops };
  const t = l.message('transform_param');
  if (t) {
    t.only(['scale', 'mirror', 'crop_size', 'mean_file', 'mean_value', 'force_color', 'force_gray']);
    for (const unsupported of ['crop_size', 'mean_file', 'force_color', 'force_gray']) {
      if (t.has(unsupported)) throw new RedeError(`${t.at(t.all(unsupported)[0])}: transform_param ${unsupported} is not supported (rede reads scale, mean_value and mirror)`);
    }
    d.scale = t.number('scale', { min: 0, exclusiveMin: true }) ?? 1;
    d.mean = t.numbers('mean_value');
    d.mirror = t.bool('mirror') ?? false;
  }
  if (type === 'Data') {
    const p = l.message('data_param') ?? (() => { throw new RedeError(`${l.source}: ${l.where}: a Data layer needs data_param { source … }`); })();
    p.only(['source', 'batch_size', 'backend', 'rand_skip', 'prefetch', 'scale', 'mean_file', 'crop_size', 'mirror', 'force_encoded_color']);
    d.source = p.string('source') ?? (() => { throw new RedeError(`${l.source}: ${l.where}: data_param needs source`); })();
    d.batchSize = p.number('batch_size', { integer: true, min: 1 });
    if (p.has('scale')) d.scale = p.number('scale', { min: 0, exclusiveMin: true })!; // the deprecated place for it
  } else if (type === 'Input') {
    const p = l.message('input_param') ?? (() => { throw new RedeError(`${l.source}: ${l.where}: an Input layer needs input_param { shape { dim … } }`); })();
    const shapes = p.only(['shape']).messages('shape');
    if (shapes.length !== 1) throw new RedeError(`${l.source}: ${l.where}: rede's models have one input shape, got ${shapes.length}`);
    const dims = shapes[0].only(['dim']).numbers('dim', { integer: true, min: 1 });
    d.shape = chw(l.source, l.where, dims);
    d.batchSize = dims[0];
  } else {
    const p = l.message('memory_data_param') ?? (() => { throw new RedeError(`${l.source}: ${l.where}: a MemoryData layer needs memory_data_param`); })();
    p.only(['batch_size', 'channels', 'height', 'width']);
    const dim = (k: string) => p.number(k, { integer: true, min: 1 }) ?? (() => { throw new RedeError(`${l.source}: ${l.where}: memory_data_param needs ${k}`); })();
    d.batchSize = dim('batch_size');
    d.shape = [dim('height'), dim('width'), dim('channels')];
  }
  return d;
}

/** A pair from Caffe's (repeated v | v_h, v_w) convention, e.g. kernel_size or kernel_h + kernel_w. */
function pair(p: Fields, name: string, def: number | undefined, min: number): [number, number] | undefined {
  const list = p.numbers(name, { integer: true, min });
  const h = p.number(`${name.replace(/_size$/, '')}_h`, { integer: true, min }), w = p.number(`${name.replace(/_size$/, '')}_w`, { integer: true, min });
  if (h !== undefined || w !== undefined) {
    if (list.length) throw new RedeError(`${p.source}: ${p.where}: give ${name} or its _h and _w, not both`);
    if (h === undefined || w === undefined) throw new RedeError(`${p.source}: ${p.where}: ${name.replace(/_size$/, '')}_h and _w go together`);
    return [h, w];
  }
  if (list.length === 0) return def === undefined ? undefined : [def, def];
  if (list.length > 2) throw new RedeError(`${p.source}: ${p.where}: ${name} has ${list.length} values; rede's layers are 2-D (1 or 2 values)`);
  return [list[0], list[list.length - 1]];
}

const sq = (v: [number, number]): number | [number, number] => (v[0] === v[1] ? v[0] : v);

/** Converts the TRAIN phase to a config over an input of shape [h, w, c]. */
export function netToConfig(spec: CaffeNetSpec, inputShape: readonly number[]): ConvertedNet {
  const source = spec.source;
  const layers: LayerConfig[] = [];
  const shapes = new Map<string, Shape>([['input', [...inputShape]]]);
  /** blob → the rede layer that last wrote it ('input' for the data blob). */
  const blobs = new Map<string, string>();
  /** blob → how many rede layers have read its current version (fusing a ReLU needs none). */
  const reads = new Map<string, number>();
  const train = spec.train!;
  blobs.set(train.tops[0], 'input');
  const label = train.tops[1];
  const names = new Set(['input']);
  const out: ConvertedNet = { config: { name: spec.name, input: [...inputShape], layers }, metrics: [], params: new Map(), notes: [] };
  const notes = new Set<string>();
  let lossOn: string | undefined;

  const unique = (base: string) => {
    let n = base, i = 1;
    while (names.has(n)) n = `${base}_${i++}`;
    names.add(n);
    return n;
  };
  const add = (cfg: LayerConfig & { name: string }, l: Fields): string => {
    const inputs = cfg.inputs ?? [];
    try {
      const layer = buildLayer(cfg, inputs.map((i) => shapes.get(i)!));
      shapes.set(cfg.name, layer.outShape);
    } catch (e) {
      if (!(e instanceof RedeError)) throw e;
      throw new RedeError(`${source}: ${l.where} (${l.string('type')}): ${e.message}`);
    }
    layers.push(cfg);
    return cfg.name;
  };
  const bottoms = (l: Fields, n: number | 'many'): string[] => {
    const b = l.strings('bottom');
    if (n === 'many' ? b.length < 1 : b.length !== n) throw new RedeError(`${source}: ${l.where}: expected ${n === 'many' ? 'one or more' : n} bottom blob${n === 1 ? '' : 's'}, got ${b.length}`);
    return b.map((blob) => {
      if (blob === label) throw new RedeError(`${source}: ${l.where}: reads the label blob '${blob}'; only the loss and Accuracy may`);
      const node = blobs.get(blob);
      if (node === undefined) throw new RedeError(`${source}: ${l.where}: bottom '${blob}' is not written by an earlier TRAIN layer`);
      reads.set(blob, (reads.get(blob) ?? 0) + 1);
      return node;
    });
  };
  const top = (l: Fields, node: string) => {
    const t = l.strings('top');
    if (t.length !== 1) throw new RedeError(`${source}: ${l.where}: expected 1 top blob, got ${t.length}`);
    blobs.set(t[0], node);
    reads.set(t[0], 0);
  };
  const param = (l: Fields, name: string): Fields | undefined => {
    const p = l.message(name);
    return p;
  };
  const params = (l: Fields, node: string, hasBias: boolean) => {
    const ps = l.messages('param');
    ps.forEach((p) => p.only(['name', 'lr_mult', 'decay_mult', 'share_mode']));
    if (ps.some((p) => p.has('name'))) throw new RedeError(`${source}: ${l.where}: shared parameters (param { name }) are not supported`);
    const lr = ps.map((p) => p.number('lr_mult', { min: 0 }) ?? 1), decay = ps.map((p) => p.number('decay_mult', { min: 0 }) ?? 1);
    if (lr.some((m) => m === 0)) throw new RedeError(`${source}: ${l.where}: lr_mult 0 (a frozen parameter) is not supported; rede trains every parameter`);
    const blobs = hasBias ? 2 : 1;
    if (ps.length > blobs) throw new RedeError(`${source}: ${l.where}: ${ps.length} param blocks for ${blobs} parameter blob${blobs === 1 ? '' : 's'} (weights${hasBias ? ', bias' : ''})`);
    out.params.set(weightName(node, 'w'), { lrMult: lr[0] ?? 1, decayMult: decay[0] ?? 1 });
    if (hasBias) out.params.set(weightName(node, 'b'), { lrMult: lr[1] ?? 1, decayMult: decay[1] ?? 1 });
  };
  const filler = (l: Fields, p: Fields, fallback: string): string | undefined => {
    const w = p.message('weight_filler'), b = p.message('bias_filler');
    if (b) {
      b.only(['type', 'value', 'min', 'max', 'mean', 'std', 'sparse', 'variance_norm']);
      const t = b.string('type') ?? 'constant';
      // Caffe's constant filler (value 0 by default) is rede's bias init; anything else is not.
      if (t !== 'constant' || (b.number('value') ?? 0) !== 0) notes.add(`bias_filler ${t}${b.has('value') ? ` ${b.number('value')}` : ''}: rede starts biases at 0`);
    }
    if (!w) return undefined;
    w.only(['type', 'value', 'min', 'max', 'mean', 'std', 'sparse', 'variance_norm']);
    const t = w.string('type') ?? 'constant';
    // Caffe's fans (filler.hpp): fan_in = count / num = cin·kh·kw, fan_out = count / channels = cout·kh·kw, as rede's.
    const norm = w.enum('variance_norm', ['FAN_IN', 'FAN_OUT', 'AVERAGE'] as const) ?? 'FAN_IN';
    switch (t) {
      // xavier: U(±√(3/n)); n = fan_in (lecun_uniform), or (fan_in + fan_out)/2 (glorot_uniform's √(6/(fan_in+fan_out))).
      case 'xavier':
        if (norm === 'FAN_IN') return 'lecun_uniform';
        if (norm === 'AVERAGE') return 'glorot_uniform';
        break;
      // msra: N(0, 2/n); n = fan_in is he_normal.
      case 'msra':
        if (norm === 'FAN_IN') return 'he_normal';
        break;
      case 'constant': if ((w.number('value') ?? 0) === 0) return 'zeros'; break;
    }
    notes.add(`weight_filler ${t}${w.has('variance_norm') ? ` (variance_norm ${norm})` : ''}: not in rede; layer '${l.string('name')}' starts with rede's default (${fallback})`);
    return undefined;
  };

  for (let i = 0; i < spec.layers.length; i++) {
    const l = spec.layers[i];
    const type = l.string('type')!, name = unique(l.string('name') ?? type.toLowerCase());
    const only = (p: Fields | undefined, known: string[]) => p?.only(known);
    switch (type) {
      case 'Convolution': {
        const [inp] = bottoms(l, 1);
        const p = param(l, 'convolution_param') ?? (() => { throw new RedeError(`${source}: ${l.where}: needs convolution_param`); })();
        only(p, ['num_output', 'bias_term', 'pad', 'pad_h', 'pad_w', 'kernel_size', 'kernel_h', 'kernel_w', 'stride', 'stride_h', 'stride_w',
          'group', 'dilation', 'weight_filler', 'bias_filler', 'engine', 'axis', 'force_nd_im2col']);
        if ((p.number('axis') ?? 1) !== 1) throw new RedeError(`${source}: ${l.where}: convolution_param axis must be 1 (channels)`);
        const filters = p.number('num_output', { integer: true, min: 1 }) ?? (() => { throw new RedeError(`${source}: ${l.where}: convolution_param needs num_output`); })();
        const kernel = pair(p, 'kernel_size', undefined, 1) ?? (() => { throw new RedeError(`${source}: ${l.where}: convolution_param needs kernel_size`); })();
        const stride = pair(p, 'stride', 1, 1)!, pad = pair(p, 'pad', 0, 0)!;
        const dil = p.numbers('dilation', { integer: true, min: 1 });
        const useBias = p.bool('bias_term') ?? true;
        const init = filler(l, p, 'he_uniform / glorot_uniform');
        const cfg: LayerConfig & { name: string } = { type: 'conv2d', name, inputs: [inp], filters, kernel: sq(kernel), stride: sq(stride),
          padding: pad[0] === pad[1] ? pad[0] : [pad[0], pad[0], pad[1], pad[1]], groups: p.number('group', { integer: true, min: 1 }) ?? 1, useBias };
        if (dil.length) (cfg as { dilation?: number | [number, number] }).dilation = sq([dil[0], dil[dil.length - 1]]);
        if (init) (cfg as { init?: string }).init = init;
        params(l, add(cfg, l), useBias);
        top(l, name);
        break;
      }
      case 'Pooling': {
        const [inp] = bottoms(l, 1);
        const p = param(l, 'pooling_param') ?? new Fields(source, [], 'pooling_param');
        only(p, ['pool', 'pad', 'pad_h', 'pad_w', 'kernel_size', 'kernel_h', 'kernel_w', 'stride', 'stride_h', 'stride_w', 'engine', 'global_pooling', 'round_mode']);
        const pool = p.enum('pool', ['MAX', 'AVE', 'STOCHASTIC'] as const) ?? 'MAX';
        if (pool === 'STOCHASTIC') throw new RedeError(`${source}: ${l.where}: STOCHASTIC pooling is not in rede (it has MAX and AVE)`);
        const [h, w] = shapes.get(inp)!;
        if (p.bool('global_pooling')) {
          if (pool !== 'AVE') throw new RedeError(`${source}: ${l.where}: global MAX pooling is not in rede (it has global AVE pooling)`);
          // Caffe keeps a 1×1 map, rede's globalavgpool2d gives the vector: the same values in the same order.
          add({ type: 'globalavgpool2d', name, inputs: [inp] }, l);
          top(l, name);
          break;
        }
        const kernel = pair(p, 'kernel_size', undefined, 1) ?? (() => { throw new RedeError(`${source}: ${l.where}: pooling_param needs kernel_size (or global_pooling)`); })();
        const stride = pair(p, 'stride', 1, 1)!, pad = pair(p, 'pad', 0, 0)!;
        const ceil = (p.enum('round_mode', ['CEIL', 'FLOOR'] as const) ?? 'CEIL') === 'CEIL';
        // Caffe's pooled size: ceil((H + 2p − k)/s) + 1, less one when the last window starts in the padding.
        const caffeOut = (n: number, k: number, s: number, q: number) => {
          let o = (ceil ? Math.ceil((n + 2 * q - k) / s) : Math.floor((n + 2 * q - k) / s)) + 1;
          if (q > 0 && (o - 1) * s >= n + q) o--;
          return o;
        };
        const want = [caffeOut(h, kernel[0], stride[0], pad[0]), caffeOut(w, kernel[1], stride[1], pad[1])];
        const valid = [Math.floor((h - kernel[0]) / stride[0]) + 1, Math.floor((w - kernel[1]) / stride[1]) + 1];
        const same = [Math.ceil(h / stride[0]), Math.ceil(w / stride[1])];
        const sameTop = (n: number, k: number, s: number) => Math.floor(Math.max((Math.ceil(n / s) - 1) * s + k - n, 0) / 2);
        let padding: 'valid' | 'same';
        if (pad[0] === 0 && pad[1] === 0 && want[0] === valid[0] && want[1] === valid[1]) padding = 'valid';
        else if (want[0] === same[0] && want[1] === same[1] && pad[0] === sameTop(h, kernel[0], stride[0]) && pad[1] === sameTop(w, kernel[1], stride[1])) {
          padding = 'same';
          if (pool === 'AVE' && (pad[0] || pad[1])) notes.add('AVE pooling with padding: rede averages over the window inside the image, Caffe over the window clipped to the padded image');
        } else {
          throw new RedeError(`${source}: ${l.where}: Caffe pools ${h}×${w} to ${want.join('×')} (kernel ${kernel.join('×')}, stride ${stride.join('×')}, pad ${pad.join('×')}), ` +
            `which neither of rede's paddings gives (valid ${valid.join('×')}, same ${same.join('×')})`);
        }
        add({ type: pool === 'MAX' ? 'maxpool2d' : 'avgpool2d', name, inputs: [inp], pool: sq(kernel), stride: sq(stride), padding }, l);
        top(l, name);
        break;
      }
      case 'InnerProduct': {
        let [inp] = bottoms(l, 1);
        const p = param(l, 'inner_product_param') ?? (() => { throw new RedeError(`${source}: ${l.where}: needs inner_product_param`); })();
        only(p, ['num_output', 'bias_term', 'weight_filler', 'bias_filler', 'axis', 'transpose']);
        if ((p.number('axis') ?? 1) !== 1) throw new RedeError(`${source}: ${l.where}: inner_product_param axis must be 1`);
        if (p.bool('transpose')) throw new RedeError(`${source}: ${l.where}: inner_product_param transpose is not supported`);
        const units = p.number('num_output', { integer: true, min: 1 }) ?? (() => { throw new RedeError(`${source}: ${l.where}: inner_product_param needs num_output`); })();
        // Caffe's InnerProduct flattens its input itself (axis 1); rede's dense takes vectors.
        if (shapes.get(inp)!.length > 1) inp = add({ type: 'flatten', name: unique(`${name}_flatten`), inputs: [inp] }, l);
        const useBias = p.bool('bias_term') ?? true;
        const init = filler(l, p, 'he_uniform / glorot_uniform');
        const cfg: LayerConfig & { name: string } = { type: 'dense', name, inputs: [inp], units, useBias };
        if (init) (cfg as { init?: string }).init = init;
        params(l, add(cfg, l), useBias);
        top(l, name);
        break;
      }
      case 'ReLU': case 'Sigmoid': case 'TanH': {
        const [blob] = l.strings('bottom'), tops = l.strings('top');
        const [inp] = bottoms(l, 1);
        const slope = type === 'ReLU' ? (only(l.message('relu_param'), ['negative_slope', 'engine'])?.number('negative_slope') ?? 0) : 0;
        only(l.message('sigmoid_param'), ['engine']); only(l.message('tanh_param'), ['engine']);
        const act = type === 'ReLU' ? (slope ? 'leaky_relu' : 'relu') : type === 'Sigmoid' ? 'sigmoid' : 'tanh';
        // An in-place activation right after a conv/dense that nobody has read yet is fused into it.
        const producer = layers.find((x) => x.name === inp);
        if (tops.length === 1 && tops[0] === blob && reads.get(blob) === 1 && producer && (producer.type === 'conv2d' || producer.type === 'dense') && !('activation' in producer)) {
          (producer as { activation?: string }).activation = act;
          if (slope) (producer as { alpha?: number }).alpha = slope;
          reads.set(blob, 0);
          names.delete(name);
          break;
        }
        add(slope ? { type: 'leaky_relu', name, inputs: [inp], alpha: slope } : { type: act as 'relu' | 'sigmoid' | 'tanh', name, inputs: [inp] }, l);
        top(l, name);
        break;
      }
      case 'Softmax': {
        const [inp] = bottoms(l, 1);
        if ((only(l.message('softmax_param'), ['axis', 'engine'])?.number('axis') ?? 1) !== 1) throw new RedeError(`${source}: ${l.where}: softmax_param axis must be 1`);
        add({ type: 'softmax', name, inputs: [inp] }, l);
        top(l, name);
        break;
      }
      case 'Dropout': {
        const [inp] = bottoms(l, 1);
        const p = only(l.message('dropout_param'), ['dropout_ratio', 'scale_train']);
        if (p?.bool('scale_train') === false) throw new RedeError(`${source}: ${l.where}: dropout_param scale_train false is not supported (rede scales at training time)`);
        add({ type: 'dropout', name, inputs: [inp], rate: p?.number('dropout_ratio', { min: 0, max: 1 }) ?? 0.5 }, l);
        top(l, name);
        break;
      }
      case 'LRN': {
        const [inp] = bottoms(l, 1);
        const p = only(l.message('lrn_param'), ['local_size', 'alpha', 'beta', 'norm_region', 'k', 'engine']);
        if ((p?.enum('norm_region', ['ACROSS_CHANNELS', 'WITHIN_CHANNEL'] as const) ?? 'ACROSS_CHANNELS') !== 'ACROSS_CHANNELS') {
          throw new RedeError(`${source}: ${l.where}: LRN WITHIN_CHANNEL is not in rede (it has ACROSS_CHANNELS)`);
        }
        const size = p?.number('local_size', { integer: true, min: 1 }) ?? 5;
        if (size % 2 !== 1) throw new RedeError(`${source}: ${l.where}: lrn_param local_size must be odd, got ${size}`);
        add({ type: 'lrn', name, inputs: [inp], radius: (size - 1) / 2, alpha: (p?.number('alpha') ?? 1) / size, beta: p?.number('beta') ?? 0.75, bias: p?.number('k') ?? 1 }, l);
        top(l, name);
        break;
      }
      case 'BatchNorm': {
        const [inp] = bottoms(l, 1);
        const p = only(l.message('batch_norm_param'), ['use_global_stats', 'moving_average_fraction', 'eps']);
        if (p?.bool('use_global_stats') === true) throw new RedeError(`${source}: ${l.where}: use_global_stats true in the TRAIN phase (frozen statistics) is not supported`);
        const maf = p?.number('moving_average_fraction', { min: 0, max: 1 }) ?? 0.999;
        l.messages('param').forEach((q) => q.only(['name', 'lr_mult', 'decay_mult']));
        add({ type: 'batchnorm', name, inputs: [inp], momentum: 1 - maf, epsilon: p?.number('eps', { min: 0, exclusiveMin: true }) ?? 1e-5 }, l);
        top(l, name);
        // Caffe's BatchNorm has no γ, β: the Scale layer after it does. rede's batchnorm has them, so a Scale on
        // its output is absorbed; without one, γ and β still train (noted).
        const next = spec.layers[i + 1], t = l.strings('top')[0];
        if (next?.string('type') === 'Scale' && next.strings('bottom')[0] === t && next.strings('bottom').length === 1) {
          const s = only(next.message('scale_param'), ['axis', 'num_axes', 'filler', 'bias_term', 'bias_filler']);
          if (s?.bool('bias_term') !== true) notes.add("Scale without bias_term after BatchNorm: rede's batchnorm also learns the shift β");
          next.only(LAYER_FIELDS);
          const st = next.strings('top');
          if (st.length !== 1) throw new RedeError(`${source}: ${next.where}: expected 1 top blob, got ${st.length}`);
          blobs.set(st[0], name);
          reads.set(st[0], 0);
          i++;
        } else {
          notes.add('BatchNorm without a Scale after it: rede\'s batchnorm learns a scale γ and shift β (as BatchNorm + Scale)');
        }
        break;
      }
      case 'Scale':
        throw new RedeError(`${source}: ${l.where}: a Scale layer is converted only right after a BatchNorm on the same blob`);
      case 'Eltwise': {
        const ins = bottoms(l, 'many');
        const p = only(l.message('eltwise_param'), ['operation', 'coeff', 'stable_prod_grad']);
        const op = p?.enum('operation', ['PROD', 'SUM', 'MAX'] as const) ?? 'SUM';
        if (op !== 'SUM') throw new RedeError(`${source}: ${l.where}: Eltwise ${op} is not in rede (it has SUM)`);
        if ((p?.numbers('coeff') ?? []).some((k) => k !== 1)) throw new RedeError(`${source}: ${l.where}: Eltwise SUM with coefficients other than 1 is not supported`);
        add({ type: 'add', name, inputs: ins }, l);
        top(l, name);
        break;
      }
      case 'Concat': {
        const ins = bottoms(l, 'many');
        const p = only(l.message('concat_param'), ['axis', 'concat_dim']);
        if ((p?.number('axis') ?? p?.number('concat_dim') ?? 1) !== 1) throw new RedeError(`${source}: ${l.where}: Concat along an axis other than 1 (channels) is not supported`);
        add({ type: 'concat', name, inputs: ins }, l);
        top(l, name);
        break;
      }
      case 'Flatten': {
        const [inp] = bottoms(l, 1);
        const p = only(l.message('flatten_param'), ['axis', 'end_axis']);
        if ((p?.number('axis') ?? 1) !== 1 || (p?.number('end_axis') ?? -1) !== -1) throw new RedeError(`${source}: ${l.where}: only Flatten of axes 1 to -1 is supported`);
        add({ type: 'flatten', name, inputs: [inp] }, l);
        top(l, name);
        break;
      }
      case 'SoftmaxWithLoss': {
        const b = l.strings('bottom');
        if (b.length !== 2 || b[1] !== label) throw new RedeError(`${source}: ${l.where}: expected bottoms (scores, '${label ?? 'label'}') with the data layer's label, got ${b.join(', ') || 'none'}`);
        if (lossOn) throw new RedeError(`${source}: ${l.where}: a second loss (after one on '${lossOn}'); rede converts nets with one loss`);
        only(l.message('loss_param'), ['normalization', 'normalize']);
        only(l.message('softmax_param'), ['axis', 'engine']);
        const lw = l.numbers('loss_weight');
        if (lw.some((w) => w !== 1)) throw new RedeError(`${source}: ${l.where}: loss_weight other than 1 is not supported`);
        const node = blobs.get(b[0]);
        if (node === undefined) throw new RedeError(`${source}: ${l.where}: bottom '${b[0]}' is not written by an earlier TRAIN layer`);
        lossOn = b[0];
        add({ type: 'softmax', name, inputs: [node] }, l);
        break;
      }
      default:
        throw new RedeError(`${source}: ${l.where}: type ${type} is not converted`); // SUPPORTED and this switch disagree
    }
  }
  if (!lossOn) throw new RedeError(`${source}: net: no SoftmaxWithLoss layer in the TRAIN phase (rede converts classification nets)`);
  out.config.output = layers[layers.length - 1].name;
  // Inputs left implicit where a layer reads its predecessor (rede's default), so the config reads as Caffe's list.
  layers.forEach((cfg, j) => {
    const prev = j === 0 ? 'input' : layers[j - 1].name;
    if (cfg.inputs?.length === 1 && cfg.inputs[0] === prev) delete cfg.inputs;
  });
  if (layers[layers.length - 1].type !== 'softmax') throw new RedeError(`${source}: net: the loss must be the last TRAIN layer`);
  out.metrics = [...new Set(spec.accuracyTopK.map((k) => (k === 1 ? 'accuracy' : `top${k}`) as 'accuracy' | `top${number}`))];
  out.notes = [...notes];
  return out;
}

/** Rows for error messages: the layer types this converter reads. */
export const CAFFE_LAYERS: readonly string[] = SUPPORTED;

export type { TextField };
