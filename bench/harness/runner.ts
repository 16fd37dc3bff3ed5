// The measuring loop: for each data set, contestant and index configuration, build, sweep ef,
// close, reopen, and record every figure. Imports data sets and contestants through their
// interfaces; writes only into a temporary folder per build, which it removes.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../datasets/dataset.js';
import { exactDistance } from '../datasets/ground-truth.js';
import { recallAtK, tieAwareRecallAtK } from '../datasets/recall.js';
import { type Contestant, type ContestantDefinition, configLabel, type IndexConfig } from './contestant.js';
import { folderBytes, median, now, percentile, residentBytes, secondsBetween } from './measure.js';
import type { Progress } from './progress.js';
import type { ReopenFigures, ReopenRequest } from './reopen.js';

const REOPEN_CHILD = join(import.meta.dirname, 'reopen-child.ts');

/** Timing of one search size (k) at one ef: medians over the timed passes. */
export interface SearchFigures {
  k: number;
  /** Queries per second, single-threaded: queries / wall time of a pass; median over passes. */
  qps: number;
  /** QPS of every timed pass. */
  passQps: number[];
  /** Per-query latency percentiles in microseconds; the median over passes of each pass's percentile. */
  latencyMicroseconds: { p50: number; p95: number; p99: number; mean: number };
  /**
   * The same queries in batch calls of `batchSize` (contestants with a batch search, at the primary
   * k only): QPS = queries ÷ wall time of a pass, median over passes; recall of the batch answers.
   */
  batch?: { batchSize: number; qps: number; passQps: number[]; recall: number };
}

/** One point of the sweep. */
export interface SweepPoint {
  /** The requested search effort; null for exact indexes; for ivfpq the position in its `searches`. */
  ef: number | null;
  /** ivfpq: lists probed and candidates re-ranked at this point. */
  nprobe?: number | 'auto';
  rerank?: number | 'auto';
  searches: SearchFigures[];
  /** recall@depth by depth, e.g. { "1": 0.99, "10": 0.95, "100": 0.9 }. */
  recall: Record<string, number>;
  /** Tie-aware recall@depth: ids as close as the true k-th neighbour count as correct. */
  tieAwareRecall: Record<string, number>;
}

/** Build, persistence and reopen figures of one contestant × configuration. */
export interface BuildFigures {
  seconds: number;
  vectorsPerSecond: number;
  /** RSS after the build minus before it (after garbage collection), bytes. */
  rssDeltaBytes: number;
  /** The contestant's own estimate of its index memory, bytes (hnswlib: from its data layout). */
  memoryEstimateBytes: number | null;
  /** Seconds to close (persist to disk and release). */
  closeSeconds: number;
  /** Bytes of the contestant's folder after close. */
  diskBytes: number;
  /** Seconds to reopen from disk. */
  openSeconds: number;
  /**
   * Milliseconds of the first search after the reopen (the first query at the largest ef, k primary):
   * what a user waits for beyond the open, including anything the engine builds on first use.
   */
  firstQueryMilliseconds: number;
  /** recall@primary depth at the largest ef after reopening, to show nothing was lost. */
  recallAfterReopen: number;
  /**
   * The same reopen in a fresh process of its own (harness/reopen-child.ts), as an application
   * starts: open time, the first query, and RSS before the open and after it plus
   * {@link REOPEN_QUERIES} queries at the largest ef. Absent for a contestant that cannot adopt an
   * index built elsewhere; `error` when the child failed.
   */
  ownProcess?: ReopenFigures | { error: string };
}

/** Every figure of one contestant × configuration on one data set. */
export interface RunResult {
  contestant: string;
  config: IndexConfig;
  label: string;
  build?: BuildFigures;
  sweep: SweepPoint[];
  /** Why the run stopped early, when it did. */
  error?: string;
}

/** The contestants QuiverDB's figures are divided by, where they ran the same configuration. */
export const BASELINES = ['hnswlib-node', 'plain-js'] as const;

