// How many native threads a call may use. Imports only node built-ins.
import { availableParallelism } from 'node:os';

/** Most threads one call uses; the addon clamps to it as well. */
export const MAX_THREADS = 256;

/** Native threads a batch uses when the caller does not say: the machine's logical cores. */
export function defaultThreadCount(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}
