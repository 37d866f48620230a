// The SVG writer: ticks, log axes, escaping, broken lines on a log axis, legends, figures, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, figure, lineChart, logTicks, niceTicks, scatterChart, tickLabel } from '../../src/viz/svg';

/** Every opened element is closed, in order (a cheap well-formedness check without an XML parser). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (!m[1]) stack.push(m[2]);
    else assert.equal(stack.pop(), m[2], `closing </${m[2]}>`);
  }
  assert.deepEqual(stack, []);
}

test('niceTicks: steps of 1, 2 or 5 × 10^k covering the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.13, 0.87), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(1, 20, 5, true), [0, 5, 10, 15, 20]);
  assert.deepEqual(niceTicks(1, 3, 5, true), [1, 2, 3]);
  const t = niceTicks(-37, 512);
  assert.ok(t[0] <= -37 && t[t.length - 1] >= 512 && t.length <= 8, String(t));
  assert.equal(niceTicks(5, 5).length > 1, true); // a constant series still gets an axis
});

test('logTicks: decades covering the range, thinned to at most ~8 labels', () => {
  assert.deepEqual(logTicks(0.02, 30), [0.01, 0.1, 1, 10, 100]);
  const wide = logTicks(1e-13, 10);
  assert.ok(wide.length <= 9 && wide[0] <= 1e-13 && wide[wide.length - 1] >= 10, String(wide));
  assert.throws(() => logTicks(0, 1), /positive range/);
});

test('tickLabel: plain numbers for ordinary magnitudes, exponents otherwise', () => {
  assert.equal(tickLabel(0), '0');
  assert.equal(tickLabel(0.25), '0.25');
  assert.equal(tickLabel(1e-12), '1e-12');
  assert.equal(tickLabel(2e6), '2e6');
  assert.equal(tickLabel(0.30000000000000004), '0.3');
});

test('lineChart: axes, legend, escaped text, dashed series, and hidden legend entries', () => {
  const svg = lineChart({
    title: 'a < b & c', xLabel: 'x', yLabel: 'y',
    series: [{ name: 'up', x: [1, 2, 3], y: [1, 2, 3] }, { name: 'down "d"', x: [1, 2, 3], y: [3, 2, 1], dash: true }, { name: 'ghost', x: [1], y: [2], legend: false }],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assertBalanced(svg);
  assert.match(svg, /a &lt; b &amp; c/);
  assert.match(svg, /down &quot;d&quot;/);
  assert.equal((svg.match(/<path /g) ?? []).length, 3);
  assert.match(svg, /stroke-dasharray="6 4"/);
  assert.ok(!/>ghost<\/text>/.test(svg), 'a series with legend: false has no legend text');
  assert.match(svg, />up<\/text>/);
  assert.equal(lineChart({ series: [{ name: 's', x: [0, 1], y: [0, 1] }] }), lineChart({ series: [{ name: 's', x: [0, 1], y: [0, 1] }] }), 'deterministic');
});

test('lineChart on a log axis: decade ticks; zeros and NaN break the line instead of failing', () => {
  const svg = lineChart({ logY: true, series: [{ name: 'g', x: [1, 2, 3, 4, 5], y: [1e-12, 1e-6, 0, NaN, 1] }] });
  assertBalanced(svg);
  assert.match(svg, />1e-12</);
  const d = /<path d="([^"]+)"/.exec(svg)![1];
  assert.equal((d.match(/M/g) ?? []).length, 2, `two pieces: ${d}`);
  assert.equal((d.match(/L/g) ?? []).length, 1);
  assert.throws(() => lineChart({ logY: true, series: [{ name: 'z', x: [1], y: [0] }] }), /no finite points|no positive/);
});

test('lineChart with a fixed domain clips what leaves it (a diverging loss curve)', () => {
  const svg = lineChart({ yDomain: [0, 3], series: [{ name: 'loss', x: [1, 2, 3], y: [2.3, 1.5, 1e30], markers: true }] });
  assertBalanced(svg);
  assert.match(svg, /<clipPath id="plot-clip">/);
  assert.match(svg, /<path [^>]*clip-path="url\(#plot-clip\)"/);
  assert.match(svg, />3<\/text>/);
  const panels = figure([{ kind: 'line', yDomain: [0, 1], series: [{ name: 'a', x: [0, 1], y: [0, 2] }] }, { kind: 'line', yDomain: [0, 1], series: [{ name: 'b', x: [0, 1], y: [0, 2] }] }]);
  assert.ok(panels.includes('id="p0-clip"') && panels.includes('id="p1-clip"'), 'one clip id per panel');
  assert.ok(!lineChart({ series: [{ name: 's', x: [0, 1], y: [0, 1] }] }).includes('clipPath'), 'no clip without a fixed domain');
});

test('lineChart rejects mismatched series and empty charts', () => {
  assert.throws(() => lineChart({ series: [{ name: 'bad', x: [1, 2], y: [1] }] }), /series 0 \('bad'\) has 2 x values and 1 y values/);
  assert.throws(() => lineChart({ series: [] }), /at least one series/);
});

test('scatterChart: one group element per class, every point drawn, legend of class names', () => {
  const svg = scatterChart({ x: [0, 1, 2, 3], y: [1, 0, 1, 0], group: [0, 1, 1, 2], groups: ['A', 'B', 'C'] });
  assertBalanced(svg);
  assert.equal((svg.match(/<circle cx="[^"]+" cy="[^"]+" r="2.2"\/>/g) ?? []).length, 4);
  assert.equal((svg.match(/<g fill=/g) ?? []).length, 3);
  for (const name of ['A', 'B', 'C']) assert.match(svg, new RegExp(`>${name}</text>`));
  assert.throws(() => scatterChart({ x: [0], y: [0, 1], group: [0], groups: ['A'] }), /1 x, 2 y and 1 group/);
});

test('figure: panels on a grid under one title', () => {
  const p = { kind: 'line' as const, series: [{ name: 's', x: [0, 1], y: [0, 1] }], width: 300, height: 200 };
  const svg = figure([p, p, p], { cols: 2, title: 'Four' });
  assertBalanced(svg);
  assert.match(svg, /width="600" height="428"/);
  assert.equal((svg.match(/<g transform="translate/g) ?? []).length, 3);
  assert.match(svg, /translate\(300 28\)/);
  assert.equal(escapeXml('<&>'), '&lt;&amp;&gt;');
});
