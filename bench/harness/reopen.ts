// The request and the answer of the own-process reopen (harness/reopen-child.ts), shared by the
// runner that starts the child and the child. Types only; imports only the contestant types.
import type { AdoptInput } from './contestant.js';

/** What the runner asks of the child (written to a JSON file, its one argument). */
export interface ReopenRequest {
  contestant: string;
  durability?: 'full' | 'normal' | undefined;
  threads?: number | undefined;
  input: AdoptInput;
  /** A file of float32 query vectors, `dim` numbers each. */
  queriesFile: string;
  /** Queries after the first, cycling through the file's. */
  queries: number;
  k: number;
  ef: number | undefined;
}

/** What the child prints. */
export interface ReopenFigures {
  openSeconds: number;
  firstQueryMilliseconds: number;
  /** Queries answered after the first. */
  queries: number;
  /**
   * RSS before the open (after garbage collection), bytes: node, tsx and the harness, which imports
   * every contestant's module. What an engine loads on its first open (QuiverDB: better-sqlite3 and
   * its addon) counts after it; RSS after − this is what opening and querying the index costs.
   */
  rssBeforeOpenBytes: number;
  /** RSS after the open and every query (after garbage collection), bytes. */
  rssAfterQueriesBytes: number;
}
