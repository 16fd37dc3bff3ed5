// A hand-written SVG chart of recall (x) against QPS (y, log scale) for one data set: one line
// per contestant × configuration, points labelled with their ef. Pure string building, no I/O.

import type { DatasetResult } from './runner.js';

/** One line of the chart. */
export interface ChartSeries {
  label: string;
  points: Array<{ recall: number; qps: number; ef: number | null }>;
}

const WIDTH = 960;
const HEIGHT = 580;
const MARGIN = { left: 84, right: 250, top: 56, bottom: 64 };
/** Colour-blind-friendly palette (Okabe–Ito), then a few extras. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#7f7f7f'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

function formatQps(value: number): string {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(Number(value.toPrecision(3)));
}

/** The series of a data set's results: recall@primary k against QPS at that k, one point per ef. */
export function seriesOf(result: DatasetResult): ChartSeries[] {
  const depth = String(result.primaryDepth);
  return result.runs
    .filter((run) => run.sweep.length > 0)
    .map((run) => ({
      label: `${run.contestant} · ${run.label}`,
      points: run.sweep
        .map((point) => ({
          recall: point.recall[depth] ?? Number.NaN,
          qps: point.searches[0]?.qps ?? Number.NaN,
          ef: point.ef,
        }))
        .filter((point) => Number.isFinite(point.recall) && Number.isFinite(point.qps) && point.qps > 0),
    }))
    .filter((series) => series.points.length > 0);
}

/**
 * Renders the chart. X is recall from a rounded-down minimum to 1; Y is QPS on a log10 axis with
 * 1-2-5 ticks. An empty series list still gives a valid SVG with a "no data" note.
 */
export function renderRecallQpsChart(title: string, xLabel: string, series: ChartSeries[]): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = series.flatMap((line) => line.points);
  const minRecall = all.length > 0 ? Math.min(...all.map((point) => point.recall)) : 0;
  const xMin = Math.max(0, Math.min(0.9, Math.floor((minRecall - 0.02) * 10) / 10));
  const xMax = 1;
  const qpsValues = all.map((point) => point.qps);
  let yMinLog = qpsValues.length > 0 ? Math.floor(Math.log10(Math.min(...qpsValues))) : 0;
  let yMaxLog = qpsValues.length > 0 ? Math.ceil(Math.log10(Math.max(...qpsValues))) : 1;
  if (yMaxLog <= yMinLog) yMaxLog = yMinLog + 1;
  if (yMaxLog - yMinLog > 8) yMinLog = yMaxLog - 8;
  const x = (recall: number): number => MARGIN.left + ((recall - xMin) / (xMax - xMin)) * plotWidth;
  const y = (qps: number): number =>
    MARGIN.top + plotHeight - ((Math.log10(qps) - yMinLog) / (yMaxLog - yMinLog)) * plotHeight;
  const round = (value: number): string => value.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      'font-family="Helvetica, Arial, sans-serif" font-size="13">',
  );
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="30" font-size="17" font-weight="bold">${escapeXml(title)}</text>`);

  // Grid and ticks: x in the finest of 0.01/0.02/0.05/0.1 steps giving at most 10 intervals, y at 1-2-5 per decade.
  const xStep = [0.01, 0.02, 0.05, 0.1].find((step) => (xMax - xMin) / step <= 10.001) ?? 0.1;
  const xTicks = Math.round((xMax - xMin) / xStep);
  for (let index = 0; index <= xTicks; index++) {
    const tick = xMin + index * xStep;
    const position = round(x(tick));
    out.push(
      `<line x1="${position}" y1="${MARGIN.top}" x2="${position}" y2="${MARGIN.top + plotHeight}" stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text x="${position}" y="${MARGIN.top + plotHeight + 20}" text-anchor="middle">${tick.toFixed(xStep < 0.1 ? 2 : 1)}</text>`,
    );
  }
  for (let decade = yMinLog; decade <= yMaxLog; decade++) {
    for (const multiple of [1, 2, 5]) {
      const value = multiple * 10 ** decade;
      if (Math.log10(value) > yMaxLog + 1e-9) continue;
      const position = round(y(value));
      const major = multiple === 1;
      out.push(
        `<line x1="${MARGIN.left}" y1="${position}" x2="${MARGIN.left + plotWidth}" y2="${position}" stroke="${major ? '#d0d0d0' : '#eeeeee'}"/>`,
      );
      out.push(
        `<text x="${MARGIN.left - 8}" y="${position}" text-anchor="end" dominant-baseline="middle"${major ? '' : ' fill="#777777" font-size="11"'}>${formatQps(value)}</text>`,
      );
    }
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333333"/>`,
  );
  out.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 18}" text-anchor="middle" font-size="14">${escapeXml(xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(22 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="14">` +
      'queries per second (log scale, single thread)</text>',
  );
  if (series.length === 0) {
    out.push(
      `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight / 2}" text-anchor="middle" fill="#777777">no data</text>`,
    );
  }

  series.forEach((line, index) => {
    const colour = COLOURS[index % COLOURS.length]!;
    const dash = DASHES[Math.floor(index / COLOURS.length) % DASHES.length]!;
    const points = line.points.map((point) => `${round(x(point.recall))},${round(y(point.qps))}`).join(' ');
    out.push(`<g>`);
    if (line.points.length > 1) {
      out.push(
        `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      );
    }
    for (const point of line.points) {
      const cx = round(x(point.recall));
      const cy = round(y(point.qps));
      const efText = point.ef === null ? 'exact' : `ef=${point.ef}`;
      out.push(
        `<circle cx="${cx}" cy="${cy}" r="4" fill="${colour}"><title>${escapeXml(
          `${line.label}, ${efText}: recall ${point.recall.toFixed(4)}, ${Math.round(point.qps)} QPS`,
        )}</title></circle>`,
      );
      out.push(
        `<text x="${cx}" y="${round(Number(cy) - 8)}" font-size="10" fill="${colour}" text-anchor="middle">${efText}</text>`,
      );
    }
    out.push('</g>');
    const legendY = MARGIN.top + 14 + index * 22;
    const legendX = MARGIN.left + plotWidth + 18;
    out.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 26}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    );
    out.push(`<circle cx="${legendX + 13}" cy="${legendY}" r="4" fill="${colour}"/>`);
    out.push(
      `<text x="${legendX + 34}" y="${legendY}" dominant-baseline="middle" font-size="12">${escapeXml(line.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The chart of one data set's results. */
export function datasetChart(result: DatasetResult): string {
  const depth = result.primaryDepth;
  return renderRecallQpsChart(
    `${result.name}: recall@${depth} vs QPS (k=${result.primaryK}, ${result.metric}, ${result.baseCount.toLocaleString('en-US')} × ${result.dim})`,
    `recall@${depth}`,
    seriesOf(result),
  );
}
