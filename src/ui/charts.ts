import { html, type SafeHtml } from './html.ts';

// Server-rendered charts for the newsroom: inline SVG, no script, no library. Colours come from
// `currentColor` and the `--chart-*` CSS variables (newsroom.css), so a chart follows light and dark mode.
// Every chart is an image with a <title> and <desc> for screen readers, and its numbers are also in a
// table under a <details>, for anyone who wants them exactly.

export interface ChartPoint {
  /** The x-axis label (a day, a minute). */
  label: string;
  value: number;
}

export interface BarChartOptions {
  /** Unique on the page: the ids of the title and description derive from it. */
  id: string;
  title: string;
  /** One sentence summing up the chart (the SVG's <desc>). */
  description: string;
  points: readonly ChartPoint[];
  /** Column headings of the fallback table. */
  labelHeading: string;
  valueHeading: string;
  /** Shortens an x-axis label under a bar (the table keeps the full label). */
  shortLabel?: (label: string) => string;
}

const width = 640;
const height = 220;
const padding = { top: 12, right: 8, bottom: 28, left: 44 };

/** A "nice" upper bound for the y axis: 1, 2 or 5 times a power of ten, at least the maximum. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** A bar chart as an accessible inline SVG with a table fallback; a short note when there are no points. */
export function barChart(options: BarChartOptions): SafeHtml {
  const { points } = options;
  const titleId = `${options.id}-title`;
  const descId = `${options.id}-desc`;
  if (points.length === 0) {
    return html`<figure class="chart" id="${options.id}"><figcaption class="chart__caption">${options.title}</figcaption><p class="chart__empty">Nothing to show yet.</p></figure>`;
  }
  const top = niceMax(Math.max(...points.map((p) => p.value)));
  const plotWidth = width - padding.left - padding.right;
  const plotHeight = height - padding.top - padding.bottom;
  const slot = plotWidth / points.length;
  const barWidth = Math.max(1, slot * 0.8);
  const y = (value: number) => padding.top + plotHeight - (value / top) * plotHeight;
  const fmt = (n: number) => (Math.round(n * 10) / 10).toString();
  // At most about eight x labels, evenly spread, so they never overlap.
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  const short = options.shortLabel ?? ((label: string) => label);
  const ticks = [0, top / 2, top];
  return html`<figure class="chart" id="${options.id}">
<figcaption class="chart__caption">${options.title}</figcaption>
<svg class="chart__svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${titleId} ${descId}" preserveAspectRatio="xMidYMid meet">
<title id="${titleId}">${options.title}</title>
<desc id="${descId}">${options.description}</desc>
<g class="chart__grid">${ticks.map(
    (t) =>
      html`<line x1="${padding.left}" x2="${width - padding.right}" y1="${fmt(y(t))}" y2="${fmt(y(t))}"></line><text class="chart__tick" x="${padding.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${Number.isInteger(t) ? t : fmt(t)}</text>`,
  )}</g>
<g class="chart__bars">${points.map(
    (p, i) =>
      html`<rect x="${fmt(padding.left + i * slot + (slot - barWidth) / 2)}" y="${fmt(y(p.value))}" width="${fmt(barWidth)}" height="${fmt(padding.top + plotHeight - y(p.value))}"><title>${p.label}: ${p.value}</title></rect>`,
  )}</g>
<g class="chart__labels">${points.map((p, i) =>
    i % labelEvery === 0
      ? html`<text class="chart__tick" x="${fmt(padding.left + i * slot + slot / 2)}" y="${height - 8}" text-anchor="middle">${short(p.label)}</text>`
      : '',
  )}</g>
</svg>
<details class="chart__data"><summary>The numbers</summary>
<table class="newsroom__table"><thead><tr><th scope="col">${options.labelHeading}</th><th scope="col">${options.valueHeading}</th></tr></thead>
<tbody>${points.map((p) => html`<tr><td>${p.label}</td><td>${p.value}</td></tr>`)}</tbody></table>
</details>
</figure>`;
}
