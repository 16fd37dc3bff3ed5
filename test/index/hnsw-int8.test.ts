// The int8 HNSW index (src/index/hnsw-int8.ts) on its own: exact answers before training, the
// graph after, rescoring with the fetched float vectors, writeGraph/load giving identical answers,
// and the ranges block at the start of the graph file checked (damaged, missing, other dim → CORRUPT);
// files of the block's format version 1 (test/fixtures/int8-v1) still load, l2 ones with their norms recomputed.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { HnswIndex } from '../../src/index/hnsw.js';
import { Int8HnswIndex, TRAINING_MINIMUM } from '../../src/index/hnsw-int8.js';
import { ScalarQuantiser } from '../../src/index/scalar-quantiser.js';
import { createHnswGraph } from '../../src/native/hnsw-graph.js';
import { crc32 } from '../../src/quant/crc32.js';
import { randomVectors } from '../helpers/random.js';

const folder = mkdtempSync(join(tmpdir(), 'quiver-int8-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const DIM = 24;
const vectors = randomVectors(1500, DIM, 11);
const queries = randomVectors(20, DIM, 12);
const params = { m: 12, efConstruction: 100, rerank: 30 };
const fetched: number[] = [];
const fetch = (labels: readonly number[]) => {
  fetched.push(labels.length);
  return labels.map((label) => ({ label, vector: vectors[label]! }));
};

function rows(count: number): { labels: Uint32Array; matrix: Float32Array } {
  const matrix = new Float32Array(count * DIM);
  for (let i = 0; i < count; i++) matrix.set(vectors[i]!, i * DIM);
  return { labels: Uint32Array.from({ length: count }, (_, i) => i), matrix };
}

function exactTop(query: Float32Array, count: number, k: number): number[] {
  return vectors
    .slice(0, count)
    .map((vector, label) => ({ label, d: vector.reduce((sum, x, i) => sum + (x - query[i]!) ** 2, 0) }))
    .sort((a, b) => a.d - b.d || a.label - b.label)
    .slice(0, k)
    .map(({ label }) => label);
}

function errorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isQuiverError(error) ? error.code : `not a QuiverError: ${String(error)}`;
  }
  return undefined;
}

