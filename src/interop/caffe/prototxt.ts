// Protocol Buffers text format, the format of Caffe's .prototxt files (solver and net), without a schema: a
// message is a list of fields in file order, each a scalar or a nested message, with its line and column so
// that the schema readers (solver.ts, net.ts) can say where a bad value is. What is read:
//   field: value            scalar: number (int, 0x hex, float with exponent, f suffix, inf, nan, a leading -),
//   field { ... }            string ('…' or "…", adjacent literals joined; \n \t \r \a \b \f \v \\ \' \" \?
//   field: { ... }  field < ... >        \ooo octal, \xHH hex, \uXXXX, \UXXXXXXXX), identifier (enums, true)
//   field: [v1, v2]          the repeated-field shorthand: one field per element
//   # comment to the end of the line; fields may end with ; or ,
// Bounded: the input's size is checked before reading, nesting is at most MAX_DEPTH deep (protobuf's own
// recursion limit), and every value is made from input characters, so memory is linear in the input.
import { RedeError } from '../../engine/errors';

export type TextValue =
  | { kind: 'number'; value: number; raw: string }
  | { kind: 'string'; value: string }
  | { kind: 'ident'; value: string }
  | { kind: 'message'; fields: TextField[] };

export interface TextField { name: string; value: TextValue; line: number; col: number }

export interface ParseOptions {
  /** Names the input in errors (a file name). Default 'prototxt'. */
  source?: string;
  /** Longest input accepted, in characters. Default 64 Mi. */
  maxLength?: number;
}

export const MAX_DEPTH = 100;
const DEFAULT_MAX_LENGTH = 64 * 2 ** 20;

type Tok =
  | { t: 'ident'; v: string; line: number; col: number }
  | { t: 'number'; v: number; raw: string; line: number; col: number }
  | { t: 'string'; v: string; line: number; col: number }
  | { t: 'punct'; v: string; line: number; col: number }
  | { t: 'eof'; line: number; col: number };

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdChar = (c: number) => isIdStart(c) || isDigit(c);
const PUNCT = new Set(['{', '}', '<', '>', '[', ']', ':', ',', ';', '-']);

const showTok = (k: Tok): string => {
  switch (k.t) {
    case 'eof': return 'the end of the input';
    case 'string': return `the string ${JSON.stringify(k.v.length > 40 ? `${k.v.slice(0, 40)}…` : k.v)}`;
    case 'number': return `the number ${k.raw}`;
    case 'ident': return `'${k.v.length > 40 ? `${k.v.slice(0, 40)}…` : k.v}'`;
    case 'punct': return `'${k.v}'`;
  }
};

