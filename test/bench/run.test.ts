// End-to-end: --quick runs of the harness on a tiny synthetic set in a temporary folder, checking
// that results.json, results.md and the SVG exist and hold sane figures, with QuiverDB beside
// hnswlib-node; and a --quick durability suite on a tiny collection. No wall-clock assertions.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DurabilityResults } from '../../bench/harness/durability.js';
import { main, runBench } from '../../bench/harness/main.js';
import { parseOptions } from '../../bench/harness/options.js';
import type { BenchResults } from '../../bench/harness/report-markdown.js';

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-bench-e2e-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const TINY = 'synthetic:n=600,dim=16,clusters=8,intrinsic=8,queries=20,seed=7';

function quickOptions(out: string, contestants: string) {
  return parseOptions([
    '--quick',
    '--quiet',
    '--dataset',
    TINY,
    '--ef',
    '10,40',
    '--index',
    'hnsw,flat',
    '--contestants',
    contestants,
    '--out',
    out,
    '--cache',
    join(folder, 'cache'),
  ]);
}

function checkResults(out: string, contestants: string[]): BenchResults {
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
  expect(results.machine.cores).toBeGreaterThan(0);
  expect(results.machine.packages['hnswlib-node']).toMatch(/^\d/);
  expect(results.parameters['quick']).toBe(true);
  const [dataset] = results.datasets;
  expect(dataset).toBeDefined();
  expect(dataset!.baseCount).toBe(600);
  expect(dataset!.queryCount).toBe(20);
  expect(dataset!.skipped).toEqual([]);
  // hnsw and flat for each contestant.
  expect(dataset!.runs.map((run) => `${run.contestant}/${run.config.type}`).sort()).toEqual(
    contestants.flatMap((name) => [`${name}/flat`, `${name}/hnsw`]).sort(),
  );
  for (const run of dataset!.runs) {
    expect(run.error).toBeUndefined();
    expect(run.sweep.length).toBe(run.config.type === 'flat' ? 1 : 2);
    for (const point of run.sweep) {
      for (const depth of ['1', '10', '100']) {
        expect(point.recall[depth]).toBeGreaterThanOrEqual(0);
        expect(point.recall[depth]).toBeLessThanOrEqual(1);
        expect(point.tieAwareRecall[depth]).toBeGreaterThanOrEqual(point.recall[depth]! - 1e-12);
      }
      expect(point.searches.map((search) => search.k)).toEqual([10, 100]);
      for (const search of point.searches) {
        expect(search.qps).toBeGreaterThan(0);
        expect(search.latencyMicroseconds.p99).toBeGreaterThanOrEqual(search.latencyMicroseconds.p50);
      }
    }
    // Exact search must be exact: 1.0 is the only correct recall for a flat index.
    if (run.config.type === 'flat') expect(run.sweep[0]!.recall['10']).toBe(1);
    expect(run.build!.vectorsPerSecond).toBeGreaterThan(0);
    expect(run.build!.diskBytes).toBeGreaterThan(0);
    expect(run.build!.recallAfterReopen).toBeGreaterThan(0);
  }
  const markdown = readFileSync(join(out, 'results.md'), 'utf8');
  expect(markdown).toContain('| contestant | index | ef | recall@1 | recall@10 | recall@100 |');
  const svgFile = join(out, '01-synthetic-n600-d16-c8-i8-s7.svg');
  expect(existsSync(svgFile)).toBe(true);
  const svg = readFileSync(svgFile, 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).not.toContain('NaN');
  return results;
}

