// The public boundary: the objects open() hands out are wrapped here, so that whatever escapes one of
// their methods — thrown, rejected, or raised by an async iterator — leaves as a QuiverError (foreign
// errors through toQuiverError, with the original as `cause`). Imports errors.ts only.
import { QuiverError, toQuiverError } from './errors.js';

/** The wrapper of each object already wrapped, so that identity holds (db.collection('a') twice is one object). */
const wrappers = new WeakMap<object, object>();

/** Objects whose methods' results are wrapped in turn (the database, its collections). */
const boundaryClasses = new Set<abstract new (...args: never[]) => object>();

/** Marks a class whose instances, when a public method returns them, are wrapped too. */
export function registerBoundaryClass(type: abstract new (...args: never[]) => object): void {
  boundaryClasses.add(type);
}

/** Calls `body` and converts whatever it throws; `what` names the call in messages ("docs.query()"). */
export function atBoundary<T>(what: string, body: () => T): T {
  let result: T;
  try {
    result = body();
  } catch (error) {
    throw convert(error, what);
  }
  return wrapResult(result, what);
}

function convert(error: unknown, what: string): QuiverError {
  return error instanceof QuiverError ? error : toQuiverError(error, what);
}

function wrapResult<T>(result: T, what: string): T {
  if (result === null || typeof result !== 'object') return result;
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => wrapResult(value, what),
      (error: unknown) => {
        throw convert(error, what);
      },
    ) as T;
  }
  if (isBoundaryObject(result)) return guard(result, label(result));
  if (Array.isArray(result) || !(Symbol.asyncIterator in result)) return result;
  // An async iterator (toArrow): each step is a call across the boundary.
  const iterator = result as unknown as AsyncIterableIterator<unknown>;
  const step =
    (name: 'next' | 'return' | 'throw') =>
    (...args: unknown[]): Promise<IteratorResult<unknown>> => {
      const method = iterator[name] as ((...a: unknown[]) => Promise<IteratorResult<unknown>>) | undefined;
      if (method === undefined) return Promise.resolve({ done: true, value: args[0] });
      return atBoundary(what, () => method.apply(iterator, args));
    };
  const wrapped: AsyncIterableIterator<unknown> = {
    next: step('next'),
    return: step('return'),
    throw: step('throw'),
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped as T;
}

function isBoundaryObject(value: object): boolean {
  for (const type of boundaryClasses) if (value instanceof type) return true;
  return false;
}

function label(target: object): string {
  const name = (target as { name?: unknown }).name;
  return typeof name === 'string' ? `collection '${name}'` : 'database';
}

/**
 * `target` seen through the boundary: every method call and property read converts what escapes it.
 * Methods run on `target` itself (its #private fields stay reachable).
 */
export function guard<T extends object>(target: T, what = label(target)): T {
  const existing = wrappers.get(target);
  if (existing !== undefined) return existing as T;
  const methods = new Map<PropertyKey, unknown>();
  const proxy = new Proxy(target, {
    get(object, property) {
      const value = atBoundary(`${what}.${String(property)}`, () => Reflect.get(object, property, object));
      if (typeof value !== 'function') return value;
      let method = methods.get(property);
      if (method === undefined) {
        const call = `${what}.${String(property)}()`;
        method = (...args: unknown[]) =>
          atBoundary(call, () => (value as (...a: unknown[]) => unknown).apply(object, args));
        methods.set(property, method);
      }
      return method;
    },
  });
  wrappers.set(target, proxy);
  return proxy;
}
