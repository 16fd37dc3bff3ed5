// The footprint suite (`npm run bench -- --suite footprint`): what importing QuiverDB costs (RSS of
// a fresh child process after `import { open } from 'quiverdb'` over a bare one, ESM and CJS, from
// a fresh dist/ build), and the round trip of a query through openInWorker against the same query
// in process. Uses the public entries only; writes footprint.json and footprint.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { open } from '../../src/index.js';
import { openInWorker } from '../../src/worker/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { loadAverages, type MachineInfo, machineInfo, REPOSITORY_ROOT } from './machine.js';
import { median, now, secondsBetween } from './measure.js';
import type { BenchOptions } from './options.js';
import { createProgress } from './progress.js';
import { suiteHeadline, table } from './report-markdown.js';

/** Child processes per RSS reading; the median is reported. */
const RSS_RUNS = 5;

export interface FootprintResults {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
  /** Median RSS in MB of a child process: bare node, after importing dist/index.js, after requiring dist/index.cjs. */
  rss: { bare: number; esm: number; cjs: number };
  worker: { vectors: number; dim: number; queries: number; inProcessMicroseconds: number; workerMicroseconds: number };
}

/** A child prints its RSS once its imports settled (a timer lets lazy work finish). */
function childRss(args: string[]): number {
  const readings: number[] = [];
  for (let run = 0; run < RSS_RUNS; run++) {
    const child = spawnSync(process.execPath, args, { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${child.stderr}`);
    readings.push(Number(child.stdout.trim()) / 1048576);
  }
  return median(readings);
}

function measureRss(): FootprintResults['rss'] {
  const report = 'setTimeout(() => console.log(process.memoryUsage().rss), 100)';
  const esm = `import(${JSON.stringify(join(REPOSITORY_ROOT, 'dist', 'index.js'))}).then(() => { ${report} })`;
  const cjs = `require(${JSON.stringify(join(REPOSITORY_ROOT, 'dist', 'index.cjs'))}); ${report}`;
  return {
    bare: childRss(['-e', report]),
    esm: childRss(['--input-type=module', '-e', esm]),
    cjs: childRss(['-e', cjs]),
  };
}

/** Mean microseconds per sequential query (k = 10), in process and through a worker, on one collection. */
async function measureWorker(quick: boolean): Promise<FootprintResults['worker']> {
  const vectors = quick ? 2_000 : 20_000;
  const queries = quick ? 300 : 3_000;
  const data = generateSynthetic({ n: vectors, dim: 128, queries: 100, seed: 7 });
  const folder = mkdtempSync(join(tmpdir(), 'quiver-footprint-'));
  try {
    const db = open(folder);
    const docs = db.collection('docs', { dim: 128 });
    const records = [];
    for (let row = 0; row < vectors; row++) {
      records.push({ id: `v${row}`, vector: data.base.subarray(row * 128, (row + 1) * 128) });
    }
    docs.upsert(records);
    const queryOf = (index: number) => data.queries.subarray((index % 100) * 128, ((index % 100) + 1) * 128);
    for (let index = 0; index < 200; index++) docs.queryIds({ vector: queryOf(index), k: 10 });
    let start = now();
    for (let index = 0; index < queries; index++) docs.queryIds({ vector: queryOf(index), k: 10 });
    const inProcess = secondsBetween(start, now());
    db.close();

    const remote = await openInWorker(folder);
    const remoteDocs = await remote.collection('docs');
    for (let index = 0; index < 200; index++) await remoteDocs.queryIds({ vector: queryOf(index), k: 10 });
    start = now();
    for (let index = 0; index < queries; index++) await remoteDocs.queryIds({ vector: queryOf(index), k: 10 });
    const inWorker = secondsBetween(start, now());
    await remote.close();
    return {
      vectors,
      dim: 128,
      queries,
      inProcessMicroseconds: (inProcess / queries) * 1e6,
      workerMicroseconds: (inWorker / queries) * 1e6,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export function renderFootprintMarkdown(results: FootprintResults): string {
  const { rss, worker } = results;
  return `${[
    '# QuiverDB footprint',
    suiteHeadline(results),
    '## Importing quiverdb',
    table(
      ['process', 'RSS (MB)', 'over bare node (MB)'],
      [
        ['bare node', rss.bare.toFixed(1), '—'],
        ["import { open } from 'quiverdb' (ESM)", rss.esm.toFixed(1), (rss.esm - rss.bare).toFixed(1)],
        ["require('quiverdb') (CJS)", rss.cjs.toFixed(1), (rss.cjs - rss.bare).toFixed(1)],
      ],
    ),
    `Median of ${RSS_RUNS} child processes each, from a fresh dist/ build.`,
    '## A query through openInWorker',
    table(
      ['where', 'µs per query', 'overhead (µs)'],
      [
        ['in process (queryIds, k = 10)', worker.inProcessMicroseconds.toFixed(1), '—'],
        [
          'openInWorker (await each)',
          worker.workerMicroseconds.toFixed(1),
          (worker.workerMicroseconds - worker.inProcessMicroseconds).toFixed(1),
        ],
      ],
    ),
    `${worker.queries} sequential queries on ${worker.vectors} × ${worker.dim} synthetic vectors (HNSW, defaults).`,
  ].join('\n\n')}\n`;
}

/** Runs the suite and writes `<out>/footprint.json` and `<out>/footprint.md`. */
export async function runFootprint(
  options: Pick<BenchOptions, 'quick' | 'out' | 'quiet'>,
): Promise<{ results: FootprintResults; files: string[] }> {
  const progress = createProgress({ bar: false, quiet: options.quiet });
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverages();
  progress.log('building dist/ (tsup, without declarations)');
  const build = spawnSync(process.execPath, [join(REPOSITORY_ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js')], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, QUIVERDB_NO_DTS: '1' },
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`tsup failed: ${build.stderr}`);
  progress.log('measuring the RSS of importing quiverdb');
  const rss = measureRss();
  progress.log('measuring query round trips in process and through a worker');
  const worker = await measureWorker(options.quick);
  const results: FootprintResults = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: { start: loadAtStart, end: loadAverages() },
    rss,
    worker,
  };
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'footprint.json'), join(outDir, 'footprint.md')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, renderFootprintMarkdown(results));
  return { results, files };
}
