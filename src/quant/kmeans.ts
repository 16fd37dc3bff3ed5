// Seeded k-means under squared L2: k-means++ seeding, Lloyd iterations on the native assignment
// kernel, empty clusters repaired by splitting the largest one, sampling of large training sets.
// Used for PQ codebooks and IVF coarse centroids. Must not import src/storage/.
import { QuiverError } from '../errors.js';
import { nativeKernels } from '../native/kernels.js';
import { SeededRandom } from './random.js';

/** Tuning of {@link trainKMeans}; every field has a default. */
export interface KMeansOptions {
  /** Seed of the random choices (sampling, k-means++); the same seed and input give the same centroids. Default 1. */
  readonly seed?: number;
  /** Upper bound on Lloyd iterations (assignment + update). Default 25. */
  readonly maxIterations?: number;
  /** Stop when an iteration lowers the inertia by less than this fraction of it. Default 1e-4. */
  readonly tolerance?: number;
  /** Train on a seeded sample of at most this many points. Default 256 × k, as faiss does. */
  readonly maxTrainingPoints?: number;
}

/** Trained centroids and how training went. */
export interface KMeansResult {
  /** k × dim, row-major. */
  readonly centroids: Float32Array;
  readonly k: number;
  readonly dim: number;
  /** Lloyd iterations run. */
  readonly iterations: number;
  /** Sum of squared L2 distances of the training points to their nearest centroid at the last assignment. */
  readonly inertia: number;
  /** Training points actually used (after sampling). */
  readonly trainingPointCount: number;
}

const DEFAULT_SEED = 1;
const DEFAULT_MAX_ITERATIONS = 25;
const DEFAULT_TOLERANCE = 1e-4;
const DEFAULT_POINTS_PER_CENTROID = 256;

/**
 * Trains k centroids on `points` (n × dim, row-major) under squared L2. For cosine, normalise the
 * points first. Deterministic for a given seed and input.
 * @example
 * const { centroids } = trainKMeans(vectors, 128, 256, { seed: 7 });
 * @throws QuiverError INVALID_ARGUMENT on a bad shape, k < 1 or fewer points than k;
 *   NOT_FINITE when a point holds NaN or ±Infinity; NATIVE_ERROR when the addon is unavailable.
 */
export function trainKMeans(points: Float32Array, dim: number, k: number, options: KMeansOptions = {}): KMeansResult {
  const pointCount = checkTrainingSet(points, dim, 'trainKMeans');
  if (!Number.isInteger(k) || k < 1) {
    throw new QuiverError('INVALID_ARGUMENT', `trainKMeans: k must be a positive integer, got ${k}`);
  }
  if (pointCount < k) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `trainKMeans: ${pointCount} points cannot make ${k} clusters; give at least k points`,
    );
  }
  const seed = options.seed ?? DEFAULT_SEED;
  const maxTrainingPoints = positiveInteger(
    options.maxTrainingPoints ?? DEFAULT_POINTS_PER_CENTROID * k,
    'maxTrainingPoints',
  );
  if (maxTrainingPoints < k) {
    throw new QuiverError('INVALID_ARGUMENT', `trainKMeans: maxTrainingPoints ${maxTrainingPoints} is below k ${k}`);
  }

  const random = new SeededRandom(seed);
  const training = sampleRows(points, dim, maxTrainingPoints, random);
  const centroids = seedCentroids(training, dim, k, random);
  const { maxIterations, tolerance } = options;
  return refineKMeans(training, dim, centroids, {
    ...(maxIterations === undefined ? {} : { maxIterations }),
    ...(tolerance === undefined ? {} : { tolerance }),
  });
}

/**
 * Lloyd iterations from given initial centroids (k × dim), on every point given (no sampling),
 * repairing empty clusters by splitting the largest. `initialCentroids` is not modified.
 * @example
 * const { centroids } = refineKMeans(points, dim, startingCentroids, { maxIterations: 10 });
 * @throws QuiverError INVALID_ARGUMENT on a bad shape or fewer points than centroids; NOT_FINITE on NaN.
 */
