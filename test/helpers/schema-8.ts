// Puts a database written by this QuiverDB back to the records layout of schema 8 (before migration 9
// keyed records by collection and label): the table of migration 1 with text and checksum appended by
// migrations 5 and 6, no head checksum, rowids of SQLite's choosing. Field indexes (and migration 8's
// index of the records with text) are recreated on it.
import type Database from 'better-sqlite3';

/** Rewrites `records` as schema 8 had it and sets user_version 8. */
export function recordsAsSchema8(sqlite: Database.Database): void {
  const fieldIndexes = sqlite
    .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL")
    .pluck()
    .all() as string[];
  sqlite.exec(`
    CREATE TABLE records_8 (
      collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
      id            TEXT NOT NULL,
      label         INTEGER NOT NULL,
      metadata      TEXT NOT NULL DEFAULT '{}',
      vector        BLOB NOT NULL,
      UNIQUE (collection_id, id),
      UNIQUE (collection_id, label)
    );
    ALTER TABLE records_8 ADD COLUMN text TEXT;
    ALTER TABLE records_8 ADD COLUMN checksum INTEGER;
    -- Reversed, so that no rowid equals the key migration 9 gives the record.
    INSERT INTO records_8 (collection_id, id, label, metadata, vector, text, checksum)
      SELECT collection_id, id, label, metadata, vector, text, checksum FROM records ORDER BY key DESC;
    DROP TABLE records;
    ALTER TABLE records_8 RENAME TO records;
  `);
  for (const sql of fieldIndexes) sqlite.exec(sql);
  sqlite.pragma('user_version = 8');
}
