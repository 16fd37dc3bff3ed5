// Collection → Arrow: a first pass over the matching records' metadata picks one Arrow type per
// metadata key; a second pass builds record batches of `batchSize` records in storage (label) order,
// or in id order when asked.
// Imports apache-arrow, src/errors, src/filter, src/schema, src/types and ./ siblings; never src/collection/.
import type { Data, DataType, Field, FixedSizeList, RecordBatch, Schema, Table } from 'apache-arrow';
import { QuiverError } from '../errors.js';
import { arrow } from '../lazy-require.js';
import { type CompiledFilter, compileFilter, parseFilter } from '../filter/index.js';
import { describe, type Metric } from '../schema.js';
import type { ArrowExportOptions, ArrowExportResult, Metadata, MetadataValue } from '../types.js';
import {
  DEFAULT_ID_COLUMN,
  DEFAULT_TEXT_COLUMN,
  DEFAULT_VECTOR_COLUMN,
  FIELD_ENCODING,
  FIELD_KEY,
  FIELD_NULL,
  SCHEMA_COLLECTION,
} from './conventions.js';
import { type ExportedSettings, settingsMetadata } from './collection-settings.js';
import { writeIpcFile } from './ipc-files.js';

/** One stored record as the store returns it. */
export interface ArrowExportRecord {
  readonly id: string;
  readonly label: number;
  readonly metadata: string;
  /** The record's text: a string, or null for none (anything else is CORRUPT). */
  readonly text?: unknown;
  readonly vector?: Uint8Array;
}

/** What the export reads from: a collection, seen through the few members it needs. */
export interface ArrowExportSource {
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
  /** Every stored setting, written into the schema metadata so that `quiver import` can restore them. */
  readonly settings: ExportedSettings;
  /**
   * Up to `limit` records after `after` (the last record of the previous page; undefined: from the
   * start) in `order` — 'storage': by label, 'id': by id as `get` orders them — matching `where` when
   * given (a compiled filter over the `metadata` column), each checked against its record checksum.
   */
  readPage(
    after: ArrowExportRecord | undefined,
    limit: number,
    where: CompiledFilter | undefined,
    order: ExportOrder,
  ): readonly ArrowExportRecord[];
}

const DEFAULT_BATCH_SIZE = 4096;
const MAX_BATCH_SIZE = 1_000_000;
const OPTION_KEYS = new Set(['filter', 'order', 'columns', 'batchSize', 'onProgress']);

/** The order records are exported in. */
export type ExportOrder = 'storage' | 'id';

type Kind = 'number' | 'boolean' | 'string';
type ColumnType = { kind: Kind; list: boolean } | { kind: 'json' };

/** What the first pass learns of one metadata key. */
interface KeySummary {
  present: number;
  nulls: number;
  scalar: Kind | 'mixed' | undefined;
  /** Element kind of the arrays seen; undefined while only empty arrays or null elements were seen. */
  element: Kind | 'mixed' | undefined;
  arrays: number;
  objects: number;
}

interface MetadataColumn {
  readonly key: string;
  readonly type: ColumnType;
  /** Arrow null means JSON null (true) or a missing key (false). */
  readonly nullIsNull: boolean;
}

type OutputColumn =
  | { role: 'id' }
  | { role: 'vector' }
  | { role: 'text' }
  | { role: 'metadata'; column: MetadataColumn };

/** A planned export: the schema, fixed before the first batch, and the batches. */
export interface ExportPlan {
  readonly schema: Schema;
  batches(): Generator<RecordBatch>;
}

function kindOf(value: unknown): Kind | undefined {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return undefined;
}

function merge(current: Kind | 'mixed' | undefined, next: Kind): Kind | 'mixed' {
  return current === undefined || current === next ? next : 'mixed';
}