describe('Int8HnswIndex', () => {
  it('refuses a batch that names a label twice, on every write path, and changes nothing', async () => {
    const index = new Int8HnswIndex('l2', DIM, params, 16, fetch);
    const { matrix } = rows(3);
    const repeated = Uint32Array.of(4, 9, 4);
    expect(errorCode(() => index.upsertBatch(repeated, matrix, 1))).toBe('INVALID_ARGUMENT');
    await expect(index.upsertBatchAsync(repeated, matrix, 1)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/labels\[2\] repeats label 4/),
    });
    expect(errorCode(() => index.upsertBatchQueued(repeated, matrix, 1))).toBe('INVALID_ARGUMENT');
    expect(index.size).toBe(0);
    // The float graph's queued path refuses it too, with the same words.
    const float = new HnswIndex('l2', DIM, params, 16);
    expect(() => float.upsertBatchQueued(repeated, matrix, 1)).toThrow(/labels\[2\] repeats label 4/);
    expect(float.size).toBe(0);
  });

  it('answers exactly from the floats before training, then builds the graph and rescores its candidates', () => {
    const index = new Int8HnswIndex('l2', DIM, params, 16, fetch);
    const { labels, matrix } = rows(TRAINING_MINIMUM - 1);
    index.upsertBatch(labels, matrix, 1);
    expect(index.savable).toBe(false);
    expect(index.ranges).toBeUndefined();
    expect(index.search(queries[0]!, 10, 10).labels).toEqual(exactTop(queries[0]!, TRAINING_MINIMUM - 1, 10));
    index.upsert(TRAINING_MINIMUM - 1, vectors[TRAINING_MINIMUM - 1]!);
    expect(index.savable).toBe(true);
    expect(index.ranges?.lows.length).toBe(DIM);
    expect(index.size).toBe(TRAINING_MINIMUM);
    fetched.length = 0;
    const found = index.searchPlanned(queries[1]!, 10, { ef: 10 });
    // max(k, rerank) candidates were read back and scored exactly.
    expect(fetched).toEqual([30]);
    expect(found.plan).toMatchObject({ strategy: 'hnsw', rerank: 30, rerankFrom: 'collection', candidatesScored: 30 });
    const exact = exactTop(queries[1]!, TRAINING_MINIMUM, 10);
    expect(found.neighbours.labels.filter((label) => exact.includes(label)).length).toBeGreaterThanOrEqual(9);
    for (let i = 0; i < found.neighbours.labels.length; i++) {
      const vector = vectors[found.neighbours.labels[i]!]!;
      const distance = vector.reduce((sum, x, d) => sum + (x - queries[1]![d]!) ** 2, 0);
      expect(found.neighbours.distances[i]).toBeCloseTo(distance, 4);
    }
    index.remove(found.neighbours.labels[0]!);
    expect(index.search(queries[1]!, 10, 10).labels).not.toContain(found.neighbours.labels[0]);
    expect(index.exactAmong()).toBeUndefined();
    index.dispose();
  });

  it('trains on the held vectors and the batch that reaches the minimum, and inserts that batch off the event loop', async () => {
    const index = new Int8HnswIndex('l2', DIM, params, 16, fetch);
    const { labels, matrix } = rows(1500);
    index.upsertBatch(labels.subarray(0, 10), matrix.subarray(0, 10 * DIM), 1);
    expect(index.savable).toBe(false);
    const queued = index.upsertBatchQueued(labels.subarray(10), matrix.subarray(10 * DIM), 2);
    // Trained at once (the ranges cover the batch too); the batch lands in the graph off the event loop.
    expect(index.savable).toBe(true);
    expect(index.size).toBe(1500);
    await queued;
    expect(index.busy).toBe(false);
    const ranges = index.ranges!;
    for (let d = 0; d < DIM; d++) expect(ranges.highs[d]! - ranges.lows[d]!).toBeGreaterThan(1.9); // values in [-1, 1)
    expect(
      index.search(queries[3]!, 10, 40).labels.filter((label) => exactTop(queries[3]!, 1500, 10).includes(label))
        .length,
    ).toBeGreaterThanOrEqual(9);
    const bad = errorCode(() => index.upsertBatch(Uint32Array.of(1, 1), new Float32Array(2 * DIM), 1));
    expect(bad).toBe('INVALID_ARGUMENT');
    index.dispose();
  });

  it('writes its graph with the ranges and loads it back to identical answers', async () => {
    const index = new Int8HnswIndex('cosine', DIM, params, 16, fetch);
    const { labels, matrix } = rows(1500);
    index.upsertBatch(labels, matrix, 2);
    index.remove(7);
    const file = join(folder, 'round-trip.graph');
    index.writeGraph(file);
    const live = index.liveLabels();
    const loaded = Int8HnswIndex.load(file, 'cosine', DIM, params, live, fetch);
    index.writeGraph(file);
    const loadedAsync = await Int8HnswIndex.loadAsync(file, 'cosine', DIM, params, live, fetch);
    expect(loaded.ranges).toEqual(index.ranges);
    for (const query of queries) {
      const expected = index.search(query, 10, 20);
      expect(loaded.search(query, 10, 20)).toEqual(expected);
      expect(loadedAsync.search(query, 10, 20)).toEqual(expected);
    }
    const batch = loaded.searchBatch(Float32Array.from(queries.flatMap((query) => Array.from(query))), 10, 20, 2);
    expect(Array.from(batch.labels.subarray(0, 10))).toEqual(index.search(queries[0]!, 10, 20).labels);
    for (const each of [index, loaded, loadedAsync]) each.dispose();
  });

  it('refuses a graph file whose ranges are damaged, missing or of another dim with CORRUPT', async () => {
    const index = new Int8HnswIndex('l2', DIM, params, 16, fetch);
    const { labels, matrix } = rows(1200);
    index.upsertBatch(labels, matrix, 1);
    const file = join(folder, 'damaged.graph');
    index.writeGraph(file);
    const good = readFileSync(file);
    const live = index.liveLabels();
    const flipped = Buffer.from(good);
    flipped[24 + 4 * 3] = flipped[24 + 4 * 3]! ^ 0x10; // a range value: the CRC fails
    writeFileSync(file, flipped);
    expect(errorCode(() => Int8HnswIndex.load(file, 'l2', DIM, params, live, fetch))).toBe('CORRUPT');
    writeFileSync(file, good.subarray(0, 30)); // cut short inside the ranges
    expect(errorCode(() => Int8HnswIndex.load(file, 'l2', DIM, params, live, fetch))).toBe('CORRUPT');
    await expect(Int8HnswIndex.loadAsync(file, 'l2', DIM, params, live, fetch)).rejects.toMatchObject({
      code: 'CORRUPT',
    });
    writeFileSync(file, good);
    expect(errorCode(() => Int8HnswIndex.load(file, 'l2', DIM + 1, params, live, fetch))).toBe('CORRUPT');
    // A float graph has no ranges block; an int8 graph is no float graph either.
    const float = new HnswIndex('l2', DIM, params, 1200);
    float.upsertBatch(labels, matrix, 1);
    const floatFile = join(folder, 'float.graph');
    float.writeGraph(floatFile);
    expect(errorCode(() => Int8HnswIndex.load(floatFile, 'l2', DIM, params, live, fetch))).toBe('CORRUPT');
    const blockBytes = 24 + 8 * DIM;
    writeFileSync(file, good.subarray(blockBytes));
    expect(errorCode(() => HnswIndex.load(file, 'l2', DIM, params, live))).toBe('CORRUPT');
    // Good ranges before a graph cut short: the graph reader refuses it.
    writeFileSync(file, good.subarray(0, blockBytes + 200));
    expect(errorCode(() => Int8HnswIndex.load(file, 'l2', DIM, params, live, fetch))).toBe('CORRUPT');
    // And the good file still loads.
    writeFileSync(file, good);
    const loaded = Int8HnswIndex.load(file, 'l2', DIM, params, live, fetch);
    expect(loaded.search(queries[0]!, 5, 20)).toEqual(index.search(queries[0]!, 5, 20));
    loaded.dispose();
    float.dispose();
    index.dispose();
  });

  it('refuses a ranges block of a format version it does not know with CORRUPT', () => {
    const index = new Int8HnswIndex('l2', DIM, params, 16, fetch);
    const { labels, matrix } = rows(1000);
    index.upsertBatch(labels, matrix, 1);
    const file = join(folder, 'version.graph');
    index.writeGraph(file);
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(8)).toBe(2);
    bytes.writeUInt32LE(3, 8);
    writeFileSync(file, bytes);
    expect(errorCode(() => Int8HnswIndex.load(file, 'l2', DIM, params, index.liveLabels(), fetch))).toBe('CORRUPT');
    index.dispose();
  });
});

