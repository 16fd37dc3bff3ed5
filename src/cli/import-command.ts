// `quiver import DB COLLECTION FILE`: Arrow IPC (.arrow/.arrows) through upsertArrow, TEXMEX
// (.fvecs/.bvecs) in batches with row numbers as ids; creates the collection when missing and
// reports the import rate. Imports src/db.ts, src/arrow and the CLI's own modules.
import { INDEX_TYPES, type IndexType, indexKind } from '../index/registry.js';
import { arrow } from '../lazy-require.js';
import { type AnnouncedSettings, readIpcSchema, readSettings } from '../arrow/index.js';
import { QuiverError, toQuiverError } from '../errors.js';
import { parseFieldPath } from '../filter/index.js';
import { indexOptionsSchema } from '../index-options.js';
import { open } from '../index.js';
import { MAX_DIM, type Metric } from '../schema.js';
import type { Collection, CollectionOptions, IndexOptions } from '../types.js';
import { formatCount, type Output } from './output.js';
import { texmexBatches, texmexKindOf, texmexShape } from './texmex-stream.js';
import {
  asUsage,
  choiceOption,
  integerOption,
  type Options,
  type Parsed,
  parse,
  positionals,
  stringOption,
  UsageError,
} from './usage.js';

export const IMPORT_HELP = `Usage: quiver import DB COLLECTION FILE [options]

Upserts the vectors of FILE into COLLECTION of the database directory DB, creating both when
missing. FILE is an Arrow IPC file (.arrow) or stream (.arrows), read record batch by record
batch, or a TEXMEX .fvecs / .bvecs file, whose ids are the row numbers (0, 1, 2, ...).

A missing collection is created with the settings an Arrow file from quiver export carries (dim,
metric, index kind and parameters, field indexes, full-text settings); options given here take
precedence. An existing collection keeps its own settings: options given are checked against
them, and --indexes adds field indexes.

Options:
  --dim N                  dimensions, when the collection is created (default: from FILE)
  --metric l2|cosine|ip    when the collection is created (default: the file's, else l2)
  --index hnsw|flat|ivfpq  index kind, when the collection is created (default: the file's, else hnsw)
  --m N                    HNSW links per node (default 16), or ivfpq PQ sub-spaces (default dim / 8)
  --ef-construction N      HNSW build effort (default 200)
  --ef N                   HNSW default search effort (default 64)
  --vectors float32|int8   what the HNSW graph holds per vector (default float32; int8: a quarter
                           of the memory, candidates rescored with the float vectors)
  --nlist N                ivfpq coarse lists (default 256)
  --nprobe N               ivfpq lists scanned per query (default: calibrated)
  --rerank N               ivfpq or int8 HNSW candidates re-scored exactly (ivfpq default:
                           calibrated; int8 default 20)
  --target-recall X        ivfpq recall@10 that calibration aims for, in (0, 1] (default 0.95)
  --indexes F1,F2          metadata fields to index, comma-separated (added to the file's)
  --id-column NAME         Arrow id column (default id)
  --vector-column NAME     Arrow vector column (default vector)
  --batch-size N           .fvecs/.bvecs rows per upsert (default 10000)
  --durability full|normal SQLite durability while importing (default normal)
  --json                   print the result as JSON
  -q, --quiet              no progress bar
  -h, --help               this help

Prints the rows imported and the rate in vectors per second (the upserts, then closing, which
writes the HNSW snapshot). Exit status: 0 ok, 1 the import failed, 2 bad usage.`;

const OPTIONS = {
  dim: { type: 'string' },
  metric: { type: 'string' },
  index: { type: 'string' },
  m: { type: 'string' },
  'ef-construction': { type: 'string' },
  ef: { type: 'string' },
  vectors: { type: 'string' },
  nlist: { type: 'string' },
  nprobe: { type: 'string' },
  rerank: { type: 'string' },
  'target-recall': { type: 'string' },
  indexes: { type: 'string' },
  'id-column': { type: 'string' },
  'vector-column': { type: 'string' },
  'batch-size': { type: 'string' },
  durability: { type: 'string' },
} as const satisfies Options;

