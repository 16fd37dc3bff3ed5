// Migration 1: the first schema. An applied migration never changes; add a new numbered file.
export const migration0001 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE collections (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  dim          INTEGER NOT NULL,
  metric       TEXT NOT NULL,
  index_type   TEXT NOT NULL,
  index_params TEXT NOT NULL,        -- JSON: the index's fixed parameters
  created_at   INTEGER NOT NULL      -- Unix time in milliseconds
);

-- One row per live record. label is the dense integer the ANN index knows the record by;
-- labels of deleted records are reused. vector is little-endian float32, dim * 4 bytes,
-- exactly as the user gave it (cosine normalisation happens in the index). vector is the last
-- column so that reading id and metadata for query results never touches its overflow pages.
CREATE TABLE records (
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  id            TEXT NOT NULL,
  label         INTEGER NOT NULL,
  metadata      TEXT NOT NULL DEFAULT '{}',
  vector        BLOB NOT NULL,
  UNIQUE (collection_id, id),
  UNIQUE (collection_id, label)
);

-- The write-ahead log of the derived indexes: one row per change, appended in the same
-- transaction as the change to records. An index snapshot covers the log up to a seq.
CREATE TABLE oplog (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id INTEGER NOT NULL,
  op            TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  label         INTEGER NOT NULL
);
CREATE INDEX oplog_collection ON oplog(collection_id, seq);
`;
