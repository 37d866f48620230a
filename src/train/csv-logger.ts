// CSVLogger: one row per epoch of fit's epoch logs in a CSV file, as Keras' CSVLogger writes it —
//
//   epoch,loss,examples_per_s,seconds,lr,accuracy,val_loss,val_accuracy      (a fit with accuracy and validation)
//   0,2.631319761276245,2629.0522551872223,0.076073041,0.01,0.205,2.3513805866241455,0.1695
//
// (the first row of `rede train --subset 200 --batch-size 200 --epochs 2 --csv log.csv`; timings vary).
// Numbers are written as String(x) writes them, so they read back exactly.
//
// `epoch` counts from 0 (Keras, and History.epochs). The columns are the first epoch's keys in the order
// fit writes them; a key missing later is written NA, a key that appears later is left out. Each row is
// appended as one write when its epoch ends, so a run that dies keeps every finished epoch. With `append`,
// a file that already has rows keeps them and must have the same header.
// Node only: node:fs is imported when training begins, so the browser bundle can still export the class.
import { RedeError } from '../engine/errors';
import { checkOptions } from '../engine/options';
import type { Callback, Logs } from './callbacks';

export interface CSVLoggerOptions {
  /** Between fields; default ','. */
  separator?: string;
  /** Keep the file's rows and add to them (resuming a run); default false: the file starts empty. */
  append?: boolean;
}

type Fs = typeof import('node:fs/promises');

export class CSVLogger implements Callback {
  readonly separator: string;
  readonly append: boolean;
  private fs: Fs | null = null;
  private columns: string[] | null = null;
  /** The header already in the file when appending ('' when there is none). */
  private existing = '';

  constructor(readonly path: string, options: CSVLoggerOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new RedeError(`CSVLogger: path must be a file name, got ${JSON.stringify(path)}`);
    const o = checkOptions<CSVLoggerOptions>('CSVLogger', options, ['separator', 'append']);
    this.separator = o.separator ?? ',';
    if (typeof this.separator !== 'string' || this.separator.length !== 1 || /["\r\n]/.test(this.separator)) {
      throw new RedeError(`CSVLogger: separator must be one character other than a quote or a line break, got ${JSON.stringify(o.separator)}`);
    }
    this.append = o.append ?? false;
  }

  async onTrainBegin(): Promise<void> {
    this.fs = await import('node:fs/promises');
    this.columns = null;
    this.existing = '';
    if (this.append) {
      const text = await this.fs.readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return '';
        throw this.failed('read', e);
      });
      this.existing = text.split('\n', 1)[0];
      // A file cut off mid-row by a crash: end it, so the next row starts on its own line.
      if (text !== '' && !text.endsWith('\n')) await this.write('\n');
    } else {
      await this.fs.writeFile(this.path, '').catch((e: Error) => { throw this.failed('create', e); });
    }
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    let text = '';
    if (!this.columns) {
      this.columns = Object.keys(logs);
      const header = ['epoch', ...this.columns].map((c) => this.field(c)).join(this.separator);
      if (this.existing === '') text += `${header}\n`;
      else if (this.existing !== header) {
        throw new RedeError(`CSVLogger: '${this.path}' has the columns ${this.existing}; this fit logs ${header} (append to a file from the same kind of run, or start a new one)`);
      }
    }
    const row = [String(epoch), ...this.columns.map((k) => (k in logs ? String(logs[k]) : 'NA'))];
    await this.write(`${text}${row.map((c) => this.field(c)).join(this.separator)}\n`);
  }

  /** A field quoted when it holds the separator, a quote or a line break (RFC 4180). */
  private field(s: string): string {
    return s.includes(this.separator) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  private async write(text: string): Promise<void> {
    if (!this.fs) throw new RedeError('CSVLogger: onEpochEnd before onTrainBegin (pass the logger in fit\'s callbacks)');
    await this.fs.appendFile(this.path, text).catch((e: Error) => { throw this.failed('write', e); });
  }

  private failed(what: string, e: Error): RedeError {
    return new RedeError(`CSVLogger: could not ${what} '${this.path}' (${e.message})`);
  }
}
