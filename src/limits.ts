// The size limits of QuiverDB's inputs, shared by validation (schema.ts) and the readers of stored
// data (storage/). Imports nothing.

/** Largest k a query may ask for. */
export const MAX_K = 10_000;
/** Longest id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;
/** Largest dimension a collection may have. */
export const MAX_DIM = 65_536;
/** Longest text of a record or a query, in UTF-8 bytes (1 MiB): passages, not whole books. */
export const MAX_TEXT_BYTES = 1_048_576;
