// Reading records in id order: `get({ filter, limit, offset })` and the keyset cursor of `page({
// filter, limit, after })`, which stays stable while the collection changes (each page starts after
// the last id of the one before). Validates the options, then reads through the store in chunks.
// Must not import the collection class or anything of the derived indexes.
import { QuiverError } from '../errors.js';
import { describe, toId } from '../schema.js';
import type { CompiledWhere, Store, StoredRecord } from '../storage/store.js';

/** Records a `page` call returns when given no limit, and the most it may ask for. */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 10_000;
/** Records read per SQL statement by a `get` that asks for many. */
const CHUNK = 1000;

/** Validated `get({ filter?, limit?, offset? })`. */
export interface RecordRange {
  readonly where: CompiledWhere | undefined;
  /** Infinity: every matching record. */
  readonly limit: number;
  readonly offset: number;
}

/** Validated `page({ filter?, limit?, after? })`. */
export interface PageRequest {
  readonly where: CompiledWhere | undefined;
  readonly limit: number;
  readonly after: string | undefined;
}

function checkKeys(options: unknown, keys: readonly string[], method: string): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${method} options are ${describe(options)}; give { ${keys.join(', ')} }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      throw new QuiverError('INVALID_ARGUMENT', `${method} has no option '${key}'; its options are ${keys.join(', ')}`);
    }
  }
  return options as Record<string, unknown>;
}

function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${name} is ${describe(value)}; give an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`,
    );
  }
  return value;
}

/** `compile` turns a filter into SQL, or undefined for one that matches everything (and throws INVALID_FILTER). */
export type CompileFilter = (filter: unknown) => CompiledWhere | undefined;

export function parseRange(options: unknown, compile: CompileFilter): RecordRange {
  const given = checkKeys(options, ['filter', 'limit', 'offset'], 'get');
  const limit =
    given.limit === undefined
      ? Number.POSITIVE_INFINITY
      : checkInteger(given.limit, 'get.limit', 1, Number.MAX_SAFE_INTEGER);
  const offset = given.offset === undefined ? 0 : checkInteger(given.offset, 'get.offset', 0, Number.MAX_SAFE_INTEGER);
  return { where: compile(given.filter), limit, offset };
}

export function parsePage(options: unknown, compile: CompileFilter): PageRequest {
  const given = options === undefined ? {} : checkKeys(options, ['filter', 'limit', 'after'], 'page');
  const limit =
    given.limit === undefined ? DEFAULT_PAGE_LIMIT : checkInteger(given.limit, 'page.limit', 1, MAX_PAGE_LIMIT);
  const after = given.after === undefined ? undefined : toId(given.after, 'page.after');
  return { where: compile(given.filter), limit, after };
}

/** The records of a range in id order, read `CHUNK` at a time; `toRecord` checks each. */
export function readRange<T>(
  store: Store,
  collectionId: number,
  range: RecordRange,
  toRecord: (row: StoredRecord) => T,
): T[] {
  const found: T[] = [];
  let after: string | undefined;
  let offset = range.offset;
  while (found.length < range.limit) {
    const rows = store.recordsAfterId(
      collectionId,
      after,
      Math.min(CHUNK, range.limit - found.length),
      offset,
      range.where,
    );
    for (const row of rows) found.push(toRecord(row));
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    offset = 0;
  }
  return found;
}

/** One page: up to `limit` records after the cursor, and the cursor of the next page (undefined: none left). */
export function readPage<T>(
  store: Store,
  collectionId: number,
  request: PageRequest,
  toRecord: (row: StoredRecord) => T,
): { records: T[]; next: string | undefined } {
  // One more than asked tells whether another page follows, without a second statement.
  const rows = store.recordsAfterId(collectionId, request.after, request.limit + 1, 0, request.where);
  const more = rows.length > request.limit;
  const page = more ? rows.slice(0, request.limit) : rows;
  return { records: page.map(toRecord), next: more ? page[page.length - 1]!.id : undefined };
}
