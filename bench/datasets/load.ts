// loadDataset(spec): one entry for every data-set source the harness reads (TEXMEX folder, HDF5,
// Arrow, synthetic), with subsetting and ground truth made consistent. Never copies data into the repo;
// ground truth it has to compute goes to the cache folder (default bench-results/.cache).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiverError } from '../../src/errors.js';
import { readArrowDataset } from './arrow.js';
import type { Dataset, IdSet, Metric, VectorSet } from './dataset.js';
import { type BatchDistanceKernel, cachedGroundTruth, defaultDistanceKernel, exactDistance } from './ground-truth.js';
import { readAnnBenchmarksHdf5 } from './hdf5.js';
import { generateSynthetic, parseSyntheticSpec, syntheticName } from './synthetic.js';
import { readFvecs, readIvecs, readVectors } from './texmex.js';

/** The default ground-truth cache: `<repo>/bench-results/.cache`, which git ignores. */
export const DEFAULT_CACHE_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'bench-results',
  '.cache',
);

/** Options for {@link loadDataset}. */
export interface LoadOptions {
  /** Use this metric instead of the set's own; ground truth for it is found or computed. */
  metric?: Metric;
  /** Keep only the first `limit` base vectors; ground truth is then recomputed, never reused. */
  limit?: number;
  /** Keep only the first `queries` queries (their ground-truth rows are kept). */
  queries?: number;
  /** Ground-truth depth needed (default 100, capped at the base size). */
  k?: number;
  /** Where computed ground truth is cached (default {@link DEFAULT_CACHE_DIR}). */
  cacheDir?: string;
  /** A replacement distance kernel for computing ground truth (default: native when the addon loads). */
  kernel?: BatchDistanceKernel;
  /** Told when ground truth has to be computed: (queries done, total). */
  onGroundTruthProgress?: (done: number, total: number) => void;
}

/** What a source yields before subsetting and ground-truth checks. */
interface RawDataset {
  name: string;
  source: string;
  metric: Metric;
  base: VectorSet;
  queries: VectorSet;
  /** Base vectors in the source, before any `limit` the reader applied. */
  fullBaseCount: number;
  groundTruth?: IdSet;
  groundTruthDistances?: VectorSet;
  groundTruthSource?: string;
  labels?: Uint8Array;
  notes: string[];
  /** Finds ground truth for another metric, when the source has it (folders with groundtruth_<metric>.ivecs). */
  groundTruthFor?: (metric: Metric) => { ids: IdSet; source: string } | undefined;
}

const METRIC_FILE_ORDER: readonly Metric[] = ['ip', 'cosine', 'l2'];

function firstExisting(folder: string, names: string[]): string | undefined {
  return names.map((name) => join(folder, name)).find((path) => existsSync(path));
}

