// What the commands share: argument parsing over node:util parseArgs with errors as RedeErrors, number
// checks, and turning --data / --model strings into datasets and model configs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RedeError } from '../engine/errors';
import { type Dataset, subset } from '../data/dataset';
import { mnistDigits } from '../data/mnist';
import { fashionMnist } from '../data/fashion-mnist';
import { findIdxPair, loadIdxDataset } from '../data/idx';
import type { ModelConfig } from '../model/config';
import { models, zooModel } from '../zoo/index';
import type { ProgressStream } from '../train/progress';

/** Where a command writes: results to stdout, progress and notes to stderr. */
export interface Io {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs in strict mode; its TypeErrors (unknown option, missing value) become one-line RedeErrors
 * naming the command.
 */
export function parse<O extends Options>(command: string, argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals });
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // Keep parseArgs' first sentence ("Unknown option '--x'", "Option '--lr <value>' argument missing").
    const first = e.message.split(/\.\s/)[0].replace(/\.$/, '').replace(/^[A-Z]/, (ch) => ch.toLowerCase());
    throw new RedeError(`${command}: ${first} (see 'rede ${command} --help')`);
  }
}

/** A numeric option: finite, optionally an integer, at least `min`, below or at `max`. */
export function num(command: string, flag: string, v: string | undefined, def: number, o: { int?: boolean; min?: number; max?: number; above?: number } = {}): number {
  if (v === undefined) return def;
  const x = Number(v);
  const want = [o.int ? 'an integer' : 'a number', o.min !== undefined ? `>= ${o.min}` : '', o.above !== undefined ? `> ${o.above}` : '', o.max !== undefined ? `<= ${o.max}` : '']
    .filter(Boolean).join(' ');
  if (v.trim() === '' || !Number.isFinite(x) || (o.int && !Number.isInteger(x)) || (o.min !== undefined && x < o.min) ||
      (o.max !== undefined && x > o.max) || (o.above !== undefined && !(x > o.above))) {
    throw new RedeError(`${command}: --${flag} must be ${want}, got '${v}'`);
  }
  return x;
}

export interface Data {
  /** How the data was named on the command line, e.g. 'mnist'. */
  spec: string;
  train: Dataset | null;
  test: Dataset | null;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * --data: 'mnist' (the embedded digits, 8,000 / 2,000), 'fashion-mnist' (Debian's dataset-fashion-mnist) or a
 * directory of MNIST-style IDX files (train-* and/or t10k-*). `need` says which split must be there.
 */
export async function loadData(command: string, spec: string, need: 'train' | 'test'): Promise<Data> {
  if (spec === 'mnist') return { spec, ...(await mnistDigits()) };
  if (spec === 'fashion-mnist') return { spec, ...(await fashionMnist()) };
  if (!isDir(spec)) {
    throw new RedeError(`${command}: --data '${spec}' is neither 'mnist', 'fashion-mnist' nor a directory of IDX files`);
  }
  const has = async (split: 'train' | 'test') => findIdxPair(spec, split).then(() => true, () => false);
  if (!(await has(need))) await findIdxPair(spec, need); // throws naming the files looked for
  const train = need === 'train' ? await loadIdxDataset(spec, { split: 'train', name: `${spec} train` }) : null;
  const test = (await has('test'))
    ? await loadIdxDataset(spec, { split: 'test', classes: train?.classes, name: `${spec} test` })
    : null;
  if (train && test && (train.shape.join() !== test.shape.join())) {
    throw new RedeError(`${spec}: train images are [${train.shape.join(', ')}] but test images are [${test.shape.join(', ')}]`);
  }
  return { spec, train, test };
}

/** The first n examples (--subset); n larger than the data is an error rather than a silent clamp. */
export function firstN(command: string, ds: Dataset, n: number | undefined): Dataset {
  if (n === undefined) return ds;
  if (n > ds.y.length) throw new RedeError(`${command}: --subset ${n} is more than the ${ds.y.length.toLocaleString('en-US')} examples of ${ds.name ?? 'the data'}`);
  return subset(ds, 0, n);
}

/**
 * --model for a new model: a zoo name (built for the data's input shape and classes) or a path to a
 * ModelConfig JSON file.
 */
export function modelConfig(command: string, spec: string, input: readonly number[], classes: number): ModelConfig {
  const zoo = zooModel(spec);
  if (zoo) return zoo(input, classes);
  if (!existsSync(spec)) {
    throw new RedeError(`${command}: unknown model '${spec}' (expected one of ${Object.keys(models).join(', ')}, or a model config .json file)`);
  }
  if (spec.endsWith('.rede')) throw new RedeError(`${command}: '${spec}' is a trained model; --model here takes a zoo name or a config .json`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new RedeError(`${spec}: not a valid JSON model config (${(e as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || !Array.isArray((config as ModelConfig).layers)) {
    throw new RedeError(`${spec}: a model config is an object with 'input' and 'layers' (see src/model/config.ts)`);
  }
  return config as ModelConfig;
}

/** Thousands separators, for counts in messages. */
export const count = (n: number): string => n.toLocaleString('en-US');
