// `quiver info DB`: collections, counts, index settings, sizes on disk, snapshot seq and log length,
// read from quiver.sqlite through a read-only open without loading any index. Imports src/db.ts, storage/.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseImpl, SQLITE_FILE } from '../db.js';
import type { IndexParams } from '../storage/store.js';
import { directoryBytes } from './compact-command.js';
import { formatBytes, formatCount, type Output } from './output.js';
import { type Parsed, parse, positionals } from './usage.js';

export const INFO_HELP = `Usage: quiver info DB [options]

Describes the database directory DB without changing it (a read-only open, no index loaded):
its format, files and sizes, and per collection the dim, metric, index settings, record count,
bytes of records, snapshot file and the seq it covers, and the log rows after it (what the next
open replays).

Options:
  --json        print as JSON
  -h, --help    this help

Exit status: 0 ok, 1 the database cannot be read, 2 bad usage.`;

export function infoArguments(argv: readonly string[]): Parsed {
  return parse(argv, {});
}

const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

export function describeIndex(index: IndexParams): string {
  return index.type === 'hnsw' ? `hnsw m=${index.m} efConstruction=${index.efConstruction} ef=${index.ef}` : 'flat';
}

export async function runInfo(parsed: Parsed, output: Output): Promise<number> {
  const [database] = positionals(parsed, ['DB']) as [string];
  const db = new DatabaseImpl(database, { readOnly: true });
  try {
    const store = db.store;
    const collections = store.listCollections().map((row) => {
      const manifest = store.manifest(row.id);
      const snapshotPath = manifest?.file ? join(db.path, manifest.file) : undefined;
      return {
        name: row.name,
        dim: row.dim,
        metric: row.metric,
        index: row.index,
        count: store.count(row.id),
        recordBytes: store.recordBytes(row.id),
        snapshot:
          manifest === undefined
            ? null
            : {
                file: manifest.file || null,
                seq: manifest.seq,
                bytes: snapshotPath === undefined ? 0 : size(snapshotPath),
              },
        logLength: store.logLength(row.id, manifest?.seq ?? 0),
        createdAt: new Date(row.createdAt).toISOString(),
      };
    });
    const files = {
      sqlite: size(join(db.path, SQLITE_FILE)),
      wal: size(join(db.path, `${SQLITE_FILE}-wal`)),
      total: directoryBytes(db.path),
    };
    const document = {
      path: db.path,
      formatVersion: Number(store.meta('format_version')),
      createdAt: new Date(Number(store.meta('created_at'))).toISOString(),
      lastSeq: store.lastSeq(),
      files,
      collections,
    };
    output.result(document, () => [
      `${db.path}: format ${document.formatVersion}, ${formatBytes(files.total)} on disk ` +
        `(quiver.sqlite ${formatBytes(files.sqlite)}, wal ${formatBytes(files.wal)}), last seq ${document.lastSeq}`,
      ...(collections.length === 0 ? ['no collections'] : []),
      ...collections.map(
        (c) =>
          `  ${c.name}: ${formatCount(c.count)} records, dim ${c.dim}, ${c.metric}, ${describeIndex(c.index)}, ` +
          `${formatBytes(c.recordBytes)} of records; ` +
          (c.snapshot === null
            ? 'no snapshot'
            : c.snapshot.file === null
              ? `log truncated at seq ${c.snapshot.seq}`
              : `snapshot ${c.snapshot.file} (${formatBytes(c.snapshot.bytes)}) at seq ${c.snapshot.seq}`) +
          `; ${formatCount(c.logLength)} log rows after it`,
      ),
    ]);
    return 0;
  } finally {
    db.close();
  }
}
