// The harness's entry: parse options, load each data set, run the contestants, write
// <out>/results.json, <out>/results.md and <out>/<data set>.svg; or hand --suite durability,
// filters or import to durability.ts, filters.ts or import.ts, which write their own JSON and Markdown.

import { runText } from './text.js';
import { runFilters } from './filters.js';
import { runFootprint } from './footprint.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { QuiverError } from '../../src/errors.js';
import { hnswlibNode } from '../contestants/hnswlib-node.js';
import { lancedb } from '../contestants/lancedb.js';
import { plainJs } from '../contestants/plain-js.js';
import { quiverdb } from '../contestants/quiverdb.js';
import { usearch } from '../contestants/usearch.js';
import { vectorlite } from '../contestants/vectorlite.js';
import { loadDataset } from '../datasets/load.js';
import { datasetChart } from './chart-svg.js';
import type { ContestantDefinition, IndexConfig } from './contestant.js';
import { runDurability } from './durability.js';
import { runReplication } from './replication.js';
import { runImport } from './import.js';
import { loadAverages, machineInfo } from './machine.js';
import { now, secondsBetween } from './measure.js';
import { type BenchOptions, DEFAULTS, HELP, parseOptions } from './options.js';
import { createProgress } from './progress.js';
import { type BenchResults, renderMarkdown } from './report-markdown.js';
import { type DatasetResult, runDataset } from './runner.js';