describe('npm run bench -- --quick', () => {
  it('runs hnswlib-node end to end and writes JSON, Markdown and SVG', async () => {
    const out = join(folder, 'hnswlib');
    const run = await runBench(quickOptions(out, 'hnswlib-node'));
    expect(run.files.length).toBe(3);
    const results = checkResults(out, ['hnswlib-node']);
    const hnsw = results.datasets[0]!.runs.find((result) => result.config.type === 'hnsw')!;
    expect(hnsw.build!.memoryEstimateBytes).toBeGreaterThan(600 * 16 * 4);
  });

  it('runs QuiverDB (query and queryIds) beside hnswlib-node with the same recall, and reports the ratios', async () => {
    const out = join(folder, 'both');
    await runBench(quickOptions(out, 'quiverdb,quiverdb-ids,hnswlib-node'));
    const results = checkResults(out, ['quiverdb', 'quiverdb-ids', 'hnswlib-node']);
    const dataset = results.datasets[0]!;
    expect(dataset.skipped).toEqual([]);
    for (const name of ['quiverdb', 'quiverdb-ids']) {
      const ours = dataset.runs.filter((run) => run.contestant === name);
      expect(ours.map((run) => run.config.type).sort()).toEqual(['flat', 'hnsw']);
      for (const run of ours) {
        const theirs = dataset.runs.find((other) => other.contestant === 'hnswlib-node' && other.label === run.label)!;
        for (const point of run.sweep) {
          for (const search of point.searches) expect(search.qps).toBeGreaterThan(0);
          // hnswlib graphs with the same m, efConstruction and level seed on the same vectors,
          // searched with distance kernels that differ only by rounding: recall may differ only by
          // a few changed insertion decisions, and 0.05 is one query in twenty.
          const other = theirs.sweep.find((candidate) => candidate.ef === point.ef)!;
          for (const depth of ['1', '10', '100']) {
            expect(Math.abs(point.recall[depth]! - other.recall[depth]!)).toBeLessThanOrEqual(0.05);
          }
          // The batch call answers every query as the single queries did (same graph, same ef).
          const primary = point.searches[0]!;
          expect(primary.batch?.qps).toBeGreaterThan(0);
          expect(primary.batch?.recall).toBe(point.recall['10']);
        }
      }
      const ratios = dataset.ratios.filter((ratio) => ratio.contestant === name);
      expect(ratios.length).toBe(3); // two efs of hnsw, one flat
      for (const ratio of ratios) {
        expect(ratio.qps).toBeGreaterThan(0);
        expect(ratio.buildTime).toBeGreaterThan(0);
      }
      // Exact search reaches hnswlib-node's exact recall: its equal-recall ratios exist.
      const flat = ratios.find((ratio) => ratio.label === 'flat')!;
      expect(flat.qpsAtEqualRecall).toBeGreaterThan(0);
      expect(flat.batchQpsAtEqualRecall).toBeGreaterThan(0);
    }
    // Each contestant was reopened alone in a fresh process too, with 1,000 queries after the first.
    for (const run of dataset.runs) {
      const own = run.build?.ownProcess;
      expect(own, `${run.contestant} ${run.label}`).toMatchObject({ queries: 1000 });
      if (own === undefined || !('openSeconds' in own)) continue;
      expect(own.openSeconds).toBeGreaterThan(0);
      expect(own.firstQueryMilliseconds).toBeGreaterThan(0);
      // Both readings exist; their difference is not asserted: a collection of 2,000 vectors is within
      // what a garbage collection moves.
      expect(own.rssBeforeOpenBytes).toBeGreaterThan(0);
      expect(own.rssAfterQueriesBytes).toBeGreaterThan(0);
    }
    const markdown = readFileSync(join(out, 'results.md'), 'utf8');
    expect(markdown).toContain('batch QPS k=10');
    expect(markdown).toContain('QPS ratio at equal recall');
    expect(markdown).toContain('### Reopen in a process of its own');
  });

  it('runs QuiverDB flat beside plain-js, single and batched, and reports both ratios', async () => {
    const out = join(folder, 'plain');
    const options = parseOptions([
      '--quick',
      '--quiet',
      '--dataset',
      TINY,
      '--index',
      'flat',
      '--contestants',
      'quiverdb,plain-js',
      '--threads',
      '2',
      '--batch',
      '7',
      '--out',
      out,
      '--cache',
      join(folder, 'cache'),
    ]);
    const dataset = (await runBench(options)).results.datasets[0]!;
    expect(dataset.skipped).toEqual([]);
    expect(dataset.runs.map((run) => run.contestant)).toEqual(['quiverdb', 'plain-js']);
    for (const run of dataset.runs) {
      expect(run.error).toBeUndefined();
      // Both are exact: any recall below 1 is a wrong answer.
      expect(run.sweep[0]!.recall['10']).toBe(1);
      expect(run.sweep[0]!.recall['100']).toBe(1);
      expect(run.build!.recallAfterReopen).toBe(1);
      // The batch pass runs at the primary k only (k=10 here; k=100 serves recall@100).
      const batches = run.sweep[0]!.searches.map((search) => search.batch);
      if (run.contestant === 'quiverdb') {
        expect(batches.map((figures) => [figures?.batchSize, figures?.recall])).toEqual([
          [7, 1],
          [undefined, undefined],
        ]);
      } else {
        expect(batches).toEqual([undefined, undefined]);
      }
    }
    expect(dataset.ratios.map((ratio) => [ratio.contestant, ratio.baseline, ratio.label])).toEqual([
      ['quiverdb', 'plain-js', 'flat'],
    ]);
    expect(dataset.ratios[0]!.qps).toBeGreaterThan(0);
    expect(dataset.ratios[0]!.qpsAtEqualRecall).toBeGreaterThan(0);
    expect(dataset.ratios[0]!.batchQpsAtEqualRecall).toBeGreaterThan(0);
    const markdown = readFileSync(join(out, 'results.md'), 'utf8');
    expect(markdown).toContain('### QuiverDB ÷ plain-js');
    expect(markdown).toContain('batch: calls of 7 queries');
  });

  it('exits 2 on a bad option', async () => {
    expect(await main(['--no-such-option'])).toBe(2);
    expect(await main(['--suite', 'no-such-suite'])).toBe(2);
  });
});

