// A small, dependency-free SVG chart writer: line charts (linear or log-scale y) and scatter plots with
// axes, "nice" ticks, a legend and a title, and figures that lay several charts out on a grid. Output is a
// plain string, deterministic for the same input (coordinates rounded to 0.1 px), so it can be diffed.
import { RedeError } from '../engine/errors';

/** Tableau 10: distinguishable, colour-blind-friendlier than the default rainbow. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Default: PALETTE[index of the series]. */
  color?: string;
  /** true: dashed; a string: an SVG stroke-dasharray. */
  dash?: boolean | string;
  /** Draw a dot at every point. */
  markers?: boolean;
  /** List it in the legend (default true). */
  legend?: boolean;
}

export interface LineChartSpec {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: Series[];
  /** Log-scale y: non-positive values are left out (the line breaks there). */
  logY?: boolean;
  /** Fixed axis ranges; default: the data's, widened to nice ticks. Lines are clipped to the plot area. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Integer ticks only on x (layer numbers, epochs). */
  xIntegers?: boolean;
  width?: number;
  height?: number;
  /** A line of small print under the chart (e.g. what dashed lines mean). */
  note?: string;
}

export interface ScatterSpec {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Group (class) of each point, an index into `groups`: colours and legend. */
  group: ArrayLike<number>;
  groups: string[];
  radius?: number;
  width?: number;
  height?: number;
  note?: string;
}

export type Panel = ({ kind: 'line' } & LineChartSpec) | ({ kind: 'scatter' } & ScatterSpec);

