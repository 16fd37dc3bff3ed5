// `npm run bench:micro [-- <name filter>…]`: runs every *.bench.ts in this folder in turn, each in
// its own Node process (so one benchmark's heap and native state never bleed into the next).
// Imports node built-ins and the machine line only; the benchmarks print their own tables.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine } from './micro-report.js';

const folder = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(folder)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();

console.log(`# QuiverDB micro-benchmarks\n\n${machineLine()}\n\nrunning: ${files.join(', ')}\n`);
const failed: string[] = [];
for (const name of files) {
  console.log(`## ${name}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(folder, name)], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed.push(name);
    console.log(`${name} failed (exit ${run.status ?? run.signal})\n`);
  }
}
if (failed.length > 0) console.log(`failed: ${failed.join(', ')}`);
process.exitCode = failed.length > 0 ? 1 : 0;
