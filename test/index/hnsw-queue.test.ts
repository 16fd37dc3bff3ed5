// HnswIndex.upsertBatchQueued: while the graph inserts a queued batch off the event loop, every
// answer is the one for the queued (committed) state — checked against a plain Map model scored
// by brute force in TypeScript at every turn of the event loop until the insert is in.
import { describe, expect, it } from 'vitest';
import { HnswIndex } from '../../src/index/hnsw.js';
import type { Neighbours } from '../../src/index/types.js';
import type { Metric } from '../../src/schema.js';
import { random, randomVectors } from '../helpers/random.js';

/** 256 rows per slice on 2 threads: the 3,000 queued rows land in twelve slices. */
const DIM = 32;
const PARAMS = { m: 12, efConstruction: 100 };

function unit(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return vector.map((value) => value / Math.sqrt(sum));
}

/** hnswlib's raw distance: squared L2, or 1 - cosine. */
function distance(metric: Metric, a: Float32Array, b: Float32Array): number {
  if (metric === 'l2') return a.reduce((sum, value, i) => sum + (value - b[i]!) ** 2, 0);
  const [x, y] = [unit(a), unit(b)];
  return 1 - x.reduce((sum, value, i) => sum + value * y[i]!, 0);
}

/** The k nearest of the model's labels (all, or those `among`), best first. */
function exact(
  metric: Metric,
  model: Map<number, Float32Array>,
  query: Float32Array,
  k: number,
  among?: Iterable<number>,
): Neighbours {
  const labels = among === undefined ? [...model.keys()] : [...among].filter((label) => model.has(label));
  const scored = labels.map((label) => ({ label, distance: distance(metric, query, model.get(label)!) }));
  scored.sort((a, b) => a.distance - b.distance);
  const best = scored.slice(0, k);
  return { labels: best.map((hit) => hit.label), distances: best.map((hit) => hit.distance) };
}

function flat(vectors: Float32Array[]): Float32Array {
  const out = new Float32Array(vectors.length * DIM);
  vectors.forEach((vector, row) => {
    out.set(vector, row * DIM);
  });
  return out;
}

/** Checks every read of `index` against the model; returns recall@10 of its searches. */
function check(metric: Metric, index: HnswIndex, model: Map<number, Float32Array>, queries: Float32Array[]): number {
  expect(index.size).toBe(model.size);
  expect(Array.from(index.liveLabels())).toEqual([...model.keys()].sort((a, b) => a - b));
  let found = 0;
  for (const query of queries) {
    const answer = index.search(query, 10, 200);
    // Every hit is live with the distance of its current vector: never a stale or deleted one.
    expect(answer.labels).toHaveLength(10);
    expect(new Set(answer.labels).size).toBe(10);
    answer.labels.forEach((label, i) => {
      expect(model.has(label)).toBe(true);
      expect(answer.distances[i]).toBeCloseTo(distance(metric, query, model.get(label)!), 4);
    });
    const truth = exact(metric, model, query, 10);
    found += answer.labels.filter((label) => truth.labels.includes(label)).length;
    // exactAmong is exact, queued labels or not.
    const among = [...model.keys()].filter((label) => label % 3 === 0);
    const exactAnswer = index.exactAmong(query, Int32Array.from(among), 5);
    const exactTruth = exact(metric, model, query, 5, among);
    expect(exactAnswer.labels).toEqual(exactTruth.labels);
    exactAnswer.distances.forEach((value, i) => {
      expect(value).toBeCloseTo(exactTruth.distances[i]!, 4);
    });
    // A filtered batch search keeps to its allow-list.
    const allow = new Uint8Array(512);
    for (let label = 0; label < 4096; label += 2) allow[label >> 3]! |= 1 << (label & 7);
    const filtered = index.searchBatch(query, 5, 200, 2, allow);
    for (const label of filtered.labels) {
      expect(label % 2).toBe(0);
      expect(model.has(label)).toBe(true);
    }
  }
  const sample = Uint32Array.from([...model.keys()].slice(0, 50));
  const read = index.vectorsOf(sample);
  sample.forEach((label, row) => {
    const stored = metric === 'cosine' ? unit(model.get(label)!) : model.get(label)!;
    stored.forEach((value, i) => {
      expect(read[row * DIM + i]).toBeCloseTo(value, 5);
    });
  });
  return found / (queries.length * 10);
}

