// Micro-benchmark: one k=10 query against a 10,000 × 128 hnsw collection built from the siftsmall
// fixture (test/fixtures/siftsmall), through QuiverDB's public API (query and queryIds), with
// hnswlib-node used directly on the same vectors and parameters beside it for scale — given plain
// arrays made beforehand, and converting each Float32Array query as an application must.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { Bench } from 'tinybench';
import { open, type UpsertRecord } from '../../src/index.js';
import { readFvecs } from '../datasets/texmex.js';
import { REPOSITORY_ROOT } from '../harness/machine.js';
import { printBenchTable } from './micro-report.js';

const K = 10;
/** QuiverDB's default hnsw parameters, used for both. */
const M = 16;
const EF_CONSTRUCTION = 200;
const EF = 64;

const fixture = join(REPOSITORY_ROOT, 'test', 'fixtures', 'siftsmall');
const base = readFvecs(join(fixture, 'base.fvecs'));
const queries = readFvecs(join(fixture, 'query.fvecs'));
const { dim } = base;

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-query-'));
const database = open(join(folder, 'db'), { durability: 'normal' });
const collection = database.collection('siftsmall', {
  dim,
  index: { type: 'hnsw', m: M, efConstruction: EF_CONSTRUCTION, ef: EF },
});
for (let start = 0; start < base.count; start += 1000) {
  const records: UpsertRecord[] = [];
  for (let row = start; row < Math.min(base.count, start + 1000); row++) {
    records.push({ id: row, vector: base.data.subarray(row * dim, (row + 1) * dim) });
  }
  collection.upsert(records);
}

const graph = new hnswlib.HierarchicalNSW('l2', dim);
graph.initIndex(base.count, M, EF_CONSTRUCTION, 100);
for (let row = 0; row < base.count; row++)
  graph.addPoint(Array.from(base.data.subarray(row * dim, (row + 1) * dim)), row);
graph.setEf(EF);
// hnswlib-node takes plain arrays: converted once here, so its task times the search alone.
const queryArrays = Array.from({ length: queries.count }, (_, q) =>
  Array.from(queries.data.subarray(q * dim, (q + 1) * dim)),
);

let nextQuiver = 0;
let nextIds = 0;
let nextHnswlib = 0;
let nextConverted = 0;
const vectorOf = (q: number) => queries.data.subarray(q * dim, (q + 1) * dim);
const bench = new Bench({ name: `query, k=${K}, 10k × 128 hnsw (siftsmall)`, time: 3_000, warmupIterations: 200 });
bench
  .add(`quiverdb collection.query (ef ${EF}, metadata included)`, () => {
    const q = nextQuiver++ % queries.count;
    collection.query({ vector: queries.data.subarray(q * dim, (q + 1) * dim), k: K });
  })
  .add(`quiverdb collection.queryIds (ef ${EF}, ids and distances only)`, () => {
    collection.queryIds({ vector: vectorOf(nextIds++ % queries.count), k: K });
  })
  .add(`hnswlib-node searchKnn by hand (ef ${EF}, arrays converted beforehand)`, () => {
    graph.searchKnn(queryArrays[nextHnswlib++ % queries.count]!, K);
  })
  .add(`hnswlib-node searchKnn by hand (ef ${EF}, Array.from of each Float32Array query)`, () => {
    graph.searchKnn(Array.from(vectorOf(nextConverted++ % queries.count)), K);
  });
try {
  await bench.run();
  printBenchTable(
    bench,
    `One op = one k=${K} query, cycling through the ${queries.count} siftsmall queries; both indexes built with ` +
      `m=${M}, efConstruction=${EF_CONSTRUCTION} and searched at ef=${EF} (QuiverDB's default).`,
  );
} finally {
  database.close();
  rmSync(folder, { recursive: true, force: true });
}
