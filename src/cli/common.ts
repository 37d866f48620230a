// What the commands share: argument parsing over node:util parseArgs with errors as RedeErrors, number
// checks, and turning --data / --model strings into datasets and model configs.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

/** A negative number as an option's value ("--lr -0.1"), which parseArgs would read as an option. */
const NEGATIVE = /^-(\d|\.\d|Infinity$)/;

/**
 * parseArgs in strict mode; its TypeErrors (unknown option, missing value) become one-line RedeErrors
 * naming the command. A string option followed by a negative number takes it as its value, so that
 * `--epochs -1` reaches the number check (as `--epochs=-1` does) instead of being called ambiguous.
 */
export function parse<O extends Options>(command: string, argv: string[], options: O, positionals = false) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], o = a.startsWith('--') && !a.includes('=') ? options[a.slice(2)] : undefined;
    if (o?.type === 'string' && i + 1 < argv.length && NEGATIVE.test(argv[i + 1])) args.push(`${a}=${argv[++i]}`);
    else args.push(a);
  }
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals });
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // Keep parseArgs' first sentence ("Unknown option '--x'", "Option '--lr <value>' argument missing").
    const first = e.message.split(/\.\s/)[0].replace(/\.$/, '').replace(/^[A-Z]/, (ch) => ch.toLowerCase());
    throw new RedeError(`${command}: ${first} (see 'rede ${command} --help')`);
  }
}

export interface NumberRule { int?: boolean; min?: number; max?: number; above?: number }

/** What a rule asks for, in words: "a positive integer", "a non-negative number", "a number in (0, 0.9]". */
function wanted(o: NumberRule): string {
  const kind = o.int ? 'integer' : 'number';
  if (o.max === undefined) {
    if (o.above === 0 || (o.int && o.min === 1)) return `a positive ${kind}`;
    if (o.min === 0) return `a non-negative ${kind}`;
    if (o.min !== undefined) return `${o.int ? 'an integer' : 'a number'} >= ${o.min}`;
    if (o.above !== undefined) return `${o.int ? 'an integer' : 'a number'} > ${o.above}`;
    return o.int ? 'an integer' : 'a number';
  }
  const lo = o.above !== undefined ? `(${o.above}` : o.min !== undefined ? `[${o.min}` : '';
  return lo ? `${o.int ? 'an integer' : 'a number'} in ${lo}, ${o.max}]` : `${o.int ? 'an integer' : 'a number'} <= ${o.max}`;
}

/** A numeric option: finite, optionally an integer, at least `min`, above `above`, at most `max`. */
export function num(command: string, flag: string, v: string | undefined, def: number, o: NumberRule = {}): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (o.int && !Number.isInteger(x)) || (o.min !== undefined && x < o.min) ||
      (o.max !== undefined && x > o.max) || (o.above !== undefined && !(x > o.above))) {
    // A number is shown as typed; anything else in quotes, so an empty or spaced value is visible.
    const got = v.trim() !== '' && !Number.isNaN(x) ? v : `'${v}'`;
    throw new RedeError(`${command}: --${flag} must be ${wanted(o)}, got ${got}`);
  }
  return x;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * Checks, before any work, that `path` (the value of --flag) can be written: not a directory, in a
 * directory that exists and is writable. Writes are atomic (a temporary file renamed over the target), so
 * the directory is what has to be writable.
 */
export function checkWritable(command: string, flag: string, path: string): void {
  const where = `${command}: --${flag} '${path}'`;
  if (path === '') throw new RedeError(`${command}: --${flag} is empty; give a file name`);
  if (/[/\\]$/.test(path) || isDir(path)) throw new RedeError(`${where} is a directory; give a file name`);
  const dir = dirname(path);
  if (!existsSync(dir)) throw new RedeError(`${where}: directory '${dir}' does not exist`);
  if (!isDir(dir)) throw new RedeError(`${where}: '${dir}' is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new RedeError(`${where}: directory '${dir}' is not writable`);
  }
}

/** Write targets must differ: two options writing one file would leave only the last. */
export function checkDistinct(command: string, targets: [flag: string, path: string | undefined][]): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of targets) {
    if (path === undefined) continue;
    const key = resolve(path), other = seen.get(key);
    if (other) throw new RedeError(`${command}: --${other} and --${flag} both write '${path}'`);
    seen.set(key, flag);
  }
}

export interface Data {
  /** How the data was named on the command line, e.g. 'mnist'. */
  spec: string;
  train: Dataset | null;
  test: Dataset | null;
}

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