describe('HnswIndex.upsertBatchQueued', () => {
  for (const metric of ['l2', 'cosine'] as const) {
    it(`answers for the queued state at every turn until the graph holds it (${metric})`, async () => {
      const index = new HnswIndex(metric, DIM, PARAMS);
      const model = new Map<number, Float32Array>();
      const first = randomVectors(500, DIM, 1);
      index.upsertBatch(Uint32Array.from(first.keys()), flat(first), 2);
      first.forEach((vector, label) => {
        model.set(label, vector);
      });

      // 3,000 queued: labels 300-3299, so 200 replace graph nodes and 2,800 are new.
      const queuedVectors = randomVectors(3000, DIM, 2);
      const queuedLabels = Uint32Array.from(queuedVectors.keys(), (row) => row + 300);
      const done = index.upsertBatchQueued(queuedLabels, flat(queuedVectors), 2);
      queuedVectors.forEach((vector, row) => {
        model.set(row + 300, vector);
      });
      expect(index.busy).toBe(true);

      const queries = randomVectors(8, DIM, 3);
      const next = random(4);
      const extra = randomVectors(400, DIM, 5);
      let turns = 0;
      let recall = check(metric, index, model, queries);
      while (index.busy) {
        // Writes queue behind the insert: deletions and replacements of graph nodes and queued labels.
        // Every tenth turn only, so that most checks also see slices land without a write between.
        const label = Math.floor(next() * 3400);
        if (turns % 10 !== 0) {
          // no write this turn
        } else if (next() < 0.5) {
          index.remove(label);
          model.delete(label);
        } else {
          const vector = extra[turns % extra.length]!;
          index.upsert(label, vector);
          model.set(label, vector);
        }
        await new Promise((resolve) => setImmediate(resolve));
        recall = Math.min(recall, check(metric, index, model, queries));
        turns++;
      }
      await done;
      expect(index.busy).toBe(false);
      recall = Math.min(recall, check(metric, index, model, queries));
      // ef 200 over ≤ 3,400 vectors of dim 32: the graph part is all but exact; the queued part is exact.
      expect(recall).toBeGreaterThanOrEqual(0.95);
      index.dispose();
    });
  }

  it('resolves each caller once its own batch is in, and rejects them with CLOSED on dispose', async () => {
    const index = new HnswIndex('l2', DIM, PARAMS);
    const vectors = randomVectors(4000, DIM, 6);
    const first = index.upsertBatchQueued(
      Uint32Array.from({ length: 2000 }, (_, i) => i),
      flat(vectors.slice(0, 2000)),
      1,
    );
    const second = index.upsertBatchQueued(
      Uint32Array.from({ length: 2000 }, (_, i) => 2000 + i),
      flat(vectors.slice(2000)),
      1,
    );
    let secondDone = false;
    void second.then(() => {
      secondDone = true;
    });
    await first;
    expect(secondDone).toBe(false);
    await second;
    expect(index.size).toBe(4000);
    expect(index.search(vectors[3999]!, 1, 64).labels).toEqual([3999]);

    const third = index.upsertBatchQueued(Uint32Array.from([5000, 5001]), flat(vectors.slice(0, 2)), 1);
    index.dispose();
    await expect(third).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects a bad batch before queuing anything', () => {
    const index = new HnswIndex('l2', DIM, PARAMS);
    expect(() => index.upsertBatchQueued(Uint32Array.from([1, 1]), new Float32Array(2 * DIM))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => index.upsertBatchQueued(Uint32Array.from([1]), new Float32Array(DIM - 1))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(index.busy).toBe(false);
    expect(index.size).toBe(0);
    index.dispose();
  });
});
