#!/usr/bin/env node
// The `rede` command line: rede train | eval | predict | summary | viz | experiment | generate | bench | export | import | quantize. Run from a checkout with
//   node --import tsx src/cli/main.ts train --model lenet5 --data mnist --augment
// A RedeError (bad input: a missing file, a wrong shape, a bad option) prints as one line `rede: <message>`
// with exit status 1; anything else is a bug in rede and keeps its stack.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedeError } from '../engine/errors';
import type { Io } from './common';
import { evaluate, usage as evalUsage } from './commands/eval';
import { predictCommand, usage as predictUsage } from './commands/predict';
import { summary, usage as summaryUsage } from './commands/summary';
import { train, usage as trainUsage } from './commands/train';
import { viz, usage as vizUsage } from './commands/viz';
import { experiment, usage as experimentUsage } from './commands/experiment';
import { generate, usage as generateUsage } from './commands/generate';
import { exportCommand, exportUsage } from './commands/export';
import { importCommand, importUsage } from './commands/import';
import { bench, usage as benchUsage } from './commands/bench';
import { quantizeCommand, usage as quantizeUsage } from './commands/quantize';
import { exportOnnx, importOnnx } from './commands/onnx';
import { EXPERIMENTS } from '../experiments/index';

/** `--format onnx` (or --format=onnx) goes to commands/onnx.ts, without the flag (temporary: the lead merges the formats). */
const onnxOr = (run: (argv: string[], io: Io) => Promise<void>, onnx: (argv: string[], io: Io) => Promise<void>) => (argv: string[], io: Io): Promise<void> => {
  const at = argv.findIndex((a, i) => a === '--format=onnx' || (a === '--format' && argv[i + 1] === 'onnx'));
  if (at < 0) return run(argv, io);
  return onnx([...argv.slice(0, at), ...argv.slice(at + (argv[at] === '--format' ? 2 : 1))], io);
};

const COMMANDS: Record<string, { run: (argv: string[], io: Io) => Promise<void>; usage: string; what: string }> = {
  train: { run: train, usage: trainUsage, what: 'train a model and report its test accuracy' },
  eval: { run: evaluate, usage: evalUsage, what: "a saved model's accuracy on a dataset" },
  predict: { run: predictCommand, usage: predictUsage, what: 'classify PNG images or an IDX file' },
  summary: { run: summary, usage: summaryUsage, what: 'layers, shapes, parameters and FLOPs of a model' },
  viz: { run: viz, usage: vizUsage, what: 'filters and feature maps of a trained model for one image (PNG files)' },
  experiment: { run: experiment, usage: experimentUsage, what: `the lecture's experiments: ${Object.keys(EXPERIMENTS).join(', ')}` },
  generate: { run: generate, usage: generateUsage, what: "a grid of samples from a saved generator (PNG)" },
  bench: { run: bench, usage: benchUsage, what: 'per-layer time, GFLOP/s and % of peak of a training step or inference' },
  export: { run: onnxOr(exportCommand, exportOnnx), usage: exportUsage, what: 'a saved model for another tool: tfjs, keras (.h5), onnx, pytorch, safetensors' },
  import: { run: onnxOr(importCommand, importOnnx), usage: importUsage, what: 'a tfjs, Keras (.h5, .keras), ONNX (--format onnx) or PyTorch model as a trainable .rede model' },
  quantize: { run: quantizeCommand, usage: quantizeUsage, what: 'an int8 model from a saved one, calibrated on a dataset' },
};

export const usage = `usage: rede <command> [options]

${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.what}`).join('\n')}

'rede <command> --help' lists a command's options.`;

/** Runs one command line; returns the exit status. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(`${usage}\n`);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new RedeError(`unknown command '${name}' (expected ${Object.keys(COMMANDS).join(', ')})`);
    await command.run(rest, io);
    return 0;
  } catch (e) {
    if (e instanceof RedeError) {
      io.stderr.write(`rede: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 1;
    }
    throw e;
  }
}

const invokedDirectly = (): boolean => {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};

if (invokedDirectly()) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
