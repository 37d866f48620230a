// Post-training quantization: a trained Model → a QuantizedModel (int8 weights per output channel, int8
// activations per tensor calibrated on examples, batch norm folded; src/quant/model.ts runs and saves it).
//   1. lower() folds batch norms and fuses ReLUs / residual adds (src/infer/lower.ts)
//   2. each conv / dense kernel is quantized per output channel (weights.ts); biases stay f32 until the int8
//      graph is built, where they become int32 at the input's and weight's scale (src/infer/qlower.ts)
//   3. the int8 lowering is run once with every node allowed, recording which nodes' outputs it quantizes
//      (quantizedNodes); those nodes and the input are observed over the calibration examples (calibrate.ts)
import { RedeError } from '../engine/errors';
import { checkOptions } from '../engine/options';
import { toExamples, type InputData } from '../data/input';
import { lower } from '../infer/lower';
import type { QWeights } from '../infer/qlower';
import type { Network } from '../model/network';
import type { Dataset } from '../data/dataset';
import type { ModelConfig } from '../model/config';
import { observeRanges, rangeParams, type CalibrationMethod } from './calibrate';
import { quantizeChannels } from './weights';
import { QuantizedModel, floatTensors, quantizedNodes, type QuantSpec } from './model';

export interface QuantizeOptions {
  /** Calibration examples used (default: all given, at most 1000). */
  examples?: number;
  /** 'minmax' (default) or 'percentile'. */
  method?: CalibrationMethod;
  /** The central share of values kept by 'percentile', in % (default 99.99). */
  percentile?: number;
  /** Symmetric activations (zero point 0) instead of asymmetric. Default false. */
  symmetric?: boolean;
}

const DEFAULT_EXAMPLES = 1000;

/** Quantizes a trained model, calibrating its activations on `calibration` (examples, or a Dataset's x). */
export function quantize(model: Network & { classNames?: string[] | null }, calibration: InputData | Dataset, options: QuantizeOptions = {}): QuantizedModel {
  const o = checkOptions<QuantizeOptions>('quantize', options, ['examples', 'method', 'percentile', 'symmetric']);
  const method = o.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile') throw new RedeError(`quantize: method must be 'minmax' or 'percentile', got ${JSON.stringify(o.method)}`);
  const percentile = o.percentile ?? 99.99;
  if (!(typeof percentile === 'number' && percentile > 50 && percentile <= 100)) throw new RedeError(`quantize: percentile must be a number in (50, 100], got ${o.percentile}`);
  const raw = isDataset(calibration) ? calibration.x : calibration;
  const { data, n: given } = toExamples('quantize', 'calibration', raw, model.graph.input);
  if (given < 1) throw new RedeError('quantize: calibration needs at least one example, got 0');
  const n = Math.min(given, o.examples ?? DEFAULT_EXAMPLES);
  if (o.examples !== undefined && !(Number.isInteger(o.examples) && o.examples >= 1)) throw new RedeError(`quantize: examples must be a positive integer, got ${o.examples}`);
  const config: ModelConfig = model.config;

  const g = lower(model);
  const weights: Record<string, QWeights> = {};
  for (const op of g.ops) {
    if (op.kind !== 'conv' && op.kind !== 'dense') continue;
    const { q, scale } = quantizeChannels(op.w, op.kind === 'conv' ? op.geo.cout : op.n);
    weights[op.name] = { q, scale, bias: op.b ? Float32Array.from(op.b) : null };
  }
  const nodes = quantizedNodes(g, (name) => weights[name]);
  const ranges = observeRanges(model, data, n, nodes, method, percentile);
  const names = model.graph.nodes.map((nd) => nd.layer.name);
  const spec: QuantSpec = {
    input: rangeParams(ranges.get(-1)!, !!o.symmetric),
    act: Object.fromEntries(nodes.map((i) => [names[i], rangeParams(ranges.get(i)!, !!o.symmetric)])),
    weights,
    float: Object.fromEntries([...floatTensors(g)].map(([key, t]) => [key, Float32Array.from(t.data)])),
    calibration: { method, ...(method === 'percentile' ? { percentile } : {}), examples: n, symmetric: !!o.symmetric },
  };
  return new QuantizedModel(config, spec, model.classNames ?? null);
}

function isDataset(x: unknown): x is Dataset {
  return typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) && !Array.isArray(x) && (x as Dataset).x instanceof Float32Array;
}
