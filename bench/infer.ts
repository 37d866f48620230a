// Inference benchmark: batch-1 latency of ResNet-18 and VGG-16 at 224×224×3 and ResNet-20 at 32×32×3, rede's
// InferenceModel (1 and 2 threads; f32 — and f32 with Winograd off, 'rede-gemm' —, and int8 after post-training quantization: docs/int8.md) against @tensorflow/tfjs-backend-wasm (XNNPACK; 1 and 2 threads: tfjs turns threads off in Node,
// bench/lib.ts loadTfjsWasm turns them back on) and onnxruntime-web (1 and 2 threads), same configs, random
// weights, same run.
//   npm run bench:infer                      table: median ms, ratio to rede 1 thread, peak RSS per runner,
//                                            and rede's arena by part against weights + 2 largest + 1 band
//   npm run bench:infer -- --json            one JSON object per line (bench/lib.ts)
//   ... -- --filter=resnet18 --quick         one model, fewer samples
// The int8 runners quantize a model with the same kind of random weights (He init, identity batch norms),
// calibrated on one random input; their 'speedup_vs_f32' rows divide rede f32's median by int8's at the same
// thread count, both from the same interleaved samples. The ort-int8 runners run that same int8 model (rede's
// integers and scales) exported as a QDQ ONNX graph (src/interop/onnx/int8.ts), which onnxruntime-web fuses into
// its int8 kernels; their 'speedup_vs_f32' rows divide ort-web f32's median by ort-int8's.
// Each runner lives in its own child process (so its peak RSS is its own) and loads its model before any
// timing starts; samples are then taken round-robin, one runner at a time (the others idle on their
// message port), so load from other processes falls on all runners alike. The peers get the graph rede
// runs after folding (conv + bias [+ residual] + ReLU; no batch norm left), built from the same lowering:
// tfjs as fused conv2d / matMul ops, onnxruntime-web as an ONNX model (NCHW) written with onnx-proto.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildGraph } from '../src/model/graph';
import type { ModelConfig } from '../src/model/config';
import { numelOf } from '../src/layers/layer';
import { InferenceModel, type InferenceMemory } from '../src/infer/model';
import { lowerGraph, type Lowered, type WeightSource } from '../src/infer/lower';
import { resnet18 } from '../src/zoo/resnet';
import { vgg16 } from '../src/zoo/vgg';
import { resnet20 } from '../src/zoo/small';
import { Model } from '../src/api/model';
import { quantize } from '../src/quant/index';
import { exportOnnxInt8 } from '../src/interop/onnx/int8';
import { benchHeader, headerText } from '../src/bench/header';
import { headerRows } from '../src/bench/rows';
import { parseBenchArgs, median, loadTfjsWasm, printJsonRow, formatTable, fmt, randomWeights, type BenchRow } from './lib';
import { Rng } from '../test/helpers/rand';
import { tfjsGraph } from '../test/helpers/tfjs-graph';

const MODELS: Record<string, () => ModelConfig> = { resnet18: () => resnet18(), vgg16: () => vgg16(), resnet20: () => resnet20([32, 32, 3]) };
const RUNNERS = ['rede:1', 'rede:2', 'rede-gemm:1', 'rede-gemm:2', 'rede-int8:1', 'rede-int8:2', 'tfjs-wasm:1', 'tfjs-wasm:2', 'ort-web:1', 'ort-web:2', 'ort-int8:1', 'ort-int8:2'] as const;
type Runner = (typeof RUNNERS)[number];
const PEER_NAME: Record<string, string> = { rede: 'rede', 'rede-gemm': 'rede', 'rede-int8': 'rede', 'tfjs-wasm': '@tensorflow/tfjs-backend-wasm', 'ort-web': 'onnxruntime-web', 'ort-int8': 'onnxruntime-web' };

// ---- child side: one runner ---------------------------------------------------------------------------

type Run = () => void | Promise<void>;

/** rede's arena by part (sent with the runner's stats). */
let arena: InferenceMemory | null = null;

