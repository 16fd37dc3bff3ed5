// `quiver import DB COLLECTION FILE`: Arrow IPC (.arrow/.arrows) through upsertArrow, TEXMEX
// (.fvecs/.bvecs) in batches with row numbers as ids; creates the collection when missing and
// reports the import rate. Imports src/db.ts, src/arrow and the CLI's own modules.
import { indexKind } from '../index/registry.js';
import { arrow } from '../lazy-require.js';
import { readIpcSchema, SCHEMA_DIM, SCHEMA_METRIC } from '../arrow/index.js';
import { DatabaseImpl } from '../db.js';
import { QuiverError, toQuiverError } from '../errors.js';
import { MAX_DIM, type Metric } from '../schema.js';
import type { Collection, CollectionOptions, IndexOptions } from '../types.js';
import { formatCount, type Output } from './output.js';
import { texmexBatches, texmexKindOf, texmexShape } from './texmex-stream.js';
import {
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

Options:
  --dim N                  dimensions, when the collection is created (default: from FILE)
  --metric l2|cosine|ip    when the collection is created (default: the file's quiverdb.metric, else l2)
  --index hnsw|flat        index kind, when the collection is created (default hnsw)
  --m N                    HNSW links per node (default 16)
  --ef-construction N      HNSW build effort (default 200)
  --ef N                   HNSW default search effort (default 64)
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

function indexOptions(parsed: Parsed): IndexOptions | undefined {
  const kind = choiceOption(parsed, 'index', ['hnsw', 'flat'] as const);
  const m = integerOption(parsed, 'm', 2, 128);
  const efConstruction = integerOption(parsed, 'ef-construction', 1, 4096);
  const ef = integerOption(parsed, 'ef', 1, 10_000);
  const tuned = m !== undefined || efConstruction !== undefined || ef !== undefined;
  if (kind === undefined && !tuned) return undefined;
  const type = kind ?? 'hnsw';
  if (tuned && !indexKind(type).settingKeys.includes('m')) {
    throw new UsageError('--m, --ef-construction and --ef apply to --index hnsw only');
  }
  return {
    type,
    ...(m === undefined ? {} : { m }),
    ...(efConstruction === undefined ? {} : { efConstruction }),
    ...(ef === undefined ? {} : { ef }),
  } as IndexOptions;
}

/** The dim and metric a file announces: a FixedSizeList size or quiverdb.dim; quiverdb.metric. */
async function arrowShape(file: string, vectorColumn: string): Promise<{ dim?: number; metric?: Metric }> {
  const schema = await readIpcSchema(file);
  const field = schema.fields.find((candidate) => candidate.name === vectorColumn);
  const stored = Number(schema.metadata.get(SCHEMA_DIM));
  const dim =
    field !== undefined && arrow().DataType.isFixedSizeList(field.type)
      ? field.type.listSize
      : Number.isInteger(stored) && stored > 0
        ? stored
        : undefined;
  const metric = schema.metadata.get(SCHEMA_METRIC);
  return {
    ...(dim === undefined ? {} : { dim }),
    ...(metric !== undefined && (METRICS as readonly string[]).includes(metric) ? { metric: metric as Metric } : {}),
  };
}

export async function runImport(parsed: Parsed, output: Output): Promise<number> {
  const [database, name, file] = positionals(parsed, ['DB', 'COLLECTION', 'FILE']) as [string, string, string];
  const texmex = texmexKindOf(file);
  if (texmex === undefined && !/\.arrows?$/i.test(file)) {
    throw new UsageError(`${file}: quiver import reads .arrow, .arrows, .fvecs or .bvecs files`);
  }
  const dimOption = integerOption(parsed, 'dim', 1, MAX_DIM);
  const metricOption = choiceOption(parsed, 'metric', METRICS);
  const index = indexOptions(parsed);
  const batchSize = integerOption(parsed, 'batch-size', 1, 1_000_000) ?? 10_000;
  const durability = choiceOption(parsed, 'durability', ['full', 'normal'] as const) ?? 'normal';
  const idColumn = stringOption(parsed, 'id-column');
  const vectorColumn = stringOption(parsed, 'vector-column');
  if (texmex !== undefined && (idColumn !== undefined || vectorColumn !== undefined)) {
    throw new UsageError('--id-column and --vector-column apply to Arrow files only');
  }

  // What the file says about itself, before the database is touched.
  const texmexFile = texmex === undefined ? undefined : texmexShape(file, texmex);
  const announced = texmexFile ?? (await arrowShape(file, vectorColumn ?? 'vector'));

  const db = new DatabaseImpl(database, { durability, onWarning: output.warning });
  let closed = false;
  try {
    const stored = db.store.findCollection(name);
    const exists = stored !== undefined;
    let collection: Collection;
    if (exists) {
      // Options given are checked against the stored settings; those left out take the stored ones.
      const settings: CollectionOptions | undefined =
        dimOption !== undefined || metricOption !== undefined || index !== undefined
          ? {
              dim: dimOption ?? stored.dim,
              metric: metricOption ?? stored.metric,
              ...(index === undefined ? {} : { index }),
            }
          : undefined;
      collection = db.collection(name, settings);
    } else {
      const dim = dimOption ?? announced.dim;
      if (dim === undefined) {
        throw new UsageError(`collection '${name}' does not exist and ${file} does not tell its dim: give --dim`);
      }
      const metric = metricOption ?? ('metric' in announced ? announced.metric : undefined) ?? 'l2';
      collection = db.collection(name, { dim, metric, ...(index === undefined ? {} : { index }) });
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
            written = collection.upsert(vectors.map((vector, i) => ({ id: String(firstRow + i), vector })));
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
