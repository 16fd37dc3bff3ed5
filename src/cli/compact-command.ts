// `quiver compact DB`: rebuilds every collection's index without deleted records, snapshots it, and
// rewrites the SQLite file without free pages. Imports src/db.ts and the CLI's modules.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../index.js';
import { formatBytes, type Output } from './output.js';
import { type Parsed, parse, positionals } from './usage.js';

export const COMPACT_HELP = `Usage: quiver compact DB [options]

Rebuilds the index of every collection of the database directory DB from its live records
(dropping the space of deleted ones), snapshots it, and rewrites quiver.sqlite without free
pages. Needs the writer lock: fails with LOCKED while another process writes.

Options:
  --json        print the result as JSON
  -q, --quiet   no notes
  -h, --help    this help

Exit status: 0 ok, 1 it failed, 2 bad usage.`;

export function compactArguments(argv: readonly string[]): Parsed {
  return parse(argv, {});
}

/** Bytes of every file under `directory`. */
export function directoryBytes(directory: string): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

export async function runCompact(parsed: Parsed, output: Output): Promise<number> {
  const [database] = positionals(parsed, ['DB']) as [string];
  const db = open(database, { readOnly: true });
  const path = db.path;
  db.close();
  const before = directoryBytes(path);
  const started = performance.now();
  const writer = open(path, { onWarning: output.warning });
  const collections = writer.listCollections().map(({ name, count }) => ({ name, count }));
  try {
    writer.compact();
  } finally {
    writer.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const after = directoryBytes(path);
  output.result({ database: path, collections, bytesBefore: before, bytesAfter: after, seconds }, () => [
    `compacted ${collections.length} collections of ${path} in ${seconds.toFixed(2)} s: ` +
      `${formatBytes(before)} → ${formatBytes(after)} on disk`,
  ]);
  return 0;
}