/** rede f32; winograd false: its stride-1 3×3 convs as im2col + GEMM too (the 'rede-gemm' runners: the A/B of Winograd). */
async function redeRunner(g: Lowered, threads: number, winograd = true): Promise<Run> {
  const inf = await InferenceModel.fromLowered(g, { workers: threads, winograd });
  arena = inf.memory;
  const config = { input: g.values[0].shape };
  const x = new Rng(5).array(numelOf(config.input), 0, 1);
  return () => { inf.predict(x); };
}

/** rede int8: a model with random weights quantized (calibrated on a few random inputs), then compiled. */
async function redeInt8Runner(config: ModelConfig, threads: number): Promise<Run> {
  const m = await Model.create(config, { seed: 1 });
  const per = numelOf(config.input);
  const inf = await quantize(m, new Rng(7).array(per, 0, 1)).compile({ workers: threads });
  arena = inf.memory;
  const x = new Rng(5).array(per, 0, 1);
  return () => { inf.predict(x); };
}

/** onnxruntime-web int8: the rede-int8 runner's model (same seed, same calibration) as a QDQ ONNX graph. */
async function ortInt8Runner(config: ModelConfig, threads: number): Promise<Run> {
  const m = await Model.create(config, { seed: 1 });
  const per = numelOf(config.input), [h, w, c] = config.input;
  const bytes = exportOnnxInt8(quantize(m, new Rng(7).array(per, 0, 1)));
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Rng(5).array(per, 0, 1), [1, c, h, w]) };
  return async () => { await session.run(feeds); };
}

async function tfjsRunner(g: Lowered, threads: number): Promise<Run> {
  const tf = await loadTfjsWasm(threads);
  const net = tfjsGraph(tf, g);
  const [h, w, c] = g.values[0].shape;
  const x = tf.tensor4d(new Rng(5).array(h * w * c, 0, 1), [1, h, w, c]);
  return async () => {
    const y = tf.tidy(() => net.forward(x));
    await y.data();
    y.dispose();
  };
}

