// Reader for vectors in Apache Arrow IPC files (.arrow, file format) or streams (.arrows); see
// bench/README.md for the convention. Imports apache-arrow and the error type only.
// Vectors: one FixedSizeList<Float32|Float64> (or List) column; row i is base id i.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Data, DataType, type Table, tableFromIPC, type Vector } from 'apache-arrow';
import { QuiverError } from '../../src/errors.js';
import { type IdSet, type Metric, parseMetric, type VectorSet } from './dataset.js';

/** Column names tried, in order, when no column is named explicitly. */
export const VECTOR_COLUMN_NAMES = ['vector', 'embedding', 'vectors', 'embeddings', 'emb'] as const;

/** Split values that mark base rows and query rows in an optional `split` column. */
const BASE_SPLITS = new Set(['base', 'train']);
const QUERY_SPLITS = new Set(['query', 'queries', 'test']);

/** Options for {@link readArrowDataset}. */
export interface ArrowReadOptions {
  /** The vector column (default: the first of {@link VECTOR_COLUMN_NAMES}, else the first list-of-float column). */
  column?: string;
  /** A second file holding the queries (default: a sibling `<stem>.query.arrow[s]` when present). */
  queryPath?: string;
  /** Queries held out from the end of the base when there is neither a split column nor a query file. */
  holdOut?: number;
}

/** What an Arrow data set yields. */
export interface ArrowData {
  metric: Metric;
  base: VectorSet;
  queries: VectorSet;
  /** From a `neighbors` list column on the query rows, when present. */
  neighbors?: IdSet;
  notes: string[];
}

function readTable(path: string): Table {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const table = tableFromIPC(bytes);
    if (table.schema.fields.length === 0) throw new Error('no columns');
    return table;
  } catch (error) {
    throw new QuiverError(
      'CORRUPT',
      `${path} is not a readable Arrow IPC file or stream (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

function isListOf(type: DataType, predicate: (child: DataType) => boolean): boolean {
  if (!DataType.isFixedSizeList(type) && !DataType.isList(type)) return false;
  const child = type.children[0]?.type;
  return child !== undefined && predicate(child);
}

const isFloat32or64 = (type: DataType): boolean =>
  DataType.isFloat(type) && (type.precision === 1 || type.precision === 2);

function pickVectorColumn(table: Table, path: string, wanted: string | undefined): string {
  const fields = table.schema.fields;
  if (wanted !== undefined) {
    if (!fields.some((field) => field.name === wanted)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${path} has no column '${wanted}'; columns: ${fields.map((f) => f.name).join(', ')}`,
      );
    }
    return wanted;
  }
  for (const name of VECTOR_COLUMN_NAMES) {
    if (fields.some((field) => field.name === name)) return name;
  }
  const found = fields.find((field) => isListOf(field.type, isFloat32or64));
  if (!found) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${path} has no vector column: expected a FixedSizeList<Float32> or List<Float32> column ` +
        `(named one of ${VECTOR_COLUMN_NAMES.join(', ')}, or pass a column name)`,
    );
  }
  return found.name;
}

/** Flattens a list column's rows (all of one length) into a row-major typed array. */
function flattenList<T extends Float32Array | Int32Array>(
  column: Vector,
  path: string,
  name: string,
  make: (length: number) => T,
  accept: (child: DataType) => boolean,
  rows?: number[],
): { count: number; dim: number; data: T } {
  if (!isListOf(column.type, accept)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${path}: column '${name}' has type ${String(column.type)}, not a list of numbers`,
    );
  }
  // Gather (chunk, row-in-chunk) for the wanted rows, then copy each row's slice of the child values.
  const chunks = column.data as Data[];
  const locate: Array<[Data, number]> = [];
  for (const chunk of chunks) {
    if (chunk.nullCount > 0) throw new QuiverError('CORRUPT', `${path}: column '${name}' holds null vectors`);
    for (let row = 0; row < chunk.length; row++) locate.push([chunk, row]);
  }
  const selected = rows ?? locate.map((_, index) => index);
  let dim = -1;
  let data = make(0);
  selected.forEach((rowIndex, outRow) => {
    const [chunk, row] = locate[rowIndex]!;
    const child = chunk.children[0]!;
    let start: number;
    let end: number;
    if (DataType.isFixedSizeList(chunk.type)) {
      const size = chunk.type.listSize;
      start = (chunk.offset + row) * size;
      end = start + size;
    } else {
      const offsets = chunk.valueOffsets as Int32Array;
      start = offsets[chunk.offset + row]!;
      end = offsets[chunk.offset + row + 1]!;
    }
    if (dim === -1) {
      dim = end - start;
      if (dim < 1) throw new QuiverError('CORRUPT', `${path}: column '${name}' row ${rowIndex} is an empty vector`);
      data = make(selected.length * dim);
    } else if (end - start !== dim) {
      throw new QuiverError(
        'CORRUPT',
        `${path}: column '${name}' row ${rowIndex} has ${end - start} numbers, but row ${selected[0]} has ${dim}`,
      );
    }
    const values = child.values as ArrayLike<number>;
    const base = child.offset;
    for (let j = 0; j < dim; j++) data[outRow * dim + j] = Number(values[base + start + j]);
  });
  return { count: selected.length, dim: Math.max(dim, 0), data };
}

