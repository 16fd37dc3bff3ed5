// Migration 9: the records table rebuilt for the query path. Its rowid becomes `key` = collection id ×
// 2^31 + label (src/storage/record-key.ts), so a query hit is one point read of the table's b-tree
// instead of a search of the (collection_id, label) index and then a rowid lookup; the vector moves to
// the last column (columns added by migrations 5 and 6 sat after it, so reading them could walk the
// vector's overflow pages); head_checksum (src/storage/record-checksum.ts) lets a hit be verified without
// reading its vector. An applied migration never changes.
import type Database from 'better-sqlite3';
import { recordChecksum, recordHeadChecksum } from '../record-checksum.js';

export const migration0009 = `
CREATE TABLE records_keyed (
  key           INTEGER PRIMARY KEY,  -- collection_id * 2^31 + label: the rowid
  id            TEXT NOT NULL,
  label         INTEGER NOT NULL,
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  head_checksum INTEGER,              -- CRC-32 over label, id, metadata and text (NULL until computed)
  metadata      TEXT NOT NULL DEFAULT '{}',
  text          TEXT,
  checksum      INTEGER,              -- CRC-32 over label, id, vector, metadata and text
  vector        BLOB NOT NULL,        -- last: reading the columns before it never touches its overflow pages
  UNIQUE (collection_id, id),
  UNIQUE (collection_id, label)
);
-- A label that no record may hold (damage; open reports it CORRUPT) gets a rowid of SQLite's choosing.
INSERT INTO records_keyed (key, id, label, collection_id, metadata, text, checksum, vector)
  SELECT CASE WHEN typeof(label) = 'integer' AND label >= 0 AND label < 2147483647
              THEN collection_id * 2147483648 + label END,
         id, label, collection_id, metadata, text, checksum, vector
  FROM records ORDER BY collection_id, label;
`;

/** Rows per UPDATE pass, so that a large database is upgraded without holding every row in memory. */
const UPGRADE_PAGE = 4096;

/**
 * The upgrade steps SQL cannot do, inside the migration's transaction: the declared metadata-field
 * indexes (expression indexes on the old table, whose SQL only sqlite_master keeps) are recreated on
 * the new table, which then takes the old one's name; the head checksum of every record is computed,
 * except for one whose columns have the wrong types or whose full checksum does not match (it keeps
 * NULL: reading it is CORRUPT, where a head checksum of its damaged bytes would let a query return it); and
 * SQLite's planner statistics are rebuilt when the old table had some.
 */
export function keyRecords(db: Database.Database): void {
  const fieldIndexes = db
    .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL")
    .pluck()
    .all() as string[];
  const analyzed =
    db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").pluck().get() === 1 &&
    db.prepare("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'records'").pluck().get() !== 0;
  db.exec('DROP TABLE records; ALTER TABLE records_keyed RENAME TO records');
  for (const sql of fieldIndexes) db.exec(sql);

  const page = db.prepare(
    'SELECT key, label, id, metadata, text, vector, checksum FROM records WHERE key > ? ORDER BY key LIMIT ?',
  );
  const update = db.prepare('UPDATE records SET head_checksum = ? WHERE key = ?');
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = page.all(after, UPGRADE_PAGE) as {
      key: number;
      label: unknown;
      id: unknown;
      metadata: unknown;
      text: unknown;
      vector: unknown;
      checksum: unknown;
    }[];
    if (rows.length === 0) break;
    for (const { key, label, id, metadata, text, vector, checksum } of rows) {
      if (typeof label !== 'number' || typeof id !== 'string' || typeof metadata !== 'string') continue;
      if ((text !== null && typeof text !== 'string') || !(vector instanceof Uint8Array)) continue;
      if (recordChecksum({ label, id, vector, metadata, text }) !== checksum) continue;
      update.run(recordHeadChecksum({ label, id, metadata, text }), key);
    }
    after = rows[rows.length - 1]!.key;
  }
  if (analyzed) db.exec('ANALYZE records');
}
