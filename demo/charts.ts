// Line charts on a canvas: x is the training step, one or more series, a legend, y gridlines.

export interface Series { name: string; color: string; points: [x: number, y: number][]; dots?: boolean }

export interface ChartOptions {
  /** Fixed y range; otherwise [0, max] of the data (rounded up). */
  yMin?: number;
  yMax?: number;
  yFormat?: (v: number) => string;
}

const PAD = { left: 44, right: 10, top: 20, bottom: 24 };

export function drawChart(canvas: HTMLCanvasElement, series: Series[], o: ChartOptions = {}): void {
  const g = canvas.getContext('2d')!;
  const W = canvas.width, H = canvas.height, pw = W - PAD.left - PAD.right, ph = H - PAD.top - PAD.bottom;
  g.clearRect(0, 0, W, H);
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMin = o.yMin ?? 0;
  const yMax = o.yMax ?? niceCeil(Math.max(1e-6, ...all.map((p) => p[1])));
  const fmt = o.yFormat ?? ((v: number) => v.toFixed(2));
  const X = (x: number) => PAD.left + (x / xMax) * pw;
  const Y = (y: number) => PAD.top + ph - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * ph;

  g.font = '11px system-ui, sans-serif';
  g.strokeStyle = '#e4e4e4'; g.fillStyle = '#666'; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4, y = Math.round(Y(v)) + 0.5;
    g.beginPath(); g.moveTo(PAD.left, y); g.lineTo(W - PAD.right, y); g.stroke();
    g.textAlign = 'right'; g.textBaseline = 'middle'; g.fillText(fmt(v), PAD.left - 4, y);
  }
  g.textAlign = 'center'; g.textBaseline = 'top';
  g.fillText('0', X(0), H - PAD.bottom + 6); g.fillText(`${xMax} steps`, W - PAD.right - 30, H - PAD.bottom + 6);

  let lx = PAD.left;
  for (const s of series) {
    g.strokeStyle = s.color; g.fillStyle = s.color; g.lineWidth = 1.5;
    g.beginPath();
    s.points.forEach(([x, y], i) => (i ? g.lineTo(X(x), Y(y)) : g.moveTo(X(x), Y(y))));
    g.stroke();
    if (s.dots) for (const [x, y] of s.points) { g.beginPath(); g.arc(X(x), Y(y), 2.5, 0, 2 * Math.PI); g.fill(); }
    const last = s.points.at(-1);
    const label = last ? `${s.name} ${fmt(last[1])}` : s.name;
    g.textAlign = 'left'; g.textBaseline = 'top';
    g.fillRect(lx, 6, 10, 3);
    g.fillStyle = '#333'; g.fillText(label, lx + 14, 2);
    lx += g.measureText(label).width + 30;
  }
}

/** 1, 2 or 5 times a power of ten, at least v. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}
