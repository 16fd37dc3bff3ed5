// open()'s options and a collection's name checked without zod, so that opening a database and a
// collection (and querying it with queryIds) never loads zod: ~11 MB of resident memory and 100+ ms
// of a process's first open. As query-options.ts does for queries: anything the check does not take
// returns undefined and the caller runs the schema (src/schema.ts), which also words the error, so
// both give the same answer for every input. Imports only the types of schema.ts.
import type { z } from 'zod';
import type { SchemaOf } from './lazy-require.js';
import type { openOptionsSchema } from './schema.js';

/** open()'s options as its schema returns them. */
export type ParsedOpenOptions = z.infer<SchemaOf<typeof openOptionsSchema>>;

/** What each key of open()'s options may hold (every key of openOptionsSchema). */
const RULES: ReadonlyMap<string, (value: unknown) => boolean> = new Map<string, (value: unknown) => boolean>([
  ['durability', (value) => value === 'full' || value === 'normal'],
  ['readOnly', (value) => typeof value === 'boolean'],
  ['snapshotThreshold', (value) => Number.isSafeInteger(value) && (value as number) >= 1],
  ['onWarning', (value) => typeof value === 'function'],
  ['onProgress', (value) => typeof value === 'function'],
  ['threads', (value) => Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 256],
  ['addonPath', (value) => typeof value === 'string' && value.length > 0],
  ['sqliteAddonPath', (value) => typeof value === 'string' && value.length > 0],
]);

/**
 * `input` itself when it is an open() options object the fast check accepts (a plain object whose
 * keys are among the schema's, each undefined or valid), else undefined.
 * @example
 * const parsed = fastOpenOptions(options) ?? parseOrThrow(openOptionsSchema, options, 'options');
 */
export function fastOpenOptions(input: unknown): ParsedOpenOptions | undefined {
  if (input === null || typeof input !== 'object' || Object.getPrototypeOf(input) !== Object.prototype)
    return undefined;
  const options = input as Record<string, unknown>;
  for (const key in options) {
    const rule = RULES.get(key);
    if (rule === undefined) return undefined;
    const value = options[key];
    if (value !== undefined && !rule(value)) return undefined;
  }
  return input as ParsedOpenOptions;
}

/** The pattern of collectionNameSchema. */
const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * True when `input` is a valid collection name (collectionNameSchema would accept it); false leaves
 * the verdict and its wording to the schema.
 * @example
 * if (!isCollectionName(name)) parseOrThrow(collectionNameSchema, name, 'collection name');
 */
export function isCollectionName(input: unknown): input is string {
  return typeof input === 'string' && COLLECTION_NAME.test(input);
}