interface Rendered { width: number; height: number; body: string }

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const CHAR_W = 6.2; // approximate width of one 11 px character, for layout

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Tick values for [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5, integers = false): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) throw new RedeError(`svg: axis range [${lo}, ${hi}] is not finite`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) { const d = lo === 0 ? 1 : Math.abs(lo) * 0.1; lo -= d; hi += d; }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integers) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9) * step, last = Math.ceil(hi / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v <= last + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

/** Powers of ten covering [lo, hi] (both > 0), every `k`-th decade so there are at most ~8 labels. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi > 0)) throw new RedeError(`svg: a log axis needs a positive range, got [${lo}, ${hi}]`);
  let a = Math.floor(Math.log10(Math.min(lo, hi)) + 1e-9), b = Math.ceil(Math.log10(Math.max(lo, hi)) - 1e-9);
  if (a === b) { a -= 1; b += 1; }
  const k = Math.max(1, Math.ceil((b - a) / 8));
  a = Math.floor(a / k) * k; b = Math.ceil(b / k) * k;
  const out: number[] = [];
  for (let e = a; e <= b; e += k) out.push(10 ** e);
  return out;
}

/** A tick label: plain for ordinary magnitudes, 1e-7 style otherwise. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return Number(v.toPrecision(6)).toString();
  const e = Math.floor(Math.log10(a) + 1e-9), m = v / 10 ** e;
  return Math.abs(m - Math.round(m)) < 1e-9 && Math.round(m) === 1 ? `1e${e}` : `${Number(m.toPrecision(3))}e${e}`;
}

interface Axis { ticks: number[]; map: (v: number) => number; log: boolean }

function linearAxis(values: number[], domain: [number, number] | undefined, from: number, to: number, integers = false): Axis {
  const lo = domain ? domain[0] : Math.min(...values), hi = domain ? domain[1] : Math.max(...values);
  let ticks = niceTicks(lo, hi, 5, integers);
  if (domain) ticks = ticks.filter((t) => t >= domain[0] - 1e-12 && t <= domain[1] + 1e-12);
  const a = domain ? domain[0] : ticks[0], b = domain ? domain[1] : ticks[ticks.length - 1];
  const span = b - a || 1;
  return { ticks, log: false, map: (v) => from + ((v - a) / span) * (to - from) };
}

function logAxis(values: number[], domain: [number, number] | undefined, from: number, to: number): Axis {
  const pos = values.filter((v) => v > 0);
  if (!domain && pos.length === 0) throw new RedeError('svg: a log-scale axis has no positive values to show');
  const ticks = domain ? logTicks(domain[0], domain[1]) : logTicks(Math.min(...pos), Math.max(...pos));
  const a = Math.log10(domain ? domain[0] : ticks[0]), b = Math.log10(domain ? domain[1] : ticks[ticks.length - 1]);
  const span = b - a || 1;
  return { ticks: domain ? ticks.filter((t) => t >= domain[0] && t <= domain[1]) : ticks, log: true, map: (v) => from + ((Math.log10(v) - a) / span) * (to - from) };
}

interface Frame { left: number; top: number; right: number; bottom: number; width: number; height: number }

/** Axes, grid, tick labels, axis labels, title and note around the plot area. */
function frame(f: Frame, xa: Axis, ya: Axis, spec: { title?: string; xLabel?: string; yLabel?: string; note?: string }): string {
  const out: string[] = [];
  const { left, top, right, bottom } = f;
  for (const t of ya.ticks) {
    const y = r1(ya.map(t));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${left - 5}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="10" fill="#444">${escapeXml(tickLabel(t))}</text>`);
  }
  for (const t of xa.ticks) {
    const x = r1(xa.map(t));
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" font-size="10" fill="#444">${escapeXml(tickLabel(t))}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${r1(right - left)}" height="${r1(bottom - top)}" fill="none" stroke="#888"/>`);
  if (spec.title) out.push(`<text x="${r1((left + right) / 2)}" y="${top - 10}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`);
  if (spec.xLabel) out.push(`<text x="${r1((left + right) / 2)}" y="${bottom + 32}" text-anchor="middle" font-size="11">${escapeXml(spec.xLabel)}</text>`);
  if (spec.yLabel) {
    const cy = r1((top + bottom) / 2);
    out.push(`<text x="14" y="${cy}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${cy})">${escapeXml(spec.yLabel)}</text>`);
  }
  if (spec.note) out.push(`<text x="${left}" y="${f.height - 6}" font-size="10" fill="#555">${escapeXml(spec.note)}</text>`);
  return out.join('\n');
}

interface LegendItem { name: string; color: string; dash?: string; dot?: boolean }

function legend(items: LegendItem[], x: number, y: number): string {
  return items.map((it, i) => {
    const yy = y + i * 16;
    const mark = it.dot
      ? `<circle cx="${x + 9}" cy="${yy}" r="4" fill="${it.color}"/>`
      : `<line x1="${x}" y1="${yy}" x2="${x + 18}" y2="${yy}" stroke="${it.color}" stroke-width="2"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/>`;
    return `${mark}<text x="${x + 24}" y="${yy}" dominant-baseline="middle" font-size="11">${escapeXml(it.name)}</text>`;
  }).join('\n');
}

const legendWidth = (names: string[]): number => (names.length ? 34 + CHAR_W * Math.max(...names.map((n) => n.length)) : 0);
const dashOf = (d: Series['dash']): string | undefined => (d === true ? '6 4' : typeof d === 'string' ? d : undefined);

function checkSeries(s: Series, i: number): void {
  if (s.x.length !== s.y.length) throw new RedeError(`svg: series ${i} ('${s.name}') has ${s.x.length} x values and ${s.y.length} y values`);
}

function renderLine(spec: LineChartSpec, id = 'plot'): Rendered {
  if (!spec.series.length) throw new RedeError('svg: a line chart needs at least one series');
  spec.series.forEach(checkSeries);
  const names = spec.series.filter((s) => s.legend !== false).map((s) => s.name);
  const lw = legendWidth(names);
  const width = spec.width ?? 560 + lw, height = spec.height ?? 340;
  const f: Frame = { left: 62, top: 30, right: width - 14 - lw, bottom: height - 44 - (spec.note ? 12 : 0), width, height };
  const xs: number[] = [], ys: number[] = [];
  const inside = (v: number, d?: [number, number]) => !d || (v >= d[0] && v <= d[1]);
  for (const s of spec.series) for (let i = 0; i < s.x.length; i++) {
    if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i]) && (!spec.logY || s.y[i] > 0) && inside(s.x[i], spec.xDomain) && inside(s.y[i], spec.yDomain)) {
      xs.push(s.x[i]); ys.push(s.y[i]);
    }
  }
  if (!xs.length) throw new RedeError('svg: a line chart has no finite points to draw');
  const xa = linearAxis(xs, spec.xDomain, f.left, f.right, spec.xIntegers);
  const ya = spec.logY ? logAxis(ys, spec.yDomain, f.bottom, f.top) : linearAxis(ys, spec.yDomain, f.bottom, f.top);
  // Lines leave the plot area only where a fixed domain cuts them: clip there.
  const clip = spec.xDomain || spec.yDomain ? `${id}-clip` : '';
  const body: string[] = [frame(f, xa, ya, spec)];
  if (clip) body.push(`<clipPath id="${clip}"><rect x="${f.left}" y="${f.top}" width="${r1(f.right - f.left)}" height="${r1(f.bottom - f.top)}"/></clipPath>`);
  const items: LegendItem[] = [];
  spec.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length], dash = dashOf(s.dash);
    let d = '', pen = false;
    const dots: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const ok = Number.isFinite(s.x[i]) && Number.isFinite(s.y[i]) && (!spec.logY || s.y[i] > 0);
      if (!ok) { pen = false; continue; }
      const px = r1(xa.map(s.x[i])), py = r1(ya.map(s.y[i]));
      d += `${pen ? 'L' : 'M'}${px} ${py} `;
      pen = true;
      if (s.markers) dots.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${color}"${clip ? ` clip-path="url(#${clip})"` : ''}/>`);
    }
    body.push(`<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="1.8"${dash ? ` stroke-dasharray="${dash}"` : ''}${clip ? ` clip-path="url(#${clip})"` : ''}><title>${escapeXml(s.name)}</title></path>`);
    body.push(...dots);
    if (s.legend !== false) items.push({ name: s.name, color, dash });
  });
  body.push(legend(items, f.right + 14, f.top + 8));
  return { width, height, body: body.join('\n') };
}

