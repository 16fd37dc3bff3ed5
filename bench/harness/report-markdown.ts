// Renders a run's results as a Markdown report: machine, parameters, and per data set a build
// table, a sweep table and the QuiverDB ÷ baseline ratios. Pure string building, no I/O.

import type { MachineInfo } from './machine.js';
import type { DatasetResult, RunResult } from './runner.js';

/** The whole results document, as written to results.json. */
export interface BenchResults {
  formatVersion: 1;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** 1/5/15-minute load averages when the run started and ended (the machine may be shared). */
  loadAverage?: { start: number[]; end: number[] };
  parameters: Record<string, unknown>;
  datasets: DatasetResult[];
}

/** Formats a byte count as KiB/MiB/GiB with one decimal. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  for (const unit of ['B', 'KiB', 'MiB', 'GiB']) {
    if (value < 1024 || unit === 'GiB') return `${sign}${unit === 'B' ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
    value /= 1024;
  }
  return `${bytes} B`;
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function integer(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : Math.round(value).toLocaleString('en-US');
}

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * The first paragraph of a suite's report: when, on what machine, at which commit, and the load
 * averages at its start and end.
 */
export function suiteHeadline(results: {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
}): string {
  const { machine } = results;
  return (
    `Run ${results.startedAt} → ${results.finishedAt} on ${machine.cpuModel} (${machine.cores} cores), ` +
    `${formatBytes(machine.memoryBytes)} RAM, ${machine.os.platform} ${machine.os.release} ${machine.os.arch}, Node ${machine.node}` +
    (machine.git
      ? `; quiverdb at ${machine.git.commit.slice(0, 12)}${machine.git.dirty ? ' (uncommitted changes)' : ''}`
      : '') +
    `. Load average (1/5/15 min): ${results.loadAverage.start.join(' ')} at the start, ${results.loadAverage.end.join(' ')} at the end.`
  );
}

function buildRows(runs: RunResult[]): string[][] {
  return runs.map((run) => {
    const build = run.build;
    return [
      run.contestant,
      run.label,
      build ? fixed(build.seconds, 2) : '–',
      build ? integer(build.vectorsPerSecond) : '–',
      build ? formatBytes(build.rssDeltaBytes) : '–',
      build ? formatBytes(build.memoryEstimateBytes) : '–',
      build ? formatBytes(build.diskBytes) : '–',
      build ? fixed(build.closeSeconds, 3) : '–',
      build ? fixed(build.openSeconds, 3) : '–',
      build ? fixed(build.firstQueryMilliseconds, 2) : '–',
      build ? fixed(build.recallAfterReopen, 4) : '–',
      run.error ? `error: ${run.error.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|')}` : '',
    ];
  });
}

/**
 * Rows of the own-process reopen: open time, first query and RSS of each contestant alone in a
 * fresh process, with disk, and each figure ÷ hnswlib-node's for the same configuration.
 */
function ownProcessRows(runs: RunResult[]): string[][] {
  const rows: string[][] = [];
  const ratio = (value: number, base: number | undefined) =>
    base === undefined || base === 0 ? '–' : (value / base).toFixed(2);
  for (const run of runs) {
    const own = run.build?.ownProcess;
    if (own === undefined) continue;
    if (!('openSeconds' in own)) {
      rows.push([
        run.contestant,
        run.label,
        '–',
        '–',
        '–',
        '–',
        '–',
        '–',
        '–',
        `error: ${own.error.replace(/\|/g, '\\|')}`,
      ]);
      continue;
    }
    const baseline = runs.find((other) => other.contestant === 'hnswlib-node' && other.label === run.label)?.build;
    const baseOwn =
      baseline?.ownProcess !== undefined && 'openSeconds' in baseline.ownProcess ? baseline.ownProcess : undefined;
    rows.push([
      run.contestant,
      run.label,
      formatBytes(run.build!.diskBytes),
      fixed(own.openSeconds, 3),
      fixed(own.firstQueryMilliseconds, 2),
      formatBytes(own.rssBeforeOpenBytes),
      formatBytes(own.rssAfterQueriesBytes),
      formatBytes(own.rssAfterQueriesBytes - own.rssBeforeOpenBytes),
      run.contestant === 'hnswlib-node'
        ? ''
        : `${ratio(run.build!.diskBytes, baseline?.diskBytes)} / ${ratio(own.openSeconds, baseOwn?.openSeconds)} / ` +
          `${ratio(own.rssAfterQueriesBytes, baseOwn?.rssAfterQueriesBytes)} / ` +
          `${ratio(own.rssAfterQueriesBytes - own.rssBeforeOpenBytes, baseOwn === undefined ? undefined : baseOwn.rssAfterQueriesBytes - baseOwn.rssBeforeOpenBytes)}`,
      '',
    ]);
  }
  return rows;
}