/** The same graph as an ONNX model (NCHW), weights as initializers. */
async function onnxModel(g: Lowered): Promise<Uint8Array> {
  const mod = await import('onnx-proto');
  const onnx = (mod.onnx ?? (mod as unknown as { default: typeof mod }).default.onnx);
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [], inits: InstanceType<typeof onnx.TensorProto>[] = [];
  const name = (v: number) => `v${v}`;
  let uid = 0;
  const init = (data: Float32Array, dims: number[]): string => {
    const n = `w${uid++}`;
    inits.push(onnx.TensorProto.create({ name: n, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
    return n;
  };
  const ints = (n: string, v: number[]) => onnx.AttributeProto.create({ name: n, ints: v, type: onnx.AttributeProto.AttributeType.INTS });
  const int = (n: string, v: number) => onnx.AttributeProto.create({ name: n, i: v, type: onnx.AttributeProto.AttributeType.INT });
  const node = (opType: string, input: string[], output: string[], attribute: InstanceType<typeof onnx.AttributeProto>[] = []) =>
    nodes.push(onnx.NodeProto.create({ opType, input, output, attribute, name: `n${nodes.length}` }));
  /** rank of each value in the ONNX graph (4: NCHW, 2: [1, features]) */
  const rank = new Map<number, number>([[0, 4]]);
  const tmp = () => `t${uid++}`;
  /** y = [res +] t, then [ReLU], into name(out) */
  const tail = (t: string, res: number, relu: boolean, out: number) => {
    let cur = t;
    if (res >= 0) { const s = relu ? tmp() : name(out); node('Add', [cur, name(res)], [s]); cur = s; }
    if (relu) node('Relu', [cur], [name(out)]);
    else if (cur !== name(out)) node('Identity', [cur], [name(out)]);
  };
  /** The benchmarked models' convs and dense layers end in a ReLU or nothing: other activations are not mapped. */
  const onlyRelu = (a: { type: string }, opName: string): boolean => {
    if (a.type !== 'relu' && a.type !== 'linear') throw new Error(`bench: activation ${a.type} of '${opName}' not mapped for ONNX`);
    return a.type === 'relu';
  };
  for (const op of g.ops) {
    switch (op.kind) {
      case 'conv': {
        const relu = onlyRelu(op.act, op.name);
        const o = op.geo, W = init(op.w, [o.cout, o.cin / o.groups, o.kh, o.kw]); // random values: the layout only sets shapes
        const ins = [name(op.x), W, ...(op.b ? [init(op.b, [o.cout])] : [])];
        const t = op.res < 0 && !relu ? name(op.y) : tmp();
        node('Conv', ins, [t], [ints('kernel_shape', [o.kh, o.kw]), ints('strides', [o.strideH, o.strideW]),
          ints('pads', [o.padTop, o.padLeft, o.padBottom, o.padRight]), ints('dilations', [o.dilationH, o.dilationW]), int('group', o.groups)]);
        if (t !== name(op.y)) tail(t, op.res, relu, op.y);
        rank.set(op.y, 4);
        break;
      }
      case 'dense': {
        const relu = onlyRelu(op.act, op.name);
        let a = name(op.x);
        if (rank.get(op.x) !== 2) { a = tmp(); node('Flatten', [name(op.x)], [a], [int('axis', 1)]); }
        const ins = [a, init(op.w, [op.k, op.n]), ...(op.b ? [init(op.b, [op.n])] : [])];
        const t = op.res < 0 && !relu ? name(op.y) : tmp();
        node('Gemm', ins, [t]);
        if (t !== name(op.y)) tail(t, op.res, relu, op.y);
        rank.set(op.y, 2);
        break;
      }
      case 'maxpool': case 'avgpool': {
        const o = op.geo;
        node(op.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', [name(op.x)], [name(op.y)], [ints('kernel_shape', [o.kh, o.kw]),
          ints('strides', [o.strideH, o.strideW]), ints('pads', [o.padTop, o.padLeft, o.padBottom, o.padRight])]);
        rank.set(op.y, 4);
        break;
      }
      case 'gap': { const t = tmp(); node('GlobalAveragePool', [name(op.x)], [t]); node('Flatten', [t], [name(op.y)], [int('axis', 1)]); rank.set(op.y, 2); break; }
      case 'add': { const t = tmp(); node('Sum', op.xs.map(name), [t]); tail(t, -1, op.relu, op.y); rank.set(op.y, rank.get(op.xs[0])!); break; }
      case 'concat': node('Concat', op.xs.map(name), [name(op.y)], [int('axis', 1)]); rank.set(op.y, 4); break;
      case 'act': node(op.type === 'relu' ? 'Relu' : op.type === 'sigmoid' ? 'Sigmoid' : 'Tanh', [name(op.x)], [name(op.y)]); rank.set(op.y, rank.get(op.x)!); break;
      case 'softmax': node('Softmax', [name(op.x)], [name(op.y)]); rank.set(op.y, 2); break;
      default: throw new Error(`bench: op ${op.kind} not mapped for ONNX`);
    }
  }
  const [h, w, c] = g.values[0].shape;
  const tensorType = (dims: number[]) => onnx.TypeProto.create({ tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } });
  const graph = onnx.GraphProto.create({
    name: 'bench', node: nodes, initializer: inits,
    input: [onnx.ValueInfoProto.create({ name: name(0), type: tensorType([1, c, h, w]) })],
    output: [onnx.ValueInfoProto.create({ name: name(g.output), type: tensorType([1, g.values[g.output].floats]) })],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'rede-bench', graph });
  return onnx.ModelProto.encode(model).finish();
}

async function ortRunner(g: Lowered, threads: number): Promise<Run> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  const bytes = await onnxModel(g);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const [h, w, c] = g.values[0].shape;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Rng(5).array(h * w * c, 0, 1), [1, c, h, w]) };
  return async () => { await session.run(feeds); };
}

