// Micro-benchmark: the first queries after open, which must not wait for anything built per collection
// on first use. Builds an hnsw collection of N synthetic 128-d vectors (m 8, efConstruction 40: the
// graph's quality does not matter here, only what the first query reads), then opens it again and
// again, timing the open, the first queryIds and the first query (other hits) of each open.
// Run by hand: `npx tsx bench/micro/first-query.bench.ts [N=100000] [--opens 7] [--database DIR] [--fresh]`.
// With --database, the collection 'bench' (128-d) of an existing database is opened instead of
// building one (a 1M build takes minutes; the folder is left as it was). With --fresh, each open
// runs in a new Node process (as an application's first start does: the query path's code is not
// compiled yet); without it, all opens run in this one. Prints a table.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type UpsertRecord } from '../../src/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { machineLine } from './micro-report.js';

const args = process.argv.slice(2);
const count = args[0] !== undefined && !args[0].startsWith('--') ? Number(args[0]) : 100_000;
const opensAt = args.indexOf('--opens');
const OPENS = opensAt === -1 ? 7 : Number(args[opensAt + 1]);
const DIM = 128;

const FRESH = args.includes('--fresh');
const childAt = args.indexOf('--child');
const databaseAt = args.indexOf('--database');
const existing = databaseAt === -1 ? undefined : args[databaseAt + 1];
const data = generateSynthetic({
  n: existing === undefined && childAt === -1 ? count : 2 * OPENS,
  dim: DIM,
  queries: 2 * OPENS,
  seed: 7,
});
const milliseconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** One open of the collection at `at` and its first queryIds and query (queries 2·round and 2·round + 1). */
function openAndQuery(at: string, round: number): { open: number; queryIds: number; query: number } {
  let start = process.hrtime.bigint();
  const database = open(at);
  const reopened = database.collection('bench');
  const openMs = milliseconds(start);
  const query = (q: number) => data.queries.subarray(q * DIM, (q + 1) * DIM);
  start = process.hrtime.bigint();
  reopened.queryIds({ vector: query(2 * round), k: 10 });
  const idsMs = milliseconds(start);
  start = process.hrtime.bigint();
  reopened.query({ vector: query(2 * round + 1), k: 10 });
  const queryMs = milliseconds(start);
  database.close();
  return { open: openMs, queryIds: idsMs, query: queryMs };
}

// A child of --fresh: `--child DIR ROUND`, one open, its figures as JSON.
if (childAt !== -1) {
  console.log(JSON.stringify(openAndQuery(args[childAt + 1]!, Number(args[childAt + 2]))));
  process.exit(0);
}

const folder = existing === undefined ? mkdtempSync(join(tmpdir(), 'quiverdb-micro-first-')) : undefined;
const path = folder === undefined ? existing! : join(folder, 'db');
let buildSeconds = 0;
if (folder !== undefined) {
  const built = open(path, { durability: 'normal' });
  const collection = built.collection('bench', { dim: DIM, index: { type: 'hnsw', m: 8, efConstruction: 40 } });
  const buildStart = process.hrtime.bigint();
  for (let start = 0; start < count; start += 10_000) {
    const records: UpsertRecord[] = [];
    for (let row = start; row < Math.min(count, start + 10_000); row++) {
      records.push({ id: `doc-${row}`, vector: data.base.subarray(row * DIM, (row + 1) * DIM), metadata: { row } });
    }
    collection.upsert(records);
  }
  buildSeconds = Number(process.hrtime.bigint() - buildStart) / 1e9;
  built.close();
}

const figures: { open: number; queryIds: number; query: number }[] = [];
for (let round = 0; round < OPENS; round++) {
  if (!FRESH) {
    figures.push(openAndQuery(path, round));
    continue;
  }
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--child', path, String(round), '--opens', String(OPENS)],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`an open in a fresh process failed: ${child.stderr}`);
  figures.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!));
}
if (folder !== undefined) rmSync(folder, { recursive: true, force: true });

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (pick: (figure: (typeof figures)[number]) => number): string => {
  const values = figures.map(pick);
  return `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
};
const size = existing === undefined ? count.toLocaleString('en-US') : `the collection in ${existing},`;
console.log(`### first queries after open, ${size} × ${DIM} hnsw\n`);
console.log(`${machineLine()} (after the run)\n`);
console.log(
  `${folder === undefined ? 'Existing database' : `Built in ${buildSeconds.toFixed(1)} s`}; ${OPENS} opens` +
    `${FRESH ? ', each in a fresh process' : ''}, median (min–max) in ms:\n`,
);
console.log('| open | first queryIds | first query (other hits, with metadata) |');
console.log('|---|---|---|');
console.log(`| ${spread((f) => f.open)} | ${spread((f) => f.queryIds)} | ${spread((f) => f.query)} |`);
