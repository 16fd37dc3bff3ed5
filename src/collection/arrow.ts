// A collection's Arrow glue: upsertArrow's batches turned into upserts, and the records read page
// by page (each checked) for toArrow, toArrowTable and exportArrow; functions of the collection's
// state (state.ts). The formats live in src/arrow/. Must not import the collection class or the database.
import type { RecordBatch, Table } from 'apache-arrow';
import {
  type ArrowExportSource,
  arrowTable,
  type ColumnBatch,
  exportArrowFile,
  recordBatches,
  upsertArrow,
} from '../arrow/index.js';
import { QuiverError } from '../errors.js';
import { toMetadataJson } from '../schema.js';
import { checkedRecord } from '../storage/stored-record.js';
import type {
  ArrowExportOptions,
  ArrowExportResult,
  ArrowImportOptions,
  ArrowImportResult,
  ArrowSource,
  UpsertResult,
} from '../types.js';
import type { CollectionState } from './state.js';
import type { PreparedBatch } from './write.js';

/** The metadata of records given none. */
const EMPTY_METADATA = '{}';

/**
 * One Arrow record batch as one upsert. Its ids (unique, valid), vectors (`dim` finite numbers
 * each, non-zero under cosine) and metadata given as JSON text were checked by the Arrow reader;
 * metadata objects are checked here as upsert checks them. Messages name "record i" of the
 * batch, which the reader turns into its row.
 */
export function columnBatch(state: CollectionState, batch: ColumnBatch): PreparedBatch {
  if (batch.vectors.length !== batch.ids.length * state.dim) {
    throw new QuiverError(
      'INTERNAL',
      `an Arrow batch of ${batch.ids.length} ids came with ${batch.vectors.length} numbers (dim ${state.dim})`,
    );
  }
  const metadata =
    batch.metadata === undefined
      ? EMPTY_METADATA
      : 'json' in batch.metadata
        ? batch.metadata.json
        : batch.metadata.objects.map((value, row) => toMetadataJson(value, `record ${row}.metadata`));
  return { ids: batch.ids, vectors: batch.vectors, metadata, texts: batch.texts };
}

/**
 * Collection.upsertArrow: each record batch of the source goes to `upsertColumns` (the collection's
 * write path, one upsert per batch).
 */
export async function importArrow(
  state: CollectionState,
  upsertColumns: (batch: ColumnBatch) => UpsertResult,
  source: ArrowSource,
  options?: ArrowImportOptions,
): Promise<ArrowImportResult> {
  state.writable();
  const target = {
    name: state.name,
    dim: state.dim,
    metric: state.metric,
    upsertColumns,
  };
  return upsertArrow(target, source, options);
}

/** Collection.toArrow: the records as Arrow record batches, read page by page. */
export function arrowBatches(state: CollectionState, options?: ArrowExportOptions): AsyncIterableIterator<RecordBatch> {
  state.readable();
  return recordBatches(arrowSource(state), options);
}

/** Collection.toArrowTable: the records as one Arrow table, read in one read transaction. */
export function arrowTableOf(state: CollectionState, options?: ArrowExportOptions): Table {
  return state.read(() => {
    state.readable();
    return arrowTable(arrowSource(state), options);
  });
}

/** Collection.exportArrow: the records written to an Arrow IPC file. */
export async function exportArrowTo(
  state: CollectionState,
  path: string,
  options?: ArrowExportOptions,
): Promise<ArrowExportResult> {
  state.readable();
  return exportArrowFile(arrowSource(state), path, options);
}

/** The store's records of this collection, page by page, for the Arrow export. */
function arrowSource(state: CollectionState): ArrowExportSource {
  const indexes = state.store.findCollection(state.name)?.indexedFields ?? [];
  return {
    name: state.name,
    dim: state.dim,
    metric: state.metric,
    settings: { dim: state.dim, metric: state.metric, index: state.index, indexes, text: state.textSearch?.settings },
    readPage: (after, limit, where, order) => {
      state.readable();
      const store = state.store;
      const rows =
        order === 'id'
          ? store.recordsAfterId(state.collectionId, after?.id, limit, 0, where)
          : store.recordsAfterLabel(state.collectionId, after?.label ?? -1, limit, where);
      // Each record is checked (checksum, vector, metadata, text) before it is exported.
      for (const row of rows) checkedRecord(row, state.dim, state.name);
      return rows;
    },
  };
}
