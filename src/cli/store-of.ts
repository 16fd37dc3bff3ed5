// The SQLite store behind a database that open() returned, for the commands that read below the
// public API (info's snapshot and codebook details, verify's record-by-record checks).
import { DatabaseImpl } from '../db.js';
import { QuiverError } from '../errors.js';
import type { Store } from '../storage/store.js';
import type { Database } from '../types.js';

/** The store of `db`. @throws QuiverError INTERNAL when `db` did not come from this package's open(). */
export function storeOf(db: Database): Store {
  if (!(db instanceof DatabaseImpl)) {
    throw new QuiverError('INTERNAL', 'the command line reads the store of a database that its own open() opened');
  }
  return db.store;
}
