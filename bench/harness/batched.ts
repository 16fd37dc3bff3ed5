// Batched search figures: the queries of a data set handed to a contestant's searchBatch (QuiverDB:
// collection.queryBatch) in batches of a fixed size, timed per pass. Runs only when --batch is
// given and the contestant offers searchBatch. Imports the data-set types and the measuring helpers.

import type { Dataset } from '../datasets/dataset.js';
import { recallAtK } from '../datasets/recall.js';
import type { Contestant } from './contestant.js';
import { median, now, secondsBetween } from './measure.js';

/** A contestant's batch search (see {@link Contestant.searchBatch}). */
export type BatchSearch = NonNullable<Contestant['searchBatch']>;

/** Batched throughput at one (ef, k): medians over the timed passes. */
export interface BatchedFigures {
  /** Queries per call. */
  batchSize: number;
  /** Queries per second: queries / wall time of a pass; median over passes. */
  qps: number;
  /** QPS of every timed pass. */
  passQps: number[];
  /** recall@depth of the batched answers (they must match the single-query ones). */
  recall: number;
  depth: number;
}

/** Settings of a batched measurement. */
export interface BatchedSettings {
  batchSize: number;
  passes: number;
  warmup: number;
}

/**
 * Runs every query of `dataset` through `searchBatch` in batches of `batchSize`,
 * `warmup` untimed passes then `passes` timed ones, and scores recall@depth of the last pass.
 * Undefined when the contestant has no batch call for this configuration.
 */
export function measureBatched(
  searchBatch: BatchSearch,
  dataset: Dataset,
  k: number,
  ef: number | undefined,
  depth: number,
  settings: BatchedSettings,
): BatchedFigures | undefined {
  const { dim, queries, queryCount } = dataset;
  const found = new Int32Array(queryCount * k);
  const passQps: number[] = [];
  for (let pass = 0; pass < settings.warmup + settings.passes; pass++) {
    found.fill(-1);
    const start = now();
    for (let first = 0; first < queryCount; first += settings.batchSize) {
      const count = Math.min(settings.batchSize, queryCount - first);
      const answers = searchBatch(queries.subarray(first * dim, (first + count) * dim), count, k, ef);
      if (answers === undefined) return undefined;
      for (let row = 0; row < count; row++) {
        const ids = answers[row]!;
        for (let rank = 0; rank < Math.min(k, ids.length); rank++) found[(first + row) * k + rank] = ids[rank]!;
      }
    }
    if (pass >= settings.warmup) passQps.push(queryCount / secondsBetween(start, now()));
  }
  const recall = recallAtK(
    { ids: found, stride: k },
    { ids: dataset.groundTruth, stride: dataset.groundTruthK },
    Math.min(depth, k),
  );
  return { batchSize: settings.batchSize, qps: median(passQps), passQps, recall, depth: Math.min(depth, k) };
}