/** The contestants known by name, in the order `--contestants` lists them. */
export function contestantDefinitions(
  options: Pick<BenchOptions, 'durability'> & Partial<Pick<BenchOptions, 'threads'>>,
): Map<string, ContestantDefinition> {
  const shared = {
    ...(options.durability ? { durability: options.durability } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  };
  const quiver = quiverdb(shared);
  const quiverIds = quiverdb({ ...shared, api: 'queryIds' });
  const quiverInt8 = quiverdb({ ...shared, vectors: 'int8' });
  return new Map([
    [quiver.name, quiver],
    [quiverIds.name, quiverIds],
    [quiverInt8.name, quiverInt8],
    [hnswlibNode.name, hnswlibNode],
    [plainJs.name, plainJs],
    // Optional peer engines: loaded only when asked for, from bench/peers (see bench/README.md).
    [usearch.name, usearch],
    [vectorlite.name, vectorlite],
    [lancedb.name, lancedb],
  ]);
}

/**
 * Every index configuration the options ask for: hnsw for each (m, efConstruction), flat, and ivfpq
 * for each (nlist, pq-m), each ivfpq one swept over every (nprobe, rerank).
 */
export function indexConfigs(
  options: Pick<BenchOptions, 'index' | 'm' | 'efConstruction'> &
    Partial<Pick<BenchOptions, 'nlist' | 'pqM' | 'nprobe' | 'rerank'>>,
): IndexConfig[] {
  const configs: IndexConfig[] = [];
  for (const type of options.index) {
    if (type === 'flat') configs.push({ type: 'flat' });
    else if (type === 'ivfpq') {
      const searches = (options.rerank ?? DEFAULTS.rerank).flatMap((rerank) =>
        (options.nprobe ?? DEFAULTS.nprobe).map((nprobe) => ({ nprobe, rerank })),
      );
      for (const nlist of options.nlist ?? DEFAULTS.nlist)
        for (const m of options.pqM ?? [undefined]) configs.push({ type, nlist, m, searches });
    } else
      for (const m of options.m)
        for (const efConstruction of options.efConstruction) configs.push({ type, m, efConstruction });
  }
  return configs;
}

/** A file-name-safe version of a data-set name. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** What {@link runBench} returns: the results and where they were written. */
export interface BenchRun {
  results: BenchResults;
  outDir: string;
  files: string[];
}

/**
 * Runs the harness with parsed options and writes the result files.
 * @throws QuiverError INVALID_ARGUMENT for unknown contestants or data sets
 */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const known = contestantDefinitions(options);
  const definitions = options.contestants.map((name) => {
    const definition = known.get(name);
    if (!definition) {
      throw new QuiverError('INVALID_ARGUMENT', `unknown contestant '${name}'; known: ${[...known.keys()].join(', ')}`);
    }
    return definition;
  });
  const configs = indexConfigs(options);
  const progress = createProgress({ bar: options.progress, quiet: options.quiet });
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverages();
  const datasets: DatasetResult[] = [];
  const outDir = resolve(options.out);

  for (const spec of options.datasets) {
    progress.log(`loading ${spec}`);
    const loadStart = now();
    const dataset = await loadDataset(spec, {
      ...(options.metric ? { metric: options.metric } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
      ...(options.queries ? { queries: options.queries } : {}),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      k: Math.max(100, ...options.recallDepths),
      onGroundTruthProgress: (done, total) => {
        if (done === total) progress.log(`exact ground truth computed for ${total} queries`);
      },
    });
    const loadSeconds = secondsBetween(loadStart, now());
    progress.log(
      `${dataset.name}: ${dataset.baseCount} × ${dataset.dim}, ${dataset.queryCount} queries, ${dataset.metric}, ` +
        `ground truth from ${dataset.groundTruthSource} (${loadSeconds.toFixed(2)} s)`,
    );
    const settings = {
      recallDepths: options.recallDepths,
      configs,
      ef: options.ef,
      passes: options.passes,
      warmup: options.warmup,
      batch: options.batch,
      engine: { durability: options.durability, threads: options.threads },
    };
    datasets.push(await runDataset(dataset, loadSeconds, definitions, settings, progress));
  }

  const results: BenchResults = {
    formatVersion: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: { start: loadAtStart, end: loadAverages() },
    parameters: {
      datasets: options.datasets,
      recallDepths: options.recallDepths,
      index: options.index,
      m: options.m,
      efConstruction: options.efConstruction,
      ef: options.ef,
      passes: options.passes,
      warmup: options.warmup,
      queries: options.queries ?? null,
      limit: options.limit ?? null,
      metric: options.metric ?? null,
      contestants: options.contestants,
      durability: options.durability ?? null,
      threads: options.threads ?? null,
      batch: options.batch ?? null,
      quick: options.quick,
    },
    datasets,
  };
  const svgNames = datasets.map(
    (dataset, index) => `${String(index + 1).padStart(2, '0')}-${fileSafe(dataset.name)}.svg`,
  );
  mkdirSync(outDir, { recursive: true });
  const files = [resolve(outDir, 'results.json'), resolve(outDir, 'results.md')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, renderMarkdown(results, svgNames));
  datasets.forEach((dataset, index) => {
    const path = resolve(outDir, svgNames[index]!);
    writeFileSync(path, datasetChart(dataset));
    files.push(path);
  });
  progress.log(`results written to ${outDir}`);
  return { results, outDir, files };
}

/** Parses `argv`, runs, and returns the process exit code (0 ok, 1 a run failed, 2 bad options or data-set spec). */
export async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    if (options.suite === 'filters') {
      const run = await runFilters(options);
      process.stdout.write(`${run.files.join('\n')}\n`);
      return 0;
    }
    if (options.suite === 'import') {
      const run = await runImport(options);
      process.stdout.write(`${run.files.join('\n')}\n`);
      return 0;
    }
    if (options.suite === 'replication') {
      const run = await runReplication(options);
      process.stdout.write(`${run.files.join('\n')}\n`);
      return 0;
    }
    if (options.suite === 'text') {
      const run = await runText(options);
      process.stdout.write(`${run.files.join('\n')}\n`);
      return 0;
    }
    if (options.suite === 'footprint') {
      const run = await runFootprint(options);
      process.stdout.write(`${run.files.join('\n')}\n`);
      return 0;
    }
    if (options.suite === 'durability') {
      const run = await runDurability(options);
      process.stdout.write(`${run.files.join('\n')}\n`);
      return 0;
    }
    const run = await runBench(options);
    process.stdout.write(`${run.files.join('\n')}\n`);
    const failed = run.results.datasets.flatMap((dataset) => dataset.runs.filter((result) => result.error));
    return failed.length > 0 ? 1 : 0;
  } catch (error) {
    // Bad input (a missing data set, an unknown contestant) needs its message, not a stack trace.
    const detail =
      error instanceof QuiverError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`bench failed: ${detail}\n`);
    return error instanceof QuiverError && error.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}
