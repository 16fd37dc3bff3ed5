// Calibration of an IVF-PQ index at training: how well its coarse lists and PQ codes rank a sample
// of the collection's own vectors, and the cheapest nprobe and rerank whose expected recall@10
// reaches a target. Plain TypeScript over the kernels' answers; must not import src/storage/.
import type { CodebookCalibration } from '../quant/codebook-format.js';
import type { ProductQuantizer } from '../quant/pq.js';
import { SeededRandom } from '../quant/random.js';
import { ADC_TABLE_WIDTH, type KernelMetric, nativeKernels } from '../native/kernels.js';

/** The depth the target is stated at: recall@10. */
export const CALIBRATION_K = 10;
/** Largest rerank a calibration chooses (the largest a query may ask for). */
export const MAX_CALIBRATED_RERANK = 10_000;
/**
 * The growth of the needed rerank with the collection is measured between the base and a seeded
 * 1-in-GROWTH_FRACTION subset of it. That exponent underestimates the growth beyond the base on
 * every distribution measured (docs/ivfpq.md, "Calibration"), so the growth used is the measured
 * one plus GROWTH_MARGIN, within [MIN_GROWTH, 1]: linear at most (the vectors an ADC scan ranks
 * grow at most in proportion), at least a square root.
 */
export const GROWTH_FRACTION = 4;
export const GROWTH_MARGIN = 0.5;
export const MIN_GROWTH = 0.5;
const GROWTH_SEED = 0x67726f77;

/**
 * Cost model used to choose among the (nprobe, rerank) pairs that reach the target, in nanoseconds:
 * an ADC scan costs about one per code byte; a re-ranked candidate costs a SQLite point read plus
 * its blob and an exact distance (measured ≈ 4 µs at 128-d and ≈ 10 µs at 784-d, docs/ivfpq.md).
 */
const ADC_NANOSECONDS_PER_BYTE = 1;
const RERANK_NANOSECONDS = 3_000;
const RERANK_NANOSECONDS_PER_DIMENSION = 8;

/** What {@link calibrateIvfPq} measures on. Vectors are as the index holds them (normalised for cosine). */
export interface CalibrationInput {
  /** The kernels' metric: 'l2', or 'ip' for ip and (normalised) cosine. */
  readonly metric: KernelMetric;
  readonly dim: number;
  /** The vectors the sample queries are ranked among, baseCount × dim. */
  readonly base: Float32Array;
  /** The held-back sample queries, queryCount × dim (not in `base`). */
  readonly queries: Float32Array;
  /** Coarse centroids, nlist × dim. */
  readonly coarse: Float32Array;
  readonly pq: ProductQuantizer;
  readonly targetRecall: number;
  /** Settings the user fixed at creation: calibration chooses only the others. */
  readonly nprobe?: number | undefined;
  readonly rerank?: number | undefined;
}

/**
 * The recall measurement of one sample: for every (query, true neighbour) pair — an "event" — the
 * probe rank of the neighbour's list and, per candidate nprobe, its rank among the ADC distances
 * of the vectors in the probed lists.
 */
export interface RankingError {
  /** The nprobe values measured, ascending, the last = nlist (a user's fixed nprobe among them). */
  readonly nprobes: readonly number[];
  /** Per nprobe value: each event's needed rerank (ADC rank + 1), or +Infinity when its list is not probed. */
  readonly needed: readonly Float64Array[];
  /** Per nprobe value: mean codes scanned per query. */
  readonly scanned: readonly number[];
  readonly events: number;
  readonly base: number;
  readonly queries: number;
}

/** nprobe values tried: 1, 2, 3, 4, 6, 8, 12, 16, … (×√2 steps, whole numbers), then nlist. */
export function nprobeLadder(nlist: number): number[] {
  const values: number[] = [];
  for (let power = 1; power < nlist; power *= 2) {
    values.push(power);
    const between = Math.round(power * 1.5);
    if (between > power && between < power * 2 && between < nlist) values.push(between);
  }
  values.push(nlist);
  return [...new Set(values)].sort((a, b) => a - b);
}

/**
 * Measures how the index would rank the sample queries' true top-10 (exact, among `base`):
 * coarse order from the centroids, ADC distances from the codes. Ties in ADC distance count
 * against the neighbour (a tied vector may be kept before it), so the estimate errs low.
 */
