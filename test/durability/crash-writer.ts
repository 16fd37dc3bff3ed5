// The crash-test writer, run as a child process: applies the seeded workload to the collection
// 'docs' (of the index kind in argv[5]) in the database in argv[2] and prints "ack <n>" after
// operation n returns. Every other upsert is an upsertAsync, acknowledged once committed (when the
// call returns) while its index insert goes on, so that the next operations — snapshots and
// compactions too — may meet a pending insert. The test kills it with SIGKILL, either after a
// seeded delay or through QUIVERDB_CRASH_AT, and then checks what survived.
import { writeSync } from 'node:fs';
import { open } from '../../src/index.js';
import { collectionOptions, type IndexKind, workload } from './crash-workload.js';

const [directory, seedText, countText, kind] = process.argv.slice(2);
const operations = workload(Number(seedText), Number(countText));
const db = open(directory!, { durability: 'full', snapshotThreshold: 40, onWarning: () => {} });
const docs = db.collection('docs', collectionOptions(kind as IndexKind));
writeSync(1, 'ready\n');
const pending: Promise<unknown>[] = [];
let upserts = 0;
for (const [n, operation] of operations.entries()) {
  if (operation.kind === 'upsert' && upserts++ % 2 === 1) pending.push(docs.upsertAsync(operation.records));
  else if (operation.kind === 'upsert') docs.upsert(operation.records);
  else if (operation.kind === 'delete') docs.delete(operation.ids);
  else if (operation.kind === 'snapshot') docs.snapshot();
  else docs.compact();
  writeSync(1, `ack ${n}\n`);
  // One turn of the event loop: a pending insert may land before the next operation, or not.
  await new Promise((resolve) => setImmediate(resolve));
}
await Promise.all(pending);
db.close();
writeSync(1, 'done\n');
