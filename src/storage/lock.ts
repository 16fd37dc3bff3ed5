// The single-writer lock: `<database>/LOCK` is a tiny SQLite file that the writer opens in
// EXCLUSIVE locking mode and writes once, so it holds an OS file lock until it closes or its
// process dies (the OS then releases the lock: a dead holder never blocks the next writer).
// A second writer, in this process or another, fails at once with LOCKED.
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { QuiverError } from '../errors.js';
import { openSqlite } from '../native-loader.js';

export const LOCK_FILE = 'LOCK';

export interface WriterLock {
  release(): void;
}

/** Takes the writer lock of the database in `directory`, or throws LOCKED without waiting. */
export function acquireWriterLock(directory: string): WriterLock {
  const file = join(directory, LOCK_FILE);
  let handle: Database.Database | undefined;
  try {
    handle = openSqlite(file, { timeout: 0 });
    handle.pragma('locking_mode = EXCLUSIVE');
    handle.pragma('journal_mode = MEMORY');
    handle.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since INTEGER NOT NULL)');
    handle.prepare('DELETE FROM holder').run();
    handle.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, Date.now());
  } catch (error) {
    handle?.close();
    if (error instanceof QuiverError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new QuiverError(
        'LOCKED',
        `the database at ${directory} is open for writing elsewhere (in this or another process); ` +
          'close it there, or open this one with { readOnly: true }',
        { cause: error },
      );
    }
    throw new QuiverError('IO_ERROR', `cannot take the writer lock ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const held = handle;
  return {
    release: () => {
      if (held.open) held.close();
    },
  };
}
