// Arrow IPC files on disk: record batches read one at a time from a file (.arrow) or stream
// (.arrows) through a file handle, and written atomically (tmp → fsync → rename → fsync directory).
// Imports apache-arrow, node:fs, src/errors and src/types only.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { RecordBatch, RecordBatchWriter, Schema } from 'apache-arrow';
import { QuiverError } from '../errors.js';
import { arrow } from '../lazy-require.js';
import { describe } from '../schema.js';
import type { ArrowSource } from '../types.js';

/** 'stream' for .arrows paths, 'file' for any other. */
export function ipcFormatOf(path: string): 'file' | 'stream' {
  return /\.arrows$/i.test(path) ? 'stream' : 'file';
}

/** A short name of a source for messages. */
export function describeSource(source: ArrowSource): string {
  if (typeof source === 'string') return source;
  if (arrow().isArrowTable(source)) return 'the Arrow table';
  return 'the record batches';
}

/** The record batches of any supported source, as one async iterable. Files are read batch by batch. */
export async function batchesOf(source: ArrowSource): Promise<AsyncIterable<RecordBatch>> {
  if (typeof source === 'string') return readIpcFile(source);
  if (arrow().isArrowTable(source)) return toAsync(source.batches);
  if (arrow().isArrowRecordBatch(source)) return toAsync([source]);
  if (source !== null && typeof source === 'object') {
    if (Symbol.asyncIterator in source) return source as AsyncIterable<RecordBatch>;
    if (Symbol.iterator in source) return toAsync(source as Iterable<RecordBatch>);
  }
  throw new QuiverError(
    'INVALID_ARGUMENT',
    `upsertArrow reads an Arrow Table, record batches or the path of an IPC file, got ${describe(source)}`,
  );
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** Opens an IPC file or stream; the file handle is closed when the iteration ends, however it ends. */
async function readIpcFile(path: string): Promise<AsyncIterable<RecordBatch>> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  let reader: AsyncIterable<RecordBatch>;
  try {
    // An empty file would read as a stream of no batches; it is more likely a failed write.
    if ((await handle.stat()).size === 0) throw new Error('the file is empty');
    reader = await arrow().RecordBatchReader.from(handle);
  } catch (error) {
    await handle.close().catch(() => {});
    throw new QuiverError(
      'CORRUPT',
      `${path} is not a readable Arrow IPC file or stream (${(error as Error).message})`,
      { cause: error },
    );
  }
  return (async function* () {
    try {
      yield* reader;
    } finally {
      await handle.close().catch(() => {});
    }
  })();
}

/** What writeIpcFile reports. */
export interface WrittenFile {
  readonly path: string;
  readonly bytes: number;
}

/**
 * Writes record batches to `path` as an IPC file or stream (by extension) atomically: into
 * `<path>.<pid>.tmp`, fsynced, renamed over `path`, then the directory is fsynced. On any failure the
 * temporary file is removed and `path` is untouched. At most one batch is buffered at a time.
 */
export async function writeIpcFile(path: string, batches: AsyncIterable<RecordBatch>): Promise<WrittenFile> {
  const target = resolve(path);
  const temporary = `${target}.${process.pid}.tmp`;
  let descriptor: number;
  try {
    descriptor = openSync(temporary, 'w');
  } catch (error) {
    throw new QuiverError('IO_ERROR', `cannot write ${target}: ${(error as Error).message}`, { cause: error });
  }
  let bytes = 0;
  let failure: unknown;
  const writer: RecordBatchWriter =
    ipcFormatOf(target) === 'stream' ? new (arrow().RecordBatchStreamWriter)() : new (arrow().RecordBatchFileWriter)();
  // The writer queues its bytes; this loop drains them to disk as soon as they are queued.
  const drain = (async () => {
    for await (const chunk of writer) {
      let written = 0;
      while (written < chunk.byteLength) written += writeSync(descriptor, chunk, written);
      bytes += chunk.byteLength;
    }
  })().catch((error: unknown) => {
    failure ??= error;
  });
  try {
    for await (const batch of batches) {
      if (failure !== undefined) break;
      writer.write(batch);
      await new Promise<void>((done) => setImmediate(done));
    }
    writer.close();
    await drain;
    if (failure !== undefined) throw failure;
    fsyncSync(descriptor);
    closeSync(descriptor);
    descriptor = -1;
    renameSync(temporary, target);
    syncDirectory(dirname(target));
  } catch (error) {
    if (descriptor >= 0) closeSync(descriptor);
    rmSync(temporary, { force: true });
    try {
      writer.abort(error);
    } catch {
      // The writer was closed already; its queue is gone with it.
    }
    if (error instanceof QuiverError) throw error;
    throw new QuiverError('IO_ERROR', `writing ${target} failed: ${(error as Error).message}`, { cause: error });
  }
  return { path: target, bytes };
}

function syncDirectory(directory: string): void {
  const descriptor = openSync(directory, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/** The schema of an IPC file or stream, read from its head without reading its record batches. */
export async function readIpcSchema(path: string): Promise<Schema> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    if ((await handle.stat()).size === 0) throw new Error('the file is empty');
    const reader = await arrow().RecordBatchReader.from(handle);
    await reader.open({ autoDestroy: false });
    if (!reader.schema) throw new Error('it holds no schema');
    return reader.schema;
  } catch (error) {
    throw new QuiverError(
      'CORRUPT',
      `${path} is not a readable Arrow IPC file or stream (${(error as Error).message})`,
      { cause: error },
    );
  } finally {
    await handle.close().catch(() => {});
  }
}