describe('int8 graph files of the ranges block format version 1 (test/fixtures/int8-v1)', () => {
  const fixture = join(import.meta.dirname, '..', 'fixtures', 'int8-v1');
  const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8')) as {
    dim: number;
    count: number;
    params: { m: number; efConstruction: number; rerank: number };
    k: number;
    ef: number;
    graphs: Record<string, { liveLabels: number[]; results: { labels: number[]; distances: number[] }[] }>;
  };
  const dim = expected.dim;
  const readRows = (name: string) => {
    const data = new Float32Array(new Uint8Array(readFileSync(join(fixture, name))).buffer);
    return Array.from({ length: data.length / dim }, (_, i) => data.subarray(i * dim, (i + 1) * dim));
  };
  const fixtureVectors = readRows('vectors.f32');
  const fixtureQueries = readRows('queries.f32');
  const fixtureFetch = (labels: readonly number[]) =>
    labels.map((label) => ({ label, vector: fixtureVectors[label]! }));
  /** A vector normalised as the native graph does (hnswlib-node's normalizePoint: float32 steps in order). */
  const normalisedAsNative = (vector: Float32Array) => {
    let sum = 0;
    for (const value of vector) sum = Math.fround(sum + Math.fround(value * value));
    const length = Math.fround(Math.sqrt(Math.abs(sum)));
    return length > 0 ? vector.map((value) => value / length) : vector.slice();
  };

  const exactTopOf = (metric: 'l2' | 'cosine', query: Float32Array, k: number) => {
    const unit = (vector: Float32Array) => {
      const length = Math.hypot(...vector);
      return vector.map((value) => value / length);
    };
    const scored = fixtureVectors.map((vector, label) => {
      if (metric === 'l2') return { label, d: vector.reduce((sum, x, i) => sum + (x - query[i]!) ** 2, 0) };
      const [a, b] = [unit(vector), unit(query)];
      return { label, d: 1 - a.reduce((sum, x, i) => sum + x * b[i]!, 0) };
    });
    return scored
      .sort((a, b) => a.d - b.d || a.label - b.label)
      .slice(0, k)
      .map(({ label }) => label);
  };

  for (const metric of ['l2', 'cosine'] as const) {
    it(`${metric}: the native graph scores as the reference once its slots hold what the kernels read`, () => {
      const bytes = readFileSync(join(fixture, `${metric}.graph`));
      expect(bytes.readUInt32LE(8)).toBe(1);
      const lows = new Float32Array(dim);
      const highs = new Float32Array(dim);
      for (let d = 0; d < dim; d++) {
        lows[d] = bytes.readFloatLE(24 + 4 * d);
        highs[d] = bytes.readFloatLE(24 + 4 * (dim + d));
      }
      const graphFile = join(folder, `v1-${metric}.hnsw`);
      writeFileSync(graphFile, bytes.subarray(24 + 8 * dim));
      const quantiser = new ScalarQuantiser({ lows, highs });
      const seen = (vector: Float32Array) => (metric === 'cosine' ? normalisedAsNative(vector) : vector);
      const labels = Uint32Array.from({ length: expected.count }, (_, i) => i);
      const matches = (format: 1 | 2) => {
        const graph = createHnswGraph(metric, dim, 'simd', 'sorted', { lows, highs, format });
        graph.load(graphFile);
        let same = 0;
        for (const query of fixtureQueries) {
          const outLabels = new Uint32Array(expected.count);
          const outDistances = new Float32Array(expected.count);
          graph.exactAmong(query, labels, expected.count, outLabels, outDistances, 1);
          const prepared = quantiser.prepareQuery(metric, seen(query));
          for (let i = 0; i < expected.count; i++) {
            const stored = quantiser.encode(seen(fixtureVectors[outLabels[i]!]!));
            if (outDistances[i] === quantiser.queryDistance(metric, prepared, stored)) same++;
          }
        }
        graph.dispose();
        return same / (fixtureQueries.length * expected.count);
      };
      // Read as version 1, every distance is the reference's. Read as version 2, an l2 graph's slots
      // still hold the bias, and its distances are wrong; ip/cosine slots never changed meaning.
      expect(matches(1)).toBe(1);
      if (metric === 'l2') expect(matches(2)).toBeLessThan(0.01);
      else expect(matches(2)).toBe(1);
    });

    it(`${metric}: Int8HnswIndex loads the file, answers as well as the version that wrote it, and writes version 2`, async () => {
      const file = join(folder, `v1-${metric}.graph`);
      copyFileSync(join(fixture, `${metric}.graph`), file);
      const { liveLabels, results } = expected.graphs[metric]!;
      const live = Uint32Array.from(liveLabels);
      const loaded = Int8HnswIndex.load(file, metric, dim, expected.params, live, fixtureFetch);
      expect(loaded.ranges).not.toHaveProperty('format');
      // Against the exact top k: as many hits as the answers the version that wrote the file gave.
      let hits = 0;
      let hitsBefore = 0;
      fixtureQueries.forEach((query, q) => {
        const exact = exactTopOf(metric, query, expected.k);
        hits += loaded.search(query, expected.k, expected.ef).labels.filter((label) => exact.includes(label)).length;
        hitsBefore += results[q]!.labels.filter((label) => exact.includes(label)).length;
      });
      expect(hits).toBeGreaterThanOrEqual(hitsBefore);
      // From a snapshot's range (the collection's path), the same: norms recomputed there too.
      const fixtureBytes = readFileSync(join(fixture, `${metric}.graph`));
      const range = {
        path: join(fixture, `${metric}.graph`),
        offset: 0,
        length: fixtureBytes.length,
        crcSeed: 0,
        crcExpected: crc32(fixtureBytes),
      };
      const fromRange = Int8HnswIndex.load(range, metric, dim, expected.params, live, fixtureFetch);
      for (const query of fixtureQueries) {
        expect(fromRange.search(query, expected.k, expected.ef)).toEqual(loaded.search(query, expected.k, expected.ef));
      }
      fromRange.dispose();
      const rewritten = join(folder, `v2-${metric}.graph`);
      loaded.writeGraph(rewritten);
      expect(readFileSync(rewritten).readUInt32LE(8)).toBe(2);
      const again = await Int8HnswIndex.loadAsync(rewritten, metric, dim, expected.params, live, fixtureFetch);
      for (const query of fixtureQueries) {
        expect(again.search(query, expected.k, expected.ef)).toEqual(loaded.search(query, expected.k, expected.ef));
      }
      loaded.dispose();
      again.dispose();
    });
  }
});
