// The public entry of quiverdb: open(), the public types and the error class. Nothing else
// is exported; package.json#exports makes deep imports fail.
import { atBoundary, registerBoundaryClass } from './boundary.js';
import { CollectionImpl } from './collection/collection.js';
import { DatabaseImpl } from './db.js';
import type { Database, OpenOptions } from './types.js';

export { type ErrorCode, QuiverError } from './errors.js';
export type {
  ArrowExportOptions,
  ArrowExportResult,
  ArrowImportOptions,
  ArrowImportProgress,
  ArrowImportResult,
  ArrowSource,
  BackupResult,
  Change,
  ChangeConsumerInfo,
  ChangeFeedInfo,
  ChangeRetention,
  ChangesOptions,
  Collection,
  CollectionInfo,
  CollectionOptions,
  CollectionSettingsChange,
  Database,
  EmbedFunction,
  ExplainedQuery,
  ExplainedTextQuery,
  FieldCondition,
  FieldOperators,
  Filter,
  GetOptions,
  HitOf,
  IdHitOf,
  FusionOptions,
  Id,
  IndexOptions,
  IndexSettings,
  IvfPqCalibration,
  Metadata,
  MetadataInput,
  MetadataInputOf,
  MetadataPatch,
  MetadataValue,
  Metric,
  OpenOptions,
  PageOptions,
  QueryAsyncOptions,
  QueryBatchOptions,
  QueryHit,
  QueryIdHit,
  QueryIdsBatchOptions,
  QueryIdsOptions,
  QueryOptions,
  QueryPlan,
  QuiverProgress,
  QuiverWarning,
  QuiverRecord,
  RecordPage,
  RerankFunction,
  ScoreOf,
  TextOptions,
  TextQueryCandidate,
  TextQueryPlan,
  TextRecord,
  TextSettings,
  Tokenizer,
  TypedFilter,
  UpdateChanges,
  UpdateOptions,
  UpdateSelection,
  UpsertOptions,
  UpsertProgress,
  UpsertRecord,
  UpsertResult,
  VectorInput,
  WatchOptions,
} from './types.js';

/**
 * Opens the database in directory `path`, creating the directory and its files when missing
 * (unless `readOnly`).
 * @example
 * import { open } from 'quiverdb';
 * const db = open('./my.quiver');
 * const docs = db.collection('docs', { dim: 384, metric: 'cosine' });
 * @throws {QuiverError} INVALID_ARGUMENT, NOT_FOUND (read-only and missing), FORMAT_TOO_NEW, CORRUPT, IO_ERROR,
 *   NATIVE_ERROR (better-sqlite3's binding or, on first use, QuiverDB's addon cannot load: the message says where
 *   it looked and which command fixes it)
 */
export function open(path: string, options?: OpenOptions): Database {
  return atBoundary('open()', () => new DatabaseImpl(path, options));
}

// Every method of the database and its collections converts what escapes it into a QuiverError.
registerBoundaryClass(DatabaseImpl);
registerBoundaryClass(CollectionImpl);
