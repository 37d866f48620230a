// Typed reads of one text-format message (prototxt.ts) against the fields a Caffe message has: every error
// names the file, line and column, the field and the value. A field the message does not know is an error
// (Caffe's own parser refuses it too); a singular field given twice is an error, as in protobuf.
// JSON solvers come through the same reader: jsonFields turns an object into fields without positions.
import { RedeError } from '../../engine/errors';
import { closest } from '../../engine/options';
import { showValue, type TextField, type TextValue } from './prototxt';

export class Fields {
  constructor(readonly source: string, readonly fields: readonly TextField[], readonly where: string) {}

  /** "lenet_solver.prototxt:4:1: solver field base_lr" (no position for JSON). */
  at(f: TextField): string {
    return `${this.source}${f.line ? `:${f.line}:${f.col}` : ''}: ${this.where} field ${f.name}`;
  }

  fail(f: TextField, what: string): never {
    throw new RedeError(`${this.at(f)}: ${what}, got ${showValue(f.value)}`);
  }

  /** Every field must be one of `known`; the first unknown one is an error naming the closest known name. */
  only(known: readonly string[]): this {
    for (const f of this.fields) {
      if (!known.includes(f.name)) {
        const near = closest(f.name, known);
        throw new RedeError(`${this.source}${f.line ? `:${f.line}:${f.col}` : ''}: ${this.where}: unknown field '${f.name}'${near ? ` (did you mean '${near}'?)` : ''}`);
      }
    }
    return this;
  }

  all(name: string): TextField[] { return this.fields.filter((f) => f.name === name); }
  has(name: string): boolean { return this.fields.some((f) => f.name === name); }

  one(name: string): TextField | undefined {
    const fs = this.all(name);
    if (fs.length > 1) throw new RedeError(`${this.at(fs[1])}: given ${fs.length} times, expected at most once`);
    return fs[0];
  }

  private num(f: TextField, o: NumberRule): number {
    if (f.value.kind !== 'number') this.fail(f, o.integer ? 'expected an integer' : 'expected a number');
    const v = f.value.value;
    if (Number.isNaN(v) || (o.integer && !Number.isSafeInteger(v))) this.fail(f, o.integer ? 'expected an integer' : 'expected a number');
    if (!o.infinite && !Number.isFinite(v)) this.fail(f, 'expected a finite number');
    if (o.min !== undefined && !(o.exclusiveMin ? v > o.min : v >= o.min)) this.fail(f, `expected a number ${o.exclusiveMin ? '>' : '≥'} ${o.min}`);
    if (o.max !== undefined && !(v <= o.max)) this.fail(f, `expected a number ≤ ${o.max}`);
    return v;
  }

  number(name: string, o: NumberRule = {}): number | undefined {
    const f = this.one(name);
    return f === undefined ? undefined : this.num(f, o);
  }
  numbers(name: string, o: NumberRule = {}): number[] { return this.all(name).map((f) => this.num(f, o)); }

  private str(f: TextField): string {
    if (f.value.kind !== 'string') this.fail(f, 'expected a quoted string');
    return f.value.value;
  }
  string(name: string): string | undefined {
    const f = this.one(name);
    return f === undefined ? undefined : this.str(f);
  }
  strings(name: string): string[] { return this.all(name).map((f) => this.str(f)); }

  /** An enum value: a bare name (Caffe's enums) or, as Caffe's string-typed choices, a quoted one. */
  private choice(f: TextField, allowed: readonly string[]): string {
    const v = f.value;
    if ((v.kind === 'ident' || v.kind === 'string') && allowed.includes(v.value)) return v.value;
    this.fail(f, `expected one of ${allowed.join(', ')}`);
  }
  enum<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const f = this.one(name);
    return f === undefined ? undefined : this.choice(f, allowed) as T;
  }
  enums<T extends string>(name: string, allowed: readonly T[]): T[] { return this.all(name).map((f) => this.choice(f, allowed) as T); }

  bool(name: string): boolean | undefined {
    const f = this.one(name);
    if (f === undefined) return undefined;
    const v = f.value;
    // protobuf's text format: true/True/t/1 and false/False/f/0.
    if (v.kind === 'ident' && ['true', 'True', 't'].includes(v.value)) return true;
    if (v.kind === 'ident' && ['false', 'False', 'f'].includes(v.value)) return false;
    if (v.kind === 'number' && (v.value === 0 || v.value === 1) && !v.raw.includes('.')) return v.value === 1;
    this.fail(f, 'expected true or false');
  }

  private msg(f: TextField, where: string): Fields {
    if (f.value.kind !== 'message') this.fail(f, 'expected a message { … }');
    return new Fields(this.source, f.value.fields, where);
  }
  message(name: string, where = name): Fields | undefined {
    const f = this.one(name);
    return f === undefined ? undefined : this.msg(f, where);
  }
  messages(name: string, where = name): Fields[] { return this.all(name).map((f) => this.msg(f, where)); }
}

export interface NumberRule { integer?: boolean; min?: number; exclusiveMin?: boolean; max?: number; infinite?: boolean }

/**
 * A JSON object as fields: a number, string, boolean (as the names true/false) or object per key, and an array
 * for a repeated field. Depth is bounded like the text parser's.
 */
export function jsonFields(source: string, v: unknown, depth = 0): TextField[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new RedeError(`${source}: expected a JSON object of fields, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  if (depth > 100) throw new RedeError(`${source}: objects nest more than 100 deep`);
  const out: TextField[] = [];
  const value = (name: string, x: unknown): TextValue => {
    if (typeof x === 'number') return { kind: 'number', value: x, raw: String(x) };
    if (typeof x === 'string') return { kind: 'string', value: x };
    if (typeof x === 'boolean') return { kind: 'ident', value: String(x) };
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) return { kind: 'message', fields: jsonFields(source, x, depth + 1) };
    throw new RedeError(`${source}: field ${name} must be a number, string, boolean or object (a list for a repeated field), got ${x === null ? 'null' : Array.isArray(x) ? 'a nested list' : typeof x}`);
  };
  for (const [name, x] of Object.entries(v)) {
    for (const item of Array.isArray(x) ? x : [x]) out.push({ name, value: value(name, item), line: 0, col: 0 });
  }
  return out;
}
