// Migration 4: the persisted state of IVF-PQ indexes — codebook and codes, with the log seq they cover.
export const migration0004 = `
CREATE TABLE ivfpq_codebooks (
  collection_id INTEGER PRIMARY KEY REFERENCES collections(id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,   -- the codes cover the oplog up to and including seq
  params        TEXT NOT NULL,      -- JSON: the index parameters they were trained with
  codebook      BLOB NOT NULL       -- src/quant/codebook-format.ts: PQ + coarse centroids, CRC-32
);

-- The codes in chunks (src/index/ivfpq-codes-format.ts: labels, lists, codes, CRC-32), numbered from 0.
CREATE TABLE ivfpq_codes (
  collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  chunk         INTEGER NOT NULL,
  data          BLOB NOT NULL,
  PRIMARY KEY (collection_id, chunk)
);
`;
