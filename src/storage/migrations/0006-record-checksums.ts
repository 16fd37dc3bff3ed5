// Migration 6: a checksum per record (src/storage/record-checksum.ts), NULL until the named upgrade
// below computes it for the rows written before this migration. An applied migration never changes.
import type Database from 'better-sqlite3';
import { recordChecksum } from '../record-checksum.js';

export const migration0006 = `
ALTER TABLE records ADD COLUMN checksum INTEGER;
`;

/** Rows per UPDATE pass, so that a large database is upgraded without holding every row in memory. */
const UPGRADE_PAGE = 4096;

/**
 * The upgrade step SQL cannot do: computes the checksum of every record that has none (over its label,
 * id, vector, metadata and text), inside the migration's transaction. A record already damaged gets the
 * checksum of its damaged bytes (a checksum cannot tell what was written before it existed); one whose
 * columns have the wrong types keeps NULL.
 */
export function computeRecordChecksums(db: Database.Database): void {
  const page = db.prepare(
    'SELECT rowid, label, id, vector, metadata, text FROM records WHERE checksum IS NULL AND rowid > ? ORDER BY rowid LIMIT ?',
  );
  const update = db.prepare('UPDATE records SET checksum = ? WHERE rowid = ?');
  let after = -1;
  for (;;) {
    const rows = page.all(after, UPGRADE_PAGE) as {
      rowid: number;
      label: unknown;
      id: unknown;
      vector: unknown;
      metadata: unknown;
      text: unknown;
    }[];
    if (rows.length === 0) return;
    for (const { rowid, label, id, vector, metadata, text } of rows) {
      // A row whose columns have the wrong types keeps no checksum: reading it is CORRUPT.
      if (typeof label !== 'number' || typeof id !== 'string' || typeof metadata !== 'string') continue;
      if (!(vector instanceof Uint8Array)) continue;
      if (text !== null && typeof text !== 'string') continue;
      update.run(recordChecksum({ label, id, vector, metadata, text }), rowid);
    }
    after = rows[rows.length - 1]!.rowid;
  }
}
