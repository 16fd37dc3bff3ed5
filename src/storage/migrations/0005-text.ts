// Migration 5: text on records, and the full-text settings of collections that index it.
// A collection's FTS5 table (records_text_<collection id>) is created when it declares `text`.
export const migration0005 = `
-- A record's text: UTF-8, at most MAX_TEXT_BYTES (src/schema.ts), or NULL for none.
ALTER TABLE records ADD COLUMN text TEXT;
-- JSON {"tokenizer": "porter" | "unicode61" | "trigram", "removeDiacritics": bool}, or NULL when
-- the collection keeps no full-text index.
ALTER TABLE collections ADD COLUMN text_settings TEXT;
`;