async function child(runner: Runner, modelName: string): Promise<void> {
  const config = MODELS[modelName]();
  const [kind, t] = runner.split(':'), threads = Number(t);
  let run: Run;
  // Every runner starts from the same lowered graph and weights (no training Model in the process).
  const g = lowerGraph(buildGraph(config), randomWeights(1));
  run = kind === 'rede' || kind === 'rede-gemm' ? await redeRunner(g, threads, kind === 'rede') : kind === 'rede-int8' ? await redeInt8Runner(config, threads) : kind === 'tfjs-wasm' ? await tfjsRunner(g, threads)
    : kind === 'ort-int8' ? await ortInt8Runner(config, threads) : await ortRunner(g, threads);
  // Warm-up: first calls compile and allocate, and V8 tiers the wasm up; onnxruntime needs a few more.
  const w0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - w0 < 1500; i++) await run();
  (globalThis as { gc?: () => void }).gc?.();
  process.on('message', async (m: { cmd: string; reps?: number }) => {
    if (m.cmd === 'time') {
      const times: number[] = [];
      for (let r = 0; r < (m.reps ?? 1); r++) { const t0 = performance.now(); await run(); times.push(performance.now() - t0); }
      process.send!({ times });
    } else if (m.cmd === 'stats') {
      process.send!({ maxRss: process.resourceUsage().maxRSS * 1024, rss: process.memoryUsage().rss, arena });
    }
  });
  process.send!({ ready: true });
}

// ---- parent side: spawn, interleave, report ----------------------------------------------------------

