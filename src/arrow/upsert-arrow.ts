// Arrow → collection: reads a Table, record batches or an IPC file batch by batch, validates each
// batch whole (naming the source row and column of the first bad value) and writes it as one upsert.
// Imports apache-arrow, src/errors, src/schema, src/types and ./ siblings; never src/collection.ts.
import { type Data, DataType, type RecordBatch, type Schema, Vector } from 'apache-arrow';
import { QuiverError, toQuiverError } from '../errors.js';
import { describe, type Metric, toId } from '../schema.js';
import type {
  ArrowImportOptions,
  ArrowImportResult,
  ArrowSource,
  Metadata,
  MetadataValue,
  UpsertRecord,
  UpsertResult,
} from '../types.js';
import { DEFAULT_ID_COLUMN, DEFAULT_VECTOR_COLUMN, FIELD_ENCODING, FIELD_KEY, FIELD_NULL } from './conventions.js';
import { batchesOf, describeSource } from './ipc-files.js';
import { at, float16Values, type ReaderFactory, readerFor } from './metadata-readers.js';

/** What upsertArrow writes into: a collection, seen through the few members it needs. */
export interface ArrowImportTarget {
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
  upsert(records: readonly UpsertRecord[]): UpsertResult;
}

type RowReader<T> = (index: number, row: number) => T;

interface MetadataColumn {
  readonly position: number;
  readonly key: string;
  /** An Arrow null means "no such key" (QuiverDB's own exports) rather than JSON null. */
  readonly nullMeansMissing: boolean;
  readonly json: boolean;
  readonly column: string;
  readonly factory: ReaderFactory;
}

interface ImportPlan {
  readonly idPosition: number;
  readonly idColumn: string;
  readonly vectorPosition: number;
  readonly id: (data: Data) => RowReader<string>;
  readonly vector: (data: Data) => RowReader<Float32Array>;
  readonly metadata: readonly MetadataColumn[];
}

const OPTION_KEYS = new Set(['idColumn', 'vectorColumn', 'metadataColumns', 'onProgress']);

/**
 * Reads `source` record batch by record batch into `target`. Each batch is validated whole and
 * written as one upsert (one transaction); a bad batch throws and is not written, earlier ones stay.
 */
export async function upsertArrow(
  target: ArrowImportTarget,
  source: ArrowSource,
  options: ArrowImportOptions = {},
): Promise<ArrowImportResult> {
  checkOptions(options);
  const plans = new Map<Schema, ImportPlan>();
  const iterator = (await batchesOf(source))[Symbol.asyncIterator]();
  const result = { inserted: 0, updated: 0, batches: 0, rows: 0 };
  try {
    for (;;) {
      let step: IteratorResult<RecordBatch>;
      try {
        step = await iterator.next();
      } catch (error) {
        throw readFailure(error, source, result.rows, result.batches);
      }
      if (step.done) break;
      const batch = step.value;
      if (batch === null || typeof batch !== 'object' || !('schema' in batch) || !('numRows' in batch)) {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `item ${result.batches} of the source is ${describe(batch)}; upsertArrow reads Arrow RecordBatches`,
        );
      }
      let plan = plans.get(batch.schema);
      if (plan === undefined) {
        plan = planImport(batch.schema, target, options);
        plans.set(batch.schema, plan);
      }
      const records = recordsOf(batch, plan, result.rows);
      if (records.length > 0) {
        let written: UpsertResult;
        try {
          written = target.upsert(records);
        } catch (error) {
          throw rowsFailure(error, result.rows, result.batches);
        }
        result.inserted += written.inserted;
        result.updated += written.updated;
      }
      result.rows += batch.numRows;
      result.batches++;
      options.onProgress?.({ ...result });
    }
  } finally {
    await iterator.return?.();
  }
  return result;
}

function checkOptions(options: ArrowImportOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `upsertArrow options are ${describe(options)}; pass an object or nothing`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `upsertArrow has no option '${key}'; options are ${[...OPTION_KEYS].join(', ')}`,
      );
    }
  }
  for (const key of ['idColumn', 'vectorColumn'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new QuiverError('INVALID_ARGUMENT', `options.${key} is ${describe(value)}; give a column name`);
    }
  }
  const metadataColumns: unknown = options.metadataColumns;
  if (
    metadataColumns !== undefined &&
    (!Array.isArray(metadataColumns) || metadataColumns.some((name) => typeof name !== 'string'))
  ) {
    throw new QuiverError('INVALID_ARGUMENT', 'options.metadataColumns must be an array of column names');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new QuiverError('INVALID_ARGUMENT', 'options.onProgress must be a function');
  }
}

