// A collection's stored settings as Arrow schema metadata: written by every export, read back by
// `quiver import` to create the collection as it was. Imports src/errors, src/schema, src/types and
// ./conventions only. Keys: quiverdb.dim, quiverdb.metric (text), quiverdb.index, quiverdb.indexes,
// quiverdb.text (JSON); files from before the last three, or from other tools, carry some or none.
import { QuiverError } from '../errors.js';
import type { Metric } from '../schema.js';
import type { IndexOptions, IndexSettings, TextSettings } from '../types.js';
import { SCHEMA_DIM, SCHEMA_INDEX, SCHEMA_INDEXES, SCHEMA_METRIC, SCHEMA_TEXT } from './conventions.js';

/** Everything `db.collection()` accepts that a collection stores, as an export carries it. */
export interface ExportedSettings {
  readonly dim: number;
  readonly metric: Metric;
  readonly index: IndexSettings;
  /** Declared metadata field indexes (dotted paths). */
  readonly indexes: readonly string[];
  readonly text: TextSettings | undefined;
}

/** The settings a file announces, each absent when the file does not carry it. */
export interface AnnouncedSettings {
  dim?: number;
  metric?: Metric;
  index?: IndexOptions;
  indexes?: string[];
  text?: TextSettings;
}

const METRICS: readonly string[] = ['l2', 'cosine', 'ip'];
const TOKENIZERS: readonly string[] = ['porter', 'unicode61', 'trigram'];

/**
 * The schema metadata entries that carry a collection's settings (`quiverdb.text` only when it has
 * full text).
 *
 * @example
 * settingsMetadata({ dim: 3, metric: 'l2', index: { type: 'flat' }, indexes: ['lang'], text: undefined });
 * // [['quiverdb.dim', '3'], ['quiverdb.metric', 'l2'], ['quiverdb.index', '{"type":"flat"}'], ['quiverdb.indexes', '["lang"]']]
 */
export function settingsMetadata(settings: ExportedSettings): [string, string][] {
  const entries: [string, string][] = [
    [SCHEMA_DIM, String(settings.dim)],
    [SCHEMA_METRIC, settings.metric],
    [SCHEMA_INDEX, JSON.stringify(settings.index)],
    [SCHEMA_INDEXES, JSON.stringify(settings.indexes)],
  ];
  if (settings.text !== undefined) {
    entries.push([
      SCHEMA_TEXT,
      JSON.stringify({ tokenizer: settings.text.tokenizer, removeDiacritics: settings.text.removeDiacritics }),
    ]);
  }
  return entries;
}

/**
 * Reads the settings a file's schema metadata carries. Keys that are absent are left out; a key that
 * is present but malformed is an error, so that an import never creates a collection unlike the source.
 *
 * @example
 * readSettings(schema.metadata, 'docs.arrow'); // { dim: 384, metric: 'cosine', index: { type: 'hnsw', m: 16, … }, indexes: ['lang'] }
 * @throws QuiverError CORRUPT when a quiverdb.* settings entry is not what an export writes.
 */
export function readSettings(metadata: ReadonlyMap<string, string>, file: string): AnnouncedSettings {
  const bad = (key: string, value: string, expected: string): QuiverError =>
    new QuiverError(
      'CORRUPT',
      `${file} has schema metadata ${key} = ${JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)}; expected ${expected}. Export the collection again, or give the settings as options`,
    );
  const settings: AnnouncedSettings = {};

  const dim = metadata.get(SCHEMA_DIM);
  if (dim !== undefined) {
    if (!/^[1-9][0-9]{0,8}$/.test(dim)) throw bad(SCHEMA_DIM, dim, 'a positive integer');
    settings.dim = Number(dim);
  }
  const metric = metadata.get(SCHEMA_METRIC);
  if (metric !== undefined) {
    if (!METRICS.includes(metric)) throw bad(SCHEMA_METRIC, metric, 'l2, cosine or ip');
    settings.metric = metric as Metric;
  }

  const index = metadata.get(SCHEMA_INDEX);
  if (index !== undefined) {
    const parsed = indexOptionsOf(parseJson(index));
    if (parsed === undefined) {
      throw bad(SCHEMA_INDEX, index, 'a JSON object like {"type":"hnsw","m":16,"efConstruction":200,"ef":64}');
    }
    settings.index = parsed;
  }

  const indexes = metadata.get(SCHEMA_INDEXES);
  if (indexes !== undefined) {
    const parsed = parseJson(indexes);
    if (!Array.isArray(parsed) || !parsed.every((field) => typeof field === 'string' && field.length > 0)) {
      throw bad(SCHEMA_INDEXES, indexes, 'a JSON array of field paths like ["lang","author.name"]');
    }
    settings.indexes = parsed as string[];
  }

  const text = metadata.get(SCHEMA_TEXT);
  if (text !== undefined) {
    const parsed = parseJson(text);
    const { tokenizer, removeDiacritics } = (isObject(parsed) ? parsed : {}) as Record<string, unknown>;
    if (
      !isObject(parsed) ||
      Object.keys(parsed).length !== 2 ||
      typeof tokenizer !== 'string' ||
      !TOKENIZERS.includes(tokenizer) ||
      typeof removeDiacritics !== 'boolean'
    ) {
      throw bad(SCHEMA_TEXT, text, 'a JSON object like {"tokenizer":"porter","removeDiacritics":true}');
    }
    settings.text = { tokenizer: tokenizer as TextSettings['tokenizer'], removeDiacritics };
  }
  return settings;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Index settings as an export writes them, back as the options that create the same index; else undefined. */
function indexOptionsOf(value: unknown): IndexOptions | undefined {
  if (!isObject(value)) return undefined;
  // The numeric parameters; `vectors` (hnsw's one text parameter) is read apart.
  const numbers = (allowed: readonly string[], required: readonly string[]): Record<string, number> | undefined => {
    const keys = Object.keys(value).filter((key) => key !== 'type' && key !== 'vectors');
    if (value.type !== 'hnsw' && 'vectors' in value) return undefined;
    if (keys.some((key) => !allowed.includes(key)) || required.some((key) => !keys.includes(key))) return undefined;
    // Ranges are checked by db.collection(), as for any options.
    if (keys.some((key) => typeof value[key] !== 'number' || !Number.isFinite(value[key]))) return undefined;
    return Object.fromEntries(keys.map((key) => [key, value[key] as number]));
  };
  switch (value.type) {
    case 'flat':
      return numbers([], []) === undefined ? undefined : { type: 'flat' };
    case 'hnsw': {
      const vectors = value.vectors;
      if (vectors !== undefined && vectors !== 'float32' && vectors !== 'int8') return undefined;
      const parameters = numbers(['m', 'efConstruction', 'ef', 'rerank'], ['m', 'efConstruction', 'ef']);
      if (parameters === undefined) return undefined;
      return { type: 'hnsw', ...parameters, ...(vectors === undefined ? {} : { vectors }) };
    }
    case 'ivfpq': {
      const parameters = numbers(['nlist', 'm', 'nprobe', 'rerank', 'targetRecall'], ['nlist', 'm']);
      return parameters === undefined ? undefined : { type: 'ivfpq', ...parameters };
    }
    default:
      return undefined;
  }
}
