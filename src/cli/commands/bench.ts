// rede bench: a CPU benchmark and profiler of one model — per-layer forward and backward time of a training step
// (and of an inference forward), share of the step, GFLOP/s and % of this machine's peak measured in the same
// process, plus examples/s. The work is src/bench/profile.ts; this file reads options and prints.
import { RedeError } from '../../engine/errors';
import { Model } from '../../api/model';
import { buildGraph } from '../../model/graph';
import type { ModelConfig } from '../../model/config';
import { zooModel } from '../../zoo/index';
import { benchHeader, headerText } from '../../bench/header';
import { profileStep, type StepProfile } from '../../bench/profile';
import { headerRows, profileRows, profileText, type BenchRow } from '../../bench/rows';
import { type Io, modelConfig, num, parse } from '../common';

export const usage = `usage: rede bench --model NAME|FILE [options]

  --model NAME|FILE       zoo model (lenet5, resnet20, alexnet, ...) or a model config .json
  --train                 profile a training step (SGD momentum, softmax cross-entropy, random data)
  --infer                 profile an inference forward (and time the compiled InferenceModel)
                          (neither: both)
  --batch-size B          examples per step                                   [32]
  --workers N             threads: training steps on a worker group of N, inference on N threads   [1]
  --input H,W,C           input shape for a zoo model                         [the model's own]
  --classes N             classes for a zoo model                             [the model's own]
  --seconds S             about how long each profile's timed rounds take     [3]
  --rounds R              interleaved rounds (plain and probed steps); medians over them          [7]
  --seed S                random inputs and labels                            [1]
  --clock wall|cpu        time layers by elapsed time, or by this process's CPU time (steadier on a
                          shared machine; examples/s are then per CPU-second)  [wall]
  --json                  one JSON object per line: {"bench","case","peer","variant","threads","metric","value","unit"}

Prints the commit, load average and the peak GFLOP/s of a register-only multiply-add loop measured in this
process, then a table of layers: forward and backward ms, % of the step, GFLOP/s and % of peak, and the step's
examples/s and ms per example. The machine's load changes the figures: compare within one run.`;

const OPTIONS = {
  model: { type: 'string' }, train: { type: 'boolean' }, infer: { type: 'boolean' }, 'batch-size': { type: 'string' },
  workers: { type: 'string' }, input: { type: 'string' }, classes: { type: 'string' }, seconds: { type: 'string' },
  rounds: { type: 'string' }, seed: { type: 'string' }, clock: { type: 'string' }, json: { type: 'boolean' },
} as const;

/** The lecture's Caffe figures for AlexNet on one NVIDIA K40 GPU, printed beside rede's for orientation only. */
const CAFFE_K40 = { infer: 1, train: 4 } as const;

export async function bench(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse('bench', argv, OPTIONS);
  if (v.help) { io.stdout.write(`${usage}\n`); return; }
  if (!v.model) throw new RedeError(`bench: --model is required (see 'rede bench --help')`);
  const batchSize = num('bench', 'batch-size', v['batch-size'], 32, { int: true, min: 1, max: 65536 });
  const workers = num('bench', 'workers', v.workers, 1, { int: true, min: 1, max: 64 });
  const seconds = num('bench', 'seconds', v.seconds, 3, { above: 0, max: 3600 });
  const rounds = num('bench', 'rounds', v.rounds, 7, { int: true, min: 1, max: 1000 });
  const seed = num('bench', 'seed', v.seed, 1, { int: true });
  const clock = v.clock ?? 'wall';
  if (clock !== 'wall' && clock !== 'cpu') throw new RedeError(`bench: --clock must be 'wall' or 'cpu', got '${clock}'`);
  if (workers > batchSize) throw new RedeError(`bench: --workers ${workers} needs --batch-size of at least ${workers}, got ${batchSize}`);
  const modes: ('train' | 'infer')[] = v.train || v.infer ? [...(v.train ? ['train' as const] : []), ...(v.infer ? ['infer' as const] : [])] : ['train', 'infer'];

  const zoo = zooModel(v.model);
  let config: ModelConfig;
  if (zoo && v.input === undefined && v.classes === undefined) config = zoo();
  else {
    const classes = num('bench', 'classes', v.classes, zoo ? 10 : 0, { int: true, min: 1 });
    const input = (v.input ?? '28,28,1').split(',').map((d) => num('bench', 'input', d, 0, { int: true, min: 1 }));
    config = modelConfig('bench', v.model, input, classes);
  }
  try {
    buildGraph(config); // a bad config fails here, before any memory or timing
  } catch (e) {
    throw e instanceof RedeError && !zoo ? new RedeError(`${v.model}: ${e.message}`) : e; // a file's errors name it
  }
  const name = config.name ?? (zoo ? v.model : 'model');

  const header = await benchHeader();
  const model = await Model.create(config, { seed });
  if (modes.includes('train')) model.compile({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, loss: 'sparse_categorical_crossentropy' });
  const profiles: StepProfile[] = [];
  for (const mode of modes) profiles.push(await profileStep(model, { mode, batchSize, workers, seconds, rounds, seed, clock }));

  const caffe = v.model === 'alexnet';
  if (v.json) {
    const rows: BenchRow[] = [...headerRows('rede-bench', header), ...profiles.flatMap((p) => profileRows('rede-bench', name, p))];
    if (caffe) {
      for (const p of profiles) {
        rows.push({ bench: 'rede-bench', case: `${name}_${p.mode}_b${p.batchSize}`, peer: 'caffe', variant: 'nvidia-k40', threads: 1, metric: 'ms_per_example',
          value: CAFFE_K40[p.mode], unit: 'ms', note: "the lecture's figure for Caffe on one K40 GPU, for orientation; not measured here" });
      }
    }
    for (const r of rows) io.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const parts = [headerText(header), ...profiles.map((p) => profileText(name, p))];
  if (caffe) {
    parts.push(profiles.map((p) => `${p.mode === 'train' ? 'learning' : 'inference'}: rede ${(1000 / p.examplesPerS).toFixed(2)} ms/image at batch ${p.batchSize} on ${p.workers} CPU thread${p.workers > 1 ? 's' : ''}` +
      `${p.compiled ? ` (compiled: ${(1000 / p.compiled.examplesPerS).toFixed(2)})` : ''}; Caffe ${CAFFE_K40[p.mode]} ms/image on one NVIDIA K40 GPU (the lecture's figure, for orientation)`).join('\n'));
  }
  io.stdout.write(`${parts.join('\n\n')}\n`);
}
