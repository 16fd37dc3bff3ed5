// The one error type QuiverDB throws, and the one place where foreign errors (SQLite, hnswlib,
// the file system) are converted into it. Imports nothing from the rest of the project.

/**
 * Stable error codes. Code that handles errors should switch on these, never on messages.
 */
export type ErrorCode =
  // Bad input: rejected before anything is written.
  | 'INVALID_ARGUMENT' // a value has the wrong type, range or shape, or an option is unknown
  | 'DIMENSION_MISMATCH' // a vector's length differs from the collection's dim
  | 'NOT_FINITE' // a vector holds NaN or ±Infinity
  | 'INVALID_ID' // an id is empty, too long, or repeated within one batch
  | 'INVALID_METADATA' // metadata is not a JSON object of the supported value types
  | 'INVALID_FILTER' // a metadata filter is malformed, too deep or too large
  | 'SETTINGS_MISMATCH' // a collection was reopened with other dim / metric / index settings
  | 'NOT_FOUND' // a named collection does not exist
  | 'ALREADY_EXISTS' // something that must be new exists already
  | 'READ_ONLY' // a write on a database opened with readOnly: true, or on a replica
  // State: the object cannot be used as asked.
  | 'CLOSED' // the database or collection was closed
  | 'LOCKED' // another process holds the database for writing
  | 'CHANGES_EXPIRED' // the changes after a seq were trimmed from the log: bootstrap again from a backup
  // Corruption / IO: stops writes or triggers a rebuild of the derived index.
  | 'CORRUPT' // a file fails its magic, checksum or structural checks
  | 'FORMAT_TOO_NEW' // the database was written by a newer QuiverDB
  | 'IO_ERROR' // the file system or SQLite failed
  | 'NATIVE_ERROR' // the native addon failed or could not be loaded
  | 'HOOK_FAILED' // the app's embed or rerank function threw, rejected or returned the wrong shape; nothing was written
  | 'INTERNAL'; // a broken invariant inside QuiverDB: please report it

/**
 * Marks QuiverError's prototype. The package ships an ESM and a CommonJS build (and subpath entries
 * such as `quiverdb/langchain`), each with its own copy of the class; `instanceof QuiverError`
 * checks this mark, so an error from any copy is a QuiverError of every copy.
 */
const BRAND = Symbol.for('quiverdb.QuiverError');

/** Every error QuiverDB raises on purpose. `code` is stable; `message` is for people. */
export class QuiverError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QuiverError';
    this.code = code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
Object.defineProperty(QuiverError.prototype, BRAND, { value: true });

/** True when `error` is a QuiverError, optionally with the given code. */
export function isQuiverError(error: unknown, code?: ErrorCode): error is QuiverError {
  return error instanceof QuiverError && (code === undefined || error.code === code);
}

/**
 * Converts an error from SQLite, hnswlib or the file system into a QuiverError.
 * QuiverErrors pass through unchanged; `context` says what QuiverDB was doing.
 */
export function toQuiverError(error: unknown, context: string): QuiverError {
  if (error instanceof QuiverError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const sqliteCode = (error as { code?: unknown } | null)?.code;
  if (typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_')) {
    if (sqliteCode === 'SQLITE_BUSY' || sqliteCode.startsWith('SQLITE_BUSY_')) {
      return new QuiverError('LOCKED', `${context}: the database is busy in another process (${message})`, {
        cause: error,
      });
    }
    if (sqliteCode === 'SQLITE_CORRUPT' || sqliteCode === 'SQLITE_NOTADB') {
      return new QuiverError('CORRUPT', `${context}: the SQLite file is damaged (${message})`, { cause: error });
    }
    if (sqliteCode === 'SQLITE_READONLY' || sqliteCode.startsWith('SQLITE_READONLY_')) {
      return new QuiverError('READ_ONLY', `${context}: the database is read-only (${message})`, { cause: error });
    }
    return new QuiverError('IO_ERROR', `${context}: SQLite failed with ${sqliteCode} (${message})`, { cause: error });
  }
  if (typeof sqliteCode === 'string' && /^E[A-Z]+$/.test(sqliteCode)) {
    return new QuiverError('IO_ERROR', `${context}: ${message}`, { cause: error });
  }
  if (/hnswlib/i.test(message)) {
    return new QuiverError('NATIVE_ERROR', `${context}: the HNSW index failed (${message})`, { cause: error });
  }
  return new QuiverError('INTERNAL', `${context}: ${message}`, { cause: error });
}