/** Characters of the input as a stream of tokens, one ahead. */
class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  constructor(private readonly s: string, private readonly source: string) {}

  fail(line: number, col: number, what: string): never {
    throw new RedeError(`${this.source}:${line}:${col}: ${what}`);
  }

  private skip(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 10) { this.i++; this.line++; this.lineStart = this.i; } else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) this.i++;
      else if (c === 35) { while (this.i < s.length && s.charCodeAt(this.i) !== 10) this.i++; } else break;
    }
  }

  next(): Tok {
    this.skip();
    const s = this.s, line = this.line, col = this.i - this.lineStart + 1;
    if (this.i >= s.length) return { t: 'eof', line, col };
    const c = s.charCodeAt(this.i);
    if (c === 34 || c === 39) return { t: 'string', v: this.string(line, col), line, col };
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(this.i + 1)))) return this.number(line, col);
    if (isIdStart(c)) {
      const from = this.i;
      while (this.i < s.length && isIdChar(s.charCodeAt(this.i))) this.i++;
      return { t: 'ident', v: s.slice(from, this.i), line, col };
    }
    const ch = s[this.i];
    if (PUNCT.has(ch)) { this.i++; return { t: 'punct', v: ch, line, col }; }
    const cp = s.codePointAt(this.i)!;
    this.fail(line, col, `unexpected character ${cp < 32 || cp === 127 ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : `'${String.fromCodePoint(cp)}'`}`);
  }

  /** A decimal or hex integer, or a float; protobuf's f/F suffix is allowed on floats. */
  private number(line: number, col: number): Tok {
    const s = this.s, from = this.i;
    let v: number;
    if (s[this.i] === '0' && (s[this.i + 1] === 'x' || s[this.i + 1] === 'X')) {
      this.i += 2;
      const d0 = this.i;
      while (this.i < s.length && /[0-9a-fA-F]/.test(s[this.i])) this.i++;
      if (this.i === d0) this.fail(line, col, `a hex number needs digits after 0x, got '${s.slice(from, this.i + 1)}'`);
      v = parseInt(s.slice(d0, this.i), 16);
    } else {
      while (this.i < s.length && isDigit(s.charCodeAt(this.i))) this.i++;
      let float = false;
      if (s[this.i] === '.') { float = true; this.i++; while (this.i < s.length && isDigit(s.charCodeAt(this.i))) this.i++; }
      if (s[this.i] === 'e' || s[this.i] === 'E') {
        float = true;
        const e0 = this.i;
        this.i++;
        if (s[this.i] === '+' || s[this.i] === '-') this.i++;
        const d0 = this.i;
        while (this.i < s.length && isDigit(s.charCodeAt(this.i))) this.i++;
        if (this.i === d0) this.fail(line, col, `an exponent needs digits, got '${s.slice(from, Math.min(this.i + 1, e0 + 12))}'`);
      }
      const text = s.slice(from, this.i);
      if (s[this.i] === 'f' || s[this.i] === 'F') { float = true; this.i++; }
      // A leading 0 followed by digits is octal in protobuf (integers only).
      v = !float && text.length > 1 && text[0] === '0' ? this.octal(text, line, col) : Number(text);
    }
    if (this.i < s.length && isIdChar(s.charCodeAt(this.i))) {
      let j = this.i;
      while (j < s.length && isIdChar(s.charCodeAt(j))) j++;
      this.fail(line, col, `a number must not run into letters, got '${s.slice(from, Math.min(j, from + 40))}'`);
    }
    return { t: 'number', v, raw: s.slice(from, this.i), line, col };
  }

  private octal(text: string, line: number, col: number): number {
    if (!/^[0-7]+$/.test(text)) this.fail(line, col, `an integer with a leading 0 is octal, got '${text}'`);
    return parseInt(text, 8);
  }

  /** A quoted literal with C escapes; bytes from \x and octal escapes are decoded as UTF-8 with the rest. */
  private string(line: number, col: number): string {
    const s = this.s, quote = s[this.i];
    this.i++;
    const bytes: number[] = [];
    let text = '';
    const flush = () => { if (bytes.length) { text += new TextDecoder().decode(Uint8Array.from(bytes)); bytes.length = 0; } };
    for (;;) {
      if (this.i >= s.length) this.fail(line, col, 'unterminated string, got the end of the input');
      const ch = s[this.i];
      if (ch === '\n') this.fail(line, col, 'unterminated string, got the end of the line');
      if (ch === quote) { this.i++; break; }
      if (ch !== '\\') {
        flush();
        const cp = s.codePointAt(this.i)!;
        text += String.fromCodePoint(cp);
        this.i += cp > 0xffff ? 2 : 1;
        continue;
      }
      const eLine = this.line, eCol = this.i - this.lineStart + 1;
      const e = s[this.i + 1];
      this.i += 2;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
      if (e !== undefined && Object.hasOwn(simple, e)) { flush(); text += simple[e]; continue; }
      if (e !== undefined && /[0-7]/.test(e)) {
        let j = this.i - 1, k = 0;
        while (k < 3 && j < s.length && /[0-7]/.test(s[j])) { j++; k++; }
        const v = parseInt(s.slice(this.i - 1, j), 8);
        if (v > 255) this.fail(eLine, eCol, `an octal escape must be at most \\377, got '\\${s.slice(this.i - 1, j)}'`);
        bytes.push(v);
        this.i = j;
        continue;
      }
      if (e === 'x' || e === 'X') {
        let j = this.i;
        while (j < s.length && j < this.i + 2 && /[0-9a-fA-F]/.test(s[j])) j++;
        if (j === this.i) this.fail(eLine, eCol, `\\x needs hex digits, got '\\x${s.slice(this.i, this.i + 1)}'`);
        bytes.push(parseInt(s.slice(this.i, j), 16));
        this.i = j;
        continue;
      }
      if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8, hex = s.slice(this.i, this.i + n);
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) this.fail(eLine, eCol, `\\${e} needs ${n} hex digits, got '\\${e}${hex.replace(/\n.*/s, '')}'`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(eLine, eCol, `\\${e}${hex} is not a Unicode scalar value`);
        flush();
        text += String.fromCodePoint(cp);
        this.i += n;
        continue;
      }
      this.fail(eLine, eCol, `unknown escape, got '\\${e === undefined ? '' : e === '\n' ? '' : e}'`);
    }
    flush();
    return text;
  }
}

class Parser {
  private tok: Tok;
  constructor(private readonly lx: Lexer) { this.tok = lx.next(); }

