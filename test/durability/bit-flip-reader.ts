// Child process of the bit-flip test: reads every record of a damaged copy through the public API and
// compares it with what was written (argv[3], a JSON file); then runs `quiver verify` on the copy.
// Prints one JSON line: how many records read back the same, were refused as CORRUPT, or came back
// different or missing without an error; other errors; and verify's exit status.
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';
import { open } from '../../src/index.js';

const [directory, expectedFile] = process.argv.slice(2) as [string, string];
const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<
  string,
  { vector: number[]; metadata: unknown }
>;
const summary = { same: 0, corrupt: 0, silentlyWrong: [] as string[], errors: [] as string[], verifyStatus: -1 };
const codeOf = (error: unknown) =>
  (error as { name?: string }).name === 'QuiverError' ? (error as { code: string }).code : `raw ${String(error)}`;
try {
  const db = open(directory, { readOnly: true, onWarning: () => {} });
  const docs = db.collection('docs');
  for (const [id, record] of Object.entries(expected)) {
    try {
      const found = docs.get(id);
      const same =
        found !== undefined &&
        found.id === id &&
        record.vector.every((value, i) => value === found.vector[i]) &&
        JSON.stringify(found.metadata) === JSON.stringify(record.metadata);
      if (same) summary.same++;
      else summary.silentlyWrong.push(id);
    } catch (error) {
      if (codeOf(error) === 'CORRUPT') summary.corrupt++;
      else summary.errors.push(`${id}: ${codeOf(error)}`);
    }
  }
  try {
    const all = docs.get({ filter: {} });
    if (all.length !== Object.keys(expected).length) summary.silentlyWrong.push(`get-all: ${all.length} records`);
  } catch (error) {
    if (codeOf(error) !== 'CORRUPT') summary.errors.push(`get-all: ${codeOf(error)}`);
  }
  db.close();
} catch (error) {
  if (codeOf(error) === 'CORRUPT') summary.corrupt++;
  else summary.errors.push(`open: ${codeOf(error)}`);
}
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (() => true) as typeof process.stdout.write; // verify's own report is not needed
summary.verifyStatus = await main(['verify', directory, '--json', '--quiet']);
process.stdout.write = write;
process.stdout.write(`\n${JSON.stringify(summary)}\n`);
