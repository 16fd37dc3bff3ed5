// Micro-benchmark: where an int8 HNSW query's time goes, and what the float-vector file saves. On the
// first N mnist-784 vectors (an int8 and a float32 collection, m 16, efConstruction 200, each
// snapshotted), 1,000 queries, k 10, default rerank 20: `queryIds` of the float graph; of the int8
// graph rescoring from its float-vector file; of the same with the file moved away (every candidate
// a SQLite point read, as before the file existed); and the reads alone, 20 random labels a query,
// from the file and from SQLite. Then the int8 graph's recall@10 against exact answers (a flat
// collection of the same vectors) for rerank 10, 15, 20 and 40 at each ef.
// Run by hand: `npx tsx bench/micro/int8-rescore.bench.ts [N=20000]`.
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { VectorFile } from '../../src/index/vector-file.js';
import { open } from '../../src/index.js';
import { machineLine } from './micro-report.js';

const COUNT = process.argv[2] === undefined ? 20_000 : Number(process.argv[2]);
const DIM = 784;
const QUERIES = 1000;
const RERANK = 20;
const EFS = [20, 64];
const dataset = resolve(import.meta.dirname, '../../../shared/datasets/mnist-784');
const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-int8-'));

/** Rows of a .bvecs file as float32 (each row: an int32 dim, then dim bytes). */
function bvecs(file: string, rows: number): Float32Array[] {
  const bytes = readFileSync(join(dataset, file));
  return Array.from({ length: rows }, (_, row) =>
    Float32Array.from(bytes.subarray(row * (DIM + 4) + 4, (row + 1) * (DIM + 4))),
  );
}

const base = bvecs('base.bvecs', COUNT);
const queries = bvecs('query.bvecs', QUERIES);

function build(name: string, vectors: 'float32' | 'int8' | 'flat'): void {
  const db = open(join(folder, name));
  const docs = db.collection('m', {
    dim: DIM,
    index: vectors === 'flat' ? { type: 'flat' } : { type: 'hnsw', m: 16, efConstruction: 200, vectors },
  });
  for (let start = 0; start < COUNT; start += 5000) {
    docs.upsert(base.slice(start, start + 5000).map((vector, i) => ({ id: String(start + i), vector })));
  }
  docs.snapshot();
  db.close();
}

/** Median over 3 passes of the microseconds per `queryIds` at ef. */
function perQuery(name: string, ef: number): number {
  const db = open(join(folder, name), { readOnly: true, onWarning: () => {} });
  const docs = db.collection('m');
  for (const vector of queries.slice(0, 100)) docs.queryIds({ vector, k: 10, ef });
  const passes: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const start = process.hrtime.bigint();
    for (const vector of queries) docs.queryIds({ vector, k: 10, ef });
    passes.push(Number(process.hrtime.bigint() - start) / 1e3 / QUERIES);
  }
  db.close();
  return passes.sort((a, b) => a - b)[1]!;
}

/** Microseconds per 20 random labels read from the float-vector file and from SQLite. */
function reads(): { file: number; sqlite: number } {
  const directory = join(folder, 'int8', 'm');
  const vectorFile = readdirSync(directory).find((name) => name.endsWith('.f32'))!;
  const seq = Number(/^hnsw\.(\d+)/.exec(vectorFile)![1]);
  const file = VectorFile.open(join(directory, vectorFile), { dim: DIM, metric: 'l2', seq });
  const sqlite = new Database(join(folder, 'int8', 'quiver.sqlite'), { readonly: true });
  const collection = sqlite.prepare('SELECT collection_id FROM records LIMIT 1').pluck().get() as number;
  const statement = sqlite.prepare(`SELECT label, vector FROM records WHERE key IN (${Array(64).fill('?').join(',')})`);
  const draws = Array.from({ length: QUERIES }, () =>
    Uint32Array.from({ length: RERANK }, () => Math.floor(Math.random() * COUNT)),
  );
  const out = new Float32Array(RERANK * DIM);
  const ok = new Uint8Array(RERANK);
  const keys = new Array<number>(64).fill(-1);
  const time = (read: (labels: Uint32Array) => void): number => {
    const passes: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const start = process.hrtime.bigint();
      for (const labels of draws) read(labels);
      passes.push(Number(process.hrtime.bigint() - start) / 1e3 / QUERIES);
    }
    return passes.sort((a, b) => a - b)[1]!;
  };
  const result = {
    file: time((labels) => file.read(labels, out, ok)),
    sqlite: time((labels) => {
      labels.forEach((label, i) => {
        keys[i] = collection * 2 ** 31 + label;
      });
      statement.all(...keys);
    }),
  };
  file.close();
  sqlite.close();
  return result;
}

try {
  build('float', 'float32');
  build('int8', 'int8');
  const rows: string[] = [];
  for (const ef of EFS) {
    const float = perQuery('float', ef);
    const int8 = perQuery('int8', ef);
    rows.push(`| ${ef} | ${float.toFixed(0)} | ${int8.toFixed(0)} (${(float / int8).toFixed(2)}×) |`);
  }
  // The same int8 collection with its float-vector file moved away: every candidate from SQLite.
  const directory = join(folder, 'int8', 'm');
  const vectorFile = readdirSync(directory).find((name) => name.endsWith('.f32'))!;
  const withFile = reads();
  renameSync(join(directory, vectorFile), join(directory, `${vectorFile}.away`));
  EFS.forEach((ef, i) => {
    const int8 = perQuery('int8', ef);
    rows[i] += ` ${int8.toFixed(0)} |`;
  });
  console.log(machineLine());
  console.log(
    `\nmnist-784, first ${COUNT} vectors, ${QUERIES} queries, k 10, rerank ${RERANK}: µs per queryIds (median of 3 passes)\n`,
  );
  console.log('| ef | float32 | int8, float-vector file (QPS ÷ float32) | int8, every candidate from SQLite |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(
    `\n${RERANK} random vectors a query: ${withFile.file.toFixed(1)} µs from the file, ${withFile.sqlite.toFixed(1)} µs from SQLite`,
  );
  renameSync(join(directory, `${vectorFile}.away`), join(directory, vectorFile));
  build('flat', 'flat');
  const exact = open(join(folder, 'flat'), { readOnly: true });
  const truth = queries.map(
    (vector) =>
      new Set(
        exact
          .collection('m')
          .queryIds({ vector, k: 10 })
          .map((hit) => hit.id),
      ),
  );
  exact.close();
  const int8 = open(join(folder, 'int8'), { readOnly: true });
  const docs = int8.collection('m');
  console.log(`\nint8 recall@10 against exact answers (${QUERIES} queries)\n`);
  console.log('| ef | rerank 10 | 15 | 20 | 40 |\n|---|---|---|---|---|');
  for (const ef of EFS) {
    const recalls = [10, 15, 20, 40].map((rerank) => {
      let found = 0;
      queries.forEach((vector, q) => {
        for (const hit of docs.queryIds({ vector, k: 10, ef, rerank })) if (truth[q]!.has(hit.id)) found++;
      });
      return (found / (10 * QUERIES)).toFixed(3);
    });
    console.log(`| ${ef} | ${recalls.join(' | ')} |`);
  }
  int8.close();
} finally {
  rmSync(folder, { recursive: true, force: true });
}
