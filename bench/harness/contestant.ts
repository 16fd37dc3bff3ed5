// The Contestant interface: what an index implementation must offer to be measured by the runner.
// Types only; imports nothing but the data-set metric type.

import type { Metric } from '../datasets/dataset.js';

/** One index configuration to build and sweep. */
export type IndexConfig =
  | { type: 'hnsw'; m: number; efConstruction: number }
  | { type: 'flat' }
  /**
   * ivfpq: built once; its sweep is `searches`, and the runner passes a search's position in that
   * list as `ef` (m undefined: QuiverDB's default, dim / 8).
   */
  | { type: 'ivfpq'; nlist: number; m: number | undefined; searches: IvfpqSearch[] };

/**
 * One point of an ivfpq sweep: lists probed and candidates re-ranked exactly; 'auto' leaves the
 * choice to the engine (QuiverDB: the settings calibrated at training).
 */
export interface IvfpqSearch {
  nprobe: number | 'auto';
  rerank: number | 'auto';
}

/** What a contestant builds from. */
export interface BuildInput {
  /** `count * dim` float32 numbers, row-major; row i gets id i. Contestants must not modify it. */
  base: Float32Array;
  count: number;
  dim: number;
  metric: Metric;
  config: IndexConfig;
  /** An empty folder the contestant owns for its files; the runner measures its size. */
  directory: string;
  /** Call with the number of vectors inserted so far, now and then (for the progress bar). */
  onProgress?: (inserted: number) => void;
}

/**
 * An index under test. The runner calls build → search… → close → reopen → search… → close,
 * single-threaded, and times each step itself.
 */
export interface Contestant {
  /** The name used on the command line and in reports. */
  readonly name: string;
  /** Whether this contestant can build the given configuration. */
  supports(config: IndexConfig): boolean;
  /** Builds the index from scratch in `input.directory`. */
  build(input: BuildInput): Promise<void>;
  /**
   * The ids of up to `k` nearest base rows, best first. `ef` is the search effort (undefined for
   * exact indexes). The vector is a view into the query set and must not be kept or modified.
   */
  search(vector: Float32Array, k: number, ef: number | undefined): ArrayLike<number>;
  /**
   * Optional: the same search for an engine whose only API is asynchronous (LanceDB). When present,
   * the runner awaits it in place of `search`, one query at a time, and the latency includes the await.
   */
  searchAsync?(vector: Float32Array, k: number, ef: number | undefined): Promise<ArrayLike<number>>;
  /**
   * Optional: every query at once (`count` rows of `queries`), as the contestant answers a batch
   * (QuiverDB: on its native threads). Returns count × k ids, row-major, -1 where a row has fewer.
   * Undefined when this contestant, or this configuration, has no batch search.
   */
  searchBatch?(queries: Float32Array, count: number, k: number, ef: number | undefined): Int32Array | undefined;
  /** The contestant's own estimate of its index memory in bytes, when it has one. */
  memoryEstimateBytes(): number | undefined;
  /** Persists everything to the directory and releases the in-memory index. */
  close(): Promise<void>;
  /** Loads the index again from the directory, as a restarted process would. */
  reopen(): Promise<void>;
  /**
   * Optional: takes over what a contestant of the same kind built and closed in `input.directory`
   * (in another process), so that `reopen()` loads it. The runner's own-process reopen
   * (harness/reopen-child.ts) needs it; a contestant without it has no own-process figures.
   */
  adopt?(input: AdoptInput): void;
}

/** What {@link Contestant.adopt} is told about an index built elsewhere: the build input without its vectors. */
export type AdoptInput = Omit<BuildInput, 'base' | 'onProgress'>;

/** A contestant the runner can create by name, or learn why it cannot run here. */
export interface ContestantDefinition {
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Resolves to a fresh contestant; rejects with a readable reason when it cannot run (e.g. not built yet). */
  create(): Promise<Contestant>;
}

/** A short label for a configuration, e.g. `hnsw m=16 efc=200` or `flat`. */
export function configLabel(config: IndexConfig): string {
  if (config.type === 'ivfpq') return `ivfpq nlist=${config.nlist} m=${config.m ?? 'dim/8'}`;
  return config.type === 'hnsw' ? `hnsw m=${config.m} efc=${config.efConstruction}` : 'flat';
}