  private advance(): Tok { const t = this.tok; this.tok = this.lx.next(); return t; }
  private isPunct(v: string): boolean { return this.tok.t === 'punct' && this.tok.v === v; }
  private fail(what: string): never { this.lx.fail(this.tok.line, this.tok.col, `${what}, got ${showTok(this.tok)}`); }

  /** Fields until `end` ('}' or '>') or, at the top level, the end of the input. */
  message(end: string | null, depth: number): TextField[] {
    const fields: TextField[] = [];
    for (;;) {
      if (end === null ? this.tok.t === 'eof' : this.isPunct(end)) return fields;
      if (this.tok.t === 'eof') this.fail(`expected a field name or '${end}' to close the message`);
      if (this.tok.t !== 'ident') this.fail(end === null ? 'expected a field name' : `expected a field name or '${end}'`);
      const name = this.advance() as Tok & { t: 'ident' };
      const at = { line: name.line, col: name.col };
      const colon = this.isPunct(':');
      if (colon) this.advance();
      if (this.isPunct('{') || this.isPunct('<')) {
        fields.push({ name: name.v, value: this.nested(depth), ...at });
      } else if (!colon) {
        this.fail(`expected ':' or '{' after the field name '${name.v}'`);
      } else if (this.isPunct('[')) {
        this.advance();
        if (this.isPunct(']')) { this.advance(); } else {
          for (;;) {
            const value = this.isPunct('{') || this.isPunct('<') ? this.nested(depth) : this.scalar();
            fields.push({ name: name.v, value, ...at });
            if (this.isPunct(',')) { this.advance(); continue; }
            if (this.isPunct(']')) { this.advance(); break; }
            this.fail(`expected ',' or ']' in the list of '${name.v}'`);
          }
        }
      } else {
        fields.push({ name: name.v, value: this.scalar(), ...at });
      }
      if (this.isPunct(';') || this.isPunct(',')) this.advance();
    }
  }

  private nested(depth: number): TextValue {
    if (depth + 1 > MAX_DEPTH) this.fail(`messages nest more than ${MAX_DEPTH} deep`);
    const close = (this.advance() as Tok & { t: 'punct' }).v === '{' ? '}' : '>';
    const fields = this.message(close, depth + 1);
    this.advance();
    return { kind: 'message', fields };
  }

  private scalar(): TextValue {
    const t = this.tok;
    if (t.t === 'string') {
      let v = '';
      while (this.tok.t === 'string') v += (this.advance() as Tok & { t: 'string' }).v;
      return { kind: 'string', value: v };
    }
    if (t.t === 'number') { this.advance(); return { kind: 'number', value: t.v, raw: t.raw }; }
    if (t.t === 'ident') {
      this.advance();
      const special = specialFloat(t.v);
      return special === undefined ? { kind: 'ident', value: t.v } : { kind: 'number', value: special, raw: t.v };
    }
    if (this.isPunct('-')) {
      this.advance();
      const n = this.tok;
      if (n.t === 'number') { this.advance(); return { kind: 'number', value: -n.v, raw: `-${n.raw}` }; }
      if (n.t === 'ident') {
        const special = specialFloat(n.v);
        if (special !== undefined) { this.advance(); return { kind: 'number', value: -special, raw: `-${n.v}` }; }
      }
      this.fail("expected a number after '-'");
    }
    this.fail('expected a value (a number, a string or a name)');
  }
}

function specialFloat(id: string): number | undefined {
  const l = id.toLowerCase();
  if (l === 'inf' || l === 'infinity' || l === 'inff' || l === 'infinityf') return Infinity;
  if (l === 'nan' || l === 'nanf') return NaN;
  return undefined;
}

/** The fields of a text-format message (a whole .prototxt file). */
export function parsePrototxt(text: string, options: ParseOptions = {}): TextField[] {
  const source = options.source ?? 'prototxt', max = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (typeof text !== 'string') throw new RedeError(`${source}: expected the text of a prototxt file, got ${text === null ? 'null' : typeof text}`);
  if (text.length > max) throw new RedeError(`${source}: a prototxt file may be at most ${max} characters, got ${text.length}`);
  return new Parser(new Lexer(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, source)).message(null, 0);
}

/** Where a field is, for errors: "lenet_solver.prototxt:3:1: base_lr". */
export const at = (source: string, f: TextField): string => `${source}:${f.line}:${f.col}: ${f.name}`;

/** A value as an error shows it. */
export function showValue(v: TextValue): string {
  switch (v.kind) {
    case 'number': return v.raw;
    case 'string': return JSON.stringify(v.value.length > 60 ? `${v.value.slice(0, 60)}…` : v.value);
    case 'ident': return v.value;
    case 'message': return 'a message { … }';
  }
}
