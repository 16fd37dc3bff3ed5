// Micro-benchmark: one record per upsert call (one committed transaction each) into a 128-d hnsw
// collection, with durability 'full' (fsync per commit) and 'normal' as two tasks.
// Uses QuiverDB's public API only; databases live in a temporary folder that is removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { type Collection, type Database, open } from '../../src/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { printBenchTable } from './micro-report.js';

const DIM = 128;
/** Distinct vectors cycled through; every call gets a new id, so the collection grows by one each time. */
const POOL = 20_000;

// The harness's default synthetic distribution (clustered, 32 intrinsic dimensions), seeded.
const pool = generateSynthetic({ n: POOL, dim: DIM, queries: 1, seed: 7 }).base;
const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-upsert-single-'));

interface Target {
  database: Database;
  collection: Collection;
  next: number;
}

function target(durability: 'full' | 'normal'): Target {
  const database = open(join(folder, durability), { durability });
  return { database, collection: database.collection('micro', { dim: DIM }), next: 0 };
}

function upsertOne(into: Target): void {
  const row = into.next++ % POOL;
  into.collection.upsert([{ id: into.next, vector: pool.subarray(row * DIM, (row + 1) * DIM) }]);
}

const targets = { full: target('full'), normal: target('normal') };
const bench = new Bench({ name: 'upsert, one record per call', time: 3_000, iterations: 50, warmupIterations: 20 });
bench
  .add("durability 'full' (fsync per commit), hnsw", () => upsertOne(targets.full))
  .add("durability 'normal', hnsw", () => upsertOne(targets.normal));
try {
  await bench.run();
  printBenchTable(
    bench,
    `One op = \`collection.upsert([record])\` of one new ${DIM}-d record (default hnsw m=16 efConstruction=200), ` +
      `one committed transaction. Collections end with ${targets.full.next} ('full') and ${targets.normal.next} ('normal') ` +
      'records; an automatic index snapshot (every 10,000 log rows) can land inside the run and shows in p99.',
  );
} finally {
  for (const { database } of Object.values(targets)) database.close();
  rmSync(folder, { recursive: true, force: true });
}
