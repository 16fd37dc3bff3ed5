// `quiverdb/worker`: openInWorker runs a database in a worker_threads worker, so the calling thread
// (an Electron main process, a server's event loop) never blocks on an open, a query, an upsert or a
// compaction. The database and its collections are proxies that forward method name and arguments
// (protocol.ts); the worker (thread.ts) runs them with the in-process API. Imports only errors.ts,
// protocol.ts, types and node built-ins.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QuiverError } from '../errors.js';
import type { Collection, CollectionOptions, Database, Metadata, Metric, OpenOptions } from '../types.js';
import {
  decodeValue,
  deserializeError,
  type EncodedHandle,
  encodeValue,
  type FromWorker,
  HANDLE_TAG,
  type ToWorker,
  transferablesOf,
} from './protocol.js';

/** What a value returned in the worker becomes on the calling thread. */
export type Remote<T> =
  T extends Collection<infer M, infer K>
    ? WorkerCollection<M, K>
    : T extends AsyncIterable<infer U>
      ? AsyncIterableIterator<Remote<U>>
      : T;

/** A method as called through the worker: same arguments, a promise of the (remote) result. Keeps up to 4 overloads. */
export type Promisified<F> = F extends {
  (...args: infer A1): infer R1;
  (...args: infer A2): infer R2;
  (...args: infer A3): infer R3;
  (...args: infer A4): infer R4;
}
  ? {
      (...args: A1): Promise<Remote<Awaited<R1>>>;
      (...args: A2): Promise<Remote<Awaited<R2>>>;
      (...args: A3): Promise<Remote<Awaited<R3>>>;
      (...args: A4): Promise<Remote<Awaited<R4>>>;
    }
  : F extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Remote<Awaited<R>>>
    : never;

// biome-ignore lint/suspicious/noExplicitAny: a method's own parameter types are taken over as they are.
type Method = (...args: any[]) => unknown;
type MethodNames<T> = { [K in keyof T]: T[K] extends Method ? K : never }[keyof T];
type FieldNames<T> = { [K in keyof T]: T[K] extends Method ? never : K }[keyof T];

/** The in-process object's data fields as they are, and every method returning a promise. */
export type InWorker<T> = { readonly [K in FieldNames<T>]: T[K] } & { [K in MethodNames<T>]: Promisified<T[K]> };

/** A collection living in the worker: the methods of {@link Collection}, each returning a promise. */
export type WorkerCollection<M extends object = Metadata, K extends Metric = Metric> = InWorker<Collection<M, K>>;

/**
 * A database living in a worker: the methods of {@link Database}, each returning a promise;
 * `collection()` resolves to a {@link WorkerCollection}. `close()` closes the database and ends the worker.
 */
export type WorkerDatabase = Omit<InWorker<Database>, 'collection' | 'collectionAsync'> & {
  collection<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions & { metric?: K },
  ): Promise<WorkerCollection<M, K>>;
  collectionAsync<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions & { metric?: K },
  ): Promise<WorkerCollection<M, K>>;
};

/** {@link OpenOptions}, plus how arguments travel to the worker. */
export interface WorkerOpenOptions extends OpenOptions {
  /**
   * Move the buffers of typed-array arguments (vectors) to the worker instead of copying them. The
   * caller's arrays are then detached (empty) after the call. Default false: arguments are copied,
   * except SharedArrayBuffer-backed arrays, which are shared without a copy either way. Results are
   * copied once into the calling thread by the structured clone; Arrow tables move as IPC bytes.
   */
  transfer?: boolean;
}