function datasetSection(result: DatasetResult, svgName: string): string {
  const parts: string[] = [];
  parts.push(`## ${result.name}`);
  parts.push(
    `${result.baseCount.toLocaleString('en-US')} base × ${result.dim} dims, ${result.queryCount} queries, metric ${result.metric}; ` +
      `ground truth top-${result.groundTruthK} from ${result.groundTruthSource}; loaded in ${result.loadSeconds.toFixed(2)} s. ` +
      `Source: \`${result.source}\`.`,
  );
  for (const note of result.notes) parts.push(`- ${note}`);
  for (const skipped of result.skipped) {
    parts.push(`- **${skipped.contestant} skipped:** ${skipped.reason.replace(/\s*\n\s*/g, ' ')}`);
  }
  parts.push(`![recall vs QPS](${svgName})`);
  parts.push('### Build, disk and reopen');
  parts.push(
    table(
      [
        'contestant',
        'index',
        'build s',
        'vectors/s',
        'RSS Δ',
        'own estimate',
        'disk',
        'close s',
        'open s',
        'first query ms',
        `recall@${result.primaryDepth} after reopen`,
        '',
      ],
      buildRows(result.runs),
    ),
  );
  const own = ownProcessRows(result.runs);
  if (own.length > 0) {
    const queries = result.runs.map((run) => run.build?.ownProcess).find((figures) => figures && 'queries' in figures);
    const count = queries !== undefined && 'queries' in queries ? queries.queries.toLocaleString('en-US') : '';
    parts.push('### Reopen in a process of its own');
    parts.push(
      `Each contestant alone in a fresh process (under tsx, as the harness runs) imports its engine, opens ` +
        `the closed index (the open includes whatever the engine loads on its first open), answers one query ` +
        `(timed: the first query) and ${count} more at the largest ef. RSS after garbage collection; ` +
        `"RSS growth" is RSS after the queries minus RSS before the open (node, tsx and the harness with every contestant's module imported; what an engine loads at its first open, such as QuiverDB's better-sqlite3 and addon, counts in the growth).`,
    );
    parts.push(
      table(
        [
          'contestant',
          'index',
          'disk',
          'open s',
          'first query ms',
          'RSS before open',
          `RSS after open + ${count} queries`,
          'RSS growth',
          '÷ hnswlib-node: disk / open / RSS after / RSS growth',
          '',
        ],
        own,
      ),
    );
  }

  const depths = result.recallDepths;
  const sizes = [
    ...new Set(result.runs.flatMap((run) => run.sweep.flatMap((point) => point.searches.map((s) => s.k)))),
  ];
  const header = ['contestant', 'index', 'ef'];
  for (const depth of depths) header.push(`recall@${depth}`);
  header.push(`tie-aware@${result.primaryDepth}`);
  for (const k of sizes) header.push(`QPS k=${k}`, `p50 µs k=${k}`, `p95 µs k=${k}`, `p99 µs k=${k}`);
  const batched = result.runs.some((run) => run.sweep.some((point) => point.searches[0]?.batch !== undefined));
  if (batched) header.push(`batch QPS k=${result.primaryK}`, `batch recall@${result.primaryDepth}`);
  const rows: string[][] = [];
  for (const run of result.runs) {
    for (const point of run.sweep) {
      const setting =
        point.nprobe !== undefined
          ? `nprobe=${point.nprobe} rerank=${point.rerank}`
          : point.ef === null
            ? '–'
            : String(point.ef);
      const row = [run.contestant, run.label, setting];
      for (const depth of depths) row.push(fixed(point.recall[String(depth)], 4));
      row.push(fixed(point.tieAwareRecall[String(result.primaryDepth)], 4));
      for (const k of sizes) {
        const search = point.searches.find((candidate) => candidate.k === k);
        row.push(
          integer(search?.qps),
          fixed(search?.latencyMicroseconds.p50, 0),
          fixed(search?.latencyMicroseconds.p95, 0),
          fixed(search?.latencyMicroseconds.p99, 0),
        );
      }
      if (batched) {
        const batch = point.searches[0]?.batch;
        row.push(integer(batch?.qps), fixed(batch?.recall, 4));
      }
      rows.push(row);
    }
  }
  const batchSizes = [
    ...new Set(
      result.runs.flatMap((run) =>
        run.sweep.flatMap((point) => (point.searches[0]?.batch ? [point.searches[0].batch.batchSize] : [])),
      ),
    ),
  ];
  parts.push(
    '### Recall, QPS and latency (single queries, medians over passes' +
      (batched ? `; batch: calls of ${batchSizes.join(' / ')} queries on the contestant's threads` : '') +
      ')',
  );
  parts.push(table(header, rows));

  for (const baseline of new Set(result.ratios.map((ratio) => ratio.baseline))) {
    const ratios = result.ratios.filter((ratio) => ratio.baseline === baseline);
    parts.push(`### QuiverDB ÷ ${baseline}`);
    parts.push(
      'Higher is better for QuiverDB except the build time ratio. "At equal recall": QuiverDB\'s best QPS among its ' +
        `sweep points whose recall reaches ${baseline}'s at that ef, ÷ ${baseline}'s QPS there; batch: QuiverDB's ` +
        `batched queries ÷ ${baseline}'s single queries.`,
    );
    parts.push(
      table(
        [
          'contestant',
          'index',
          'ef',
          `recall@${result.primaryDepth} QuiverDB / ${baseline}`,
          `QPS ratio, same ef (k=${result.primaryK})`,
          'QPS ratio at equal recall',
          'batch QPS ratio at equal recall',
          'build time ratio (lower is better)',
        ],
        ratios.map((ratio) => [
          ratio.contestant,
          ratio.label,
          ratio.ef === null ? '–' : String(ratio.ef),
          `${fixed(ratio.recall, 4)} / ${fixed(ratio.baselineRecall, 4)}`,
          fixed(ratio.qps, 2),
          fixed(ratio.qpsAtEqualRecall, 2),
          fixed(ratio.batchQpsAtEqualRecall, 2),
          fixed(ratio.buildTime, 2),
        ]),
      ),
    );
  }
  return parts.join('\n\n');
}

