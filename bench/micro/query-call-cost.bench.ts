// Micro-benchmark: where the microseconds of one `queryIds` call go, on the siftsmall fixture at ef 16
// (a search of a few microseconds, so the fixed cost of a call shows): the whole public call, and each
// step it takes timed alone — the options check, the query vector check, the native search of the same
// graph (HnswIndex, the addon crossing included), and building the hits from remembered ids.
// Run by hand: `npx tsx bench/micro/query-call-cost.bench.ts`. Prints a table; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { HnswIndex } from '../../src/index/hnsw.js';
import { open, type UpsertRecord } from '../../src/index.js';
import { parseOrThrow, queryIdsSchema, toVector } from '../../src/schema.js';
import { readFvecs } from '../datasets/texmex.js';
import { REPOSITORY_ROOT } from '../harness/machine.js';
import { printBenchTable } from './micro-report.js';

const K = 10;
const EF = 16;
const PARAMS = { m: 16, efConstruction: 200 };

const fixture = join(REPOSITORY_ROOT, 'test', 'fixtures', 'siftsmall');
const base = readFvecs(join(fixture, 'base.fvecs'));
const queries = readFvecs(join(fixture, 'query.fvecs'));
const { dim } = base;
const vectorOf = (q: number) => queries.data.subarray(q * dim, (q + 1) * dim);

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-call-'));
const database = open(join(folder, 'db'), { durability: 'normal' });
const collection = database.collection('siftsmall', { dim, index: { type: 'hnsw', ...PARAMS } });
for (let start = 0; start < base.count; start += 1000) {
  const records: UpsertRecord[] = [];
  for (let row = start; row < Math.min(base.count, start + 1000); row++) {
    records.push({ id: String(row), vector: base.data.subarray(row * dim, (row + 1) * dim) });
  }
  collection.upsert(records);
}
// The same kind of graph, searched directly: the native search and its crossing, without the collection.
const graph = new HnswIndex('l2', dim, PARAMS, base.count);
graph.upsertBatch(
  Uint32Array.from({ length: base.count }, (_, row) => row),
  base.data,
);
const ids = Array.from({ length: base.count }, (_, row) => String(row));
const labels = Array.from({ length: K }, (_, i) => i * 97);
const distances = Array.from({ length: K }, (_, i) => i * 1000.5);

let next = 0;
const bench = new Bench({ name: `queryIds, k=${K}, ef ${EF}, siftsmall`, time: 2_000, warmupIterations: 500 });
bench
  .add('collection.queryIds: the whole public call', () => {
    collection.queryIds({ vector: vectorOf(next++ % queries.count), k: K, ef: EF });
  })
  .add('options check (parseOrThrow of queryIdsSchema)', () => {
    parseOrThrow(queryIdsSchema, { vector: vectorOf(next++ % queries.count), k: K, ef: EF }, 'queryIds');
  })
  .add('query vector check (toVector: length, finiteness)', () => {
    toVector(vectorOf(next++ % queries.count), dim, 'query vector', 'siftsmall');
  })
  .add('native search of the graph (HnswIndex.search, addon crossing included)', () => {
    graph.search(vectorOf(next++ % queries.count), K, EF);
  })
  .add('hits from remembered ids (10 { id, distance } objects)', () => {
    const hits = [];
    for (let i = 0; i < K; i++) {
      hits.push({ id: ids[labels[i]!]!, distance: Math.sqrt(Math.max(0, distances[i]!)) });
    }
    return hits;
  });
try {
  await bench.run();
  printBenchTable(
    bench,
    `One op = one step of a k=${K} queryIds call at ef=${EF} on siftsmall (10,000 × 128, m=16, efConstruction=200), ` +
      'cycling through its 100 queries; the steps other than the whole call are timed alone.',
  );
} finally {
  database.close();
  graph.dispose();
  rmSync(folder, { recursive: true, force: true });
}
