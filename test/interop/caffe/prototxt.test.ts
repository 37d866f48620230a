// The text-format parser: every construct of the format Caffe's files use, and errors that point at the
// line and column with what was found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedeError } from '../../../src/engine/errors';
import { MAX_DEPTH, parsePrototxt, type TextField, type TextValue } from '../../../src/interop/caffe/prototxt';

/** A compact, comparable form: [name, value] with messages as nested lists, numbers and strings tagged. */
function plain(fields: TextField[]): unknown[] {
  const v = (x: TextValue): unknown => (x.kind === 'message' ? plain(x.fields) : x.kind === 'number' ? x.value : `${x.kind === 'ident' ? '#' : ''}${x.value}`);
  return fields.map((f) => [f.name, v(f.value)]);
}
const p = (s: string) => plain(parsePrototxt(s));
const fails = (s: string, re: RegExp) => assert.throws(() => parsePrototxt(s, { source: 'f.prototxt' }), (e: unknown) => e instanceof RedeError && re.test(e.message));

test('prototxt: scalars, nested messages (with and without colon, braces or angle brackets), repeated fields, separators', () => {
  assert.deepEqual(p('a: 1 b: "x" c: MAX'), [['a', 1], ['b', 'x'], ['c', '#MAX']]);
  assert.deepEqual(p('layer { name: "c1" param { lr_mult: 1 } param { lr_mult: 2 } }'),
    [['layer', [['name', 'c1'], ['param', [['lr_mult', 1]]], ['param', [['lr_mult', 2]]]]]]);
  assert.deepEqual(p('m: { x: 1 } n < y: 2 >'), [['m', [['x', 1]]], ['n', [['y', 2]]]]);
  assert.deepEqual(p('dim: 1; dim: 2, dim: 3'), [['dim', 1], ['dim', 2], ['dim', 3]]);
  assert.deepEqual(p('v: [1, 2.5, -3] e: [] m: [{a: 1}, {a: 2}]'), [['v', 1], ['v', 2.5], ['v', -3], ['m', [['a', 1]]], ['m', [['a', 2]]]]);
  assert.deepEqual(p(''), []);
  assert.deepEqual(p('\ufeffa: 1'), [['a', 1]]);
});

test('prototxt: numbers — integers, hex, octal, floats, exponents, f suffix, leading dot, sign, inf and nan', () => {
  assert.deepEqual(p('a: 42 b: 0x1F c: 017 d: 0 e: 1.5e-3 f: 2E+2 g: 0.5f h: .25 i: -7 j: - 2 k: 10000'),
    [['a', 42], ['b', 31], ['c', 15], ['d', 0], ['e', 0.0015], ['f', 200], ['g', 0.5], ['h', 0.25], ['i', -7], ['j', -2], ['k', 10000]]);
  const [inf, ninf, nan, infinity] = parsePrototxt('a: inf b: -inf c: nan d: Infinity').map((f) => (f.value as { value: number }).value);
  assert.equal(inf, Infinity); assert.equal(ninf, -Infinity); assert.ok(Number.isNaN(nan)); assert.equal(infinity, Infinity);
  assert.equal((parsePrototxt('x: 0.00390625')[0].value as { raw: string }).raw, '0.00390625');
});

test('prototxt: strings — both quotes, adjacent literals joined, every escape, UTF-8 from byte escapes', () => {
  assert.deepEqual(p(String.raw`s: "a\"b" t: 'it\'s' u: "x" 'y' "z"`), [['s', 'a"b'], ['t', "it's"], ['u', 'xyz']]);
  assert.deepEqual(p(String.raw`e: "\n\t\r\a\b\f\v\\\?\'"`), [['e', '\n\t\r\x07\b\f\v\\?\'']]);
  assert.deepEqual(p(String.raw`o: "\101\60" h: "\x41\x4a" u: "\u00e9\U0001F600"`), [['o', 'A0'], ['h', 'AJ'], ['u', 'é😀']]);
  assert.deepEqual(p(String.raw`b: "\303\251" c: "\xc3\xa9"`), [['b', 'é'], ['c', 'é']]); // UTF-8 bytes of é
  assert.deepEqual(p('s: "naïve ✓"'), [['s', 'naïve ✓']]);
});

test('prototxt: comments to the end of the line, anywhere', () => {
  assert.deepEqual(p('# head\na: 1 # after\n# between\nm { # in\n b: "#not a comment" }\n#end'), [['a', 1], ['m', [['b', '#not a comment']]]]);
});

test('prototxt: positions are 1-based line and column of the field name', () => {
  const f = parsePrototxt('a: 1\n  layer {\n    name: "x"\n  }');
  assert.deepEqual([f[0].line, f[0].col, f[1].line, f[1].col], [1, 1, 2, 3]);
  const inner = (f[1].value as { fields: TextField[] }).fields[0];
  assert.deepEqual([inner.line, inner.col], [3, 5]);
});

test('prototxt: errors name the file, line and column, what was expected and what was found', () => {
  fails('a: 1\nb 2', /^f\.prototxt:2:3: expected ':' or '\{' after the field name 'b', got the number 2$/);
  fails('layer {\n name: "x"\n', /^f\.prototxt:3:1: expected a field name or '\}' to close the message, got the end of the input$/);
  fails('a: }', /^f\.prototxt:1:4: expected a value .*, got '\}'$/);
  fails('}', /^f\.prototxt:1:1: expected a field name, got '\}'$/);
  fails('a: "abc', /^f\.prototxt:1:4: unterminated string, got the end of the input$/);
  fails('a: "ab\nc"', /^f\.prototxt:1:4: unterminated string, got the end of the line$/);
  fails(String.raw`a: "\q"`, /^f\.prototxt:1:5: unknown escape, got '\\q'$/);
  fails(String.raw`a: "\400"`, /^f\.prototxt:1:5: an octal escape must be at most \\377/);
  fails(String.raw`a: "\u12"`, /needs 4 hex digits/);
  fails(String.raw`a: "\uD800"`, /not a Unicode scalar value/);
  fails('a: 0x', /a hex number needs digits/);
  fails('a: 1e', /an exponent needs digits/);
  fails('a: 09', /an integer with a leading 0 is octal, got '09'/);
  fails('a: 12abc', /a number must not run into letters, got '12abc'/);
  fails('a: -x', /expected a number after '-', got 'x'/);
  fails('a: [1 2]', /expected ',' or '\]' in the list of 'a', got the number 2/);
  fails('a: @', /^f\.prototxt:1:4: unexpected character '@'$/);
  fails('a: \u0001', /unexpected character U\+0001/);
  fails('[ext.field]: 1', /expected a field name, got '\['/);
});

test('prototxt: bounded — nesting deeper than the limit and inputs over maxLength are refused before work', () => {
  const deep = (n: number) => `${'m { '.repeat(n)}${'} '.repeat(n)}`;
  assert.equal(parsePrototxt(deep(MAX_DEPTH)).length, 1);
  fails(deep(MAX_DEPTH + 1), new RegExp(`messages nest more than ${MAX_DEPTH} deep`));
  fails(`a: [${'{ b: ['.repeat(200)}`, /nest more than/); // through the list shorthand too
  assert.throws(() => parsePrototxt('a: 1', { maxLength: 3, source: 's' }), /^RedeError: s: a prototxt file may be at most 3 characters, got 4$/);
  assert.throws(() => parsePrototxt(42 as unknown as string), /expected the text of a prototxt file, got number/);
});
