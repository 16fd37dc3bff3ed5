// Arrow → collection: reads a Table, record batches or an IPC file batch by batch, validates each
// batch whole (naming the source row and column of the first bad value) and writes it as one upsert.
// Imports apache-arrow, src/errors, src/schema, src/types and ./ siblings; never src/collection/.
import type { Data, DataType, RecordBatch, Schema } from 'apache-arrow';
import { QuiverError, toQuiverError } from '../errors.js';
import { arrow } from '../lazy-require.js';
import { describe, MAX_ID_BYTES, type Metric, toId, toText } from '../schema.js';
import type {
  ArrowImportOptions,
  ArrowImportResult,
  ArrowSource,
  Metadata,
  MetadataValue,
  UpsertResult,
} from '../types.js';
import {
  DEFAULT_ID_COLUMN,
  DEFAULT_TEXT_COLUMN,
  DEFAULT_VECTOR_COLUMN,
  FIELD_ENCODING,
  FIELD_KEY,
  FIELD_NULL,
} from './conventions.js';
import { batchesOf, describeSource } from './ipc-files.js';
import {
  at,
  float16Values,
  isScalarType,
  type ReaderFactory,
  readerFor,
  type ValueReader,
} from './metadata-readers.js';

/**
 * One record batch, validated, as the target writes it: ids unique within the batch and valid,
 * row i's vector at numbers i·dim … (i+1)·dim of `vectors` (finite; non-zero under cosine), and the
 * rows' metadata: undefined when the source has no metadata columns (every record gets {}),
 * `objects` for the target to check as upsert checks metadata, or `json`, text already known to be
 * valid metadata (from scalar columns only), exactly as JSON.stringify writes the same object.
 */
export interface ColumnBatch {
  readonly ids: readonly string[];
  readonly vectors: Float32Array;
  readonly metadata: { readonly objects: readonly Metadata[] } | { readonly json: readonly string[] } | undefined;
  /** Row i's text (null: none), each at most MAX_TEXT_BYTES; undefined when the source has no text column. */
  readonly texts?: readonly (string | null)[] | undefined;
}

/** What upsertArrow writes into: a collection, seen through the few members it needs. */
export interface ArrowImportTarget {
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
  /** Writes one batch as one upsert (one transaction); errors name "record i" of the batch. */
  upsertColumns(batch: ColumnBatch): UpsertResult;
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
  /** A scalar type read as a string, finite number, boolean or null. */
  readonly scalar: boolean;
}

interface ImportPlan {
  readonly dim: number;
  readonly idPosition: number;
  readonly idColumn: string;
  readonly vectorPosition: number;
  readonly id: (data: Data) => RowReader<string>;
  readonly vector: (data: Data) => RowReader<Float32Array>;
  /** The whole column's vectors of one batch, validated, or undefined when only row by row works. */
  readonly vectorBlock: ((data: Data, rows: number) => Float32Array) | undefined;
  readonly metadata: readonly MetadataColumn[];
  /** The text column's position and reader, when the source has one. */
  readonly text:
    | { readonly position: number; readonly column: string; readonly read: (data: Data) => RowReader<string | null> }
    | undefined;
  /**
   * True when every metadata column holds scalars (strings, finite numbers, booleans, null: valid
   * metadata as read) under a key that JSON.stringify keeps in column order: each row's JSON text is
   * then written straight from the columns, without an object to build and check.
   */
  readonly metadataText: boolean;
}

const OPTION_KEYS = new Set(['idColumn', 'vectorColumn', 'textColumn', 'metadataColumns', 'onProgress']);

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
  // Batches read here from a file are nobody else's: their vectors are written without a copy.
  const owned = typeof source === 'string';
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
      if (batch.numRows > 0) {
        const columns = columnsOf(batch, plan, result.rows, owned);
        let written: UpsertResult;
        try {
          written = target.upsertColumns(columns);
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
  for (const key of ['idColumn', 'vectorColumn', 'textColumn'] as const) {
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
  // The text column is optional under its default name, required when named.
  const textColumn = options.textColumn ?? DEFAULT_TEXT_COLUMN;
  const textPosition =
    options.textColumn !== undefined || names.includes(textColumn) ? find(textColumn, 'text', 'textColumn') : -1;
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
    if (position === idPosition || position === vectorPosition || position === textPosition) return;
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
    if (json && !(arrow().DataType.isUtf8(field.type) || arrow().DataType.isLargeUtf8(field.type))) {
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
      scalar: isScalarType(field.type),
    });
  });
  return {
    dim: target.dim,
    idPosition,
    idColumn,
    vectorPosition,
    id: idReaderFor(schema.fields[idPosition]!.type, idColumn),
    vector: vectorReaderFor(schema.fields[vectorPosition]!.type, vectorColumn, target),
    vectorBlock: vectorBlockReaderFor(schema.fields[vectorPosition]!.type, target),
    metadata,
    text:
      textPosition === -1
        ? undefined
        : {
            position: textPosition,
            column: textColumn,
            read: textReaderFor(schema.fields[textPosition]!.type, textColumn),
          },
    // Integer-like keys come first in a JavaScript object (and in JSON.stringify's text); __proto__
    // is no plain key: both go the object way, so the stored text never depends on the path.
    metadataText: metadata.every(
      (column) => column.scalar && !column.json && !/^(0|[1-9]\d*)$/.test(column.key) && column.key !== '__proto__',
    ),
  };
}

