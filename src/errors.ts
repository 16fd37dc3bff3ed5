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
  | 'UNAUTHORIZED' // the NATS server refused the credentials given to a publisher or replica
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
  const code = (error as { code?: unknown } | null)?.code;
  const as = (quiverCode: ErrorCode, text: string) =>
    new QuiverError(quiverCode, `${context}: ${text}`, { cause: error });
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) {
      return as('LOCKED', `the database is busy in another process (${message})`);
    }
    if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB') {
      return as('CORRUPT', `the SQLite file is damaged (${message}); run quiver verify`);
    }
    if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
      return as('READ_ONLY', `the database is read-only (${message})`);
    }
    if (code === 'SQLITE_FULL') return as('IO_ERROR', `the disk is full (${message}); free some space and retry`);
    return as('IO_ERROR', `SQLite failed with ${code} (${message})`);
  }
  if (code === 'ENOSPC') return as('IO_ERROR', `the disk is full (${message}); free some space and retry`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return as('IO_ERROR', `permission denied (${message}); check the database directory's owner and mode`);
  }
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') {
    return as('INVALID_ARGUMENT', message);
  }
  if (
    code === 'ERR_DLOPEN_FAILED' ||
    /bindings file|\.node\b.*(not found|cannot open|invalid ELF)|NODE_MODULE_VERSION/i.test(message)
  ) {
    return as(
      'NATIVE_ERROR',
      `a native module could not be loaded (${message}); rebuild the native modules with \`npm rebuild better-sqlite3 quiverdb\` (installs with --ignore-scripts skip their build)`,
    );
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return as('IO_ERROR', message);
  if (/hnswlib/i.test(message)) return as('NATIVE_ERROR', `the HNSW index failed (${message})`);
  return as('INTERNAL', message);
}