function loadFolder(folder: string, options: LoadOptions): RawDataset | Promise<RawDataset> {
  const name = basename(resolve(folder));
  const arrowBase = firstExisting(folder, ['base.arrow', 'base.arrows']);
  if (arrowBase) return loadArrow(arrowBase, options, name);
  const baseFile = firstExisting(folder, ['base.fvecs', 'base.bvecs']);
  if (!baseFile) {
    const hdf5 = readdirSync(folder).filter((file) => /\.(hdf5|h5)$/i.test(file));
    if (hdf5.length === 1) return loadHdf5(join(folder, hdf5[0]!), options);
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${folder} holds no base.fvecs, base.bvecs, base.arrow or single .hdf5 file; see bench/README.md for the layouts`,
    );
  }
  const queryFile = firstExisting(folder, ['query.fvecs', 'query.bvecs', 'queries.fvecs', 'queries.bvecs']);
  if (!queryFile)
    throw new QuiverError('INVALID_ARGUMENT', `${folder} has ${basename(baseFile)} but no query.fvecs/.bvecs`);

  const base = readVectors(baseFile);
  const queries = readVectors(queryFile, {});
  const metricFiles = new Map<Metric, string>();
  for (const metric of METRIC_FILE_ORDER) {
    const path = join(folder, `groundtruth_${metric}.ivecs`);
    if (existsSync(path)) metricFiles.set(metric, path);
  }
  const plain = firstExisting(folder, ['groundtruth.ivecs']);
  const notes: string[] = [];
  // A plain groundtruth.ivecs is TEXMEX's L2 convention; metric-specific files name their metric.
  let metric: Metric;
  if (plain) metric = 'l2';
  else if (metricFiles.size > 0) {
    metric = METRIC_FILE_ORDER.find((candidate) => metricFiles.has(candidate))!;
    if (metricFiles.size > 1) {
      notes.push(
        `metric ${metric} taken from groundtruth_${metric}.ivecs (also available: ${[...metricFiles.keys()].filter((m) => m !== metric).join(', ')}; choose with --metric)`,
      );
    }
  } else metric = 'l2';

  const raw: RawDataset = {
    name,
    source: resolve(folder),
    metric,
    base,
    queries,
    fullBaseCount: base.count,
    notes,
    groundTruthFor: (wanted) => {
      const path = metricFiles.get(wanted) ?? (wanted === 'l2' ? plain : undefined);
      return path ? { ids: readIvecs(path), source: basename(path) } : undefined;
    },
  };
  const own = raw.groundTruthFor!(metric);
  if (own) {
    raw.groundTruth = own.ids;
    raw.groundTruthSource = own.source;
    const distances = join(folder, 'groundtruth_dist.fvecs');
    if (plain && own.source === 'groundtruth.ivecs' && existsSync(distances))
      raw.groundTruthDistances = readFvecs(distances);
  }
  const labels = join(folder, 'base_labels.u8');
  if (existsSync(labels)) {
    const bytes = new Uint8Array(readFileSync(labels));
    raw.labels = bytes.slice(0, base.count);
  }
  return raw;
}

async function loadHdf5(path: string, options: LoadOptions): Promise<RawDataset> {
  const data = await readAnnBenchmarksHdf5(path, options.limit === undefined ? {} : { limit: options.limit });
  const raw: RawDataset = {
    name: basename(path).replace(/\.(hdf5|h5)$/i, ''),
    source: resolve(path),
    metric: data.metric,
    base: data.train,
    queries: data.test,
    fullBaseCount: data.trainCount,
    notes: [`ann-benchmarks file, distance '${data.distanceName}'`],
  };
  if (data.neighbors) {
    raw.groundTruth = data.neighbors;
    raw.groundTruthSource = `${basename(path)}:neighbors`;
  }
  if (data.distances) raw.groundTruthDistances = data.distances;
  return raw;
}

function loadArrow(path: string, _options: LoadOptions, name?: string): RawDataset {
  const data = readArrowDataset(path);
  const raw: RawDataset = {
    name: name ?? basename(path).replace(/\.(arrow|arrows)$/i, ''),
    source: resolve(path),
    metric: data.metric,
    base: data.base,
    queries: data.queries,
    fullBaseCount: data.base.count,
    notes: data.notes,
  };
  if (data.neighbors) {
    raw.groundTruth = data.neighbors;
    raw.groundTruthSource = `${basename(path)}:neighbors`;
  }
  return raw;
}

function loadSynthetic(spec: string): RawDataset {
  const generated = generateSynthetic(parseSyntheticSpec(spec));
  const { options } = generated;
  return {
    name: syntheticName(options),
    source: `synthetic:${options.kind === 'clusters' ? '' : `kind=${options.kind},duplicates=${options.duplicates},duplicateNoise=${options.duplicateNoise},`}n=${options.n},dim=${options.dim},clusters=${options.clusters},intrinsic=${options.intrinsic},queries=${options.queries},seed=${options.seed},spread=${options.spread},noise=${options.noise},metric=${options.metric}`,
    metric: options.metric,
    base: { count: options.n, dim: options.dim, data: generated.base },
    queries: { count: options.queries, dim: options.dim, data: generated.queries },
    fullBaseCount: options.n,
    notes: [],
  };
}

function checkCount(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new QuiverError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Loads a data set from `spec`: a folder (base.{fvecs,bvecs} + query.* + groundtruth*.ivecs, or
 * base.arrow[s] + query.arrow[s], or one .hdf5), an ann-benchmarks `.hdf5`/`.h5` file, an Arrow
 * `.arrow`/`.arrows` file, or `synthetic:n=…,dim=…,clusters=…,intrinsic=…,queries=…,seed=…`.
 * Ground truth comes from the source when it fits (same metric, full base, deep enough) and is
 * otherwise computed exactly and cached.
 * @throws INVALID_ARGUMENT for a missing or unrecognised spec; CORRUPT for damaged files or ground truth
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<Dataset> {
  checkCount('limit', options.limit);
  checkCount('queries', options.queries);
  checkCount('k', options.k);
  let raw: RawDataset;
  if (/^synthetic(:|$)/.test(spec)) raw = loadSynthetic(spec);
  else if (!existsSync(spec)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `data set '${spec}' is neither a folder, an .hdf5/.arrow file nor a synthetic:… spec`,
    );
  } else if (statSync(spec).isDirectory()) raw = await loadFolder(spec, options);
  else if (/\.(hdf5|h5)$/i.test(spec)) raw = await loadHdf5(spec, options);
  else if (/\.(arrow|arrows)$/i.test(spec)) raw = loadArrow(spec, options);
  else {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${spec}: unknown data-set file type; expected .hdf5, .h5, .arrow or .arrows`,
    );
  }
  return finish(raw, options);
}

