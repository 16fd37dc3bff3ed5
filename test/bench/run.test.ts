// End-to-end: a --quick run of the harness on a tiny synthetic set in a temporary folder, checking
// that results.json, results.md and the SVG exist and hold sane figures. No wall-clock assertions.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quiverdb } from '../../bench/contestants/quiverdb.js';
import { main, runBench } from '../../bench/harness/main.js';
import { parseOptions } from '../../bench/harness/options.js';
import type { BenchResults } from '../../bench/harness/report-markdown.js';

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-bench-e2e-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const TINY = 'synthetic:n=600,dim=16,clusters=8,intrinsic=8,queries=20,seed=7';

/** QuiverDB joins the end-to-end run only when src/index.ts loads (it is built in parallel). */
const quiverdbLoads = await quiverdb()
  .create()
  .then(
    () => true,
    () => false,
  );

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

  it.skipIf(!quiverdbLoads)('runs QuiverDB beside hnswlib-node and reports the ratios', async () => {
    const out = join(folder, 'both');
    await runBench(quickOptions(out, 'quiverdb,hnswlib-node'));
    const results = checkResults(out, ['quiverdb', 'hnswlib-node']);
    const ratios = results.datasets[0]!.ratios;
    expect(ratios.length).toBe(3);
    for (const ratio of ratios) expect(ratio.qps).toBeGreaterThan(0);
  });

  it('exits 2 on a bad option', async () => {
    expect(await main(['--no-such-option'])).toBe(2);
  });
});