/** A QuiverDB contestant ÷ a baseline for the same configuration (and ef for QPS). */
export interface Ratio {
  /** The QuiverDB contestant (quiverdb or quiverdb-ids). */
  contestant: string;
  /** The contestant it is divided by (one of {@link BASELINES}). */
  baseline: string;
  label: string;
  ef: number | null;
  /** Recall at the primary depth at this ef: QuiverDB's and the baseline's. */
  recall: number | null;
  baselineRecall: number | null;
  /** QuiverDB QPS ÷ the baseline's QPS at the primary k and the same ef (higher is better for QuiverDB). */
  qps: number | null;
  /**
   * At equal recall: QuiverDB's best single-query QPS among its sweep points whose recall is at
   * least the baseline's at this ef, ÷ the baseline's QPS here. Null when no point reaches it.
   */
  qpsAtEqualRecall: number | null;
  /** The same for QuiverDB's batch search (its QPS over a pass of batches) ÷ the baseline's single queries. */
  batchQpsAtEqualRecall: number | null;
  /** QuiverDB build seconds ÷ the baseline's build seconds (lower is better for QuiverDB). */
  buildTime: number | null;
}

/** Everything measured on one data set. */
export interface DatasetResult {
  name: string;
  source: string;
  metric: string;
  dim: number;
  baseCount: number;
  queryCount: number;
  groundTruthK: number;
  groundTruthSource: string;
  notes: string[];
  loadSeconds: number;
  /** The search size whose QPS is the headline and whose recall is charted. */
  primaryK: number;
  /** The deepest recall depth served by the primary search: the charted recall@. */
  primaryDepth: number;
  recallDepths: number[];
  runs: RunResult[];
  skipped: Array<{ contestant: string; reason: string }>;
  ratios: Ratio[];
}

/** Settings the runner needs (a subset of the command-line options). */
export interface RunSettings {
  recallDepths: number[];
  configs: IndexConfig[];
  ef: number[];
  passes: number;
  warmup: number;
  /** Queries per batch call in the batch measurement; undefined: all queries in one call. */
  batch?: number | undefined;
  /** QuiverDB's open options, passed to the own-process reopen (harness/reopen-child.ts). */
  engine?: { durability?: 'full' | 'normal' | undefined; threads?: number | undefined };
}

/** Queries the own-process reopen answers after its first, cycling through the query set. */
export const REOPEN_QUERIES = 1000;

/** Search sizes to run: one k=10 search serves depths ≤ 10; each larger depth gets its own search. */
export function searchSizes(
  depths: readonly number[],
  baseCount: number,
): { sizes: number[]; sourceOf: Map<number, number> } {
  const sourceOf = new Map<number, number>();
  for (const depth of depths) sourceOf.set(depth, Math.min(baseCount, Math.max(depth, 10)));
  return { sizes: [...new Set(sourceOf.values())].sort((a, b) => a - b), sourceOf };
}

interface PassOutcome {
  seconds: number;
  latencies: Float64Array;
}

/**
 * Runs every query once at (k, ef), timing each; fills `found` (queryCount × k, −1 for missing).
 * A contestant with `searchAsync` is awaited query by query.
 */
async function runPass(
  contestant: Contestant,
  dataset: Dataset,
  k: number,
  ef: number | undefined,
  found: Int32Array,
  onQuery: () => void,
): Promise<PassOutcome> {
  const { dim, queries, queryCount } = dataset;
  const latencies = new Float64Array(queryCount);
  const searchAsync = contestant.searchAsync?.bind(contestant);
  found.fill(-1);
  const passStart = now();
  for (let q = 0; q < queryCount; q++) {
    const vector = queries.subarray(q * dim, (q + 1) * dim);
    const start = now();
    // Only the chosen branch runs: a synchronous contestant's loop has no await in its timing.
    const ids = searchAsync === undefined ? contestant.search(vector, k, ef) : await searchAsync(vector, k, ef);
    latencies[q] = Number(now() - start) / 1e3;
    const count = Math.min(k, ids.length);
    for (let rank = 0; rank < count; rank++) found[q * k + rank] = ids[rank]!;
    onQuery();
  }
  return { seconds: secondsBetween(passStart, now()), latencies };
}

/**
 * Runs every query at (k, ef) in batch calls of `batchSize`; fills `found`. Seconds of the pass, or
 * undefined when the contestant has no batch search for this configuration.
 */
