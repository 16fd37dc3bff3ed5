// The worker thread behind openInWorker: opens the database with the in-process API and runs each
// call by method name on the object behind a handle, so every method of a database or collection
// (today's and any added later) works without a list here. Imports only the public entry and protocol.ts.
import { parentPort } from 'node:worker_threads';
import { open, QuiverError } from '../index.js';
import {
  type CallMessage,
  decodeValue,
  type EncodedHandle,
  encodeValue,
  type FromWorker,
  HANDLE_TAG,
  serializeError,
  type ToWorker,
} from './protocol.js';

// Test hook: the name of a method whose call makes this thread crash (an uncaught exception) while
// the call is pending, to test that the main thread rejects it and the writer lock dies with the thread.
const CRASH_ON = process.env.QUIVERDB_WORKER_TEST_CRASH_ON;

const port = parentPort;
if (port === null) throw new Error('src/worker/thread.ts runs only as a worker thread');

const objects = new Map<number, object>();
const handlesOf = new WeakMap<object, number>();
let nextHandle = 1;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

/** The data fields of an object with methods (a collection's name, dim…), cloned once when handed out. */
function fieldsOf(object: object): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const names = new Set(Object.keys(object));
  for (let prototype = Object.getPrototypeOf(object); prototype && prototype !== Object.prototype; ) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(prototype))) {
      if (descriptor.get !== undefined) names.add(name);
    }
    prototype = Object.getPrototypeOf(prototype);
  }
  for (const name of names) {
    const value = (object as Record<string, unknown>)[name];
    if (typeof value === 'function') continue;
    try {
      fields[name] = structuredClone(value);
    } catch {
      // Not data (an object holding callbacks): reachable through methods only.
    }
  }
  return fields;
}

function handleOf(object: object): EncodedHandle | undefined {
  const iterator = Symbol.asyncIterator in object;
  const hasMethods = (() => {
    for (let prototype = Object.getPrototypeOf(object); prototype && prototype !== Object.prototype; ) {
      if (Object.getOwnPropertyNames(prototype).some((name) => name !== 'constructor')) return true;
      prototype = Object.getPrototypeOf(prototype);
    }
    return false;
  })();
  if (!iterator && !hasMethods) return undefined;
  let handle = handlesOf.get(object);
  if (handle === undefined) {
    handle = nextHandle++;
    handlesOf.set(object, handle);
    objects.set(handle, object);
  }
  return { [HANDLE_TAG]: handle, iterator, fields: iterator ? {} : fieldsOf(object) };
}

function callbackFor(id: number): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const transfer: ArrayBuffer[] = [];
    const encoded = args.map((arg) => encodeValue(arg, () => -1, undefined, transfer));
    post({ type: 'callback', callback: id, args: encoded }, transfer);
  };
}

function decodeArgs(args: unknown[]): unknown[] {
  return args.map((arg) =>
    decodeValue(arg, callbackFor, (handle) => {
      const object = objects.get(handle[HANDLE_TAG]);
      if (object === undefined) throw new TypeError('an argument refers to an object the worker no longer has');
      return object;
    }),
  ) as unknown[];
}

async function reply(id: number, run: () => unknown): Promise<void> {
  try {
    const value = await run();
    const transfer: ArrayBuffer[] = [];
    const encoded = encodeValue(value, () => -1, handleOf, transfer);
    try {
      post({ type: 'result', id, value: encoded }, transfer);
    } catch (error) {
      post({ type: 'error', id, error: serializeError(error) });
    }
  } catch (error) {
    post({ type: 'error', id, error: serializeError(error) });
  }
}

async function call(message: CallMessage): Promise<void> {
  if (CRASH_ON !== undefined && message.method === CRASH_ON) {
    setImmediate(() => {
      throw new Error(`test crash on ${message.method}`);
    });
    return;
  }
  await reply(message.id, () => {
    const target = objects.get(message.handle) as Record<string, unknown> | undefined;
    if (target === undefined) throw new TypeError(`handle ${message.handle} is gone`);
    const method = target[message.method];
    if (typeof method !== 'function' || message.method === 'constructor') {
      throw new QuiverError('INVALID_ARGUMENT', `${message.method} is not a method of this object`);
    }
    return (method as (...args: unknown[]) => unknown).apply(target, decodeArgs(message.args));
  });
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'open') {
    void reply(message.id, () => {
      const [options] = decodeArgs([message.options]);
      const database = open(message.path, options as Parameters<typeof open>[1]);
      objects.set(0, database);
      handlesOf.set(database, 0);
      return database;
    });
  } else if (message.type === 'call') {
    void call(message);
  } else if (message.type === 'release') {
    const object = objects.get(message.handle);
    if (object !== undefined && message.handle !== 0) {
      objects.delete(message.handle);
      handlesOf.delete(object);
    }
  }
});