const METRICS: readonly Metric[] = ['l2', 'cosine', 'ip'];

export interface ImportReport {
  database: string;
  collection: string;
  file: string;
  format: 'arrow' | 'fvecs' | 'bvecs';
  created: boolean;
  dim: number;
  metric: Metric;
  index: string;
  rows: number;
  inserted: number;
  updated: number;
  batches: number;
  /** Time spent in the upserts (reading, validating, writing, indexing). */
  upsertSeconds: number;
  /** Time spent closing: the HNSW snapshot. */
  closeSeconds: number;
  /** rows / upsertSeconds. */
  vectorsPerSecond: number;
  /** rows / (upsertSeconds + closeSeconds). */
  vectorsPerSecondWithClose: number;
}

export function importArguments(argv: readonly string[]): Parsed {
  return parse(argv, OPTIONS);
}

// The CLI option that gives each index setting.
const SETTING_OPTIONS: Readonly<Record<string, string>> = {
  m: 'm',
  efConstruction: 'ef-construction',
  ef: 'ef',
  vectors: 'vectors',
  nlist: 'nlist',
  nprobe: 'nprobe',
  rerank: 'rerank',
  targetRecall: 'target-recall',
};

const optionList = (keys: readonly string[]): string =>
  keys.length === 0 ? 'no index parameters' : keys.map((key) => `--${SETTING_OPTIONS[key]}`).join(', ');

/**
 * The index options to create or check the collection with: the kind and parameters given, over
 * those the file announces when it names the same kind; the file's alone when none are given.
 * Which parameters a kind takes comes from the index registry.
 */
function indexOptions(parsed: Parsed, announced: IndexOptions | undefined): IndexOptions | undefined {
  const given = choiceOption(parsed, 'index', INDEX_TYPES);
  const values: Record<string, number | string | undefined> = {
    m: integerOption(parsed, 'm', 1, 65_536),
    efConstruction: integerOption(parsed, 'ef-construction', 1, 4096),
    ef: integerOption(parsed, 'ef', 1, 10_000),
    vectors: choiceOption(parsed, 'vectors', ['float32', 'int8'] as const),
    nlist: integerOption(parsed, 'nlist', 1, 1_000_000),
    nprobe: integerOption(parsed, 'nprobe', 1, 1_000_000),
    rerank: integerOption(parsed, 'rerank', 1, 1_000_000),
    targetRecall: fractionOption(parsed, 'target-recall'),
  };
  const settings = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  const keys = Object.keys(settings);
  if (given === undefined && keys.length === 0) return announced;
  // A kind takes the values when it has each key and accepts them together (hnsw takes --rerank
  // only with --vectors int8: a bare --rerank is ivfpq's).
  const takesAll = (type: IndexType) => {
    if (!keys.every((key) => indexKind(type).settingKeys.includes(key))) return false;
    try {
      indexKind(type).paramsOf({ type, ...settings }, MAX_DIM);
      return true;
    } catch {
      return false;
    }
  };
  // The kind named, else the file's, hnsw or ivfpq, whichever takes every parameter given.
  const kind = given ?? [announced?.type, ...INDEX_TYPES].find((type) => type !== undefined && takesAll(type));
  if (kind === undefined) {
    throw new UsageError(
      `${optionList(keys)} do not apply to one index kind: ${INDEX_TYPES.map((type) => `${type} takes ${optionList(indexKind(type).settingKeys)}`).join('; ')}`,
    );
  }
  const foreign = keys.filter((key) => !indexKind(kind).settingKeys.includes(key));
  if (foreign.length > 0) {
    throw new UsageError(
      `--index ${kind} takes ${optionList(indexKind(kind).settingKeys)}; ${optionList(foreign)} does not apply to it`,
    );
  }
  // The values against the kind's own limits. Before the file is read (announced undefined), a bare
  // --m may still be meant for the file's ivfpq: it is checked once the file names its kind.
  if (given === kind || keys.length > 1 || announced !== undefined) {
    const checked = indexOptionsSchema.safeParse({ type: kind, ...settings });
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const key = String(issue.path[0]);
      const flag = key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      throw new UsageError(`--${flag} '${settings[key]}' does not suit --index ${kind}: ${issue.message}`);
    }
  }
  const base = announced?.type === kind ? announced : { type: kind };
  return { ...base, ...settings } as IndexOptions;
}