function ask<T>(c: ChildProcess, msg: object): Promise<T> {
  return new Promise((res, rej) => {
    const onMsg = (m: T) => { c.off('exit', onExit); res(m); };
    const onExit = (code: number) => { c.off('message', onMsg); rej(new Error(`runner exited with code ${code}`)); };
    c.once('message', onMsg); c.once('exit', onExit);
    if (Object.keys(msg).length) c.send(msg);
  });
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const os = await import('node:os');
  const header = await benchHeader();
  if (!args.json) console.log(headerText(header));
  const rows: BenchRow[] = [];
  const table: string[][] = [];
  const arenaLines: string[] = [];
  const samples = args.quick ? 3 : 9;
  for (const modelName of Object.keys(MODELS).filter((n) => n.includes(args.filter))) {
    const kids = new Map<Runner, ChildProcess>();
    const failed = new Map<Runner, string>();
    for (const r of RUNNERS) {
      const c = fork(fileURLToPath(import.meta.url), ['--child', r, modelName], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let err = '';
      c.stderr!.on('data', (d) => { err += d; });
      try { await ask<{ ready: boolean }>(c, {}); kids.set(r, c); } catch (e) { failed.set(r, `${(e as Error).message}: ${err.trim().split('\n').slice(-3).join(' | ')}`); }
    }
    // Reps per sample so that a sample spans ~300 ms, from one timed call each.
    const reps = new Map<Runner, number>();
    for (const [r, c] of kids) {
      const { times } = await ask<{ times: number[] }>(c, { cmd: 'time', reps: 1 });
      reps.set(r, Math.max(1, Math.round(300 / times[0])));
    }
    const per = new Map<Runner, number[]>([...kids.keys()].map((r) => [r, []]));
    for (let s = 0; s < samples; s++) {
      for (const [r, c] of kids) {
        // A pause first: a thread pool that spins after its last call (onnxruntime's) settles before the next runner.
        await new Promise((res) => setTimeout(res, 150));
        const { times } = await ask<{ times: number[] }>(c, { cmd: 'time', reps: reps.get(r) });
        per.get(r)!.push(median(times));
      }
    }
    const stats = new Map<Runner, { maxRss: number; rss: number; arena: InferenceMemory | null }>();
    for (const [r, c] of kids) { stats.set(r, await ask(c, { cmd: 'stats' })); c.kill(); }
    for (const t of [1, 2]) {
      const f = per.get(`rede:${t}` as Runner), q = per.get(`rede-int8:${t}` as Runner);
      if (f?.length && q?.length) arenaLines.push(`${modelName} int8 vs f32, ${t} thread(s): ${fmt(median(f), 2)} ms / ${fmt(median(q), 2)} ms = ${fmt(median(f) / median(q), 2)}× (same interleaved samples)`);
      const of = per.get(`ort-web:${t}` as Runner), oq = per.get(`ort-int8:${t}` as Runner);
      if (of?.length && oq?.length) arenaLines.push(`${modelName} onnxruntime-web int8 vs f32, ${t} thread(s): ${fmt(median(of), 2)} ms / ${fmt(median(oq), 2)} ms = ${fmt(median(of) / median(oq), 2)}×`);
      if (q?.length && oq?.length) arenaLines.push(`${modelName} int8, ${t} thread(s): onnxruntime-web ${fmt(median(oq), 2)} ms / rede ${fmt(median(q), 2)} ms = ${fmt(median(oq) / median(q), 2)}×`);
    }
    const base = per.has('rede:1') ? median(per.get('rede:1')!) : null;
    for (const r of RUNNERS) {
      const [kind, t] = r.split(':');
      const ms = per.has(r) ? median(per.get(r)!) : null;
      const st = stats.get(r);
      const size = MODELS[modelName]().input[0];
      const common = { bench: 'infer', case: `${modelName}_${size}_b1`, peer: PEER_NAME[kind], variant: kind === 'rede' ? 'relaxed-simd' : kind === 'rede-gemm' ? 'relaxed-simd-no-winograd' : kind === 'rede-int8' || kind === 'ort-int8' ? 'int8' : 'wasm-simd', threads: Number(t) };
      rows.push({ ...common, metric: 'latency', value: ms, unit: 'ms', ...(failed.has(r) ? { note: failed.get(r) } : {}) });
      const f32 = per.get(`${kind === 'ort-int8' ? 'ort-web' : 'rede'}:${t}` as Runner);
      if ((kind === 'rede-int8' || kind === 'ort-int8') && ms && f32?.length) rows.push({ ...common, metric: 'speedup_vs_f32', value: median(f32) / ms, unit: 'x' });
      rows.push({ ...common, metric: 'peak_rss', value: st ? st.maxRss / 2 ** 20 : null, unit: 'MiB' });
      table.push([`${modelName} ${r}`, fmt(ms), ms && base ? fmt(ms / base, 2) : 'n/a', st ? fmt(st.maxRss / 2 ** 20, 0) : 'n/a', st ? fmt(st.rss / 2 ** 20, 0) : 'n/a',
        failed.get(r)?.slice(0, 60) ?? '']);
      const m = st?.arena;
      if (m) {
        // The bound the arena is held to: weights + the two largest activations + one im2col band (per thread).
        const bound = m.weights + m.largestTwo + Number(t) * m.colBand;
        const parts: [string, number][] = [['arena_total', m.total], ['arena_weights', m.weights], ['arena_pool', m.activations],
          ['arena_other', m.scratch], ['arena_bound', bound], ['largest_two_activations', m.largestTwo], ['largest_im2col_band', m.colBand]];
        for (const [metric, value] of parts) rows.push({ ...common, metric, value, unit: 'bytes' });
        arenaLines.push(`${modelName} ${kind} ${t} thread(s): arena ${m.total} bytes = weights ${m.weights} + pool ${m.activations} (activations + per-op scratch) ` +
          `+ ${m.scratch} descriptors; bound weights + two largest activations ${m.largestTwo} + ${t} × im2col band ${m.colBand} = ${bound}: ` +
          `${m.total < bound ? 'below' : 'ABOVE'} by ${Math.abs(bound - m.total)} bytes`);
      }
    }
  }
  if (args.json) [...headerRows('infer', header), ...rows].forEach(printJsonRow);
  else {
    console.log(`inference, batch 1; ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.versions.node}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; medians of ${samples} interleaved samples`);
    console.log(formatTable(['model runner', 'ms', '÷ rede 1 thr', 'peak RSS MiB', 'RSS after MiB', 'note'], table));
    for (const l of arenaLines) console.log(l);
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1] as Runner, process.argv[at + 2]);
else await main();