/** Renders the Markdown report; `svgNames[i]` is the chart file of `results.datasets[i]`. */
export function renderMarkdown(results: BenchResults, svgNames: string[]): string {
  const { machine } = results;
  const parts: string[] = ['# QuiverDB benchmark'];
  parts.push(
    `Run ${results.startedAt} → ${results.finishedAt} on ${machine.cpuModel} (${machine.cores} cores), ` +
      `${formatBytes(machine.memoryBytes)} RAM, ${machine.os.platform} ${machine.os.release} ${machine.os.arch}, ` +
      `Node ${machine.node}; quiverdb ${machine.quiverdb}` +
      (machine.git
        ? ` at ${machine.git.commit.slice(0, 12)}${machine.git.dirty ? ' (uncommitted changes)' : ''}`
        : '') +
      `; ${Object.entries(machine.packages)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ')}.` +
      (results.loadAverage
        ? ` Load average (1/5/15 min): ${results.loadAverage.start.join(' ')} at the start, ${results.loadAverage.end.join(' ')} at the end.`
        : ''),
  );
  parts.push(
    `Parameters: \`${JSON.stringify(results.parameters)}\`. QPS is single-threaded (queries ÷ wall time of a pass); ` +
      'latencies are per query from process.hrtime.bigint(); warm-up passes are excluded and figures are medians over the timed passes. ' +
      'Recall@d for d ≤ 10 comes from a k=10 search, larger d from a search of that k; hnswlib searches with max(ef, k).',
  );
  results.datasets.forEach((dataset, index) => {
    parts.push(datasetSection(dataset, svgNames[index] ?? ''));
  });
  return `${parts.join('\n\n')}\n`;
}
