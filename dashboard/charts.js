// Small SVG charts, drawn with the DOM (no library): a line chart and an event timeline.
// Values arrive as numbers for drawing only; every figure shown as text stays a decimal string.

const NS = 'http://www.w3.org/2000/svg';

const el = (name, attributes = {}, text) => {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
};

export const COLORS = ['#c2410c', '#1d4ed8', '#15803d', '#7e22ce', '#b91c1c', '#0f766e'];

const shortNumber = (n) => {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return abs >= 10 || n === 0 ? n.toFixed(0) : n.toFixed(2);
};
const shortTime = (ms) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');

/**
 * A line chart of one or more series ({ name, points: [[timeMs, value], ...] }), as steps (each
 * value holds until the next point). Returns the <svg> element.
 */
export const lineChart = ({ series, width = 640, height = 220, title, from, to, xLabel = shortTime }) => {
  const pad = { left: 52, right: 12, top: 22, bottom: 26 };
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart' });
  if (title) svg.append(el('title', {}, title));
  const points = series.flatMap((s) => s.points);
  const t0 = from ?? Math.min(...points.map((p) => p[0]));
  const t1 = Math.max(to ?? -Infinity, ...points.map((p) => p[0]), t0 + 1);
  const vMax = Math.max(0, ...points.map((p) => p[1])) || 1;
  const vMin = Math.min(0, ...points.map((p) => p[1]));
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - ((v - vMin) / (vMax - vMin)) * (height - pad.top - pad.bottom);
  for (const v of [vMin, (vMin + vMax) / 2, vMax]) {
    svg.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, shortNumber(v)));
  }
  svg.append(el('text', { x: pad.left, y: height - 6, class: 'axis' }, xLabel(t0)));
  svg.append(el('text', { x: width - pad.right, y: height - 6, 'text-anchor': 'end', class: 'axis' }, xLabel(t1)));
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    let d = `M${x(s.points[0][0])},${y(s.points[0][1])}`;
    for (let j = 1; j < s.points.length; j++) d += ` H${x(s.points[j][0])} V${y(s.points[j][1])}`;
    d += ` H${x(t1)}`;
    svg.append(el('path', { d, fill: 'none', stroke: s.color ?? COLORS[i % COLORS.length], 'stroke-width': 2, class: 'series', 'data-series': s.name }));
    svg.append(el('text', { x: pad.left + 8 + i * 110, y: 14, fill: s.color ?? COLORS[i % COLORS.length], class: 'legend' }, s.name));
  });
  return svg;
};

/** Events on a time axis: { timeMs, kind, label } with one row per kind. Returns the <svg> element. */
export const timeline = ({ events, kinds, width = 640, from, to, xLabel = shortTime }) => {
  const pad = { left: 110, right: 12, top: 8, bottom: 24 };
  const row = 22;
  const height = pad.top + pad.bottom + row * kinds.length;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart timeline' });
  const t0 = from ?? Math.min(...events.map((e) => e.timeMs));
  const t1 = Math.max(to ?? -Infinity, ...events.map((e) => e.timeMs), t0 + 1);
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  kinds.forEach((kind, i) => {
    const cy = pad.top + row * i + row / 2;
    svg.append(el('text', { x: pad.left - 8, y: cy + 4, 'text-anchor': 'end', class: 'axis' }, kind.label));
    svg.append(el('line', { x1: pad.left, x2: width - pad.right, y1: cy, y2: cy, class: 'grid' }));
    for (const event of events.filter((e) => e.kind === kind.kind)) {
      const dot = el('circle', { cx: x(event.timeMs), cy, r: 5, fill: kind.color, class: `event ${kind.kind}` });
      dot.append(el('title', {}, event.label));
      svg.append(dot);
    }
  });
  svg.append(el('text', { x: pad.left, y: height - 6, class: 'axis' }, xLabel(t0)));
  svg.append(el('text', { x: width - pad.right, y: height - 6, 'text-anchor': 'end', class: 'axis' }, xLabel(t1)));
  return svg;
};

/** A bar of `value` against a `target` marker, both ppm, on a scale to `max` ppm. Returns the <svg> element. */
export const gauge = ({ value, target, max, width = 640, label }) => {
  const height = 44;
  const pad = { left: 8, right: 8 };
  const x = (v) => pad.left + (Math.min(v, max) / max) * (width - pad.left - pad.right);
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart gauge' });
  svg.append(el('title', {}, label));
  svg.append(el('rect', { x: pad.left, y: 8, width: width - pad.left - pad.right, height: 16, fill: '#e5e7eb' }));
  svg.append(el('rect', { x: pad.left, y: 8, width: x(value) - pad.left, height: 16, fill: value >= target ? '#15803d' : '#c2410c', class: 'gauge-value' }));
  if (target !== null) {
    svg.append(el('line', { x1: x(target), x2: x(target), y1: 2, y2: 30, stroke: '#111827', 'stroke-width': 2, class: 'gauge-target' }));
  }
  svg.append(el('text', { x: pad.left, y: 40, class: 'axis' }, label));
  return svg;
};
