// What the query, batch-query and Arrow functions need of one collection: its settings, the store,
// and the live parts the class keeps (the index, the full-text index, the caches). Must not import
// the collection class or the database.
import type { Matches } from '../filtered-search.js';
import type { HitHeads, HitSource } from '../query-hits.js';
import type { Metric } from '../schema.js';
import type { CompiledWhere, Store } from '../storage/store.js';
import type { EmbedSettings } from '../text/embedding.js';
import type { TextSearch } from '../text/text-search.js';
import type { IndexSettings } from '../types.js';
import type { DerivedIndex } from './derived-index.js';

/** One collection as its query paths and its Arrow glue see it (built once by CollectionImpl). */
export interface CollectionState {
  readonly name: string;
  readonly dim: number;
  readonly metric: Metric;
  readonly index: IndexSettings;
  readonly collectionId: number;
  readonly store: Store;
  /** Native threads for queryBatch and exact scoring of many matches. */
  readonly threads: number;
  /** The full-text index, when the collection keeps one. */
  readonly textSearch: TextSearch | undefined;
  /** The app's embedding function (CollectionOptions.embed), when this object was given one. */
  readonly embed: EmbedSettings | undefined;
  /** Runs a reader's call in one read transaction (see DatabaseImpl.read); the writer's as it is. */
  read<T>(body: () => T): T;
  /** The index; CLOSED when the collection or its database is closed (a reader catches up first). */
  readable(): DerivedIndex;
  /** As {@link readable}, and READ_ONLY on a read-only database. */
  writable(): DerivedIndex;
  /** The labels a filter matches: from the cache until the next write, else one SQL scan. */
  matches(where: CompiledWhere): Matches;
  /** Where hits are read from. */
  readonly hitSource: HitSource;
  /** The record heads remembered after their first read; every write forgets those it changes. */
  readonly hitHeads: HitHeads;
}