function checkOptions(options: ArrowExportOptions): {
  batchSize: number;
  where: CompiledFilter | undefined;
  order: ExportOrder;
} {
  if (options === null || typeof options !== 'object') {
    throw new QuiverError('INVALID_ARGUMENT', `export options are ${describe(options)}; pass an object or nothing`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `Arrow export has no option '${key}'; options are ${[...OPTION_KEYS].join(', ')}`,
      );
    }
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.batchSize is ${describe(batchSize)}; give an integer from 1 to ${MAX_BATCH_SIZE}`,
    );
  }
  const columns: unknown = options.columns;
  if (columns !== undefined) {
    if (!Array.isArray(columns) || columns.some((name) => typeof name !== 'string' || name.length === 0)) {
      throw new QuiverError('INVALID_ARGUMENT', 'options.columns must be an array of non-empty column names');
    }
    if (new Set(columns).size !== columns.length) {
      throw new QuiverError('INVALID_ARGUMENT', 'options.columns names a column twice');
    }
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new QuiverError('INVALID_ARGUMENT', 'options.onProgress must be a function');
  }
  const filter = options.filter;
  const where = filter === undefined ? undefined : compileFilter(parseFilter(filter), { metadataColumn: 'metadata' });
  const order = options.order ?? 'storage';
  if (order !== 'storage' && order !== 'id') {
    throw new QuiverError('INVALID_ARGUMENT', `options.order is ${describe(order)}; give 'storage' or 'id'`);
  }
  return { batchSize, where, order };
}

/** Pages through every matching record in `order`. */
function* pages(
  source: ArrowExportSource,
  batchSize: number,
  where: CompiledFilter | undefined,
  order: ExportOrder,
): Generator<readonly ArrowExportRecord[]> {
  let after: ArrowExportRecord | undefined;
  for (;;) {
    const page = source.readPage(after, batchSize, where, order);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!;
    if (page.length < batchSize) return;
  }
}

function parseMetadata(record: ArrowExportRecord): Metadata {
  try {
    return JSON.parse(record.metadata) as Metadata;
  } catch (error) {
    throw new QuiverError('CORRUPT', `record '${record.id}' has metadata that is not JSON; run quiver verify`, {
      cause: error,
    });
  }
}

/** The first pass: one type per metadata key (in order of first appearance). */
function summarize(
  source: ArrowExportSource,
  batchSize: number,
  where: CompiledFilter | undefined,
  order: ExportOrder,
): { total: number; texts: number; keys: Map<string, KeySummary> } {
  const keys = new Map<string, KeySummary>();
  let total = 0;
  let texts = 0;
  for (const page of pages(source, batchSize, where, order)) {
    for (const record of page) {
      total++;
      if (record.text !== null && record.text !== undefined) texts++;
      for (const [key, value] of Object.entries(parseMetadata(record))) {
        let summary = keys.get(key);
        if (summary === undefined) {
          summary = { present: 0, nulls: 0, scalar: undefined, element: undefined, arrays: 0, objects: 0 };
          keys.set(key, summary);
        }
        summary.present++;
        if (value === null) summary.nulls++;
        else if (Array.isArray(value)) {
          summary.arrays++;
          for (const element of value) {
            const kind = kindOf(element);
            if (kind !== undefined) summary.element = merge(summary.element, kind);
            else if (element !== null) summary.element = 'mixed';
          }
        } else {
          const kind = kindOf(value);
          if (kind === undefined) summary.objects++;
          else summary.scalar = merge(summary.scalar, kind);
        }
      }
    }
  }
  return { total, texts, keys };
}

/**
 * A key gets a typed column when its values share one JSON type (or are arrays of one), and a
 * null in it can mean only one thing; otherwise a Utf8 column of JSON texts.
 */
function columnFor(key: string, summary: KeySummary | undefined, total: number): MetadataColumn {
  if (summary === undefined) return { key, type: { kind: 'json' }, nullIsNull: false };
  const values = summary.present - summary.nulls;
  const scalars = values - summary.arrays - summary.objects;
  const ambiguousNull = summary.nulls > 0 && summary.present < total;
  const mixed =
    summary.objects > 0 ||
    (scalars > 0 && summary.arrays > 0) ||
    summary.scalar === 'mixed' ||
    summary.element === 'mixed';
  if (values === 0 || ambiguousNull || mixed) return { key, type: { kind: 'json' }, nullIsNull: false };
  const nullIsNull = summary.nulls > 0;
  if (summary.arrays > 0)
    return { key, type: { kind: (summary.element as Kind | undefined) ?? 'string', list: true }, nullIsNull };
  return { key, type: { kind: summary.scalar as Kind, list: false }, nullIsNull };
}

function arrowTypeOf(type: ColumnType): DataType {
  const { Bool, Field, Float64, List, Utf8 } = arrow();
  if (type.kind === 'json') return new Utf8();
  const scalar: DataType = type.kind === 'number' ? new Float64() : type.kind === 'boolean' ? new Bool() : new Utf8();
  return type.list ? new List(new Field('item', scalar, true)) : scalar;
}

/** Plans an export: options checked, the first pass done, the schema fixed. */
export function planExport(source: ArrowExportSource, options: ArrowExportOptions = {}): ExportPlan {
  const { batchSize, where, order } = checkOptions(options);
  const { Field, FixedSizeList, Float32, Schema, Utf8 } = arrow();
  const { total, texts, keys } = summarize(source, batchSize, where, order);
  // The text column comes by default when any exported record has text.
  const names = options.columns ?? [
    DEFAULT_ID_COLUMN,
    DEFAULT_VECTOR_COLUMN,
    ...(texts > 0 ? [DEFAULT_TEXT_COLUMN] : []),
    ...keys.keys(),
  ];
  const outputs: OutputColumn[] = [];
  const fields: Field[] = [];
  const taken = new Set<string>();
  const vectorType = new FixedSizeList(source.dim, new Field('item', new Float32(), false));
  // id, vector and text come first by name; a metadata key of the same name gets the column `metadata.<key>`.
  for (const name of names) {
    if (name === DEFAULT_ID_COLUMN && !outputs.some((output) => output.role === 'id')) {
      outputs.push({ role: 'id' });
      fields.push(new Field(DEFAULT_ID_COLUMN, new Utf8(), false));
      taken.add(DEFAULT_ID_COLUMN);
    } else if (name === DEFAULT_VECTOR_COLUMN && !outputs.some((output) => output.role === 'vector')) {
      outputs.push({ role: 'vector' });
      fields.push(new Field(DEFAULT_VECTOR_COLUMN, vectorType, false));
      taken.add(DEFAULT_VECTOR_COLUMN);
    } else if (name === DEFAULT_TEXT_COLUMN && !outputs.some((output) => output.role === 'text')) {
      outputs.push({ role: 'text' });
      fields.push(new Field(DEFAULT_TEXT_COLUMN, new Utf8(), true));
      taken.add(DEFAULT_TEXT_COLUMN);
    }
  }
  const reserved = [DEFAULT_ID_COLUMN, DEFAULT_VECTOR_COLUMN, DEFAULT_TEXT_COLUMN];
  const metadataNames = names.filter((name) => !reserved.includes(name));
  // With `columns` given, 'id'/'vector'/'text' mean the record's own; metadata keys named so are exported by default only.
  if (options.columns === undefined) {
    for (const name of reserved) if (keys.has(name)) metadataNames.push(name);
  }
  for (const key of metadataNames) {
    const column = columnFor(key, keys.get(key), total);
    let name = key;
    while (taken.has(name)) name = `metadata.${name}`;
    taken.add(name);
    const metadata = new Map<string, string>();
    if (name !== key) metadata.set(FIELD_KEY, key);
    if (column.type.kind === 'json') metadata.set(FIELD_ENCODING, 'json');
    metadata.set(FIELD_NULL, column.nullIsNull ? 'null' : 'missing');
    outputs.push({ role: 'metadata', column });
    fields.push(new Field(name, arrowTypeOf(column.type), true, metadata));
  }
  const schema = new Schema(fields, new Map([[SCHEMA_COLLECTION, source.name], ...settingsMetadata(source.settings)]));
  return {
    schema,
    *batches() {
      let rows = 0;
      let count = 0;
      for (const page of pages(source, batchSize, where, order)) {
        const batch = batchOf(schema, outputs, page, source.dim);
        rows += batch.numRows;
        count++;
        options.onProgress?.({ rows, batches: count });
        yield batch;
      }
    },
  };
}

function batchOf(
  schema: Schema,
  outputs: readonly OutputColumn[],
  records: readonly ArrowExportRecord[],
  dim: number,
): RecordBatch {
  const { makeData, RecordBatch, Struct } = arrow();
  const metadata = outputs.some((output) => output.role === 'metadata') ? records.map(parseMetadata) : [];
  const children = outputs.map((output, position): Data => {
    const type = schema.fields[position]!.type;
    if (output.role === 'id')
      return dataOf(
        type,
        records.map((record) => record.id),
      );
    if (output.role === 'vector') return vectorData(type as FixedSizeList, records, dim);
    if (output.role === 'text') return dataOf(type, records.map(textOfRecord));
    return metadataData(type, output.column, metadata);
  });
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: records.length, nullCount: 0, children }),
  );
}

/** A record's stored text, checked: a string or null; anything else is CORRUPT. */
function textOfRecord(record: ArrowExportRecord): string | null {
  const text = record.text;
  if (text === null || text === undefined) return null;
  if (typeof text !== 'string') {
    throw new QuiverError(
      'CORRUPT',
      `record '${record.id}' has a stored text that is not a string. Run quiver verify.`,
    );
  }
  return text;
}

function dataOf(type: DataType, values: readonly unknown[]): Data {
  const builder = arrow().makeBuilder({ type, nullValues: [null, undefined] });
  for (const value of values) builder.append(value);
  return builder.finish().flush();
}

function vectorData(type: FixedSizeList, records: readonly ArrowExportRecord[], dim: number): Data {
  const values = new Float32Array(records.length * dim);
  const bytes = new Uint8Array(values.buffer);
  records.forEach((record, i) => {
    const blob = record.vector;
    if (blob === undefined || blob.byteLength !== dim * 4) {
      throw new QuiverError(
        'CORRUPT',
        `record '${record.id}' has a stored vector of ${blob?.byteLength ?? 0} bytes; expected ${dim * 4} (dim ${dim}). ` +
          'Run quiver verify.',
      );
    }
    bytes.set(blob, i * dim * 4);
  });
  const { Float32, makeData } = arrow();
  const child = makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values });
  return makeData({ type, length: records.length, nullCount: 0, child });
}

function metadataData(type: DataType, column: MetadataColumn, metadata: readonly Metadata[]): Data {
  const { key } = column;
  const values = metadata.map((object): unknown => {
    if (!Object.hasOwn(object, key)) return undefined;
    const value: MetadataValue | undefined = object[key];
    if (column.type.kind === 'json') return JSON.stringify(value);
    if (value === null) return null;
    const fits = column.type.list
      ? Array.isArray(value) && value.every((element) => element === null || kindOf(element) === column.type.kind)
      : kindOf(value) === column.type.kind;
    if (!fits) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `metadata key '${key}' changed type while it was being exported; export again without writing meanwhile`,
      );
    }
    return value;
  });
  return dataOf(type, values);
}

/** All matching records as one Table (for small collections). */
export function arrowTable(source: ArrowExportSource, options: ArrowExportOptions = {}): Table {
  const plan = planExport(source, options);
  const { Table } = arrow();
  return new Table(plan.schema, [...plan.batches()]);
}

/** The matching records as record batches; options are checked and the schema fixed on the first step. */
export async function* recordBatches(
  source: ArrowExportSource,
  options: ArrowExportOptions = {},
): AsyncGenerator<RecordBatch, void, undefined> {
  yield* planExport(source, options).batches();
}

/** Streams the matching records to an IPC file (.arrow) or stream (.arrows), atomically. */
export async function exportArrowFile(
  source: ArrowExportSource,
  path: string,
  options: ArrowExportOptions = {},
): Promise<ArrowExportResult> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new QuiverError('INVALID_ARGUMENT', `exportArrow needs a file path, got ${describe(path)}`);
  }
  const plan = planExport(source, options);
  let rows = 0;
  let batches = 0;
  async function* counted(): AsyncGenerator<RecordBatch> {
    for (const batch of plan.batches()) {
      rows += batch.numRows;
      batches++;
      yield batch;
    }
    // An empty export still carries its schema.
    if (batches === 0) {
      const { makeData, RecordBatch, Struct } = arrow();
      yield new RecordBatch(
        plan.schema,
        makeData({
          type: new Struct(plan.schema.fields),
          length: 0,
          nullCount: 0,
          children: plan.schema.fields.map((field) => dataOf(field.type, [])),
        }),
      );
    }
  }
  const written = await writeIpcFile(path, counted());
  return { path: written.path, rows, batches, bytes: written.bytes };
}
