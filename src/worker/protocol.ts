// The messages between openInWorker (src/worker/index.ts) and the worker thread (thread.ts), and
// the encoding of the values they carry: plain data as structured clones; functions as callback
// ids; objects with methods (a database, a collection, an async iterator) as handles; Arrow tables
// and record batches as IPC bytes. Imports only errors.ts, lazy-require.ts and types.
import type { RecordBatch, Table } from 'apache-arrow';
import { type ErrorCode, QuiverError } from '../errors.js';
import { arrow } from '../lazy-require.js';

/** A call of `method` on the object behind `handle` (0 is the database). */
export interface CallMessage {
  readonly type: 'call';
  readonly id: number;
  readonly handle: number;
  readonly method: string;
  readonly args: unknown[];
}

/** Opens the database: the first message a worker gets. */
export interface OpenMessage {
  readonly type: 'open';
  readonly id: number;
  readonly path: string;
  readonly options: unknown;
}

/** Forgets a handle whose main-thread proxy is gone (an iterator that finished). */
export interface ReleaseMessage {
  readonly type: 'release';
  readonly handle: number;
}

export type ToWorker = CallMessage | OpenMessage | ReleaseMessage;

export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly value: unknown;
}

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly id: number;
  readonly error: SerializedError;
}

/** A function argument (an onProgress callback) called in the worker, run on the main thread. */
export interface CallbackMessage {
  readonly type: 'callback';
  readonly callback: number;
  readonly args: unknown[];
}

export type FromWorker = ResultMessage | ErrorMessage | CallbackMessage;

/** Tags of encoded values; a plain object never has these keys with these shapes by accident. */
export const HANDLE_TAG = '__quiverdbHandle';
export const CALLBACK_TAG = '__quiverdbCallback';
export const ARROW_TAG = '__quiverdbArrow';

/** An object with methods living in the worker: its id, its kind and a snapshot of its data fields. */
export interface EncodedHandle {
  readonly [HANDLE_TAG]: number;
  readonly iterator: boolean;
  readonly fields: Record<string, unknown>;
}

export interface EncodedArrow {
  readonly [ARROW_TAG]: 'table' | 'batch';
  readonly bytes: Uint8Array;
}

/** Options objects nest at most this deep; deeper values are sent as they are. */
const MAX_DEPTH = 8;

/** The error as it crosses the thread boundary: QuiverDB's code and message, nothing else. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof QuiverError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { name?: unknown } | null)?.name === 'DataCloneError') {
    return { code: 'INVALID_ARGUMENT', message: `a value cannot be sent to or from the worker (${message})` };
  }
  return { code: 'INTERNAL', message };
}

export function deserializeError(error: SerializedError): QuiverError {
  return new QuiverError(error.code, error.message);
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isArrowTable(value: object): value is Table {
  return 'batches' in value && 'schema' in value && 'numRows' in value && arrow().isArrowTable(value);
}

function isArrowBatch(value: object): value is RecordBatch {
  return 'schema' in value && 'numRows' in value && 'data' in value && arrow().isArrowRecordBatch(value);
}

/**
 * Encodes a value for postMessage. `onFunction` turns a function into a callback id; `onObject`
 * turns an object with methods into a handle (undefined: it is sent as it is, and postMessage
 * decides). Arrow tables and batches become IPC bytes, collected in `transfer` (they are fresh).
 */
export function encodeValue(
  value: unknown,
  onFunction: (fn: (...args: unknown[]) => unknown) => number,
  onObject: ((object: object) => EncodedHandle | undefined) | undefined,
  transfer: ArrayBuffer[],
  depth = 0,
): unknown {
  if (typeof value === 'function') return { [CALLBACK_TAG]: onFunction(value as (...args: unknown[]) => unknown) };
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item) => encodeValue(item, onFunction, onObject, transfer, depth + 1));
  if (isArrowTable(value) || isArrowBatch(value)) {
    const table = isArrowTable(value) ? value : new (arrow().Table)(value);
    const bytes = arrow().tableToIPC(table, 'stream');
    transfer.push(bytes.buffer as ArrayBuffer);
    return { [ARROW_TAG]: isArrowTable(value) ? 'table' : 'batch', bytes } satisfies EncodedArrow;
  }
  if (!isPlainObject(value)) {
    const handle = onObject?.(value);
    if (handle !== undefined) return handle;
    return value;
  }
  const encoded: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    encoded[key] = encodeValue(item, onFunction, onObject, transfer, depth + 1);
  }
  return encoded;
}

/** The inverse of encodeValue: callback ids and handles become what `onCallback` / `onHandle` make. */
export function decodeValue(
  value: unknown,
  onCallback: (id: number) => unknown,
  onHandle: (handle: EncodedHandle) => unknown,
  depth = 0,
): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, onCallback, onHandle, depth + 1));
  const record = value as Record<string, unknown>;
  if (typeof record[CALLBACK_TAG] === 'number') return onCallback(record[CALLBACK_TAG]);
  if (typeof record[HANDLE_TAG] === 'number') return onHandle(value as EncodedHandle);
  if (record[ARROW_TAG] === 'table' || record[ARROW_TAG] === 'batch') {
    const table = arrow().tableFromIPC(record.bytes as Uint8Array);
    return record[ARROW_TAG] === 'table' ? table : table.batches[0];
  }
  if (!isPlainObject(value)) return value;
  const decoded: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) decoded[key] = decodeValue(item, onCallback, onHandle, depth + 1);
  return decoded;
}

/** The buffers of typed arrays among `args` (top level and in option objects) that can move without a copy. */
export function transferablesOf(args: readonly unknown[]): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return;
    if (ArrayBuffer.isView(value)) {
      // A Node Buffer may be a slice of a shared pool: moving the pool would detach its neighbours.
      if (value.buffer instanceof ArrayBuffer && !Buffer.isBuffer(value)) found.add(value.buffer);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (isPlainObject(value)) for (const item of Object.values(value)) visit(item, depth + 1);
  };
  for (const arg of args) visit(arg, 0);
  return [...found];
}