/** The text column's reader: Utf8 or LargeUtf8 values (null: no text), each at most MAX_TEXT_BYTES. */
function textReaderFor(type: DataType, column: string): (data: Data) => RowReader<string | null> {
  if (!(arrow().DataType.isUtf8(type) || arrow().DataType.isLargeUtf8(type))) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `the text column '${column}' has type ${String(type)}; text is Utf8 or LargeUtf8 (name another column with textColumn)`,
    );
  }
  return (data) => {
    const vector = arrow().makeVector(data);
    return (index, row) => {
      const value: unknown = vector.get(index);
      return value === null || value === undefined ? null : toText(value, at(row, column));
    };
  };
}

function idReaderFor(type: DataType, column: string): (data: Data) => RowReader<string> {
  const text =
    arrow().DataType.isUtf8(type) ||
    arrow().DataType.isLargeUtf8(type) ||
    arrow().DataType.isUtf8View(type) ||
    (arrow().DataType.isDictionary(type) &&
      (arrow().DataType.isUtf8(type.dictionary) || arrow().DataType.isLargeUtf8(type.dictionary)));
  if (!text && !arrow().DataType.isInt(type)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `id column '${column}' has type ${String(type)}; ids are read from a Utf8, LargeUtf8 or integer column ` +
        '(cast it, or name another column with idColumn)',
    );
  }
  return (data) => {
    const vector = new (arrow().Vector)([data]);
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
  const fixed = arrow().DataType.isFixedSizeList(type);
  const listed = fixed || arrow().DataType.isList(type) || arrow().DataType.isLargeList(type);
  const element = listed ? type.children[0]?.type : undefined;
  if (element === undefined || !arrow().DataType.isFloat(element)) {
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

/**
 * For FixedSizeList<Float32> columns: the batch's vectors as the one Float32Array they already are,
 * checked whole (nulls, finite numbers, zero rows under cosine). Throws a bare QuiverError on the
 * first problem; the caller then finds and names the first bad value row by row.
 */
function vectorBlockReaderFor(
  type: DataType,
  target: ArrowImportTarget,
): ((data: Data, rows: number) => Float32Array) | undefined {
  const dim = target.dim;
  if (!arrow().DataType.isFixedSizeList(type) || type.listSize !== dim) return undefined;
  const element = type.children[0]?.type;
  if (element === undefined || !arrow().DataType.isFloat(element) || element.precision !== 1) return undefined;
  const cosine = target.metric === 'cosine';
  return (data, rows) => {
    const child = data.children[0]!;
    const values = child.values as Float32Array;
    if (child.nullCount > 0 || values.length < rows * dim) throw new QuiverError('INVALID_ARGUMENT', 'bad vector');
    if (data.nullCount > 0) {
      for (let index = 0; index < rows; index++) {
        if (!data.getValid(index)) throw new QuiverError('INVALID_ARGUMENT', 'null vector');
      }
    }
    // A fixed-size list's child is sliced with it: row i is at i·dim.
    const block = values.subarray(0, rows * dim);
    if (!allFinite(block)) throw new QuiverError('NOT_FINITE', 'not finite');
    if (cosine) {
      for (let start = 0; start < block.length; start += dim) {
        let zero = true;
        for (let j = start; j < start + dim && zero; j++) zero = block[j] === 0;
        if (zero) throw new QuiverError('INVALID_ARGUMENT', 'zero vector');
      }
    }
    return block;
  };
}

/** True when no number of `values` is NaN or ±Infinity (x·0 is ±0 for finite x, NaN otherwise). */
function allFinite(values: Float32Array): boolean {
  // Four independent sums: no branch per number and no chain of dependent additions.
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const end = values.length - (values.length % 4);
  for (let i = 0; i < end; i += 4) {
    a += values[i]! * 0;
    b += values[i + 1]! * 0;
    c += values[i + 2]! * 0;
    d += values[i + 3]! * 0;
  }
  for (let i = end; i < values.length; i++) a += values[i]! * 0;
  return a + b + c + d === 0;
}

const UTF8 = new TextDecoder();

/**
 * The ids of a Utf8 column without nulls whose bytes are all ASCII, decoded at once (one character
 * per byte); undefined for anything else, which is read row by row. Empty or over-long ids throw.
 */
function asciiIds(data: Data, rows: number): string[] | undefined {
  if (!arrow().DataType.isUtf8(data.type) || data.nullCount > 0) return undefined;
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const first = offsets[0]!;
  const last = offsets[rows]!;
  for (let i = first; i < last; i++) if (bytes[i]! > 0x7f) return undefined;
  const text = UTF8.decode(bytes.subarray(first, last));
  const ids: string[] = new Array(rows);
  for (let index = 0; index < rows; index++) {
    const start = offsets[index]! - first;
    const end = offsets[index + 1]! - first;
    if (end === start || end - start > MAX_ID_BYTES) throw new QuiverError('INVALID_ID', 'bad id');
    ids[index] = text.slice(start, end);
  }
  return ids;
}

/**
 * Converts and validates one batch, column by column; rows are numbered from `firstRow` in the
 * whole source. `owned` batches (read from a file here) lend their vector buffer as it is; others
 * are the caller's, and their vectors are copied so that later changes cannot reach the index.
 */
function columnsOf(batch: RecordBatch, plan: ImportPlan, firstRow: number, owned: boolean): ColumnBatch {
  const rows = batch.numRows;
  const columns = batch.data.children;
  try {
    const idData = columns[plan.idPosition]!;
    let ids = asciiIds(idData, rows);
    if (ids === undefined) {
      const readId = plan.id(idData);
      ids = new Array<string>(rows);
      for (let index = 0; index < rows; index++) ids[index] = readId(index, firstRow + index);
    }
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) throw new QuiverError('INVALID_ID', 'repeated id');
      seen.add(id);
    }
    const vectorData = columns[plan.vectorPosition]!;
    let vectors: Float32Array;
    if (plan.vectorBlock !== undefined) {
      const block = plan.vectorBlock(vectorData, rows);
      vectors = owned ? block : block.slice();
    } else {
      const readVector = plan.vector(vectorData);
      vectors = new Float32Array(rows * plan.dim);
      for (let index = 0; index < rows; index++) vectors.set(readVector(index, firstRow + index), index * plan.dim);
    }
    let metadata: ColumnBatch['metadata'];
    if (plan.metadata.length > 0) {
      const readers = metadataReaders(columns, plan);
      if (plan.metadataText) {
        const json: string[] = new Array(rows);
        for (let index = 0; index < rows; index++) json[index] = metadataTextAt(readers, index, firstRow + index);
        metadata = { json };
      } else {
        const objects: Metadata[] = new Array(rows);
        for (let index = 0; index < rows; index++) objects[index] = metadataAt(readers, index, firstRow + index);
        metadata = { objects };
      }
    }
    let texts: (string | null)[] | undefined;
    if (plan.text !== undefined) {
      const readText = plan.text.read(columns[plan.text.position]!);
      texts = new Array<string | null>(rows);
      for (let index = 0; index < rows; index++) texts[index] = readText(index, firstRow + index);
    }
    return { ids, vectors, metadata, texts };
  } catch (error) {
    if (!(error instanceof QuiverError)) throw error;
    // Something is wrong: name the first bad value in row order, with the reader's message.
    checkRowByRow(batch, plan, firstRow);
    throw error;
  }
}