/** A number in (0, 1], or undefined when absent. */
function fractionOption(parsed: Parsed, name: string): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !(value > 0 && value <= 1)) {
    throw new UsageError(`--${name} takes a number above 0 and at most 1, got '${text}'`);
  }
  return value;
}

/** The --indexes fields, each checked as a filter path; undefined when absent. */
function indexesOption(parsed: Parsed): string[] | undefined {
  const text = stringOption(parsed, 'indexes');
  if (text === undefined) return undefined;
  const fields = text.split(',').map((field) => field.trim());
  return fields.map((field, i) => asUsage(() => parseFieldPath(field, `--indexes field ${i + 1}`).join('.')));
}

/** What an Arrow file says about its collection: the dim from a FixedSizeList or quiverdb.dim, and every setting it carries. */
async function arrowSettings(file: string, vectorColumn: string): Promise<AnnouncedSettings> {
  const schema = await readIpcSchema(file);
  const settings = readSettings(schema.metadata, file);
  const field = schema.fields.find((candidate) => candidate.name === vectorColumn);
  if (field !== undefined && arrow().DataType.isFixedSizeList(field.type)) settings.dim = field.type.listSize;
  return settings;
}

export async function runImport(parsed: Parsed, output: Output): Promise<number> {
  const [database, name, file] = positionals(parsed, ['DB', 'COLLECTION', 'FILE']) as [string, string, string];
  const texmex = texmexKindOf(file);
  if (texmex === undefined && !/\.arrows?$/i.test(file)) {
    throw new UsageError(`${file}: quiver import reads .arrow, .arrows, .fvecs or .bvecs files`);
  }
  const dimOption = integerOption(parsed, 'dim', 1, MAX_DIM);
  const metricOption = choiceOption(parsed, 'metric', METRICS);
  // Checked before the file or the database is touched; merged with the file's settings below.
  const index = indexOptions(parsed, undefined);
  const indexes = indexesOption(parsed);
  const batchSize = integerOption(parsed, 'batch-size', 1, 1_000_000) ?? 10_000;
  const durability = choiceOption(parsed, 'durability', ['full', 'normal'] as const) ?? 'normal';
  const idColumn = stringOption(parsed, 'id-column');
  const vectorColumn = stringOption(parsed, 'vector-column');
  if (texmex !== undefined && (idColumn !== undefined || vectorColumn !== undefined)) {
    throw new UsageError('--id-column and --vector-column apply to Arrow files only');
  }

  // What the file says about itself, before the database is touched.
  const texmexFile = texmex === undefined ? undefined : texmexShape(file, texmex);
  const announced: AnnouncedSettings = texmexFile ?? (await arrowSettings(file, vectorColumn ?? 'vector'));

  const db = open(database, { durability, onWarning: output.warning });
  let closed = false;
  try {
    const stored = db.listCollections().find((info) => info.name === name);
    const exists = stored !== undefined;
    let collection: Collection;
    if (exists) {
      // Options given are checked against the stored settings; those left out take the stored ones.
      const settings: CollectionOptions | undefined =
        dimOption !== undefined || metricOption !== undefined || index !== undefined || indexes !== undefined
          ? {
              dim: dimOption ?? stored.dim,
              metric: metricOption ?? stored.metric,
              ...(index === undefined ? {} : { index }),
              ...(indexes === undefined ? {} : { indexes }),
            }
          : undefined;
      collection = db.collection(name, settings);
    } else {
      const dim = dimOption ?? announced.dim;
      if (dim === undefined) {
        throw new UsageError(`collection '${name}' does not exist and ${file} does not tell its dim: give --dim`);
      }
      // The file's settings recreate the exported collection; options given take precedence.
      const restoredIndex = indexOptions(parsed, announced.index);
      const restoredIndexes = [...new Set([...(announced.indexes ?? []), ...(indexes ?? [])])];
      collection = db.collection(name, {
        dim,
        metric: metricOption ?? announced.metric ?? 'l2',
        ...(restoredIndex === undefined ? {} : { index: restoredIndex }),
        ...(restoredIndexes.length === 0 ? {} : { indexes: restoredIndexes }),
        ...(announced.text === undefined ? {} : { text: announced.text }),
      });
    }
    if (texmexFile !== undefined && texmexFile.dim !== collection.dim) {
      throw new QuiverError(
        'DIMENSION_MISMATCH',
        `${file} holds vectors of dim ${texmexFile.dim}; collection '${name}' has dim ${collection.dim}`,
      );
    }

    const started = performance.now();
    let counts: { rows: number; inserted: number; updated: number; batches: number };
    if (texmexFile !== undefined) {
      const bar = output.progress('importing', texmexFile.rows);
      counts = { rows: 0, inserted: 0, updated: 0, batches: 0 };
      try {
        for (const { firstRow, vectors } of texmexBatches(file, texmexFile, batchSize)) {
          let written: { inserted: number; updated: number };
          try {
            // The bar moves as the index takes the batch, not only between batches.
            const before = counts.rows;
            written = collection.upsert(
              vectors.map((vector, i) => ({ id: String(firstRow + i), vector })),
              {
                onProgress: ({ phase, done }) => {
                  if (phase === 'index') bar.update(before + done);
                },
              },
            );
          } catch (error) {
            const converted = toQuiverError(error, `importing ${file}`);
            throw new QuiverError(
              converted.code,
              `${file}: ${converted.message.replace(/^record (\d+)/, (_, i: string) => `row ${firstRow + Number(i)}`)}. ` +
                `Rows before ${firstRow} were imported.`,
              { cause: error },
            );
          }
          counts.rows += vectors.length;
          counts.inserted += written.inserted;
          counts.updated += written.updated;
          counts.batches++;
          bar.update(counts.rows);
        }
      } finally {
        bar.stop();
      }
    } else {
      const bar = output.progress('importing', undefined);
      try {
        counts = await collection.upsertArrow(file, {
          ...(idColumn === undefined ? {} : { idColumn }),
          ...(vectorColumn === undefined ? {} : { vectorColumn }),
          onProgress: ({ rows }) => bar.update(rows),
        });
      } finally {
        bar.stop();
      }
    }
    const upsertSeconds = (performance.now() - started) / 1000;
    const closing = performance.now();
    db.close();
    closed = true;
    const closeSeconds = (performance.now() - closing) / 1000;
    const indexKind = collection.index.type;
    const report: ImportReport = {
      database: db.path,
      collection: name,
      file,
      format: texmex ?? 'arrow',
      created: !exists,
      dim: collection.dim,
      metric: collection.metric,
      index: indexKind,
      ...counts,
      upsertSeconds,
      closeSeconds,
      vectorsPerSecond: upsertSeconds > 0 ? counts.rows / upsertSeconds : 0,
      vectorsPerSecondWithClose: counts.rows / Math.max(upsertSeconds + closeSeconds, 1e-9),
    };
    output.result(report, () => [
      `imported ${formatCount(counts.rows)} rows from ${file} into '${name}'${exists ? '' : ' (created)'}: ` +
        `${formatCount(counts.inserted)} inserted, ${formatCount(counts.updated)} updated, ${counts.batches} batches`,
      `${formatCount(report.vectorsPerSecond)} vectors/s (${upsertSeconds.toFixed(2)} s of upserts, ${indexKind} index, ` +
        `dim ${collection.dim}); closing took ${closeSeconds.toFixed(2)} s → ` +
        `${formatCount(report.vectorsPerSecondWithClose)} vectors/s overall`,
    ]);
    return 0;
  } finally {
    if (!closed) db.close();
  }
}
