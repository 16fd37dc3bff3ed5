// Migration 7: the change feed (one row per committed change, written in the same transaction as
// the records), the named consumers that hold it, and the database's id. See docs/scale-out.md.
export const migration0007 = `
-- One row per change, exactly as committed. seq rises without gaps (AUTOINCREMENT; a rolled-back
-- transaction takes its seqs back with it); rows are removed only from the oldest end.
--   op 'upsert': id, vector (little-endian float32), metadata (JSON), text (the record's, or NULL)
--   op 'delete': id
--   op 'update': id and the new metadata and/or text (no vector)
--   op 'create': settings (JSON: dim, metric, index, indexes, text)
--   op 'index':  settings (JSON: indexes, the metadata fields declared since)
--   op 'drop':   nothing more
CREATE TABLE changes (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  collection   TEXT NOT NULL,
  op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'update', 'create', 'index', 'drop')),
  id           TEXT,
  vector       BLOB,
  metadata     TEXT,
  text         TEXT,
  settings     TEXT,
  committed_at INTEGER NOT NULL      -- Unix time in milliseconds
);

-- A named cursor: every change up to and including seq has been handled by that consumer.
CREATE TABLE change_consumers (
  name       TEXT PRIMARY KEY,
  seq        INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- The database's identity: message ids of published changes are database_id:seq.
INSERT OR IGNORE INTO meta(key, value) VALUES ('database_id', lower(hex(randomblob(16))));
`;
