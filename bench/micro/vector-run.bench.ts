// Micro-benchmark: reading every vector of a collection in label order, as the open of a snapshot
// without vectors does to fill its graph (src/collection/persistence.ts, fillSteps). Times four ways
// of reading the records' vector BLOBs from SQLite, the fill's own read (Store.vectorRun, 8,192
// labels per statement), the open's two steps apart (the graph read, the fill and its addon share),
// and the whole open of the collection in this process.
// Run by hand on an existing database: `npx tsx bench/micro/vector-run.bench.ts --database DIR
// [--collection bench] [--passes 3]`. The database is opened read-only and left as it was.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fillFromRecords } from '../../src/collection/persistence.js';
import { type HnswParams, HnswIndex } from '../../src/index/hnsw.js';
import { open } from '../../src/index.js';
import { runSync } from '../../src/steps.js';
import { readSnapshotHeadSteps } from '../../src/storage/snapshot-file.js';
import { recordKey } from '../../src/storage/record-key.js';
import { Store } from '../../src/storage/store.js';
import { machineLine } from './micro-report.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1]!;
};
const directory = option('database', '');
if (directory === '') throw new Error('usage: vector-run.bench.ts --database DIR [--collection NAME] [--passes N]');
const collection = option('collection', 'bench');
const passes = Number(option('passes', '3'));
const RUN = 8192;

const sqlite = new Database(join(directory, 'quiver.sqlite'), { readonly: true });
const row = sqlite.prepare('SELECT id, dim FROM collections WHERE name = ?').get(collection) as
  | { id: number; dim: number }
  | undefined;
if (row === undefined) throw new Error(`no collection '${collection}' in ${directory}`);
const from = recordKey(row.id, 0);
const to = recordKey(row.id + 1, 0);
const highest =
  (sqlite.prepare('SELECT max(key) FROM records WHERE key >= ? AND key < ?').pluck().get(from, to) as number) - from;

/** Seconds of one read of every vector; `bytes` checks that each way read them all. */
function timed(read: () => number): { seconds: number; bytes: number } {
  const start = process.hrtime.bigint();
  const bytes = read();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, bytes };
}

/** `sql` with (first key, end key) per run of RUN labels; the joined BLOB is its last column. */
function joined(sql: string): () => number {
  const statement = sqlite.prepare(sql).raw();
  return () => {
    let bytes = 0;
    for (let first = 0; first <= highest; first += RUN) {
      const values = statement.get(from + first, from + first + RUN) as unknown[];
      bytes += (values.at(-1) as Buffer | null)?.byteLength ?? 0;
    }
    return bytes;
  };
}

const ways: [string, () => number][] = [
  [
    'one row per vector: SELECT vector … ORDER BY key, pluck().iterate()',
    () => {
      let bytes = 0;
      const statement = sqlite.prepare('SELECT vector FROM records WHERE key >= ? AND key < ? ORDER BY key').pluck();
      for (const vector of statement.iterate(from, to) as Iterable<Buffer>) bytes += vector.byteLength;
      return bytes;
    },
  ],
  [
    'label and vector per row: raw().iterate()',
    () => {
      let bytes = 0;
      const statement = sqlite
        .prepare('SELECT label, vector FROM records WHERE key >= ? AND key < ? ORDER BY key')
        .raw();
      for (const values of statement.iterate(from, to) as Iterable<[number, Buffer]>) bytes += values[1].byteLength;
      return bytes;
    },
  ],
  [
    `group_concat(vector, '' ORDER BY key) per ${RUN} keys`,
    joined("SELECT CAST(group_concat(vector, '' ORDER BY key) AS BLOB) FROM records WHERE key >= ? AND key < ?"),
  ],
  [
    `group_concat(vector, '') per ${RUN} keys`,
    joined("SELECT CAST(group_concat(vector, '') AS BLOB) FROM records WHERE key >= ? AND key < ?"),
  ],
];

const store = Store.open(join(directory, 'quiver.sqlite'), { durability: 'normal', readOnly: true });
ways.push([
  `Store.vectorRun per ${RUN} labels (the fill's read)`,
  () => {
    let bytes = 0;
    for (let first = 0; first <= highest; first += RUN)
      bytes += store.vectorRun(row.id, first, RUN, row.dim)?.vectors.byteLength ?? 0;
    return bytes;
  },
]);

console.log(machineLine());
console.log(`${directory}: collection '${collection}', labels up to ${highest}, dim ${row.dim}; ${passes} passes\n`);
console.log('| read of every vector in label order | seconds per pass | MB |');
console.log('|---|---|---|');
for (const [name, read] of ways) {
  const results = Array.from({ length: passes }, () => timed(read));
  const seconds = results.map((result) => result.seconds.toFixed(2)).join(', ');
  console.log(`| ${name} | ${seconds} | ${(results[0]!.bytes / 1e6).toFixed(0)} |`);
}

// The open's two steps for a snapshot without vectors, timed apart: the graph read from the
// manifest's snapshot file (HnswIndex.load), then the fill from the records (fillFromRecords).
const manifest = store.manifest(row.id);
const stored = store.findCollection(collection);
if (manifest !== undefined && manifest.file !== '' && stored !== undefined) {
  const file = join(directory, manifest.file);
  const head = runSync(readSnapshotHeadSteps(file));
  if (head.header.withoutVectors === true) {
    console.log('\n| pass | graph read from the snapshot, s | fill from the records, s | of it in the addon, s |');
    console.log('|---|---|---|---|');
    for (let pass = 1; pass <= passes; pass++) {
      let start = process.hrtime.bigint();
      const graph = { path: file, offset: head.graphOffset, length: head.graphLength, crcSeed: head.labelsChecksum };
      const index = HnswIndex.load(
        { ...graph, crcExpected: head.checksum, withoutVectors: true },
        stored.metric,
        stored.dim,
        stored.index as HnswParams,
        head.liveLabels,
      );
      const loadSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      let addon = 0n;
      const timedIndex = Object.assign(Object.create(index) as HnswIndex, {
        fillVectors: (labels: Uint32Array, rows: Uint8Array) => {
          const at = process.hrtime.bigint();
          const unexplained = index.fillVectors(labels, rows);
          addon += process.hrtime.bigint() - at;
          return unexplained;
        },
        finishFill: () => index.finishFill(),
      });
      start = process.hrtime.bigint();
      const unexplained = runSync(fillFromRecords(store, stored, timedIndex));
      const fillSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      index.dispose();
      if (unexplained.length > 0) console.log(`(${unexplained.length} labels the snapshot does not explain)`);
      console.log(
        `| ${pass} | ${loadSeconds.toFixed(2)} | ${fillSeconds.toFixed(2)} | ${(Number(addon) / 1e9).toFixed(3)} |`,
      );
    }
  }
}
store.close();
sqlite.close();

const opens = Array.from({ length: passes }, () => {
  const start = process.hrtime.bigint();
  const database = open(directory, { readOnly: true });
  database.collection(collection);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  database.close();
  return seconds.toFixed(2);
});
console.log(`\nopen + collection('${collection}') in this process, read-only: ${opens.join(', ')} s`);
