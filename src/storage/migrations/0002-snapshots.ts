// Migration 2: the manifest of index snapshots, one row per collection that has one.
export const migration0002 = `
CREATE TABLE manifest (
  collection_id INTEGER PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
  file          TEXT NOT NULL,      -- path relative to the database directory
  seq           INTEGER NOT NULL,   -- the snapshot covers the oplog up to and including seq
  checksum      INTEGER NOT NULL,   -- CRC-32 of the snapshot's payload, as in its header
  params        TEXT NOT NULL,      -- JSON: index type and parameters the graph was built with
  created_at    INTEGER NOT NULL
);
`;