export function refineKMeans(
  points: Float32Array,
  dim: number,
  initialCentroids: Float32Array,
  options: Pick<KMeansOptions, 'maxIterations' | 'tolerance'> = {},
): KMeansResult {
  const pointCount = checkTrainingSet(points, dim, 'refineKMeans');
  const k = checkTrainingSet(initialCentroids, dim, 'refineKMeans');
  if (k < 1 || pointCount < k) {
    throw new QuiverError('INVALID_ARGUMENT', `refineKMeans: ${pointCount} points cannot make ${k} clusters`);
  }
  const maxIterations = positiveInteger(options.maxIterations ?? DEFAULT_MAX_ITERATIONS, 'maxIterations');
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  if (!(tolerance >= 0)) {
    throw new QuiverError('INVALID_ARGUMENT', `refineKMeans: tolerance must be ≥ 0, got ${tolerance}`);
  }
  const centroids = Float32Array.from(initialCentroids);
  const assignments = new Int32Array(pointCount);
  const distances = new Float32Array(pointCount);
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  let previousInertia = Number.POSITIVE_INFINITY;
  let inertia = 0;
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    nativeKernels.kmeansAssign({ metric: 'l2', points, centroids, dim, assignments, distances });
    inertia = 0;
    for (let point = 0; point < pointCount; point++) inertia += distances[point]!;
    updateCentroids(points, dim, assignments, centroids, sums, counts);
    const split = splitIntoEmptyClusters(points, dim, assignments, centroids, sums, counts);
    // Lloyd never raises the inertia, so the drop is ≥ 0; a split changes the centroids, so keep going.
    const converged = split === 0 && previousInertia - inertia <= tolerance * previousInertia;
    previousInertia = inertia;
    if (converged) break;
  }
  return { centroids, k, dim, iterations, inertia, trainingPointCount: pointCount };
}

/**
 * A seeded sample of at most `maxRows` rows of `rows` (n × dim), kept in their original order;
 * `rows` itself when it is small enough. Shared with PQ training so all sub-spaces see one sample.
 */
export function sampleRows(rows: Float32Array, dim: number, maxRows: number, random: SeededRandom): Float32Array {
  const rowCount = rows.length / dim;
  if (rowCount <= maxRows) return rows;
  // Partial Fisher–Yates: the first maxRows slots become a uniform sample without repeats.
  const order = new Int32Array(rowCount);
  for (let row = 0; row < rowCount; row++) order[row] = row;
  for (let slot = 0; slot < maxRows; slot++) {
    const pick = slot + random.nextInt(rowCount - slot);
    const taken = order[pick]!;
    order[pick] = order[slot]!;
    order[slot] = taken;
  }
  const chosen = order.subarray(0, maxRows).sort();
  const sample = new Float32Array(maxRows * dim);
  for (let slot = 0; slot < maxRows; slot++) {
    const start = chosen[slot]! * dim;
    sample.set(rows.subarray(start, start + dim), slot * dim);
  }
  return sample;
}

/**
 * Checks a training set (n × dim) and returns n.
 * @throws QuiverError INVALID_ARGUMENT on a bad shape; NOT_FINITE on NaN or ±Infinity.
 */
