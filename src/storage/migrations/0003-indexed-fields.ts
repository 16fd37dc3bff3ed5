// Migration 3: the metadata fields a collection declared as indexed (a JSON array of dotted paths).
export const migration0003 = `
ALTER TABLE collections ADD COLUMN indexed_fields TEXT NOT NULL DEFAULT '[]';
`;