function renderScatter(spec: ScatterSpec): Rendered {
  const n = spec.x.length;
  if (spec.y.length !== n || spec.group.length !== n) throw new RedeError(`svg: scatter has ${n} x, ${spec.y.length} y and ${spec.group.length} group values`);
  if (!n) throw new RedeError('svg: a scatter plot needs at least one point');
  const lw = legendWidth(spec.groups);
  const width = spec.width ?? 560 + lw, height = spec.height ?? 460;
  const f: Frame = { left: 62, top: 30, right: width - 14 - lw, bottom: height - 44 - (spec.note ? 12 : 0), width, height };
  const xa = linearAxis(Array.from(spec.x), undefined, f.left, f.right);
  const ya = linearAxis(Array.from(spec.y), undefined, f.bottom, f.top);
  const body: string[] = [frame(f, xa, ya, spec)];
  const rad = spec.radius ?? 2.2;
  // One <g> per group keeps the file small (the fill is set once) and lets a reader toggle classes.
  spec.groups.forEach((name, g) => {
    const dots: string[] = [];
    for (let i = 0; i < n; i++) if (spec.group[i] === g) dots.push(`<circle cx="${r1(xa.map(spec.x[i]))}" cy="${r1(ya.map(spec.y[i]))}" r="${rad}"/>`);
    body.push(`<g fill="${PALETTE[g % PALETTE.length]}" fill-opacity="0.7"><title>${escapeXml(name)}</title>${dots.join('')}</g>`);
  });
  body.push(legend(spec.groups.map((name, g) => ({ name, color: PALETTE[g % PALETTE.length], dot: true })), f.right + 14, f.top + 8));
  return { width, height, body: body.join('\n') };
}

function wrap(r: Rendered): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${r.width}" height="${r.height}" viewBox="0 0 ${r.width} ${r.height}" ${FONT}>\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${r.body}\n</svg>\n`;
}

/** One line chart as a complete SVG document. */
export function lineChart(spec: LineChartSpec): string { return wrap(renderLine(spec)); }

/** One scatter plot as a complete SVG document. */
export function scatterChart(spec: ScatterSpec): string { return wrap(renderScatter(spec)); }

/** Several charts on a grid of `cols` columns (row-major), with an optional overall title. */
export function figure(panels: Panel[], o: { cols?: number; title?: string } = {}): string {
  if (!panels.length) throw new RedeError('svg: a figure needs at least one panel');
  const cols = Math.max(1, Math.min(o.cols ?? 2, panels.length));
  const rendered = panels.map((p, i) => (p.kind === 'line' ? renderLine(p, `p${i}`) : renderScatter(p)));
  const cw = Math.max(...rendered.map((r) => r.width)), ch = Math.max(...rendered.map((r) => r.height));
  const head = o.title ? 28 : 0;
  const rows = Math.ceil(rendered.length / cols);
  const body = rendered.map((r, i) => `<g transform="translate(${(i % cols) * cw} ${head + Math.floor(i / cols) * ch})">\n${r.body}\n</g>`);
  if (o.title) body.unshift(`<text x="${(cols * cw) / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  return wrap({ width: cols * cw, height: head + rows * ch, body: body.join('\n') });
}