export function measureRankingError(input: CalibrationInput): RankingError {
  const { metric, dim, base, queries, coarse, pq } = input;
  const baseCount = base.length / dim;
  const queryCount = queries.length / dim;
  const nlist = coarse.length / dim;
  const k = Math.min(CALIBRATION_K, baseCount);
  const ladder = nprobeLadder(nlist);
  if (input.nprobe !== undefined && !ladder.includes(Math.min(input.nprobe, nlist))) {
    ladder.push(Math.min(input.nprobe, nlist));
    ladder.sort((a, b) => a - b);
  }

  const listOf = new Int32Array(baseCount);
  nativeKernels.kmeansAssign({
    metric: 'l2',
    points: base,
    centroids: coarse,
    dim,
    assignments: listOf,
    distances: new Float32Array(baseCount),
  });
  const listSizes = new Int32Array(nlist);
  for (const list of listOf) listSizes[list]!++;
  const codes = pq.encode(base);
  const truth = new Int32Array(queryCount * k);
  nativeKernels.exactTopK({
    metric,
    queries,
    base,
    dim,
    k,
    labels: truth,
    distances: new Float32Array(queryCount * k),
  });
  const order = new Int32Array(queryCount * nlist);
  nativeKernels.exactTopK({
    metric: 'l2',
    queries,
    base: coarse,
    dim,
    k: nlist,
    labels: order,
    distances: new Float32Array(queryCount * nlist),
  });

  const events = queryCount * k;
  const needed = ladder.map(() => new Float64Array(events));
  const scanned = ladder.map(() => 0);
  const m = pq.m;
  const adc = new Float32Array(baseCount);
  const probeRankOfList = new Int32Array(nlist);
  const probeRank = new Int32Array(baseCount);
  const histograms = new Int32Array(k * nlist);
  for (let query = 0; query < queryCount; query++) {
    for (let rank = 0; rank < nlist; rank++) probeRankOfList[order[query * nlist + rank]!] = rank;
    let cumulative = 0;
    let step = 0;
    for (let rank = 0; rank < nlist; rank++) {
      cumulative += listSizes[order[query * nlist + rank]!]!;
      while (step < ladder.length && ladder[step] === rank + 1) scanned[step++]! += cumulative / queryCount;
    }
    for (let row = 0; row < baseCount; row++) probeRank[row] = probeRankOfList[listOf[row]!]!;
    const table = pq.adcTable(queries.subarray(query * dim, (query + 1) * dim), metric);
    for (let row = 0; row < baseCount; row++) {
      let sum = 0;
      const start = row * m;
      for (let subspace = 0; subspace < m; subspace++)
        sum += table[subspace * ADC_TABLE_WIDTH + codes[start + subspace]!]!;
      adc[row] = sum;
    }
    // One pass over the base: a vector counts against every neighbour whose ADC distance is not
    // below its own; only vectors within the largest such distance can count at all.
    const thresholds = new Float32Array(k);
    let largest = Number.NEGATIVE_INFINITY;
    for (let position = 0; position < k; position++) {
      thresholds[position] = adc[truth[query * k + position]!]!;
      largest = Math.max(largest, thresholds[position]!);
    }
    histograms.fill(0);
    for (let row = 0; row < baseCount; row++) {
      const distance = adc[row]!;
      if (distance > largest) continue;
      const offset = probeRank[row]!;
      for (let position = 0; position < k; position++) {
        if (distance <= thresholds[position]!) histograms[position * nlist + offset]!++;
      }
    }
    for (let position = 0; position < k; position++) {
      const event = query * k + position;
      const neighbour = truth[event]!;
      const histogram = histograms.subarray(position * nlist, (position + 1) * nlist);
      histogram[probeRank[neighbour]!]!--; // the neighbour itself
      const own = probeRank[neighbour]!;
      let ahead = 0;
      let rank = 0;
      ladder.forEach((nprobe, step) => {
        for (; rank < nprobe; rank++) ahead += histogram[rank]!;
        needed[step]![event] = own < nprobe ? ahead + 1 : Number.POSITIVE_INFINITY;
      });
    }
  }
  for (const values of needed) values.sort();
  return { nprobes: ladder, needed, scanned, events, base: baseCount, queries: queryCount };
}

/** The fraction of events a search with nprobe = error.nprobes[step] and `rerank` candidates finds. */
export function expectedRecall(error: RankingError, step: number, rerank: number): number {
  const values = error.needed[step]!;
  // values is sorted: count those ≤ rerank.
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! <= rerank) low = middle + 1;
    else high = middle;
  }
  return error.events === 0 ? 1 : low / error.events;
}

/**
 * The recall the sample must show for the target to hold beyond its noise: the target plus one
 * standard error of a mean over `queries` sample queries (≈ 0.015 for 0.95 and 200 queries).
 */
export function aimedRecall(targetRecall: number, queries: number): number {
  if (queries === 0) return targetRecall;
  return Math.min(1, targetRecall + Math.sqrt((targetRecall * (1 - targetRecall)) / queries));
}

/**
 * The cheapest (nprobe, rerank) whose expected recall@10 reaches {@link aimedRecall}, by the cost
 * model above; when none does, the pair with the highest expected recall. A fixed nprobe or rerank is kept.
 */