interface Pending {
  readonly method: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Starts the worker script beside this module: worker-thread.[c]js when built; thread.ts when this
 * module runs from source (tests), with tsx's loader registered inside the thread first.
 */
function startWorker(): Worker {
  const url: unknown = import.meta.url;
  const here = typeof url === 'string' ? fileURLToPath(url) : __filename;
  if (!here.endsWith('.ts')) {
    return new Worker(join(dirname(here), here.endsWith('.cjs') ? 'worker-thread.cjs' : 'worker-thread.js'));
  }
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const thread = JSON.stringify(pathToFileURL(join(dirname(here), 'thread.ts')).href);
  return new Worker(`import(${tsx}).then((api) => { api.register(); return import(${thread}); });`, { eval: true });
}

/**
 * Opens the database in directory `path` inside a new worker thread. The returned database and its
 * collections have the methods of the in-process ones, each returning a promise, so the calling
 * thread never blocks. Errors arrive as {@link QuiverError} with the same codes. A thread that dies
 * rejects its pending calls with CLOSED; the writer lock dies with it.
 * @example
 * import { openInWorker } from 'quiverdb/worker';
 * const db = await openInWorker('./my.quiver');
 * const docs = await db.collection('docs', { dim: 3 });
 * await docs.upsert([{ id: 'a', vector: [1, 0, 0] }]);
 * const hits = await docs.query({ vector: [1, 0, 0], k: 1 });
 * await db.close(); // also ends the worker
 * @throws {QuiverError} what open() throws (INVALID_ARGUMENT, LOCKED, FORMAT_TOO_NEW, CORRUPT, IO_ERROR,
 *   NATIVE_ERROR), as a rejection; CLOSED when the worker thread stops before the database opened.
 */
export async function openInWorker(path: string, options: WorkerOpenOptions = {}): Promise<WorkerDatabase> {
  const { transfer = false, ...openOptions } = options;
  const worker = startWorker();
  const pending = new Map<number, Pending>();
  const callbacks = new Map<number, (...args: unknown[]) => unknown>();
  const proxies = new Map<number, object>();
  const handleIds = new WeakMap<object, number>();
  let nextId = 1;
  let closed: QuiverError | undefined;
  // The worker keeps the process alive only while a call waits for it, like an in-process handle.
  worker.unref();

  const stop = (reason: string): void => {
    if (closed !== undefined) return;
    closed = new QuiverError(
      'CLOSED',
      `the worker thread of the database at ${path} stopped (${reason}); its writer lock was released with it. ` +
        'Open the database again.',
    );
    for (const call of pending.values()) {
      call.reject(new QuiverError('CLOSED', `${call.method} did not finish: ${closed.message}`));
    }
    pending.clear();
  };
  // Pending calls are rejected on 'exit', not 'error': only then has the thread torn down its SQLite
  // handles, so the writer lock is free by the time a caller reacts to the rejection.
  let crash: string | undefined;
  worker.on('error', (error) => {
    crash ??= `it threw ${error instanceof Error ? error.message : String(error)}`;
  });
  worker.on('exit', (code) => stop(crash ?? `it exited with code ${code}`));
  worker.on('message', (message: FromWorker) => {
    if (message.type === 'callback') {
      const callback = callbacks.get(message.callback);
      callback?.(...(message.args.map((arg) => decodeValue(arg, () => undefined, proxyFor)) as unknown[]));
      return;
    }
    const call = pending.get(message.id);
    if (call === undefined) return;
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (message.type === 'error') call.reject(deserializeError(message.error));
    else {
      try {
        call.resolve(decodeValue(message.value, () => undefined, proxyFor));
      } catch (error) {
        call.reject(error);
      }
    }
  });

  const send = (message: ToWorker, method: string, buffers: ArrayBuffer[]): Promise<unknown> => {
    if (closed !== undefined) return Promise.reject(closed);
    return new Promise((resolve, reject) => {
      pending.set((message as { id: number }).id, { method, resolve, reject });
      worker.ref();
      try {
        worker.postMessage(message, buffers);
      } catch (error) {
        pending.delete((message as { id: number }).id);
        if (pending.size === 0) worker.unref();
        reject(
          new QuiverError(
            'INVALID_ARGUMENT',
            `${method}: an argument cannot be sent to the worker (${(error as Error).message})`,
            { cause: error },
          ),
        );
      }
    });
  };

  const encodeArgs = (args: unknown[]): { encoded: unknown[]; buffers: ArrayBuffer[] } => {
    const buffers: ArrayBuffer[] = [];
    const encoded = args.map((arg) =>
      encodeValue(
        arg,
        (fn) => {
          const id = nextId++;
          callbacks.set(id, fn);
          return id;
        },
        (object) => {
          const handle = handleIds.get(object);
          return handle === undefined ? undefined : { [HANDLE_TAG]: handle, iterator: false, fields: {} };
        },
        buffers,
      ),
    );
    if (transfer) for (const buffer of transferablesOf(args)) if (!buffers.includes(buffer)) buffers.push(buffer);
    return { encoded, buffers };
  };

  const call = (handle: number, method: string, args: unknown[]): Promise<unknown> => {
    if (closed !== undefined) return Promise.reject(closed);
    const { encoded, buffers } = encodeArgs(args);
    return send({ type: 'call', id: nextId++, handle, method, args: encoded }, method, buffers);
  };

  const close = async (): Promise<void> => {
    if (closed !== undefined) return;
    try {
      await call(0, 'close', []);
    } finally {
      const message = `the database at ${path} was closed; open it again`;
      closed ??= new QuiverError('CLOSED', message);
      await worker.terminate();
    }
  };

  function proxyFor(encoded: EncodedHandle): object {
    const handle = encoded[HANDLE_TAG];
    const known = proxies.get(handle);
    if (known !== undefined) return known;
    const fields: Record<string, unknown> = { ...encoded.fields };
    const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    const iterate = async (method: string, args: unknown[]): Promise<unknown> => {
      const step = (await call(handle, method, args)) as IteratorResult<unknown>;
      if (step.done === true && closed === undefined)
        worker.postMessage({ type: 'release', handle } satisfies ToWorker);
      return step;
    };
    const proxy: object = new Proxy(fields, {
      get(target, key) {
        if (typeof key === 'symbol') return key === Symbol.asyncIterator && encoded.iterator ? () => proxy : undefined;
        if (Object.hasOwn(target, key)) return target[key];
        // Not a thenable: `await db` must not call into the worker.
        if (key === 'then') return undefined;
        let method = methods.get(key);
        if (method === undefined) {
          method =
            handle === 0 && key === 'close'
              ? close
              : encoded.iterator && (key === 'next' || key === 'return')
                ? (...args: unknown[]) => iterate(key, args)
                : (...args: unknown[]) => call(handle, key, args);
          methods.set(key, method);
        }
        return method;
      },
      set() {
        return false;
      },
    });
    proxies.set(handle, proxy);
    handleIds.set(proxy, handle);
    return proxy;
  }

  const database = await send(
    { type: 'open', id: nextId++, path, options: encodeArgs([openOptions]).encoded[0] },
    'open',
    [],
  ).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  return database as WorkerDatabase;
}
