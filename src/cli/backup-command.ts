// `quiver backup DB DEST` and `quiver restore BACKUP DEST`: a consistent copy of a database (see
// src/changes/backup.ts) and its restoration into a new directory, checked by opening it.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SQLITE_FILE } from '../db.js';
import { QuiverError } from '../errors.js';
import { open } from '../index.js';
import { formatBytes, type Output } from './output.js';
import { type Parsed, parse, positionals } from './usage.js';

export const BACKUP_HELP = `Usage: quiver backup DB DEST [options]

Writes a consistent copy of the database directory DB into the new (or empty) directory DEST:
SQLite's online backup of quiver.sqlite, then the index snapshots it names. Runs beside a
writer in another process (a commit of another process restarts SQLite's copy; the copy ends
as of one commit). 'quiver restore' or open() read the copy as it is.

Options:
  --json        print the result as JSON
  -h, --help    this help

Exit status: 0 ok, 1 it failed, 2 bad usage.`;

export const RESTORE_HELP = `Usage: quiver restore BACKUP DEST [options]

Copies the backup directory BACKUP (written by 'quiver backup' or db.backup) into the new (or
empty) directory DEST and opens it to check that it reads.

Options:
  --json        print the result as JSON
  -h, --help    this help

Exit status: 0 ok, 1 it failed, 2 bad usage.`;

export function backupArguments(argv: readonly string[]): Parsed {
  return parse(argv, {});
}

export const restoreArguments = backupArguments;

export async function runBackup(parsed: Parsed, output: Output): Promise<number> {
  const [database, target] = positionals(parsed, ['DB', 'DEST']) as [string, string];
  const db = open(database, { readOnly: true });
  try {
    const started = performance.now();
    const result = await db.backup(target);
    const seconds = (performance.now() - started) / 1000;
    output.result({ database: db.path, ...result, seconds }, () => [
      `backed up ${db.path} to ${result.path} at change seq ${result.changeSeq}: ${formatBytes(result.bytes)}, ` +
        `${result.snapshots} snapshot files, ${seconds.toFixed(2)} s`,
    ]);
    return 0;
  } finally {
    db.close();
  }
}

export async function runRestore(parsed: Parsed, output: Output): Promise<number> {
  const [backup, target] = positionals(parsed, ['BACKUP', 'DEST']) as [string, string];
  const source = resolve(backup);
  const destination = resolve(target);
  if (!existsSync(join(source, SQLITE_FILE))) {
    throw new QuiverError('NOT_FOUND', `${source} holds no backup (no ${SQLITE_FILE}); write one with 'quiver backup'`);
  }
  if (existsSync(destination) && readdirSync(destination).length > 0) {
    throw new QuiverError('INVALID_ARGUMENT', `${destination} is not empty; restore into a new or empty directory`);
  }
  cpSync(source, destination, { recursive: true });
  const db = open(destination, { onWarning: output.warning });
  try {
    const collections = db.listCollections().map(({ name, count }) => ({ name, count }));
    const changeSeq = db.changeSeq();
    output.result({ backup: source, database: destination, changeSeq, collections }, () => [
      `restored ${source} to ${destination}: ${collections.length} collections, change seq ${changeSeq}`,
    ]);
    return 0;
  } finally {
    db.close();
  }
}
