// The crashing writer of the durability suite, run as a child process:
//   node --import tsx bench/harness/durability-writer.ts <database> <collection> <first id> <count> <seed>
// Upserts <count> new synthetic records after the collection's snapshot, then exits with
// process.exit(0) WITHOUT close(), as a crash would: the log rows stay unsnapshotted and the OS
// releases the writer lock. Public API of src/index.ts only.
import { open } from '../../src/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';

/** Records per upsert call: each is one committed transaction. */
const BATCH = 1_000;

const [directory, collectionName, firstIdText, countText, seedText] = process.argv.slice(2);
if (!directory || !collectionName || !firstIdText || !countText || !seedText) {
  process.stderr.write('usage: durability-writer.ts <database> <collection> <first id> <count> <seed>\n');
  process.exit(2);
}
const firstId = Number(firstIdText);
const count = Number(countText);

// No automatic snapshot may cover the new rows: they are what the next open must replay.
const database = open(directory, { durability: 'full', snapshotThreshold: Number.MAX_SAFE_INTEGER });
const collection = database.collection(collectionName);
const { dim } = collection;
const vectors = generateSynthetic({ n: count, dim, queries: 1, seed: Number(seedText) }).base;
for (let start = 0; start < count; start += BATCH) {
  const records = [];
  for (let row = start; row < Math.min(count, start + BATCH); row++) {
    records.push({ id: firstId + row, vector: vectors.subarray(row * dim, (row + 1) * dim) });
  }
  collection.upsert(records);
}
if (collection.count() < firstId + count) {
  process.stderr.write(`expected at least ${firstId + count} records, found ${collection.count()}\n`);
  process.exit(1);
}
// The crash: every upsert above has returned, so it is committed; nothing else is written.
process.exit(0);