export function checkTrainingSet(points: Float32Array, dim: number, caller: string): number {
  if (!(points instanceof Float32Array))
    throw new QuiverError('INVALID_ARGUMENT', `${caller}: points must be a Float32Array`);
  if (!Number.isInteger(dim) || dim < 1)
    throw new QuiverError('INVALID_ARGUMENT', `${caller}: dim must be a positive integer, got ${dim}`);
  if (points.length % dim !== 0) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${caller}: ${points.length} numbers is not a whole number of vectors of dim ${dim}`,
    );
  }
  for (let index = 0; index < points.length; index++) {
    if (!Number.isFinite(points[index]!)) {
      throw new QuiverError(
        'NOT_FINITE',
        `${caller}: vector ${Math.floor(index / dim)} holds ${points[index]}; training needs finite numbers`,
      );
    }
  }
  return points.length / dim;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new QuiverError('INVALID_ARGUMENT', `k-means: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * k-means++ seeding: each next centroid is a training point drawn with probability proportional
 * to its squared distance from the nearest centroid chosen so far.
 */
function seedCentroids(training: Float32Array, dim: number, k: number, random: SeededRandom): Float32Array {
  const pointCount = training.length / dim;
  const centroids = new Float32Array(k * dim);
  const nearest = new Float32Array(pointCount).fill(Number.POSITIVE_INFINITY);
  const latest = new Float32Array(pointCount);
  let chosen = random.nextInt(pointCount);
  for (let centroid = 0; centroid < k; centroid++) {
    if (centroid > 0) chosen = drawWeighted(nearest, random);
    const row = training.subarray(chosen * dim, (chosen + 1) * dim);
    centroids.set(row, centroid * dim);
    if (centroid === k - 1) break;
    nativeKernels.distances({ metric: 'l2', queries: row, base: training, dim, out: latest });
    for (let point = 0; point < pointCount; point++) {
      if (latest[point]! < nearest[point]!) nearest[point] = latest[point]!;
    }
  }
  return centroids;
}

/** An index drawn with probability proportional to its weight; uniform when every weight is 0. */
function drawWeighted(weights: Float32Array, random: SeededRandom): number {
  let total = 0;
  for (let index = 0; index < weights.length; index++) total += weights[index]!;
  if (!(total > 0)) return random.nextInt(weights.length);
  const target = random.nextFloat() * total;
  let cumulative = 0;
  let lastPositive = 0;
  for (let index = 0; index < weights.length; index++) {
    const weight = weights[index]!;
    if (weight <= 0) continue;
    cumulative += weight;
    lastPositive = index;
    if (cumulative > target) return index;
  }
  // Rounding can leave the target just above the final sum.
  return lastPositive;
}

/** Lloyd's update: each centroid with members becomes their mean (sums in float64). */
function updateCentroids(
  training: Float32Array,
  dim: number,
  assignments: Int32Array,
  centroids: Float32Array,
  sums: Float64Array,
  counts: Int32Array,
): void {
  sums.fill(0);
  counts.fill(0);
  const pointCount = assignments.length;
  for (let point = 0; point < pointCount; point++) {
    const cluster = assignments[point]!;
    counts[cluster]!++;
    const sumStart = cluster * dim;
    const pointStart = point * dim;
    for (let axis = 0; axis < dim; axis++) sums[sumStart + axis]! += training[pointStart + axis]!;
  }
  for (let cluster = 0; cluster < counts.length; cluster++) {
    const count = counts[cluster]!;
    if (count === 0) continue;
    for (let axis = 0; axis < dim; axis++) centroids[cluster * dim + axis] = sums[cluster * dim + axis]! / count;
  }
}

/**
 * Gives every empty cluster a member by splitting the currently largest cluster: its member
 * farthest from its mean becomes the empty cluster's centroid and leaves the large cluster, whose
 * mean is updated. Returns how many clusters were split. A largest cluster whose members are all
 * identical cannot be split (there are fewer distinct points than k); the empty centroid then stays
 * a harmless duplicate.
 */
function splitIntoEmptyClusters(
  training: Float32Array,
  dim: number,
  assignments: Int32Array,
  centroids: Float32Array,
  sums: Float64Array,
  counts: Int32Array,
): number {
  let splits = 0;
  for (let empty = 0; empty < counts.length; empty++) {
    if (counts[empty] !== 0) continue;
    let largest = 0;
    for (let cluster = 1; cluster < counts.length; cluster++) {
      if (counts[cluster]! > counts[largest]!) largest = cluster;
    }
    if (counts[largest]! < 2) break;
    let farthest = -1;
    let farthestDistance = 0;
    for (let point = 0; point < assignments.length; point++) {
      if (assignments[point] !== largest) continue;
      let distance = 0;
      for (let axis = 0; axis < dim; axis++) {
        const difference = training[point * dim + axis]! - centroids[largest * dim + axis]!;
        distance += difference * difference;
      }
      if (distance > farthestDistance) {
        farthestDistance = distance;
        farthest = point;
      }
    }
    if (farthest < 0) continue;
    assignments[farthest] = empty;
    counts[empty] = 1;
    counts[largest]!--;
    const remaining = counts[largest]!;
    for (let axis = 0; axis < dim; axis++) {
      const value = training[farthest * dim + axis]!;
      centroids[empty * dim + axis] = value;
      sums[empty * dim + axis] = value;
      sums[largest * dim + axis]! -= value;
      centroids[largest * dim + axis] = sums[largest * dim + axis]! / remaining;
    }
    splits++;
  }
  return splits;
}
