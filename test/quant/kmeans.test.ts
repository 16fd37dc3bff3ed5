// Seeded k-means: recovers well-separated clusters, is deterministic for a seed, leaves no cluster
// empty (including when started from identical centroids), samples large sets, rejects bad input.
import { describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { nativeKernels } from '../../src/native/kernels.js';
import { refineKMeans, trainKMeans } from '../../src/quant/kmeans.js';
import { SeededRandom } from '../../src/quant/random.js';

/** `clusterCount` gaussian blobs (σ = 1) around centres drawn with σ = 100, shuffled; labels say which blob. */
function blobs(seed: number, clusterCount: number, perCluster: number, dim: number) {
  const random = new SeededRandom(seed);
  const centres = Float32Array.from({ length: clusterCount * dim }, () => random.nextGaussian() * 100);
  const count = clusterCount * perCluster;
  const points = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let point = 0; point < count; point++) {
    const cluster = random.nextInt(clusterCount);
    labels[point] = cluster;
    for (let axis = 0; axis < dim; axis++)
      points[point * dim + axis] = centres[cluster * dim + axis]! + random.nextGaussian();
  }
  return { centres, points, labels };
}

function assign(points: Float32Array, centroids: Float32Array, dim: number) {
  const count = points.length / dim;
  const assignments = new Int32Array(count);
  const distances = new Float32Array(count);
  nativeKernels.kmeansAssign({ metric: 'l2', points, centroids, dim, assignments, distances });
  return assignments;
}

/** Every true cluster maps to exactly one centroid and every centroid to exactly one true cluster. */
function expectClustersRecovered(labels: Int32Array, assignments: Int32Array, clusterCount: number) {
  const centroidOf = new Map<number, number>();
  const clusterOf = new Map<number, number>();
  for (let point = 0; point < labels.length; point++) {
    const cluster = labels[point]!;
    const centroid = assignments[point]!;
    expect(centroidOf.get(cluster) ?? centroid).toBe(centroid);
    expect(clusterOf.get(centroid) ?? cluster).toBe(cluster);
    centroidOf.set(cluster, centroid);
    clusterOf.set(centroid, cluster);
  }
  expect(centroidOf.size).toBe(clusterCount);
}

function clusterSizes(assignments: Int32Array, k: number): number[] {
  const sizes = new Array<number>(k).fill(0);
  for (const centroid of assignments) sizes[centroid]!++;
  return sizes;
}