describe('npm run bench -- --suite durability --quick', () => {
  it('measures ingest and the three kinds of open on a tiny collection and writes JSON and Markdown', async () => {
    const out = join(folder, 'durability');
    // 1,000 vectors: ingest steps of 200 (batch 1) and 1,000; 100 log rows for the crashed writer to leave.
    expect(await main(['--suite', 'durability', '--quick', '--vectors', '1000', '--quiet', '--out', out])).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'durability.json'), 'utf8')) as DurabilityResults;
    expect(results.suite).toBe('durability');
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.loadAverage.start.length).toBe(3);
    expect(results.parameters.openVectors).toBe(1000);
    expect(results.parameters.replayRows).toBe(100);

    const cells = results.ingest.map((figures) => `${figures.index}/${figures.durability}/${figures.batchSize}`);
    expect(cells.sort()).toEqual(
      ['flat', 'hnsw']
        .flatMap((index) =>
          ['full', 'normal'].flatMap((mode) => [1, 100, 10_000].map((batch) => `${index}/${mode}/${batch}`)),
        )
        .sort(),
    );
    for (const figures of results.ingest) {
      expect(figures.vectors).toBe(figures.batchSize === 1 ? 200 : 1000);
      expect(figures.commits).toBe(Math.ceil(figures.vectors / figures.batchSize));
      expect(figures.vectorsPerSecond).toBeGreaterThan(0);
      expect(figures.commitMilliseconds.max).toBeGreaterThanOrEqual(figures.commitMilliseconds.p50);
      expect(figures.diskBytes).toBeGreaterThan(0);
    }
    expect(results.inMemoryBuilds.map((build) => `${build.index}/${build.vectors}`).sort()).toEqual([
      'flat/1000',
      'flat/200',
      'hnsw/1000',
      'hnsw/200',
    ]);

    const [snapshot, replay, rebuild] = results.open;
    expect(results.open.map((figures) => figures.case)).toEqual(['snapshot', 'replay', 'rebuild']);
    // A clean close leaves a snapshot that loads as is: no replay, no rebuild, no warning.
    expect(snapshot).toMatchObject({ records: 1000, logRows: 0, warnings: [] });
    expect(snapshot!.phases).not.toContain('rebuild');
    expect(snapshot!.snapshotBytes).toBeGreaterThan(0);
    // The crashed writer's 100 committed records are all there after the replay.
    expect(replay).toMatchObject({ records: 1100, logRows: 100, warnings: [] });
    expect(replay!.phases).toContain('replay');
    expect(replay!.phases).not.toContain('rebuild');
    // Without its snapshot file the index is rebuilt from the records, with a warning.
    expect(rebuild!.records).toBe(1000);
    expect(rebuild!.phases).toContain('rebuild');
    expect(rebuild!.warnings.some((code) => code.startsWith('SNAPSHOT_'))).toBe(true);
    expect(rebuild!.snapshotBytes).toBe(0);
    for (const figures of results.open) {
      expect(figures.runs.length).toBe(1);
      expect(figures.seconds).toBeGreaterThan(0);
      expect(figures.diskBytes).toBeGreaterThan(0);
    }

    const markdown = readFileSync(join(out, 'durability.md'), 'utf8');
    expect(markdown).toContain('## Durable ingest, vectors/s');
    expect(markdown).toContain('## Open time of a 1,000 × 128 hnsw collection');
    expect(markdown).toContain('hnswlib-node by hand, in memory');
  });
});
