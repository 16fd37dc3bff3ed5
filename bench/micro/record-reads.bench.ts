// Micro-benchmark: reading 10 random records' heads from SQLite in the layouts the query path could use
// (better-sqlite3 alone, no QuiverDB code): the schema-7 table (IN list over the (collection_id, label)
// index, text and checksum after the vector) against records keyed by collection and label with the
// vector last (migration 9), by IN list, by raw rows, by one statement per hit, and ids only.
// Run by hand: `npx tsx bench/micro/record-reads.bench.ts [N=100000] [--cache-kib K] [--mmap BYTES]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { machineLine } from './micro-report.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const COUNT = args[0] !== undefined && !args[0].startsWith('--') ? Number(args[0]) : 100_000;
const DIM = 128;
const K = 10;
const READS = 20_000;
const KEY_BASE = 2 ** 31; // collection 1's first key
const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-reads-'));

function build(name: string, schema: string, insert: string, row: (i: number, vector: Buffer) => unknown[]) {
  const db = new Database(join(folder, name));
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.exec(schema);
  const statement = db.prepare(insert);
  const vector = Buffer.alloc(DIM * 4, 1);
  db.transaction(() => {
    for (let i = 0; i < COUNT; i++) statement.run(...row(i, vector));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const cache = flag('--cache-kib');
  if (cache !== undefined) db.pragma(`cache_size = -${Number(cache)}`);
  const mmap = flag('--mmap');
  if (mmap !== undefined) db.pragma(`mmap_size = ${Number(mmap)}`);
  return db;
}

const before = build(
  'schema-7.sqlite',
  `CREATE TABLE records (collection_id INTEGER NOT NULL, id TEXT NOT NULL, label INTEGER NOT NULL,
     metadata TEXT NOT NULL DEFAULT '{}', vector BLOB NOT NULL, UNIQUE (collection_id, id), UNIQUE (collection_id, label));
   ALTER TABLE records ADD COLUMN text TEXT;
   ALTER TABLE records ADD COLUMN checksum INTEGER;`,
  'INSERT INTO records (collection_id, id, label, metadata, vector, text, checksum) VALUES (?, ?, ?, ?, ?, ?, ?)',
  (i, vector) => [1, String(i), i, '{"row":1}', vector, null, 123],
);
const after = build(
  'schema-8.sqlite',
  `CREATE TABLE records (key INTEGER PRIMARY KEY, id TEXT NOT NULL, label INTEGER NOT NULL, collection_id INTEGER NOT NULL,
     head_checksum INTEGER, metadata TEXT NOT NULL DEFAULT '{}', text TEXT, checksum INTEGER, vector BLOB NOT NULL,
     UNIQUE (collection_id, id), UNIQUE (collection_id, label))`,
  'INSERT INTO records (key, id, label, collection_id, head_checksum, metadata, text, checksum, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  (i, vector) => [KEY_BASE + i, String(i), i, 1, 456, '{"row":1}', null, 123, vector],
);

const draws = Array.from({ length: READS }, () => Array.from({ length: K }, () => Math.floor(Math.random() * COUNT)));
const list = `${'?,'.repeat(15)}?`;
const padded = (labels: number[], toParameter: (label: number) => number): number[] => {
  const parameters = labels.map(toParameter);
  while (parameters.length < 16) parameters.push(-1);
  return parameters;
};
const byLabel = (label: number) => label;
const byKey = (label: number) => KEY_BASE + label;
const cases: [string, (labels: number[]) => unknown][] = [];
const oldAll = before.prepare(
  `SELECT id, label, metadata, text, vector, checksum FROM records WHERE collection_id = 1 AND label IN (${list})`,
);
cases.push(['schema 8: IN over the (collection_id, label) index, every column', (l) => oldAll.all(padded(l, byLabel))]);
const oldHead = before.prepare(
  `SELECT id, label, metadata, text, checksum FROM records WHERE collection_id = 1 AND label IN (${list})`,
);
cases.push(['schema 8: the same without the vector', (l) => oldHead.all(padded(l, byLabel))]);
const newIndex = after.prepare(
  `SELECT id, label, metadata, text, head_checksum FROM records WHERE collection_id = 1 AND label IN (${list})`,
);
cases.push([
  'vector last, IN over the (collection_id, label) index, no vector',
  (l) => newIndex.all(padded(l, byLabel)),
]);
const newKey = after.prepare(`SELECT id, label, metadata, text, head_checksum FROM records WHERE key IN (${list})`);
cases.push(['keyed: IN over the key, no vector', (l) => newKey.all(padded(l, byKey))]);
const newKeyRaw = after
  .prepare(`SELECT id, label, metadata, text, head_checksum FROM records WHERE key IN (${list})`)
  .raw();
cases.push(['keyed: the same, raw rows', (l) => newKeyRaw.all(padded(l, byKey))]);
const newKeyVector = after.prepare(
  `SELECT id, label, metadata, text, head_checksum, checksum, vector FROM records WHERE key IN (${list})`,
);
cases.push(['keyed: IN over the key, with the vector', (l) => newKeyVector.all(padded(l, byKey))]);
const newPoint = after.prepare('SELECT id, label, metadata, text, head_checksum FROM records WHERE key = ?');
cases.push(['keyed: one statement per hit', (l) => l.map((label) => newPoint.get(byKey(label)))]);
const newIds = after.prepare(`SELECT id FROM records WHERE key IN (${list})`).pluck();
cases.push(['keyed: ids only', (l) => newIds.all(padded(l, byKey))]);

console.log(`### reading ${K} random records of ${COUNT.toLocaleString('en-US')} × ${DIM}\n`);
console.log('| read | µs per 10 records |');
console.log('|---|---|');
for (const [name, read] of cases) {
  for (let i = 0; i < 2000; i++) read(draws[i]!);
  const start = process.hrtime.bigint();
  for (const labels of draws) read(labels);
  console.log(`| ${name} | ${(Number(process.hrtime.bigint() - start) / 1e3 / READS).toFixed(1)} |`);
}
console.log(`\n${machineLine()} (after the run)`);
before.close();
after.close();
rmSync(folder, { recursive: true, force: true });
