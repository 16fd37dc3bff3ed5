// The ordered list of SQL migrations. PRAGMA user_version records how many have been applied.
import { migration0001 } from './0001-initial.js';
import { migration0002 } from './0002-snapshots.js';
import { migration0003 } from './0003-indexed-fields.js';
import { migration0004 } from './0004-ivfpq.js';
import { migration0005 } from './0005-text.js';
import { migration0006 } from './0006-changes.js';

/** Migration n (1-based) is `migrations[n - 1]`. Append only. */
export const migrations: readonly string[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
];