function finish(raw: RawDataset, options: LoadOptions): Dataset {
  const { dim } = raw.base;
  if (raw.queries.dim !== dim) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${raw.source}: base dim ${dim} differs from query dim ${raw.queries.dim}`,
    );
  }
  const notes = [...raw.notes];
  let base = raw.base;
  let groundTruth = raw.groundTruth;
  let groundTruthSource = raw.groundTruthSource;
  let groundTruthDistances = raw.groundTruthDistances;
  let labels = raw.labels;

  if (options.limit !== undefined && options.limit < base.count) {
    base = { count: options.limit, dim, data: base.data.slice(0, options.limit * dim) };
  }
  if (options.limit !== undefined && options.limit < raw.fullBaseCount) {
    if (groundTruth) notes.push(`base limited to the first ${base.count} vectors: ground truth recomputed`);
    groundTruth = undefined;
    groundTruthDistances = undefined;
    labels = labels?.slice(0, base.count);
  }

  let metric = raw.metric;
  if (options.metric !== undefined && options.metric !== metric) {
    metric = options.metric;
    groundTruthDistances = undefined;
    const other = groundTruth ? raw.groundTruthFor?.(metric) : undefined;
    groundTruth = other?.ids;
    groundTruthSource = other?.source;
  }

  let queries = raw.queries;
  if (options.queries !== undefined && options.queries < queries.count) {
    queries = { count: options.queries, dim, data: queries.data.slice(0, options.queries * dim) };
  }

  const k = Math.min(options.k ?? 100, base.count);
  let ids: Int32Array;
  let groundTruthK: number;
  let distances: Float32Array | undefined;
  if (groundTruth && groundTruth.dim >= k && groundTruth.count >= queries.count) {
    for (let index = 0; index < queries.count * groundTruth.dim; index++) {
      const id = groundTruth.data[index]!;
      if (id < 0 || id >= base.count) {
        throw new QuiverError(
          'CORRUPT',
          `${raw.source}: ground truth ${groundTruthSource} names id ${id}, outside the ${base.count} base vectors`,
        );
      }
    }
    groundTruthK = groundTruth.dim;
    ids = groundTruth.data.slice(0, queries.count * groundTruthK);
    if (groundTruthDistances && groundTruthDistances.dim === groundTruthK) {
      distances = groundTruthDistances.data.slice(0, queries.count * groundTruthK);
    }
  } else {
    if (groundTruth)
      notes.push(`the source's ground truth holds ${groundTruth.dim} neighbours; ${k} needed: recomputed`);
    const chosen = options.kernel ? { name: 'given', kernel: options.kernel } : defaultDistanceKernel();
    const computeOptions = {
      k,
      kernel: chosen.kernel,
      ...(options.onGroundTruthProgress ? { onProgress: options.onGroundTruthProgress } : {}),
    };
    const truth = cachedGroundTruth(base, queries, metric, options.cacheDir ?? DEFAULT_CACHE_DIR, computeOptions);
    ids = truth.ids;
    groundTruthK = truth.k;
    groundTruthSource = truth.fromCache
      ? `cache (${basename(truth.cacheFile)})`
      : `computed (exact, ${chosen.name} kernel, cached)`;
  }

  // Queries that are base vectors (bigann10k) find themselves at distance 0 in rank 0; say so in the report.
  let duplicates = 0;
  for (let q = 0; q < queries.count; q++) {
    if (exactDistance('l2', queries.data, q, base.data, ids[q * groundTruthK]!, dim) === 0) duplicates++;
  }
  if (duplicates > 0) {
    notes.push(`${duplicates} of ${queries.count} queries equal a base vector (their rank-0 neighbour is themselves)`);
  }

  const dataset: Dataset = {
    name: raw.name,
    source: raw.source,
    metric,
    dim,
    base: base.data,
    baseCount: base.count,
    queries: queries.data,
    queryCount: queries.count,
    groundTruth: ids,
    groundTruthK,
    groundTruthSource: groundTruthSource ?? 'none',
    notes,
  };
  if (distances) dataset.groundTruthDistances = distances;
  if (labels) dataset.labels = labels;
  return dataset;
}
