// Micro-benchmark: upsert batches of 1,000 new 128-d records (one committed transaction each) into
// hnsw collections with durability 'full' and 'normal', and into a flat collection, which shows the
// storage cost without graph insertion. Public API only; temporary folders are removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { type Collection, type Database, open, type UpsertRecord } from '../../src/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { printBenchTable } from './micro-report.js';

const DIM = 128;
const BATCH = 1_000;
/** Distinct vectors cycled through; ids keep rising, so every batch inserts new records. */
const POOL = 20_000;

const pool = generateSynthetic({ n: POOL, dim: DIM, queries: 1, seed: 11 }).base;
const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-upsert-batch-'));

interface Target {
  database: Database;
  collection: Collection;
  next: number;
}

function target(name: string, durability: 'full' | 'normal', index: 'hnsw' | 'flat'): Target {
  const database = open(join(folder, name), { durability });
  return { database, collection: database.collection('micro', { dim: DIM, index: { type: index } }), next: 0 };
}

/** Upserts the next BATCH records; building the records is part of the op, as it is for an application. */
function upsertBatch(into: Target): void {
  const records: UpsertRecord[] = [];
  for (let index = 0; index < BATCH; index++) {
    const row = into.next % POOL;
    records.push({ id: into.next++, vector: pool.subarray(row * DIM, (row + 1) * DIM) });
  }
  into.collection.upsert(records);
}

const targets = {
  hnswFull: target('hnsw-full', 'full', 'hnsw'),
  hnswNormal: target('hnsw-normal', 'normal', 'hnsw'),
  flatFull: target('flat-full', 'full', 'flat'),
};
// A batch into hnsw takes ~0.1–0.2 s: a fixed small number of iterations keeps the run to about a minute.
const bench = new Bench({ name: `upsert, batches of ${BATCH}`, time: 2_000, iterations: 15, warmupIterations: 2 });
bench
  .add("durability 'full', hnsw", () => upsertBatch(targets.hnswFull))
  .add("durability 'normal', hnsw", () => upsertBatch(targets.hnswNormal))
  .add("durability 'full', flat (no graph)", () => upsertBatch(targets.flatFull));
try {
  await bench.run();
  printBenchTable(
    bench,
    `One op = \`collection.upsert(records)\` of ${BATCH} new ${DIM}-d records (hnsw: m=16 efConstruction=200), one ` +
      `committed transaction; vectors/s = ops/s × ${BATCH}. Collections end with ${targets.hnswFull.next}, ` +
      `${targets.hnswNormal.next} and ${targets.flatFull.next} records.`,
  );
} finally {
  for (const { database } of Object.values(targets)) database.close();
  rmSync(folder, { recursive: true, force: true });
}
