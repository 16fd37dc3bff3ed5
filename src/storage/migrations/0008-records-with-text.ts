// Migration 8: an index of the records that have text, so that opening a collection counts them
// (to check its full-text index) from this index alone, without reading every record's row.
export const migration0008 = `
CREATE INDEX records_with_text ON records(collection_id) WHERE text IS NOT NULL;
`;
