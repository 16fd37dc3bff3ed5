// The filter suite (`npm run bench -- --suite filters`): filtered recall@10 and p50/p99 latency at
// selectivities 0.1%, 1%, 10%, 50% and 100% against the unfiltered query on the same collection,
// plus a class filter when the data set ships labels (mnist-784's digits). Uses QuiverDB's public
// API only (src/index.ts); writes filters.json and filters.md.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Filter, QueryPlan } from '../../src/index.js';
import { nativeKernels } from '../../src/native/kernels.js';
import { loadDataset } from '../datasets/load.js';
import { type MachineInfo, machineInfo } from './machine.js';
import { median, now, percentile, secondsBetween } from './measure.js';
import type { BenchOptions } from './options.js';
import { createProgress } from './progress.js';

const K = 10;
const COLLECTION = 'filters';
/** Records per upsert while loading. */
const LOAD_BATCH = 1_000;

/** One filter of the suite: a name, the filter, and its predicate over a base row (for ground truth). */
interface FilterCase {
  name: string;
  /** The filter of query q (the class case depends on the query). */
  filter: (query: number) => Filter;
  matches: (row: number, query: number) => boolean;
}

/** Metadata of base row i: one boolean field per selectivity, and the class label when there is one. */
function metadataOf(row: number, labels: Uint8Array | undefined): Record<string, boolean | number> {
  const metadata: Record<string, boolean | number> = {
    p1000: row % 1000 === 7,
    p100: row % 100 === 3,
    p10: row % 10 === 1,
    p2: row % 2 === 0,
  };
  if (labels !== undefined) metadata['digit'] = labels[row]!;
  return metadata;
}

function casesFor(labels: Uint8Array | undefined): FilterCase[] {
  const cases: FilterCase[] = [
    { name: 'none (100%)', filter: () => ({}), matches: () => true },
    { name: '50%', filter: () => ({ p2: true }), matches: (row) => row % 2 === 0 },
    { name: '10%', filter: () => ({ p10: true }), matches: (row) => row % 10 === 1 },
    { name: '1%', filter: () => ({ p100: true }), matches: (row) => row % 100 === 3 },
    { name: '0.1%', filter: () => ({ p1000: true }), matches: (row) => row % 1000 === 7 },
  ];
  if (labels !== undefined) {
    // Each query is filtered to one digit (query q asks for digit q mod 10): about 10% of the base.
    cases.push({
      name: 'digit = d (~10%)',
      filter: (query) => ({ digit: query % 10 }),
      matches: (row, query) => labels[row] === query % 10,
    });
  }
  return cases;
}

export interface FilterCaseResult {
  name: string;
  /** Mean matches per query. */
  matches: number;
  recallAt10: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 relative to the unfiltered query's p99. */
  p99Ratio: number;
  /** How many queries the planner answered by each strategy. */
  strategies: Record<string, number>;
  /** Queries that returned fewer than min(k, matches) hits (must be 0). */
  shortAnswers: number;
}

export interface FilterDatasetResult {
  dataset: string;
  baseCount: number;
  queryCount: number;
  dim: number;
  buildSeconds: number;
  cases: FilterCaseResult[];
}

export interface FilterResults {
  suite: 'filters';
  machine: MachineInfo;
  loadAverage: number[];
  passes: number;
  datasets: FilterDatasetResult[];
}

/** Exact filtered top-k ids of every query, by brute force with the native kernel. */
function exactFiltered(
  base: Float32Array,
  dim: number,
  queries: Float32Array,
  queryCount: number,
  metric: 'l2' | 'ip',
  matches: (row: number, query: number) => boolean,
): Int32Array[] {
  const rowCount = base.length / dim;
  const answers: Int32Array[] = [];
  for (let q = 0; q < queryCount; q++) {
    const candidates: number[] = [];
    for (let row = 0; row < rowCount; row++) if (matches(row, q)) candidates.push(row);
    const labels = new Int32Array(K);
    const distances = new Float32Array(K);
    nativeKernels.exactTopK({
      metric,
      queries: queries.subarray(q * dim, (q + 1) * dim),
      base,
      dim,
      k: K,
      labels,
      distances,
      candidates: Int32Array.from(candidates),
    });
    answers.push(labels.filter((label) => label >= 0));
  }
  return answers;
}

