// The import suite's child process: one timed import in a new Node process, as `quiver import` makes.
//   node --import tsx bench/harness/import-child.ts <database> <file> <index JSON> <normal|full> <vectors>
// Prints the figures of importOnce as JSON on stdout. Public API of src/index.ts only.
import { open } from '../../src/index.js';
import { type ImportIndex, importOnce } from './import.js';

const [directory, file, indexJson, durability, vectorsText] = process.argv.slice(2);
if (!directory || !file || !indexJson || (durability !== 'normal' && durability !== 'full') || !vectorsText) {
  process.stderr.write('usage: import-child.ts <database> <file> <index JSON> <normal|full> <vectors>\n');
  process.exit(2);
}
const run = await importOnce(
  open,
  directory,
  file,
  JSON.parse(indexJson) as ImportIndex,
  durability,
  Number(vectorsText),
);
process.stdout.write(`${JSON.stringify(run)}\n`);
