// A hand-written SVG line chart: time to last delivery against subscribers, both on log scales
// (values span 10 ms to seconds and 1k to 50k subscribers, so linear axes would squash the small end).

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

const W = 880;
const H = 460;
const M = { top: 50, right: 270, bottom: 60, left: 70 };

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Log-axis ticks: 1, 2, 5 × 10^k covering [min, max]. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let power = Math.floor(Math.log10(min)); power <= Math.ceil(Math.log10(max)); power++) {
    for (const unit of [1, 2, 5]) {
      const tick = unit * 10 ** power;
      if (tick >= min && tick <= max) ticks.push(tick);
    }
  }
  return ticks;
}

const formatN = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const points = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const xMin = Math.log10((xs[0] ?? 1000) / 1.6);
  const xMax = Math.log10((xs[xs.length - 1] ?? 1000) * 1.6);
  const ys = points.map((p) => Math.max(p.y, 0.1));
  const yMin = Math.log10(Math.min(...ys, 10) / 1.5);
  const yMax = Math.log10(Math.max(...ys, 10) * 1.5);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((Math.log10(x) - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => M.top + plotH - ((Math.log10(Math.max(y, 0.1)) - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // y grid and ticks
  for (const y of logTicks(10 ** yMin, 10 ** yMax)) {
    const py = sy(y).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${y}</text>`);
  }
  // x ticks at the measured N
  for (const x of xs) {
    const px = sx(x).toFixed(1);
    out.push(`<line x1="${px}" x2="${px}" y1="${M.top}" y2="${M.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${px}" y="${M.top + plotH + 18}" text-anchor="middle">${formatN(x)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${M.left + plotW / 2}" y="${H - 16}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);

  // Value labels beside the points, pushed apart vertically where points at one x are close.
  const labelY = new Map<string, number>();
  for (const x of xs) {
    const here = series.flatMap((s, i) => s.points.filter((p) => p.x === x && Number.isFinite(p.y)).map((p) => ({ i, y: sy(p.y) })));
    here.sort((a, b) => a.y - b.y);
    let previous = -Infinity;
    for (const point of here) {
      const y = Math.max(point.y + 4, previous + 13);
      labelY.set(`${point.i}@${x}`, y);
      previous = y;
    }
  }

  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const d = pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    for (const p of pts) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${s.color}"><title>${esc(`${s.label}: ${p.x} → ${p.y.toFixed(1)}`)}</title></circle>`);
      const ly = labelY.get(`${i}@${p.x}`) ?? sy(p.y);
      out.push(`<text x="${(sx(p.x) + 8).toFixed(1)}" y="${ly.toFixed(1)}" fill="${s.color}" font-size="11">${p.y.toFixed(p.y < 10 ? 1 : 0)} ms</text>`);
    }
    // legend
    const ly = M.top + 10 + i * 22;
    const lx = M.left + plotW + 16;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<circle cx="${lx + 11}" cy="${ly}" r="4" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
