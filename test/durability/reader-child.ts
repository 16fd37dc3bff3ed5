// A read-only reader beside a writer (the reader/writer test): for `seconds`, queries (by vector, by
// text and hybrid), reads every record by filter, and counts, checking each answer against the workload's rules; prints a JSON summary.
import { open, type QuiverWarning } from '../../src/index.js';
import { random } from '../helpers/random.js';
import { parseId, sizeOf, textOf, vectorOf } from './reader-workload.js';

const [directory, seedText, secondsText] = process.argv.slice(2) as [string, string, string];
const next = random(Number(seedText));
const deadline = Date.now() + Number(secondsText) * 1000;
const warnings: string[] = [];
const problems: string[] = [];
const calls = { query: 0, text: 0, get: 0, count: 0 };
const problem = (text: string) => {
  if (problems.length < 20) problems.push(text);
};

const db = open(directory, {
  readOnly: true,
  onWarning: (warning: QuiverWarning) => warnings.push(`${warning.code}: ${warning.message}`),
});
const docs = db.collection('docs');
while (Date.now() < deadline) {
  const choice = next();
  try {
    if (choice < 0.35) {
      calls.query++;
      const vector = [
        Math.floor(next() * 97),
        Math.floor(next() * 101),
        Math.floor(next() * 13),
        1 + Math.floor(next() * 3),
      ];
      for (const hit of docs.query({ vector, k: 10, includeVectors: true })) {
        const { batch, index } = parseId(hit.id);
        const expected = vectorOf(batch, index);
        if (!expected.every((value, i) => value === hit.vector![i]))
          problem(`query: ${hit.id} came with another record's vector`);
        const distance = Math.hypot(...expected.map((value, i) => value - vector[i]!));
        if (Math.abs(distance - hit.distance) > 1e-3 * Math.max(1, distance)) {
          problem(`query: ${hit.id} at distance ${hit.distance}; its vector is at ${distance}`);
        }
        if ((hit.metadata as { batch: number }).batch !== batch)
          problem(`query: ${hit.id} with another record's metadata`);
      }
    } else if (choice < 0.5) {
      calls.text++;
      // A text query for one batch's word sees the batch whole or not at all (FTS5 and the records
      // are read in the reader's one transaction); a hybrid one gives each hit its own text and vector.
      const batch = Math.floor(next() * 60);
      if (next() < 0.5) {
        const hits = docs.query({ text: `batch${batch}`, k: 1600 });
        if (hits.length !== 0 && hits.length !== sizeOf(batch))
          problem(`text query: batch ${batch} found ${hits.length} of ${sizeOf(batch)}`);
        for (const hit of hits) {
          const parsed = parseId(hit.id);
          if (parsed.batch !== batch || hit.text !== textOf(parsed.batch, parsed.index))
            problem(`text query: ${hit.id} came with the text ${JSON.stringify(hit.text)}`);
        }
      } else {
        const vector = vectorOf(batch, Math.floor(next() * 1000));
        for (const hit of docs.query({ vector, text: `batch${batch}`, k: 10, includeVectors: true })) {
          const { batch: own, index } = parseId(hit.id);
          if (hit.text !== textOf(own, index)) problem(`hybrid query: ${hit.id} came with another record's text`);
          if (!vectorOf(own, index).every((value, i) => value === hit.vector![i]))
            problem(`hybrid query: ${hit.id} came with another record's vector`);
        }
      }
    } else if (choice < 0.8) {
      calls.get++;
      const sizes = new Map<number, { seen: number; size: number }>();
      for (const record of docs.get({ filter: { kind: 'doc' } })) {
        const { batch, index } = parseId(record.id);
        if (!vectorOf(batch, index).every((value, i) => value === record.vector[i]))
          problem(`get: ${record.id} has another vector`);
        const size = (record.metadata as { size: number }).size;
        const entry = sizes.get(batch) ?? { seen: 0, size };
        entry.seen++;
        sizes.set(batch, entry);
      }
      for (const [batch, { seen, size }] of sizes) {
        if (seen !== size || size !== sizeOf(batch))
          problem(`get: batch ${batch} seen partially, ${seen} of ${sizeOf(batch)} records`);
      }
    } else {
      calls.count++;
      // A count sees a batch whole or not at all.
      const batch = Math.floor(next() * 60);
      const counted = docs.count({ filter: { batch } });
      if (counted !== 0 && counted !== sizeOf(batch))
        problem(`count: batch ${batch} counted ${counted} of ${sizeOf(batch)}`);
    }
  } catch (error) {
    problem(`${(error as { code?: string }).code ?? (error as Error).name}: ${(error as Error).message}`);
  }
}
db.close();
process.stdout.write(`${JSON.stringify({ calls, problems, warnings })}\n`);