/** Works out, once per schema, which column is what and how each is read. */
function planImport(schema: Schema, target: ArrowImportTarget, options: ArrowImportOptions): ImportPlan {
  const names = schema.fields.map((field) => field.name);
  const find = (name: string, role: string, option: string): number => {
    const position = names.indexOf(name);
    if (position < 0) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `the source has no ${role} column '${name}'; its columns are ${names.map((n) => `'${n}'`).join(', ')}. ` +
          `Name the ${role} column with the ${option} option.`,
      );
    }
    return position;
  };
  const idColumn = options.idColumn ?? DEFAULT_ID_COLUMN;
  const vectorColumn = options.vectorColumn ?? DEFAULT_VECTOR_COLUMN;
  const idPosition = find(idColumn, 'id', 'idColumn');
  const vectorPosition = find(vectorColumn, 'vector', 'vectorColumn');
  const wanted = options.metadataColumns === undefined ? undefined : new Set(options.metadataColumns);
  if (wanted !== undefined) {
    for (const name of wanted) {
      if (!names.includes(name)) {
        throw new QuiverError('INVALID_ARGUMENT', `options.metadataColumns names '${name}', which the source lacks`);
      }
    }
  }
  const metadata: MetadataColumn[] = [];
  const keys = new Map<string, string>();
  schema.fields.forEach((field, position) => {
    if (position === idPosition || position === vectorPosition) return;
    if (wanted !== undefined && !wanted.has(field.name)) return;
    const key = field.metadata.get(FIELD_KEY) ?? field.name;
    const earlier = keys.get(key);
    if (earlier !== undefined) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `columns '${earlier}' and '${field.name}' both hold metadata key '${key}'; leave one out with metadataColumns`,
      );
    }
    if (key.length === 0) {
      throw new QuiverError('INVALID_ARGUMENT', `column ${position} has an empty name; metadata keys are non-empty`);
    }
    keys.set(key, field.name);
    const json = field.metadata.get(FIELD_ENCODING) === 'json';
    if (json && !(DataType.isUtf8(field.type) || DataType.isLargeUtf8(field.type))) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `column '${field.name}' is marked as JSON text but has type ${String(field.type)}; JSON columns are Utf8`,
      );
    }
    metadata.push({
      position,
      key,
      column: field.name,
      json,
      nullMeansMissing: field.metadata.get(FIELD_NULL) === 'missing',
      factory: readerFor(field.type, field.name),
    });
  });
  return {
    idPosition,
    idColumn,
    vectorPosition,
    id: idReaderFor(schema.fields[idPosition]!.type, idColumn),
    vector: vectorReaderFor(schema.fields[vectorPosition]!.type, vectorColumn, target),
    metadata,
  };
}

function idReaderFor(type: DataType, column: string): (data: Data) => RowReader<string> {
  const text =
    DataType.isUtf8(type) ||
    DataType.isLargeUtf8(type) ||
    DataType.isUtf8View(type) ||
    (DataType.isDictionary(type) && (DataType.isUtf8(type.dictionary) || DataType.isLargeUtf8(type.dictionary)));
  if (!text && !DataType.isInt(type)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `id column '${column}' has type ${String(type)}; ids are read from a Utf8, LargeUtf8 or integer column ` +
        '(cast it, or name another column with idColumn)',
    );
  }
  return (data) => {
    const vector = new Vector([data]);
    return (index, row) => {
      const value = vector.get(index) as string | number | bigint | null;
      if (value === null || value === undefined) {
        throw new QuiverError('INVALID_ID', `${at(row, column)} is null; every row needs an id`);
      }
      // Integer ids become their decimal text, also beyond 2^53 (ids are strings).
      return toId(typeof value === 'string' ? value : String(value), at(row, column));
    };
  };
}

