// The rowid of a record (records.key, migration 9): collection id × 2^31 + label, so that the records
// of a collection are one contiguous rowid range in label order and a record is one point read. Exact
// in a double while the collection id is below 2^22 (key < 2^53); labels are below 2^31 (LABEL_LIMIT).

/** Labels per collection in the key space: 2^31. */
const KEYS_PER_COLLECTION = 2 ** 31;

/** Largest collection id whose keys stay exact doubles. */
export const MAX_KEYED_COLLECTION_ID = 2 ** 22 - 1;

/**
 * The rowid of the record under `label` in collection `collectionId`.
 * @example
 * recordKey(1, 5); // 2147483653
 */
export function recordKey(collectionId: number, label: number): number {
  return collectionId * KEYS_PER_COLLECTION + label;
}
