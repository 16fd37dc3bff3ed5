// Measuring helpers for the runner: clocks, percentiles, garbage collection before memory
// readings, folder sizes. Node built-ins only.

import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Nanoseconds from a monotonic clock. */
export function now(): bigint {
  return process.hrtime.bigint();
}

/** Seconds between two {@link now} readings. */
export function secondsBetween(start: bigint, end: bigint): number {
  return Number(end - start) / 1e9;
}

/** The median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0–100) by the nearest-rank method over `sorted` ascending values; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

let collect: (() => void) | undefined;

/**
 * Runs a full garbage collection when the engine allows it, so memory readings are not noise.
 * tsx starts node without --expose-gc, so the flag is set at run time and gc fetched from a fresh context.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      try {
        setFlagsFromString('--expose-gc');
        collect = runInNewContext('gc') as () => void;
      } catch {
        collect = () => {};
      }
    }
  }
  collect();
  collect();
}

/** Resident set size in bytes after a garbage collection. */
export function residentBytes(): number {
  collectGarbage();
  return process.memoryUsage().rss;
}

/** Total bytes of the regular files under `folder`, recursively (0 when it does not exist). */
export function folderBytes(folder: string): number {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
