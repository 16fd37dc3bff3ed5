// The ordered list of SQL migrations. PRAGMA user_version records how many have been applied.
import type Database from 'better-sqlite3';
import { migration0001 } from './0001-initial.js';
import { migration0002 } from './0002-snapshots.js';
import { migration0003 } from './0003-indexed-fields.js';
import { migration0004 } from './0004-ivfpq.js';
import { migration0005 } from './0005-text.js';
import { computeRecordChecksums, migration0006 } from './0006-record-checksums.js';
import { migration0007 } from './0007-changes.js';
import { migration0008 } from './0008-records-with-text.js';
import { keyRecords, migration0009 } from './0009-keyed-records.js';

/** Migration n (1-based) is `migrations[n - 1]`. Append only. */
export const migrations: readonly string[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
];

/** Named upgrade steps in TypeScript, run right after the SQL of the migration with their number. */
export const upgrades: ReadonlyMap<number, (db: Database.Database) => void> = new Map([
  [6, computeRecordChecksums],
  [9, keyRecords],
]);
