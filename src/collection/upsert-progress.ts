// Progress of `upsert` and `upsertAsync` (their `onProgress` option): the options check, and the
// committed batch handed to the index in chunks with a report after each. The app's callback may
// throw: the work goes on regardless (a committed batch is always indexed whole) and the first
// error is raised as HOOK_FAILED once it is done. Must not import the collection class.
import { QuiverError } from '../errors.js';
import { describe } from '../schema.js';
import type { UpsertProgress } from '../types.js';

/** Records the index takes between two reports: small enough to report often, large enough to keep a native batch parallel. */
export const INDEX_PROGRESS_CHUNK = 1024;

/** Checks `upsert(records, options)`'s options; returns the callback, if any. */
export function progressOption(options: unknown, method: string): ((progress: UpsertProgress) => void) | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new QuiverError('INVALID_ARGUMENT', `${method} options are ${describe(options)}; give { onProgress? }`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'onProgress') {
      throw new QuiverError('INVALID_ARGUMENT', `${method} has no option '${key}'; its option is onProgress`);
    }
  }
  const onProgress = (options as { onProgress?: unknown }).onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${method} options.onProgress is ${describe(onProgress)}; give a function`,
    );
  }
  return onProgress as ((progress: UpsertProgress) => void) | undefined;
}

/** Calls the app's callback; keeps the first error it throws instead of letting it stop the work. */
export class ProgressReporter {
  readonly #onProgress: (progress: UpsertProgress) => void;
  #error: unknown;
  #failed = false;

  constructor(onProgress: (progress: UpsertProgress) => void) {
    this.#onProgress = onProgress;
  }

  report(phase: UpsertProgress['phase'], done: number, total: number): void {
    if (this.#failed) return;
    try {
      this.#onProgress({ phase, done, total });
    } catch (error) {
      this.#failed = true;
      this.#error = error;
    }
  }

  /** Throws HOOK_FAILED when the callback threw; `state` says what was done regardless. */
  check(state: string): void {
    if (!this.#failed) return;
    const detail = this.#error instanceof Error ? this.#error.message : String(this.#error);
    throw new QuiverError('HOOK_FAILED', `the onProgress function threw (${detail}); ${state}`, {
      cause: this.#error,
    });
  }
}

/** Hands `changes` to `apply` in chunks, reporting phase 'index' after each. */
export function applyInChunks<T>(
  changes: readonly T[],
  apply: (chunk: readonly T[]) => void,
  reporter: ProgressReporter,
): void {
  reporter.report('index', 0, changes.length);
  for (let start = 0; start < changes.length; start += INDEX_PROGRESS_CHUNK) {
    const end = Math.min(changes.length, start + INDEX_PROGRESS_CHUNK);
    apply(changes.slice(start, end));
    reporter.report('index', end, changes.length);
  }
}

/**
 * {@link applyInChunks} for an index that inserts off the event loop: every chunk is queued at once
 * (synchronously, in order, so the batch is queued whole as one call would queue it), then each is
 * awaited in turn and reported. The promise settles when the index holds every chunk.
 */
export function queueInChunks<T>(
  changes: readonly T[],
  queue: (chunk: readonly T[]) => Promise<void>,
  reporter: ProgressReporter,
): Promise<void> {
  reporter.report('index', 0, changes.length);
  const queued: { end: number; done: Promise<void> }[] = [];
  for (let start = 0; start < changes.length; start += INDEX_PROGRESS_CHUNK) {
    const end = Math.min(changes.length, start + INDEX_PROGRESS_CHUNK);
    const done = queue(changes.slice(start, end));
    done.catch(() => {}); // awaited below, in order; a later chunk's rejection is not unhandled meanwhile
    queued.push({ end, done });
  }
  return (async () => {
    for (const { end, done } of queued) {
      await done;
      reporter.report('index', end, changes.length);
    }
  })();
}
