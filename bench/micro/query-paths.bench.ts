// Micro-benchmark: `query` (hits with metadata), `query` with vectors and `queryIds` on one collection,
// at the same ef, in alternating rounds so that a shared machine's load falls on all three alike; each
// figure is the best round (the least disturbed). Also times open and the first queries after it.
// Run by hand: `npx tsx bench/micro/query-paths.bench.ts [data set spec] [--limit N] [--queries N] [--ef 16,64]`
// (spec as for `npm run bench -- --dataset`, default the siftsmall fixture). Prints a table; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type UpsertRecord } from '../../src/index.js';
import { loadDataset } from '../datasets/load.js';
import { REPOSITORY_ROOT } from '../harness/machine.js';
import { machineLine } from './micro-report.js';

const K = 10;
const ROUNDS = 7;
const CALLS_PER_ROUND = 2000;

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const spec =
  args[0] !== undefined && !args[0].startsWith('--') ? args[0] : join(REPOSITORY_ROOT, 'test', 'fixtures', 'siftsmall');
const limit = flag('--limit');
const efs = (flag('--ef') ?? '16,64').split(',').map(Number);
const queryLimit = flag('--queries');
const dataset = await loadDataset(spec, {
  ...(limit === undefined ? {} : { limit: Number(limit) }),
  ...(queryLimit === undefined ? {} : { queries: Number(queryLimit) }),
});
const { dim, base, baseCount, queries, queryCount, metric } = dataset;

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-micro-paths-'));
const path = join(folder, 'db');
const built = open(path, { durability: 'normal' });
const collection = built.collection('bench', { dim, metric, index: { type: 'hnsw', m: 16, efConstruction: 200 } });
const buildStart = process.hrtime.bigint();
for (let start = 0; start < baseCount; start += 1000) {
  const records: UpsertRecord[] = [];
  for (let row = start; row < Math.min(baseCount, start + 1000); row++) {
    // Metadata as an application might keep beside a vector: a few short fields.
    records.push({
      id: String(row),
      vector: base.subarray(row * dim, (row + 1) * dim),
      metadata: { row, source: 'bench', shard: row % 16 },
    });
  }
  collection.upsert(records);
}
const buildSeconds = Number(process.hrtime.bigint() - buildStart) / 1e9;
built.close();

const openStart = process.hrtime.bigint();
const database = open(path, { durability: 'normal' });
const reopened = database.collection('bench');
const openMilliseconds = Number(process.hrtime.bigint() - openStart) / 1e6;
const vectorOf = (q: number) => queries.subarray((q % queryCount) * dim, ((q % queryCount) + 1) * dim);
const time = (body: () => void): number => {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / 1e3;
};
const firstQueryIds = time(() => reopened.queryIds({ vector: vectorOf(0), k: K }));
const firstQuery = time(() => reopened.query({ vector: vectorOf(1), k: K }));

type Path = 'queryIds' | 'query' | 'query, includeVectors';
const paths: Path[] = ['queryIds', 'query', 'query, includeVectors'];
const rows: string[] = [];
for (const ef of efs) {
  const best = new Map<Path, number>(paths.map((name) => [name, Number.POSITIVE_INFINITY]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of paths) {
      const micros = time(() => {
        for (let call = 0; call < CALLS_PER_ROUND; call++) {
          const vector = vectorOf(call);
          if (name === 'queryIds') reopened.queryIds({ vector, k: K, ef });
          else reopened.query({ vector, k: K, ef, includeVectors: name !== 'query' });
        }
      });
      best.set(name, Math.min(best.get(name)!, micros / CALLS_PER_ROUND));
    }
  }
  const ids = best.get('queryIds')!;
  for (const name of paths) {
    const micros = best.get(name)!;
    rows.push(
      `| ${ef} | ${name} | ${micros.toFixed(1)} | ${Math.round(1e6 / micros).toLocaleString('en-US')} | ${(ids / micros).toFixed(2)} |`,
    );
  }
}
database.close();
rmSync(folder, { recursive: true, force: true });

console.log(`### query paths, k=${K}, ${dataset.name} (${baseCount.toLocaleString('en-US')} × ${dim}, ${metric})\n`);
console.log(`${machineLine()} (after the run)\n`);
console.log(
  `Built in ${buildSeconds.toFixed(1)} s; open ${openMilliseconds.toFixed(1)} ms; first queryIds after open ` +
    `${(firstQueryIds / 1000).toFixed(2)} ms, first query ${(firstQuery / 1000).toFixed(2)} ms.\n`,
);
console.log(
  `Best of ${ROUNDS} alternating rounds of ${CALLS_PER_ROUND} calls per path, cycling through the queries.\n`,
);
console.log('| ef | call | µs per call | QPS | QPS ÷ queryIds QPS |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
