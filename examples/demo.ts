// The `npm start` demo: builds a database from the siftsmall fixture in a temporary directory,
// queries it, deletes records, reopens it, and prints recall@10 against the ground truth and
// query latency. Needs nothing outside the repository.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFvecs, readIvecs } from '../bench/datasets/texmex.js';
import { type Collection, open } from '../src/index.js';

const fixture = join(import.meta.dirname, '..', 'test', 'fixtures', 'siftsmall');
const base = readFvecs(join(fixture, 'base.fvecs'));
const queries = readFvecs(join(fixture, 'query.fvecs'));
const truth = readIvecs(join(fixture, 'groundtruth.ivecs'));
const row = (data: Float32Array, dim: number, i: number) => data.subarray(i * dim, (i + 1) * dim);

const directory = mkdtempSync(join(tmpdir(), 'quiver-demo-'));
const milliseconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** Runs every query, returning recall@10 (ids in `deleted` removed from the truth) and latencies. */
function measure(collection: Collection, deleted: Set<string>) {
  // A warm-up pass first, so the figures show steady-state latency rather than JIT compilation.
  for (let q = 0; q < Math.min(20, queries.count); q++) collection.query({ vector: row(queries.data, queries.dim, q) });
  const latencies: number[] = [];
  let recall = 0;
  for (let q = 0; q < queries.count; q++) {
    const start = process.hrtime.bigint();
    const hits = collection.query({ vector: row(queries.data, queries.dim, q), k: 10 });
    latencies.push(milliseconds(start));
    const expected = Array.from(truth.data.subarray(q * truth.dim, (q + 1) * truth.dim), String)
      .filter((id) => !deleted.has(id))
      .slice(0, 10);
    recall += hits.filter((hit) => expected.includes(hit.id)).length / 10;
  }
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { recall: recall / queries.count, p50: percentile(0.5), p99: percentile(0.99) };
}

try {
  console.log(`QuiverDB demo — siftsmall: ${base.count} vectors of dim ${base.dim}, ${queries.count} queries`);
  console.log(`database: ${directory}\n`);

  let db = open(directory);
  const sift = db.collection('sift', { dim: base.dim, metric: 'l2' });
  let start = process.hrtime.bigint();
  for (let first = 0; first < base.count; first += 1000) {
    const batch = [];
    for (let i = first; i < Math.min(first + 1000, base.count); i++) {
      batch.push({ id: i, vector: row(base.data, base.dim, i), metadata: { batch: first / 1000 } });
    }
    sift.upsert(batch);
  }
  const buildSeconds = milliseconds(start) / 1000;
  console.log(
    `upserted ${sift.count()} records in ${buildSeconds.toFixed(1)} s (${Math.round(base.count / buildSeconds)} vectors/s)`,
  );

  const fresh = measure(sift, new Set());
  console.log(
    `recall@10 ${fresh.recall.toFixed(3)}, query latency p50 ${fresh.p50.toFixed(3)} ms, p99 ${fresh.p99.toFixed(3)} ms`,
  );

  const [nearest] = sift.query({ vector: row(queries.data, queries.dim, 0), k: 1 });
  console.log(
    `nearest to query 0: id ${nearest?.id} at distance ${nearest?.distance.toFixed(1)}, metadata ${JSON.stringify(nearest?.metadata)}`,
  );

  // Delete every query's true nearest neighbour: they must vanish from the answers.
  const deleted = new Set(Array.from({ length: queries.count }, (_, q) => String(truth.data[q * truth.dim])));
  const removed = sift.delete([...deleted]);
  console.log(`\ndeleted ${removed} records (each query's nearest neighbour); ${sift.count()} remain`);
  const afterDelete = measure(sift, deleted);
  console.log(`recall@10 ${afterDelete.recall.toFixed(3)} against the ground truth without them`);

  db.close();
  start = process.hrtime.bigint();
  db = open(directory);
  const reopened = db.collection('sift');
  console.log(
    `\nreopened in ${milliseconds(start).toFixed(0)} ms: ${reopened.count()} records, settings ${JSON.stringify(reopened.index)}`,
  );
  const afterReopen = measure(reopened, deleted);
  console.log(
    `recall@10 ${afterReopen.recall.toFixed(3)}, query latency p50 ${afterReopen.p50.toFixed(3)} ms, p99 ${afterReopen.p99.toFixed(3)} ms`,
  );
  db.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}