/** Runs the filter suite on every --dataset and writes filters.json and filters.md. */
export async function runFilters(
  options: Pick<BenchOptions, 'datasets' | 'out' | 'queries' | 'limit' | 'passes' | 'cacheDir' | 'progress' | 'quiet'>,
): Promise<{ results: FilterResults; outDir: string; files: string[] }> {
  const { open } = await import('../../src/index.js');
  const progress = createProgress({ bar: options.progress, quiet: options.quiet });
  const results: FilterResults = {
    suite: 'filters',
    machine: machineInfo(),
    loadAverage: loadavg(),
    passes: options.passes,
    datasets: [],
  };
  for (const spec of options.datasets) {
    const dataset = await loadDataset(spec, {
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.queries === undefined ? {} : { queries: options.queries }),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    });
    const { dim, baseCount, queryCount } = dataset;
    progress.log(`filters: ${dataset.name}, ${baseCount} x ${dim}, ${queryCount} queries`);
    const directory = mkdtempSync(join(tmpdir(), 'quiver-bench-filters-'));
    try {
      const db = open(directory, { durability: 'normal' });
      const fields = ['p1000', 'p100', 'p10', 'p2', ...(dataset.labels ? ['digit'] : [])];
      const collection = db.collection(COLLECTION, { dim, metric: dataset.metric, indexes: fields });
      const start = now();
      for (let first = 0; first < baseCount; first += LOAD_BATCH) {
        const batch = [];
        for (let row = first; row < Math.min(first + LOAD_BATCH, baseCount); row++) {
          batch.push({
            id: row,
            vector: dataset.base.subarray(row * dim, (row + 1) * dim),
            metadata: metadataOf(row, dataset.labels),
          });
        }
        collection.upsert(batch);
      }
      const buildSeconds = secondsBetween(start, now());
      // Exact search in the collection's own metric: cosine is ip over unit rows.
      const unit = (rows: Float32Array) => {
        if (dataset.metric !== 'cosine') return rows;
        const out = new Float32Array(rows.length);
        for (let offset = 0; offset < rows.length; offset += dim) {
          let sum = 0;
          for (let i = 0; i < dim; i++) sum += rows[offset + i]! ** 2;
          const length = Math.sqrt(sum) || 1;
          for (let i = 0; i < dim; i++) out[offset + i] = rows[offset + i]! / length;
        }
        return out;
      };
      const base = unit(dataset.base);
      const queries = unit(dataset.queries);
      const kernelMetric = dataset.metric === 'l2' ? 'l2' : 'ip';
      const result: FilterDatasetResult = {
        dataset: dataset.name,
        baseCount,
        queryCount,
        dim,
        buildSeconds,
        cases: [],
      };
      let unfilteredP99 = 0;
      for (const filterCase of casesFor(dataset.labels)) {
        const truth = exactFiltered(base, dim, queries, queryCount, kernelMetric, filterCase.matches);
        const strategies: Record<string, number> = {};
        let recall = 0;
        let shortAnswers = 0;
        let matchTotal = 0;
        const passLatencies: number[][] = [];
        for (let pass = 0; pass <= options.passes; pass++) {
          const latencies: number[] = [];
          for (let q = 0; q < queryCount; q++) {
            const vector = dataset.queries.subarray(q * dim, (q + 1) * dim);
            const filter = filterCase.filter(q);
            if (pass > 0) {
              // Timed passes ask for the hits only: explain adds an EXPLAIN QUERY PLAN per query.
              const begin = now();
              collection.query({ vector, k: K, filter });
              latencies.push(secondsBetween(begin, now()) * 1000);
              continue;
            }
            // Pass 0 is the warm-up and the correctness pass, with the plan.
            const { hits, plan } = collection.query({ vector, k: K, filter, explain: true });
            const expected = new Set(Array.from(truth[q]!, String));
            recall += expected.size === 0 ? 1 : hits.filter((hit) => expected.has(hit.id)).length / expected.size;
            if (hits.length < Math.min(K, plan.matches)) shortAnswers++;
            matchTotal += plan.matches;
            const strategy = strategyName(plan);
            strategies[strategy] = (strategies[strategy] ?? 0) + 1;
          }
          if (pass > 0) passLatencies.push(latencies.sort((a, b) => a - b));
        }
        const p50 = median(passLatencies.map((sorted) => percentile(sorted, 50)));
        const p99 = median(passLatencies.map((sorted) => percentile(sorted, 99)));
        if (filterCase.name.startsWith('none')) unfilteredP99 = p99;
        result.cases.push({
          name: filterCase.name,
          matches: matchTotal / queryCount,
          recallAt10: recall / queryCount,
          p50Ms: p50,
          p99Ms: p99,
          p99Ratio: unfilteredP99 === 0 ? 1 : p99 / unfilteredP99,
          strategies,
          shortAnswers,
        });
        progress.log(`  ${filterCase.name}: recall@10 ${(recall / queryCount).toFixed(3)}, p99 ${p99.toFixed(3)} ms`);
      }
      results.datasets.push(result);
      db.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  progress.stop();
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'filters.json'), join(outDir, 'filters.md')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, renderFiltersMarkdown(results));
  return { results, outDir, files };
}

function strategyName(plan: QueryPlan): string {
  return plan.fallback ? `${plan.strategy}+fallback` : plan.strategy;
}

/** The suite's Markdown report: one table per data set. */
export function renderFiltersMarkdown(results: FilterResults): string {
  const lines = [
    '# Filtered queries',
    '',
    `Machine: ${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}; load average ${results.loadAverage.map((value) => value.toFixed(2)).join(' ')}. Median of ${results.passes} timed passes after a warm-up pass; k = ${K}.`,
    '',
  ];
  for (const dataset of results.datasets) {
    lines.push(
      `## ${dataset.dataset} (${dataset.baseCount} x ${dataset.dim}, ${dataset.queryCount} queries; loaded in ${dataset.buildSeconds.toFixed(1)} s)`,
      '',
      '| filter | matches | recall@10 | p50 ms | p99 ms | p99 / unfiltered | plans | short answers |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const row of dataset.cases) {
      const plans = Object.entries(row.strategies)
        .map(([name, count]) => `${name} ${count}`)
        .join(', ');
      lines.push(
        `| ${row.name} | ${Math.round(row.matches)} | ${row.recallAt10.toFixed(3)} | ${row.p50Ms.toFixed(3)} | ${row.p99Ms.toFixed(3)} | ${row.p99Ratio.toFixed(2)} | ${plans} | ${row.shortAnswers} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
