// `update`: replaces or merges the metadata and/or text of existing records in place, leaving their
// vectors (and so every ANN index) alone. Validates the whole call before anything is written, then
// rewrites each record with its new checksum, the full-text index and the change log in the caller's
// transaction. Must not import the collection class or anything of the derived indexes.
import type { ChangeRecorder } from '../changes/change-feed.js';
import { QuiverError } from '../errors.js';
import { describe, toId, toMetadataJson, toText } from '../schema.js';
import type { UpdateChangeRow } from '../storage/change-store.js';
import type { CompiledWhere, Store } from '../storage/store.js';
import { checkedRecord } from '../storage/stored-record.js';
import type { TextSearch } from '../text/text-search.js';

/** A validated update: which records, and what becomes of their metadata and text. */
export interface PreparedUpdate {
  /** The ids to update (unique), or undefined when a filter selects them. */
  readonly ids: readonly string[] | undefined;
  readonly where: CompiledWhere | undefined;
  /** The metadata given, parsed back from its validated JSON; undefined: metadata unchanged. */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** The new text; null removes it; undefined: text unchanged. */
  readonly text: string | null | undefined;
  /** true: metadata keys are merged into the stored ones (null removes a key); false: metadata replaces them. */
  readonly merge: boolean;
}

/** What an update writes through: the collection's store, change log and full-text index. */
export interface UpdateTarget {
  readonly store: Store;
  readonly collectionId: number;
  readonly name: string;
  readonly dim: number;
  readonly feed: ChangeRecorder;
  readonly textSearch: TextSearch | undefined;
}

const CHANGE_KEYS = new Set(['metadata', 'text']);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks `update(selection, changes, options)` whole; `compile` turns the filter into SQL (and
 * throws INVALID_FILTER). Nothing is read or written here.
 */
export function prepareUpdate(
  selection: unknown,
  changes: unknown,
  options: unknown,
  compile: (filter: unknown) => CompiledWhere,
): PreparedUpdate {
  if (!isObject(selection) || Object.keys(selection).length !== 1 || !('ids' in selection || 'filter' in selection)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `update's first argument is ${describe(selection)}; give { ids: [...] } or { filter: {...} }, one of the two`,
    );
  }
  let ids: string[] | undefined;
  let where: CompiledWhere | undefined;
  if ('ids' in selection) {
    if (!Array.isArray(selection.ids)) {
      throw new QuiverError('INVALID_ARGUMENT', `update.ids is ${describe(selection.ids)}; give an array of ids`);
    }
    ids = [...new Set((selection.ids as unknown[]).map((id, i) => toId(id, `update.ids[${i}]`)))];
  } else {
    where = compile(selection.filter);
  }
  if (!isObject(changes)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `update's second argument is ${describe(changes)}; give { metadata?, text? } with at least one of them`,
    );
  }
  for (const key of Object.keys(changes)) {
    if (!CHANGE_KEYS.has(key)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `update changes have an unknown field '${key}'; update sets metadata and text (vectors change by upsert)`,
      );
    }
  }
  if (changes.metadata === undefined && changes.text === undefined) {
    throw new QuiverError('INVALID_ARGUMENT', 'update changes give neither metadata nor text; give at least one');
  }
  const metadata =
    changes.metadata === undefined
      ? undefined
      : (JSON.parse(toMetadataJson(changes.metadata, 'update.metadata')) as Record<string, unknown>);
  const text = changes.text === undefined || changes.text === null ? changes.text : toText(changes.text, 'update.text');
  let merge = true;
  if (options !== undefined) {
    if (!isObject(options)) {
      throw new QuiverError('INVALID_ARGUMENT', `update options are ${describe(options)}; give { merge?: boolean }`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'merge') {
        throw new QuiverError('INVALID_ARGUMENT', `update options have an unknown field '${key}'; the option is merge`);
      }
    }
    if (options.merge !== undefined && typeof options.merge !== 'boolean') {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `update options.merge is ${describe(options.merge)}; give true or false`,
      );
    }
    merge = options.merge !== false;
  }
  return { ids, where, metadata, text, merge };
}

/**
 * The JSON text of `stored` with `patch` merged in at the top level: a key set to null is removed,
 * any other value replaces the stored one (objects are not merged deeper). Keys keep their order;
 * new keys come last. Built as text so that no key (`__proto__` included) is special.
 */
export function mergedMetadataJson(
  stored: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
): string {
  const merged = new Map<string, unknown>(Object.entries(stored));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, value);
  }
  const members: string[] = [];
  for (const [key, value] of merged) members.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  return `{${members.join(',')}}`;
}

/**
 * Applies a prepared update; call inside the write's transaction. Each record is read and checked
 * (a damaged one is CORRUPT, and the transaction rolls back), rewritten with its new checksum, its
 * text re-indexed when the text changes, and logged as an 'update' change. Returns the labels of
 * the records updated.
 */
export function applyUpdate(target: UpdateTarget, update: PreparedUpdate): readonly number[] {
  const { store, collectionId, name, dim } = target;
  const labels =
    update.ids !== undefined
      ? [...store.labelsOfIds(collectionId, update.ids).values()]
      : Array.from(store.labelsMatching(collectionId, update.where!));
  if (labels.length === 0) return labels;
  const rows = store.recordsByLabels(collectionId, labels, true);
  const replaced = update.metadata === undefined || update.merge ? undefined : JSON.stringify(update.metadata);
  const changes: UpdateChangeRow[] = [];
  for (const [index, label] of labels.entries()) {
    const row = rows[index];
    if (row === undefined) {
      throw new QuiverError('INTERNAL', `label ${label} of collection '${name}' has no record`);
    }
    const record = checkedRecord(row, dim, name);
    const metadata =
      update.metadata === undefined ? row.metadata : (replaced ?? mergedMetadataJson(record.metadata, update.metadata));
    const text = update.text === undefined ? (record.text ?? null) : update.text;
    store.rewriteFields(collectionId, row, metadata, text);
    if (update.text !== undefined) target.textSearch?.written(label, text, record.text !== undefined);
    changes.push({ id: record.id, metadata, text });
  }
  target.feed.updates(name, changes);
  return labels;
}
