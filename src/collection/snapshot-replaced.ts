// A reader's open that found its snapshot file replaced by the writer: not damage, a restart.
import type { Store } from '../storage/store.js';

/**
 * Thrown by a reader's open when the snapshot file its read transaction names is gone: the writer
 * replaced it (and removed the old one) after that transaction began. Nothing is wrong: the call
 * starts again in a new read transaction (DatabaseImpl.read), which names the new file.
 */
export class SnapshotReplaced extends Error {}

/** Per store, the snapshot files a reader already found missing once: missing again is damage, not a race. */
const missingSnapshots = new WeakMap<Store, Set<string>>();

/** True when a reader should start again rather than warn: `file` is missing for the first time. */
export function replacedUnderReader(store: Store, file: string, error: unknown): boolean {
  if (!store.readOnly) return false;
  let cause: unknown = error;
  while (cause instanceof Error && (cause as { code?: unknown }).code !== 'ENOENT') cause = cause.cause;
  if (!(cause instanceof Error)) return false;
  let seen = missingSnapshots.get(store);
  if (seen === undefined) {
    seen = new Set();
    missingSnapshots.set(store, seen);
  }
  if (seen.has(file)) return false;
  seen.add(file);
  return true;
}
