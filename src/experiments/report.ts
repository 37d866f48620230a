// What every experiment shares: options, results, the checks that state the lecture's claim as a
// comparison of measured numbers, aligned markdown tables, the machine description, and writing the
// report files (markdown + SVG + JSON) into the output directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { RedeError } from '../engine/errors';

export interface ExperimentOptions {
  /** Small settings (seconds, not minutes) that still show the direction of each effect. */
  quick?: boolean;
  /** Where the report, plots and raw data go (created if missing). Default 'experiments-out'. */
  outDir?: string;
  /** Seeds data splits, initialization, shuffling, dropout and augmentation. Default 1. */
  seed?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Fashion-MNIST's directory (default /usr/share/datasets/fashion-mnist). */
  dataDir?: string;
}

/** One claim of the lecture, checked on this run's numbers. */
export interface Check { claim: string; passed: boolean; detail: string }

export interface ExperimentResult {
  name: string;
  /** The main table, as aligned markdown (reads as plain text in a terminal too). */
  table: string;
  /** Paths written: the markdown report, SVG plots, JSON raw data. */
  files: string[];
  checks: Check[];
  seconds: number;
}

export const DEFAULT_OUT_DIR = 'experiments-out';

/** A markdown table with every column padded to its widest cell; `right` marks numeric columns. */
export function markdownTable(headers: string[], rows: (string | number)[][], right: boolean[] = headers.map(() => false)): string {
  const cells = rows.map((r) => {
    if (r.length !== headers.length) throw new RedeError(`markdownTable: a row has ${r.length} cells, the header ${headers.length}`);
    return r.map(String);
  });
  const width = headers.map((h, j) => Math.max(3, h.length, ...cells.map((r) => r[j].length)));
  const pad = (s: string, j: number) => (right[j] ? s.padStart(width[j]) : s.padEnd(width[j]));
  const line = (r: string[]) => `| ${r.map(pad).join(' | ')} |`;
  const rule = `|${width.map((w, j) => (right[j] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(headers), rule, ...cells.map(line)].join('\n');
}

export const pct = (v: number, digits = 1): string => (Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : 'n/a');
export const secs = (v: number): string => `${v.toFixed(v < 10 ? 1 : 0)} s`;
/** 3 significant digits, exponent form for very small or large magnitudes. */
export const sci = (v: number): string => (!Number.isFinite(v) ? String(v) : v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : Number(v.toPrecision(3)).toString());

export function check(claim: string, passed: boolean, detail: string): Check { return { claim, passed, detail }; }

/** CPU model, logical cores, Node version, date (UTC): the "machine" line of every report. */
export function machineLine(variant?: string): string {
  const c = cpus();
  return `${c[0]?.model?.trim() || 'unknown CPU'}, ${c.length} logical cores, Node ${process.version}` +
    `${variant ? `, rede engine ${variant}` : ''}, ${new Date().toISOString().slice(0, 10)}`;
}

export const now = (): number => performance.now();
export const since = (t0: number): number => (performance.now() - t0) / 1000;

export interface ReportParts {
  name: string;
  title: string;
  /** The lecture's claim and how this experiment tests it. */
  intro: string;
  /** Settings in one paragraph (sizes, epochs, optimizer): enough to rerun. */
  settings: string;
  table: string;
  /** SVG files (names relative to outDir) and their captions. */
  figures: { file: string; svg: string; caption: string }[];
  checks: Check[];
  notes?: string[];
  /** Written as <name>.json beside the report. */
  data: unknown;
  machine: string;
  seconds: number;
  quick: boolean;
}

/** Writes <name>.md, every figure and <name>.json into outDir; returns the paths. */
export function writeReport(outDir: string, r: ReportParts): string[] {
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const f of r.figures) {
    const p = join(outDir, f.file);
    writeFileSync(p, f.svg);
    files.push(p);
  }
  const json = join(outDir, `${r.name}.json`);
  // Numbers to 6 significant digits (plenty for plots and tables); NaN and ±Infinity as strings.
  const replacer = (_k: string, v: unknown) => (typeof v !== 'number' ? v : Number.isFinite(v) ? Number(v.toPrecision(6)) : String(v));
  writeFileSync(json, `${JSON.stringify(r.data, replacer)}\n`);
  const md = [
    `# ${r.title}${r.quick ? ' (quick)' : ''}`,
    '',
    r.intro,
    '',
    `**Settings.** ${r.settings}`,
    '',
    r.table,
    '',
    ...r.figures.flatMap((f) => [`![${f.caption}](${f.file})`, '', `*${f.caption}*`, '']),
    '**Checks** (the lecture\'s claim, on this run\'s numbers):',
    '',
    ...r.checks.map((c) => `- ${c.passed ? 'PASS' : 'FAIL'}: ${c.claim} — ${c.detail}`),
    '',
    ...(r.notes?.length ? [...r.notes.map((n) => `- ${n}`), ''] : []),
    `Machine: ${r.machine}. Wall time ${secs(r.seconds)}. Raw numbers: [${r.name}.json](${r.name}.json).`,
    '',
  ].join('\n');
  const mdPath = join(outDir, `${r.name}.md`);
  writeFileSync(mdPath, md);
  files.unshift(mdPath);
  files.push(json);
  return files;
}