function runBatchPass(
  contestant: Contestant,
  dataset: Dataset,
  k: number,
  ef: number | undefined,
  batchSize: number,
  found: Int32Array,
): number | undefined {
  if (contestant.searchBatch === undefined) return undefined;
  const { dim, queries, queryCount } = dataset;
  const start = now();
  for (let first = 0; first < queryCount; first += batchSize) {
    const count = Math.min(batchSize, queryCount - first);
    const ids = contestant.searchBatch(queries.subarray(first * dim, (first + count) * dim), count, k, ef);
    if (ids === undefined) return undefined;
    found.set(ids.subarray(0, count * k), first * k);
  }
  return secondsBetween(start, now());
}

/** Exact distances of found ids and of each query's true k-th neighbour, for tie-aware recall. */
function tieAware(dataset: Dataset, found: Int32Array, k: number, depth: number): number {
  const { dim, metric, queries, base, groundTruth, groundTruthK, queryCount } = dataset;
  const foundDistances = new Float64Array(found.length).fill(Number.POSITIVE_INFINITY);
  const kth = new Float64Array(queryCount);
  for (let q = 0; q < queryCount; q++) {
    kth[q] = exactDistance(metric, queries, q, base, groundTruth[q * groundTruthK + depth - 1]!, dim);
    for (let rank = 0; rank < depth; rank++) {
      const id = found[q * k + rank]!;
      if (id >= 0 && id < dataset.baseCount)
        foundDistances[q * k + rank] = exactDistance(metric, queries, q, base, id, dim);
    }
  }
  return tieAwareRecallAtK({ ids: found, stride: k }, foundDistances, kth, depth);
}