describe('trainKMeans', () => {
  it('recovers well-separated seeded clusters and their centres', () => {
    const dim = 16;
    const { centres, points, labels } = blobs(1, 8, 150, dim);
    const result = trainKMeans(points, dim, 8, { seed: 3 });
    const assignments = assign(points, result.centroids, dim);
    expectClustersRecovered(labels, assignments, 8);
    // A centroid is the mean of ~150 points of σ = 1, so each coordinate is off by ~0.08; 0.5 is ~6σ.
    for (let point = 0; point < labels.length; point++) {
      const centroid = assignments[point]!;
      const cluster = labels[point]!;
      for (let axis = 0; axis < dim; axis++) {
        expect(Math.abs(result.centroids[centroid * dim + axis]! - centres[cluster * dim + axis]!)).toBeLessThan(0.5);
      }
    }
    expect(result.iterations).toBeLessThan(25);
  });

  it('is deterministic for a seed', () => {
    const dim = 5;
    const { points } = blobs(2, 20, 40, dim);
    const first = trainKMeans(points, dim, 32, { seed: 9 });
    const second = trainKMeans(points, dim, 32, { seed: 9 });
    expect(second.centroids).toEqual(first.centroids);
    expect(second.inertia).toBe(first.inertia);
    const other = trainKMeans(points, dim, 32, { seed: 10 });
    expect(other.centroids).not.toEqual(first.centroids);
  });

  it('leaves no cluster empty, on blobs with more centroids than blobs and on uniform data', () => {
    const dim = 4;
    const { points } = blobs(4, 3, 300, dim);
    const random = new SeededRandom(5);
    const uniform = Float32Array.from({ length: 3000 * dim }, () => random.nextFloat());
    for (const [data, k] of [
      [points, 40],
      [uniform, 200],
    ] as const) {
      const { centroids } = trainKMeans(data, dim, k, { seed: 1 });
      expect(Math.min(...clusterSizes(assign(data, centroids, dim), k))).toBeGreaterThan(0);
    }
  });

  it('makes k = n clusters of one point each', () => {
    const dim = 3;
    const random = new SeededRandom(6);
    const points = Float32Array.from({ length: 30 * dim }, () => random.nextFloat());
    const { centroids, inertia } = trainKMeans(points, dim, 30, { seed: 2 });
    expect(clusterSizes(assign(points, centroids, dim), 30)).toEqual(new Array(30).fill(1));
    expect(inertia).toBe(0);
  });

  it('trains on a seeded sample when the set is larger than maxTrainingPoints', () => {
    const dim = 8;
    const { points, labels } = blobs(7, 5, 1000, dim);
    const result = trainKMeans(points, dim, 5, { seed: 4, maxTrainingPoints: 400 });
    expect(result.trainingPointCount).toBe(400);
    expectClustersRecovered(labels, assign(points, result.centroids, dim), 5);
  });

  it('rejects fewer points than k, bad shapes and non-finite numbers', () => {
    const points = new Float32Array(12);
    const cases: [() => unknown, string][] = [
      [() => trainKMeans(points, 3, 5), 'INVALID_ARGUMENT'],
      [() => trainKMeans(points, 5, 1), 'INVALID_ARGUMENT'],
      [() => trainKMeans(points, 3, 0), 'INVALID_ARGUMENT'],
      [() => trainKMeans(points, 3, 2, { maxIterations: 0 }), 'INVALID_ARGUMENT'],
      [() => trainKMeans(Float32Array.of(1, Number.NaN, 2, 3), 2, 1), 'NOT_FINITE'],
    ];
    for (const [call, code] of cases) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(isQuiverError(caught), String(caught)).toBe(true);
      expect((caught as { code: string }).code).toBe(code);
    }
  });
});

describe('refineKMeans', () => {
  it('splits the largest cluster until none is empty, even from identical starting centroids', () => {
    const dim = 6;
    const { points } = blobs(8, 4, 100, dim);
    // Four copies of one point: the first assignment puts everything in centroid 0 and leaves 1–3 empty.
    const start = new Float32Array(4 * dim);
    for (let centroid = 0; centroid < 4; centroid++) start.set(points.subarray(0, dim), centroid * dim);
    // Two iterations: the second assignment measures the inertia around the mean of all points.
    const oneCluster = refineKMeans(points, dim, start.subarray(0, dim), { maxIterations: 2 });
    const result = refineKMeans(points, dim, start, { maxIterations: 50 });
    const assignments = assign(points, result.centroids, dim);
    expect(Math.min(...clusterSizes(assignments, 4))).toBeGreaterThan(0);
    // Splitting may settle in a local minimum (Lloyd cannot promise the blobs back from this start),
    // but four non-empty clusters must explain the data much better than one.
    expect(result.inertia).toBeLessThan(oneCluster.inertia / 2);
    expect(start.subarray(dim, 2 * dim)).toEqual(points.subarray(0, dim));
  });

  it('keeps duplicate centroids harmlessly when there are fewer distinct points than k', () => {
    const dim = 2;
    const points = Float32Array.of(0, 0, 0, 0, 0, 0, 5, 5, 5, 5);
    const { centroids } = trainKMeans(points, dim, 4, { seed: 1 });
    expect(centroids.every(Number.isFinite)).toBe(true);
    const assignments = assign(points, centroids, dim);
    expect(new Set([assignments[0], assignments[3]]).size).toBe(2);
  });
});