interface MetadataReader {
  readonly column: MetadataColumn;
  readonly data: Data;
  readonly read: ValueReader;
  /** `"key":`, as JSON.stringify writes it before the value. */
  readonly prefix: string;
}

function metadataReaders(columns: readonly Data[], plan: ImportPlan): MetadataReader[] {
  return plan.metadata.map((column) => ({
    column,
    data: columns[column.position]!,
    read: column.factory(columns[column.position]!),
    prefix: `${JSON.stringify(column.key)}:`,
  }));
}

/** The metadata of row `index` as JSON text, for scalar columns: what JSON.stringify(metadataAt(…)) gives. */
function metadataTextAt(readers: readonly MetadataReader[], index: number, row: number): string {
  let text = '{';
  for (const { column, data, read, prefix } of readers) {
    if (column.nullMeansMissing && !data.getValid(index)) continue;
    text += `${text.length === 1 ? '' : ','}${prefix}${JSON.stringify(read(index, row))}`;
  }
  return `${text}}`;
}

/** The metadata object of row `index` of a batch (`row` in the whole source). */
function metadataAt(readers: readonly MetadataReader[], index: number, row: number): Metadata {
  const metadata: Metadata = {};
  for (const { column, data, read } of readers) {
    if (column.nullMeansMissing && !data.getValid(index)) continue;
    let value: MetadataValue = read(index, row);
    if (column.json && typeof value === 'string') value = parseJson(value, row, column.column);
    metadata[column.key] = value;
  }
  return metadata;
}

/** Reads a batch row by row, every column of a row before the next row: throws at the first bad value. */
function checkRowByRow(batch: RecordBatch, plan: ImportPlan, firstRow: number): void {
  const rows = batch.numRows;
  const columns = batch.data.children;
  const readId = plan.id(columns[plan.idPosition]!);
  const readVector = plan.vector(columns[plan.vectorPosition]!);
  const readers = metadataReaders(columns, plan);
  const readText = plan.text?.read(columns[plan.text.position]!);
  const seen = new Map<string, number>();
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
    readVector(index, row);
    readText?.(index, row);
    metadataAt(readers, index, row);
  }
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
