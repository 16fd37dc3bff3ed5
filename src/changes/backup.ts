// db.backup: a consistent copy of a live database in a new directory — SQLite's online backup of
// quiver.sqlite, then the index snapshot files its manifest names (with an int8 graph's float-vector
// file beside its snapshot). The copy is written as
// quiver.sqlite.partial and renamed last, so a directory holding quiver.sqlite is a whole backup.
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { QuiverError, toQuiverError } from '../errors.js';
import { vectorFileOf } from '../index/vector-file.js';
import { Store } from '../storage/store.js';
import type { BackupResult } from '../types.js';

const SQLITE_FILE = 'quiver.sqlite';

/** Copies the database at `source` (whose open store is `store`) into the new directory `target`. */
export async function backupDatabase(store: Store, source: string, target: string): Promise<BackupResult> {
  if (typeof target !== 'string' || target.length === 0) {
    throw new QuiverError('INVALID_ARGUMENT', 'backup() needs the path of a new or empty directory');
  }
  const directory = resolve(target);
  if (directory === resolve(source)) {
    throw new QuiverError('INVALID_ARGUMENT', `cannot back up ${source} into itself; give another directory`);
  }
  try {
    if (existsSync(directory)) {
      if (!statSync(directory).isDirectory()) {
        throw new QuiverError('INVALID_ARGUMENT', `${directory} is a file; backup() writes a new directory`);
      }
      if (readdirSync(directory).length > 0) {
        throw new QuiverError('INVALID_ARGUMENT', `${directory} is not empty; back up into a new or empty directory`);
      }
    }
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw toQuiverError(error, `preparing the backup directory ${directory}`);
  }
  const partial = join(directory, `${SQLITE_FILE}.partial`);
  await store.backupTo(partial);
  try {
    // From here on everything is synchronous: no write of this process can slip in between the end
    // of the SQLite copy and the copies of the snapshot files it names (file names carry their seq).
    const copy = Store.open(partial, { durability: 'full', readOnly: false });
    let snapshots = 0;
    let bytes = statSync(partial).size;
    let changeSeq: number;
    try {
      changeSeq = copy.changes.lastSeq();
      for (const row of copy.listCollections()) {
        const file = copy.manifest(row.id)?.file;
        if (file === undefined || file === '') continue;
        const from = join(source, file);
        // A snapshot replaced by another process meanwhile is left out: open() rebuilds that
        // index from the records, with a SNAPSHOT_MISSING warning.
        if (!existsSync(from)) continue;
        const to = join(directory, file);
        mkdirSync(dirname(to), { recursive: true });
        const copyFile = (original: string, copied: string): void => {
          copyFileSync(original, copied);
          syncFile(copied);
          bytes += statSync(copied).size;
        };
        // An int8 graph's float-vector file (a backup without it would still answer, from the records).
        if (existsSync(vectorFileOf(from))) copyFile(vectorFileOf(from), vectorFileOf(to));
        copyFile(from, to);
        syncFile(dirname(to));
        snapshots++;
      }
    } finally {
      copy.close();
    }
    syncFile(partial);
    renameSync(partial, join(directory, SQLITE_FILE));
    syncFile(directory);
    return { path: directory, changeSeq, snapshots, bytes };
  } catch (error) {
    throw toQuiverError(error, `backing up ${source} to ${directory}`);
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