const readVectors = (table: Table, path: string, column: string, rows?: number[]): VectorSet =>
  flattenList(table.getChild(column)!, path, column, (length) => new Float32Array(length), isFloat32or64, rows);

function metricOf(table: Table, path: string): Metric | undefined {
  const metadata = table.schema.metadata;
  const value = metadata.get('metric') ?? metadata.get('distance');
  return value === undefined ? undefined : parseMetric(value, path);
}

function siblingQueryFile(path: string): string | undefined {
  const stem = basename(path).replace(/\.(arrow|arrows)$/i, '');
  const folder = dirname(path);
  const candidates =
    stem === 'base'
      ? ['query.arrow', 'query.arrows', 'queries.arrow', 'queries.arrows']
      : [`${stem}.query.arrow`, `${stem}.query.arrows`, `${stem}.queries.arrow`, `${stem}.queries.arrows`];
  return candidates.map((name) => join(folder, name)).find((candidate) => existsSync(candidate));
}

/**
 * Reads base and query vectors from Arrow IPC: (1) one file with a `split` column ('base'/'train'
 * vs 'query'/'test'), (2) a base file plus a query file (`queryPath`, or a sibling
 * `<stem>.query.arrow[s]`, or `query.arrow[s]` beside `base.arrow[s]`), or (3) one file alone, whose
 * last `holdOut` rows (default min(100, n/10)) become the queries. Schema metadata `metric` or
 * `distance` gives the metric (default l2). A `neighbors` list<int> column on the query rows is
 * taken as ground truth.
 * @throws INVALID_ARGUMENT when files or columns are missing; CORRUPT for unreadable files or ragged vectors
 */
export function readArrowDataset(path: string, options: ArrowReadOptions = {}): ArrowData {
  const table = readTable(path);
  const column = pickVectorColumn(table, path, options.column);
  const metric = metricOf(table, path) ?? 'l2';
  const notes: string[] = [];
  const isInt = (type: DataType): boolean => DataType.isInt(type);
  const readNeighbors = (source: Table, sourcePath: string, rows?: number[]): IdSet | undefined => {
    const neighbors = source.getChild('neighbors');
    return neighbors
      ? flattenList(neighbors, sourcePath, 'neighbors', (length) => new Int32Array(length), isInt, rows)
      : undefined;
  };
  const withNeighbors = (data: ArrowData, neighbors: IdSet | undefined): ArrowData =>
    neighbors ? { ...data, neighbors } : data;

  const split = table.getChild('split');
  if (split) {
    const baseRows: number[] = [];
    const queryRows: number[] = [];
    for (let row = 0; row < table.numRows; row++) {
      const value = String(split.get(row)).toLowerCase();
      if (BASE_SPLITS.has(value)) baseRows.push(row);
      else if (QUERY_SPLITS.has(value)) queryRows.push(row);
      else
        throw new QuiverError('CORRUPT', `${path}: row ${row} has split '${value}'; expected base/train or query/test`);
    }
    notes.push(`base and queries split by the 'split' column of ${basename(path)}`);
    return withNeighbors(
      {
        metric,
        base: readVectors(table, path, column, baseRows),
        queries: readVectors(table, path, column, queryRows),
        notes,
      },
      readNeighbors(table, path, queryRows),
    );
  }

  const queryPath = options.queryPath ?? siblingQueryFile(path);
  if (queryPath !== undefined) {
    const queryTable = readTable(queryPath);
    const queryColumn = pickVectorColumn(queryTable, queryPath, options.column);
    const base = readVectors(table, path, column);
    const queries = readVectors(queryTable, queryPath, queryColumn);
    if (base.dim !== queries.dim) {
      throw new QuiverError('INVALID_ARGUMENT', `${path} has dim ${base.dim} but ${queryPath} has dim ${queries.dim}`);
    }
    notes.push(`queries from ${basename(queryPath)}`);
    return withNeighbors({ metric, base, queries, notes }, readNeighbors(queryTable, queryPath));
  }

  const all = readVectors(table, path, column);
  const holdOut = Math.min(options.holdOut ?? Math.min(100, Math.floor(all.count / 10)), all.count - 1);
  if (holdOut < 1) {
    throw new QuiverError('INVALID_ARGUMENT', `${path} has too few rows (${all.count}) to hold out queries`);
  }
  const baseCount = all.count - holdOut;
  notes.push(`no split column or query file: the last ${holdOut} rows of ${basename(path)} are the queries`);
  return {
    metric,
    base: { count: baseCount, dim: all.dim, data: all.data.slice(0, baseCount * all.dim) },
    queries: { count: holdOut, dim: all.dim, data: all.data.slice(baseCount * all.dim) },
    notes,
  };
}