/** A reader turning row i of a vector column into `dim` finite float32s, or an error naming the row. */
function vectorReaderFor(
  type: DataType,
  column: string,
  target: ArrowImportTarget,
): (data: Data) => RowReader<Float32Array> {
  const dim = target.dim;
  const fixed = DataType.isFixedSizeList(type);
  const listed = fixed || DataType.isList(type) || DataType.isLargeList(type);
  const element = listed ? type.children[0]?.type : undefined;
  if (element === undefined || !DataType.isFloat(element)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `vector column '${column}' has type ${String(type)}; vectors are read from a FixedSizeList or List of ` +
        'Float16, Float32 or Float64 (name another column with vectorColumn)',
    );
  }
  if (fixed && type.listSize !== dim) {
    throw new QuiverError(
      'DIMENSION_MISMATCH',
      `vector column '${column}' holds vectors of ${type.listSize} numbers (FixedSizeList[${type.listSize}]); ` +
        `collection '${target.name}' has dim ${dim}`,
    );
  }
  const precision = element.precision; // 0 half, 1 single, 2 double
  return (data) => {
    const child = data.children[0]!;
    const values = child.values as Uint16Array | Float32Array | Float64Array;
    const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
    const childNulls = child.nullCount > 0;
    return (index, row) => {
      if (!data.getValid(index)) {
        throw new QuiverError('INVALID_ARGUMENT', `${at(row, column)} is null; every row needs a vector`);
      }
      // A fixed-size list's child is sliced with it; a variable-size list indexes its child by offsets.
      const start = fixed ? index * dim : Number(offsets![index]);
      const length = fixed ? dim : Number(offsets![index + 1]) - start;
      if (length !== dim) {
        throw new QuiverError(
          'DIMENSION_MISMATCH',
          `${at(row, column)} has ${length} numbers; collection '${target.name}' has dim ${dim}`,
        );
      }
      if (childNulls) {
        for (let j = 0; j < dim; j++) {
          if (!child.getValid(start + j)) {
            throw new QuiverError('INVALID_ARGUMENT', `${at(row, column)}[${j}] is null; vectors hold numbers only`);
          }
        }
      }
      let vector: Float32Array;
      if (precision === 1) vector = (values as Float32Array).subarray(start, start + dim);
      else if (precision === 2) vector = Float32Array.from((values as Float64Array).subarray(start, start + dim));
      else {
        const table = float16Values();
        vector = new Float32Array(dim);
        for (let j = 0; j < dim; j++) vector[j] = table[(values as Uint16Array)[start + j]!]!;
      }
      let zero = true;
      for (let j = 0; j < dim; j++) {
        const value = vector[j]!;
        if (!Number.isFinite(value)) {
          const original = precision === 2 ? (values as Float64Array)[start + j] : value;
          throw new QuiverError(
            'NOT_FINITE',
            `${at(row, column)}[${j}] is ${original}${original === value ? '' : ` (${value} as float32)`}; ` +
              'every number must be finite',
          );
        }
        if (value !== 0) zero = false;
      }
      if (zero && target.metric === 'cosine') {
        throw new QuiverError(
          'INVALID_ARGUMENT',
          `${at(row, column)} is all zeros; cosine distance needs a non-zero vector`,
        );
      }
      return vector;
    };
  };
}

/** Converts and validates one batch; rows are numbered from `firstRow` in the whole source. */
function recordsOf(batch: RecordBatch, plan: ImportPlan, firstRow: number): UpsertRecord[] {
  const rows = batch.numRows;
  if (rows === 0) return [];
  const columns = batch.data.children;
  const readId = plan.id(columns[plan.idPosition]!);
  const readVector = plan.vector(columns[plan.vectorPosition]!);
  const metadataReaders = plan.metadata.map((column) => ({
    column,
    data: columns[column.position]!,
    read: column.factory(columns[column.position]!),
  }));
  const seen = new Map<string, number>();
  const records: UpsertRecord[] = new Array(rows);
  for (let index = 0; index < rows; index++) {
    const row = firstRow + index;
    const id = readId(index, row);
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      throw new QuiverError(
        'INVALID_ID',
        `${at(row, plan.idColumn)} repeats id '${id}' of row ${earlier} in the ` +
          'same record batch; ids must be unique within a batch',
      );
    }
    seen.set(id, row);
    const vector = readVector(index, row);
    const metadata: Metadata = {};
    for (const { column, data, read } of metadataReaders) {
      if (column.nullMeansMissing && !data.getValid(index)) continue;
      let value: MetadataValue = read(index, row);
      if (column.json && typeof value === 'string') value = parseJson(value, row, column.column);
      metadata[column.key] = value;
    }
    records[index] = { id, vector, metadata };
  }
  return records;
}

function parseJson(text: string, row: number, column: string): MetadataValue {
  try {
    return JSON.parse(text) as MetadataValue;
  } catch (error) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${at(row, column)} is not valid JSON text (${(error as Error).message}), though the column is marked as JSON`,
      { cause: error },
    );
  }
}

/** A reader failure part-way: the earlier batches are written, say so. */
function readFailure(error: unknown, source: ArrowSource, rows: number, batches: number): QuiverError {
  if (error instanceof QuiverError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new QuiverError(
    'CORRUPT',
    `${describeSource(source)} could not be read past row ${rows} (record batch ${batches}): ${message}. ` +
      `The ${batches} record batches before it were written; the file is truncated or not Arrow IPC.`,
    { cause: error },
  );
}

/** Rephrases an error of upsert ("record 5 …") in terms of the source's rows. */
function rowsFailure(error: unknown, firstRow: number, batch: number): QuiverError {
  const converted = toQuiverError(error, `writing record batch ${batch}`);
  const message = converted.message.replace(/^record (\d+)/, (_, index: string) => `row ${firstRow + Number(index)}`);
  return new QuiverError(converted.code, `record batch ${batch} was not written: ${message}`, { cause: error });
}
