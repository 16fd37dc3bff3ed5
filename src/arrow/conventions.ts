// The column conventions QuiverDB's Arrow files follow, shared by import and export: default
// column names and the field and schema metadata keys that make a round trip lossless.
// Imports nothing.

/** Default name of the id column. */
export const DEFAULT_ID_COLUMN = 'id';
/** Default name of the vector column. */
export const DEFAULT_VECTOR_COLUMN = 'vector';
/** Default name of the text column (a record's text: Utf8, null for none). */
export const DEFAULT_TEXT_COLUMN = 'text';

/**
 * Field metadata: the metadata key a column holds, when it differs from the column's name (a
 * metadata key named like the id or vector column is exported as `metadata.<key>`).
 */
export const FIELD_KEY = 'quiverdb.key';
/** Field metadata: 'json' marks a Utf8 column whose values are JSON texts (mixed or nested values). */
export const FIELD_ENCODING = 'quiverdb.encoding';
/**
 * Field metadata: what an Arrow null means in this column. 'missing': the record has no such key;
 * 'null': the key holds JSON null. Columns without it (files from other tools) read nulls as JSON null.
 */
export const FIELD_NULL = 'quiverdb.null';

/** Schema metadata written on export: the collection's name, dim and metric. */
export const SCHEMA_COLLECTION = 'quiverdb.collection';
export const SCHEMA_DIM = 'quiverdb.dim';
export const SCHEMA_METRIC = 'quiverdb.metric';
/** Schema metadata written on export: the index kind and its parameters, as JSON (CollectionInfo.index). */
export const SCHEMA_INDEX = 'quiverdb.index';
/** Schema metadata written on export: the declared metadata field indexes, as a JSON array of paths. */
export const SCHEMA_INDEXES = 'quiverdb.indexes';
/** Schema metadata written on export by collections with full text: the text settings, as JSON. */
export const SCHEMA_TEXT = 'quiverdb.text';
