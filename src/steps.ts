// A long operation written once, as a generator of steps: each step has a synchronous and an
// asynchronous way to run; runSync runs them blocking, runAsync awaits each (the pattern of
// Babel's gensync). Code between steps runs the same in both modes. Imports nothing.

/** One operation, run as `sync()` by runSync and awaited as `async()` by runAsync. */
export interface Step<T> {
  readonly sync: () => T;
  readonly async: () => Promise<T> | T;
}

/** A generator of steps returning T; compose with `yield*`. */
export type Steps<T> = Generator<Step<unknown>, T, unknown>;

/** Runs one step and gives its result: `const value = yield* step(sync, async)`. */
export function* step<T>(sync: () => T, async: () => Promise<T>): Steps<T> {
  return (yield { sync, async }) as T;
}

/** Gives the event loop a turn in the asynchronous run (nothing in the synchronous one). */
export function* pause(): Steps<void> {
  yield* step(
    () => undefined,
    () => new Promise<void>((resolve) => setImmediate(resolve)),
  );
}

/** A step started by {@link start}: its promise while it runs asynchronously, else its result. */
export interface Started<T> {
  readonly promise: Promise<T> | undefined;
  readonly value: T | undefined;
}

/**
 * Starts a step without waiting for it, so that the next steps overlap it in the asynchronous run
 * (the synchronous run finishes it at once). Wait for it with {@link finish} or {@link settle}.
 */
export function* start<T>(sync: () => T, async: () => Promise<T>): Steps<Started<T>> {
  return yield* step<Started<T>>(
    () => ({ promise: undefined, value: sync() }),
    () => {
      const promise = async();
      promise.catch(() => {}); // rejections surface at finish
      return Promise.resolve({ promise, value: undefined });
    },
  );
}

/** Waits for a started step and gives its result (or throws its error). */
export function* finish<T>(started: Started<T>): Steps<T> {
  return yield* step(
    () => started.value as T,
    () => started.promise ?? Promise.resolve(started.value as T),
  );
}

/** Waits for a started step and ignores its outcome (before freeing what it works on). */
export function* settle(started: Started<unknown>): Steps<void> {
  yield* step(
    () => undefined,
    async () => {
      await started.promise?.catch(() => {});
    },
  );
}

/** Runs every step synchronously; a step's error is thrown into the generator where it yielded. */
export function runSync<T>(steps: Steps<T>): T {
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = next.value.sync();
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}

/** Runs the steps, awaiting each; a step's error is thrown into the generator where it yielded. */
export async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value.async();
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}