/** Measures one contestant × configuration; errors are caught and recorded in the result. */
async function runOne(
  definition: ContestantDefinition,
  contestant: Contestant,
  config: IndexConfig,
  dataset: Dataset,
  settings: RunSettings,
  depths: number[],
  progress: Progress,
  workDone: { value: number },
): Promise<RunResult> {
  const label = configLabel(config);
  const result: RunResult = { contestant: definition.name, config, label, sweep: [] };
  const directory = mkdtempSync(join(tmpdir(), `quiverdb-bench-${definition.name}-`));
  const task = (what: string): string => `${dataset.name} · ${definition.name} · ${label} · ${what}`;
  const { sizes, sourceOf } = searchSizes(depths, dataset.baseCount);
  const primaryK = sizes[0]!;
  const primaryDepth = Math.max(...depths.filter((depth) => sourceOf.get(depth) === primaryK));
  const efs: Array<number | undefined> =
    config.type === 'flat'
      ? [undefined]
      : config.type === 'ivfpq'
        ? config.searches.map((_, position) => position)
        : settings.ef;
  /** How a sweep point is named in logs: ef, or nprobe and rerank for ivfpq. */
  const pointName = (ef: number | undefined): string => {
    const search = config.type === 'ivfpq' && ef !== undefined ? config.searches[ef] : undefined;
    return search === undefined ? `ef=${ef ?? '-'}` : `nprobe=${search.nprobe} rerank=${search.rerank}`;
  };
  try {
    mkdirSync(directory, { recursive: true });
    const rssBefore = residentBytes();
    const buildStart = now();
    const buildOffset = workDone.value;
    progress.update(workDone.value, task('build'));
    await contestant.build({
      base: dataset.base,
      count: dataset.baseCount,
      dim: dataset.dim,
      metric: dataset.metric,
      config,
      directory,
      onProgress: (inserted) => progress.update(buildOffset + inserted, task('build')),
    });
    const buildSeconds = secondsBetween(buildStart, now());
    const rssDelta = residentBytes() - rssBefore;
    workDone.value = buildOffset + dataset.baseCount;
    progress.log(
      `${task('built')} in ${buildSeconds.toFixed(2)} s (${Math.round(dataset.baseCount / buildSeconds)} vectors/s)`,
    );

    for (const ef of efs) {
      const point: SweepPoint = { ef: ef ?? null, searches: [], recall: {}, tieAwareRecall: {} };
      if (config.type === 'ivfpq' && ef !== undefined) Object.assign(point, config.searches[ef]);
      for (const k of sizes) {
        const found = new Int32Array(dataset.queryCount * k);
        const qpsList: number[] = [];
        const p50: number[] = [];
        const p95: number[] = [];
        const p99: number[] = [];
        const means: number[] = [];
        for (let pass = 0; pass < settings.warmup + settings.passes; pass++) {
          const what = `${pointName(ef)} k=${k} ${pass < settings.warmup ? 'warm-up' : `pass ${pass - settings.warmup + 1}/${settings.passes}`}`;
          const outcome = await runPass(contestant, dataset, k, ef, found, () => {
            workDone.value++;
            if ((workDone.value & 63) === 0) progress.update(workDone.value, task(what));
          });
          if (pass < settings.warmup) continue;
          const sorted = outcome.latencies.slice().sort();
          qpsList.push(dataset.queryCount / outcome.seconds);
          p50.push(percentile(sorted, 50));
          p95.push(percentile(sorted, 95));
          p99.push(percentile(sorted, 99));
          means.push(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length));
        }
        point.searches.push({
          k,
          qps: median(qpsList),
          passQps: qpsList,
          latencyMicroseconds: { p50: median(p50), p95: median(p95), p99: median(p99), mean: median(means) },
        });
        for (const depth of depths) {
          if (sourceOf.get(depth) !== k) continue;
          const truth = { ids: dataset.groundTruth, stride: dataset.groundTruthK };
          point.recall[String(depth)] = recallAtK({ ids: found, stride: k }, truth, depth);
          point.tieAwareRecall[String(depth)] = tieAware(dataset, found, k, depth);
        }
        if (k === primaryK) {
          const batchSize = Math.min(settings.batch ?? dataset.queryCount, dataset.queryCount);
          const batchFound = new Int32Array(dataset.queryCount * k);
          const batchQps: number[] = [];
          for (let pass = 0; pass < settings.warmup + settings.passes; pass++) {
            progress.update(workDone.value, task(`${pointName(ef)} k=${k} batch`));
            const seconds = runBatchPass(contestant, dataset, k, ef, batchSize, batchFound);
            if (seconds === undefined) break;
            if (pass >= settings.warmup) batchQps.push(dataset.queryCount / seconds);
          }
          if (batchQps.length > 0) {
            const truth = { ids: dataset.groundTruth, stride: dataset.groundTruthK };
            point.searches.at(-1)!.batch = {
              batchSize,
              qps: median(batchQps),
              passQps: batchQps,
              recall: recallAtK({ ids: batchFound, stride: k }, truth, primaryDepth),
            };
          }
        }
      }
      result.sweep.push(point);
      const headline = point.searches[0]!;
      progress.log(
        `${task(pointName(ef))}: recall@${primaryDepth} ${(point.recall[String(primaryDepth)] ?? Number.NaN).toFixed(4)}, ` +
          `${Math.round(headline.qps)} QPS, p50 ${headline.latencyMicroseconds.p50.toFixed(0)} µs`,
      );
    }

    const memoryEstimate = contestant.memoryEstimateBytes();
    const closeStart = now();
    await contestant.close();
    const closeSeconds = secondsBetween(closeStart, now());
    const diskBytes = folderBytes(directory);
    const openStart = now();
    await contestant.reopen();
    const openSeconds = secondsBetween(openStart, now());
    const lastEf = efs.at(-1);
    const firstQuery = dataset.queries.subarray(0, dataset.dim);
    const firstStart = now();
    if (contestant.searchAsync === undefined) contestant.search(firstQuery, primaryK, lastEf);
    else await contestant.searchAsync(firstQuery, primaryK, lastEf);
    const firstQueryMilliseconds = Number(now() - firstStart) / 1e6;
    const found = new Int32Array(dataset.queryCount * primaryK);
    await runPass(contestant, dataset, primaryK, lastEf, found, () => {
      workDone.value++;
    });
    const recallAfterReopen = recallAtK(
      { ids: found, stride: primaryK },
      { ids: dataset.groundTruth, stride: dataset.groundTruthK },
      primaryDepth,
    );
    await contestant.close();
    const ownProcess =
      contestant.adopt === undefined
        ? undefined
        : reopenInOwnProcess(definition.name, settings, directory, dataset, config, primaryK, lastEf);
    if (ownProcess !== undefined && 'openSeconds' in ownProcess) {
      progress.log(
        `${task('reopened in its own process')} in ${ownProcess.openSeconds.toFixed(3)} s, first query ` +
          `${ownProcess.firstQueryMilliseconds.toFixed(2)} ms; RSS ${(ownProcess.rssAfterQueriesBytes / 2 ** 20).toFixed(1)} MiB ` +
          `after ${ownProcess.queries} queries (${(ownProcess.rssBeforeOpenBytes / 2 ** 20).toFixed(1)} MiB before the open)`,
      );
    }
    result.build = {
      seconds: buildSeconds,
      vectorsPerSecond: dataset.baseCount / buildSeconds,
      rssDeltaBytes: rssDelta,
      memoryEstimateBytes: memoryEstimate ?? null,
      closeSeconds,
      diskBytes,
      openSeconds,
      firstQueryMilliseconds,
      recallAfterReopen,
      ...(ownProcess === undefined ? {} : { ownProcess }),
    };
    progress.log(
      `${task('reopened')} in ${openSeconds.toFixed(3)} s, first query ${firstQueryMilliseconds.toFixed(2)} ms; disk ${(diskBytes / 2 ** 20).toFixed(1)} MiB; ` +
        `recall after reopen ${recallAfterReopen.toFixed(4)}`,
    );
  } catch (error) {
    result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    progress.log(`${task('failed')}: ${result.error}`);
    try {
      await contestant.close();
    } catch {
      // Already broken; the error above is the one worth reporting.
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return result;
}

/**
 * Opens the closed index in `directory` in a fresh process (harness/reopen-child.ts): one contestant
 * alone, as an application starts, so its RSS is its own. The queries go to the child as a file.
 */
function reopenInOwnProcess(
  name: string,
  settings: RunSettings,
  directory: string,
  dataset: Dataset,
  config: IndexConfig,
  k: number,
  ef: number | undefined,
): ReopenFigures | { error: string } {
  const queriesFile = join(directory, 'reopen-queries.f32');
  const requestFile = join(directory, 'reopen-request.json');
  const queries = dataset.queries.subarray(0, dataset.queryCount * dataset.dim);
  writeFileSync(queriesFile, new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
  const request: ReopenRequest = {
    contestant: name,
    durability: settings.engine?.durability,
    threads: settings.engine?.threads,
    input: { count: dataset.baseCount, dim: dataset.dim, metric: dataset.metric, config, directory },
    queriesFile,
    queries: REOPEN_QUERIES,
    k,
    ef,
  };
  writeFileSync(requestFile, JSON.stringify(request));
  const child = spawnSync(process.execPath, ['--import', 'tsx', REOPEN_CHILD, requestFile], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = child.stdout?.trim().split('\n').at(-1);
  if (child.status !== 0 || !line) {
    return {
      error: `the reopen child exited with ${child.status ?? child.signal}: ${child.stderr?.trim().split('\n').at(-1) ?? ''}`,
    };
  }
  return JSON.parse(line) as ReopenFigures;
}

/** The work units of one data set for the progress bar: vectors inserted plus queries run. */
export function plannedWork(dataset: Dataset, settings: RunSettings, contestants: number, depths: number[]): number {
  const { sizes } = searchSizes(depths, dataset.baseCount);
  let total = 0;
  for (const config of settings.configs) {
    const efCount = config.type === 'flat' ? 1 : config.type === 'ivfpq' ? config.searches.length : settings.ef.length;
    total +=
      dataset.baseCount + dataset.queryCount * (efCount * sizes.length * (settings.warmup + settings.passes) + 1);
  }
  return total * contestants;
}

/**
 * Measures every available contestant on one loaded data set.
 * `definitions` that cannot be created are listed in `skipped` with their reason.
 */
export async function runDataset(
  dataset: Dataset,
  loadSeconds: number,
  definitions: readonly ContestantDefinition[],
  settings: RunSettings,
  progress: Progress,
): Promise<DatasetResult> {
  // Depths beyond the ground truth (tiny sets) are clamped to it rather than dropped.
  const depths = [...new Set(settings.recallDepths.map((depth) => Math.min(depth, dataset.groundTruthK)))];
  const clamped = settings.recallDepths.filter((depth) => depth > dataset.groundTruthK);
  const notes = [...dataset.notes];
  if (clamped.length > 0) {
    notes.push(`recall@${clamped.join(',')} measured as recall@${dataset.groundTruthK}: the ground truth is that deep`);
  }
  const { sizes, sourceOf } = searchSizes(depths, dataset.baseCount);
  const primaryDepth = Math.max(...depths.filter((depth) => sourceOf.get(depth) === sizes[0]));
  const result: DatasetResult = {
    name: dataset.name,
    source: dataset.source,
    metric: dataset.metric,
    dim: dataset.dim,
    baseCount: dataset.baseCount,
    queryCount: dataset.queryCount,
    groundTruthK: dataset.groundTruthK,
    groundTruthSource: dataset.groundTruthSource,
    notes,
    loadSeconds,
    primaryK: sizes[0]!,
    primaryDepth,
    recallDepths: depths,
    runs: [],
    skipped: [],
    ratios: [],
  };

  const available: Array<{ definition: ContestantDefinition }> = [];
  for (const definition of definitions) {
    try {
      const probe = await definition.create();
      await probe.close();
      available.push({ definition });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      result.skipped.push({ contestant: definition.name, reason });
      progress.log(`skipping ${definition.name}: ${reason}`);
    }
  }

  const workDone = { value: 0 };
  progress.start(plannedWork(dataset, settings, available.length, depths));
  for (const config of settings.configs) {
    for (const { definition } of available) {
      const contestant = await definition.create();
      if (!contestant.supports(config)) {
        result.skipped.push({ contestant: definition.name, reason: `does not support ${configLabel(config)}` });
        continue;
      }
      result.runs.push(await runOne(definition, contestant, config, dataset, settings, depths, progress, workDone));
    }
  }
  progress.stop();
  result.ratios = ratios(result);
  return result;
}

/** The best QPS among `points` whose recall is at least `recall`; null when none reaches it. */
function bestQpsAtRecall(points: ReadonlyArray<{ recall: number; qps: number }>, recall: number): number | null {
  let best: number | null = null;
  for (const point of points) {
    if (point.recall >= recall && (best === null || point.qps > best)) best = point.qps;
  }
  return best;
}

/**
 * Each QuiverDB contestant ÷ each baseline for QPS (per ef, and at equal recall) and build time,
 * where both ran the same configuration.
 */
export function ratios(result: DatasetResult): Ratio[] {
  const out: Ratio[] = [];
  const depth = String(result.primaryDepth);
  for (const baseline of BASELINES) {
    for (const ours of result.runs.filter((run) => run.contestant.startsWith('quiverdb'))) {
      const theirs = result.runs.find((run) => run.contestant === baseline && run.label === ours.label);
      if (!theirs) continue;
      const buildTime = ours.build && theirs.build ? ours.build.seconds / theirs.build.seconds : null;
      const single = ours.sweep.map((point) => ({ recall: point.recall[depth] ?? 0, qps: point.searches[0]!.qps }));
      const batched = ours.sweep.flatMap((point) => {
        const batch = point.searches[0]!.batch;
        return batch === undefined ? [] : [{ recall: batch.recall, qps: batch.qps }];
      });
      const row = { contestant: ours.contestant, baseline, label: ours.label, buildTime };
      for (const point of theirs.sweep) {
        const mine = ours.sweep.find((candidate) => candidate.ef === point.ef);
        const theirQps = point.searches[0]!.qps;
        const theirRecall = point.recall[depth] ?? null;
        const atRecall = (points: typeof single) => {
          if (theirRecall === null) return null;
          const best = bestQpsAtRecall(points, theirRecall);
          return best === null ? null : best / theirQps;
        };
        out.push({
          ...row,
          ef: point.ef,
          recall: mine?.recall[depth] ?? null,
          baselineRecall: theirRecall,
          qps: mine ? mine.searches[0]!.qps / theirQps : null,
          qpsAtEqualRecall: atRecall(single),
          batchQpsAtEqualRecall: batched.length > 0 ? atRecall(batched) : null,
        });
      }
      if (theirs.sweep.length === 0) {
        out.push({
          ...row,
          ef: null,
          recall: null,
          baselineRecall: null,
          qps: null,
          qpsAtEqualRecall: null,
          batchQpsAtEqualRecall: null,
        });
      }
    }
  }
  return out;
}