export function chooseSettings(
  error: RankingError,
  options: { dim: number; m: number; targetRecall: number; nprobe?: number | undefined; rerank?: number | undefined },
): CodebookCalibration {
  const maxRerank = Math.max(CALIBRATION_K, Math.min(MAX_CALIBRATED_RERANK, error.base));
  const rerankCost = RERANK_NANOSECONDS + RERANK_NANOSECONDS_PER_DIMENSION * options.dim;
  const aim = aimedRecall(options.targetRecall, error.queries);
  const wanted = Math.ceil(aim * error.events - 1e-9);
  let best: { step: number; rerank: number; cost: number; recall: number; reaches: boolean } | undefined;
  error.nprobes.forEach((nprobe, step) => {
    if (options.nprobe !== undefined && nprobe !== options.nprobe) return;
    let rerank: number;
    if (options.rerank !== undefined) rerank = options.rerank;
    else {
      const needed = wanted <= 0 ? CALIBRATION_K : error.needed[step]![wanted - 1]!;
      rerank = Math.max(CALIBRATION_K, Number.isFinite(needed) && needed <= maxRerank ? needed : maxRerank);
    }
    const recall = expectedRecall(error, step, rerank);
    const reaches = recall >= aim;
    const cost = error.scanned[step]! * options.m * ADC_NANOSECONDS_PER_BYTE + rerank * rerankCost;
    const better =
      best === undefined ||
      (reaches && !best.reaches) ||
      (reaches && best.reaches && cost < best.cost) ||
      (!reaches && !best.reaches && (recall > best.recall || (recall === best.recall && cost < best.cost)));
    if (better) best = { step, rerank, cost, recall, reaches };
  });
  const chosen = best!;
  return {
    nprobe: error.nprobes[chosen.step]!,
    rerank: chosen.rerank,
    // As the codebook stores them (float32), so a saved and reloaded calibration is equal to this one.
    targetRecall: Math.fround(options.targetRecall),
    expectedRecall: Math.fround(chosen.recall),
    base: error.base,
    queries: error.queries,
    growth: 1,
  };
}

/**
 * Measures the ranking error on the sample and chooses the settings (see {@link chooseSettings}),
 * then how the chosen rerank grows with the collection ({@link measureGrowth}).
 */
export function calibrateIvfPq(input: CalibrationInput): CodebookCalibration {
  const error = measureRankingError(input);
  const nlist = input.coarse.length / input.dim;
  const chosen = chooseSettings(error, {
    dim: input.dim,
    m: input.pq.m,
    targetRecall: input.targetRecall,
    nprobe: input.nprobe === undefined ? undefined : Math.min(input.nprobe, nlist),
    rerank: input.rerank,
  });
  // A rerank the user fixed is used as given, never scaled.
  if (input.rerank !== undefined) return chosen;
  return { ...chosen, growth: Math.fround(measureGrowth(input, chosen)) };
}

/**
 * The exponent g with which a search scales the calibrated rerank — rerank(n) = rerank(base) ×
 * (n ÷ base)^g: how the rerank that reaches the aimed recall grows from a seeded
 * 1-in-{@link GROWTH_FRACTION} subset of the base to the base (the same sample queries, the chosen
 * nprobe), plus {@link GROWTH_MARGIN}, within [{@link MIN_GROWTH}, 1]. 1 (in proportion, the safe
 * side) when the subset is too small, when the subset's probed lists miss more neighbours than the
 * aim allows, or when the chosen pair did not reach the aim.
 */
export function measureGrowth(input: CalibrationInput, chosen: CodebookCalibration): number {
  const { dim, base } = input;
  const baseCount = base.length / dim;
  const subsetCount = Math.floor(baseCount / GROWTH_FRACTION);
  const aim = aimedRecall(chosen.targetRecall, chosen.queries);
  if (subsetCount < CALIBRATION_K * 4 || chosen.expectedRecall < aim) return 1;
  // A seeded partial shuffle picks the subset's rows.
  const rows = Int32Array.from({ length: baseCount }, (_, row) => row);
  const random = new SeededRandom(GROWTH_SEED);
  for (let at = 0; at < subsetCount; at++) {
    const other = at + random.nextInt(baseCount - at);
    const row = rows[other]!;
    rows[other] = rows[at]!;
    rows[at] = row;
  }
  const subset = new Float32Array(subsetCount * dim);
  for (let at = 0; at < subsetCount; at++) subset.set(base.subarray(rows[at]! * dim, (rows[at]! + 1) * dim), at * dim);
  const error = measureRankingError({ ...input, base: subset, nprobe: chosen.nprobe });
  const step = error.nprobes.indexOf(chosen.nprobe);
  const wanted = Math.ceil(aim * error.events - 1e-9);
  const needed = wanted <= 0 ? CALIBRATION_K : error.needed[step]![wanted - 1]!;
  if (!Number.isFinite(needed)) return 1;
  const growth = Math.log(chosen.rerank / Math.max(CALIBRATION_K, needed)) / Math.log(baseCount / subsetCount);
  return Number.isFinite(growth) ? Math.min(1, Math.max(MIN_GROWTH, growth + GROWTH_MARGIN)) : 1;
}
