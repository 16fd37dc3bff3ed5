// Model-based property test over every index kind (hnsw with float32 and int8 vectors) × l2 / cosine / ip: random sequences of upsert,
// upsertAsync (its index insert left running), delete, queries with and without a filter, text
// queries, snapshot, compact, reopen (the collection loaded sync or async) and a read-only open
// (what a reopen after a crash sees), against a plain Map. Checked: count and get (vector,
// metadata, text); flat answers equal to exact search over the model (up to ties); hnsw, int8 and ivfpq
// answers at high effort reach exact search's top k (recall, thresholds below); filtered queries
// return only matching records and min(k, matches) of them; text queries find exactly the records
// holding a word. The ivfpq and int8 collections start from a trained base (see trainedBase). Each variant's
// seed is fixed and printed; fast-check prints the seed, path and shrunk command list of a failing run.
import { cpSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type Collection,
  type CollectionOptions,
  type Database,
  type Filter,
  type Metric,
  open,
  type QueryOptions,
} from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';

const DIM = 6;
const IDS = Array.from({ length: 40 }, (_, i) => `id-${i}`);
/** The words texts are made of (each a whole word under the unicode61 tokenizer). */
const WORDS = ['red', 'green', 'blue', 'cyan'];
const GROUPS = ['a', 'b', 'c'] as const;
type Kind = 'hnsw' | 'hnsw-int8' | 'flat' | 'ivfpq';
const KINDS: readonly Kind[] = ['hnsw', 'flat', 'ivfpq', 'hnsw-int8'];
const METRICS: readonly Metric[] = ['l2', 'cosine', 'ip'];
/** Vectors an ivfpq index needs before it trains: 39 × 256 (39 per PQ centroid). */
const IVFPQ_BASE = 39 * 256;
/** Base records of the int8 variants: an int8 graph learns its ranges once it holds 1,000 vectors. */
const INT8_BASE = 1000;
/** Distances differ from float64 arithmetic over the model by float32 rounding (|values| ≤ 1, dim 6). */
const TOLERANCE = 1e-4;

interface Stored {
  vector: number[];
  metadata: { n: number; g: string };
  text: string | undefined;
}
type Model = Map<string, Stored>;
interface Real {
  path: string;
  db: Database;
  docs: Collection;
  kind: Kind;
  metric: Metric;
  /** upsertAsync calls whose index inserts may still run. */
  pending: Promise<unknown>[];
}

function collectionOptions(kind: Kind, metric: Metric): CollectionOptions {
  const index: CollectionOptions['index'] =
    kind === 'hnsw'
      ? { type: 'hnsw', m: 8, efConstruction: 64 }
      : kind === 'hnsw-int8'
        ? { type: 'hnsw', m: 8, efConstruction: 64, vectors: 'int8' }
        : kind === 'flat'
          ? { type: 'flat' }
          : { type: 'ivfpq', nlist: 8, m: 3 };
  return { dim: DIM, metric, index, indexes: ['g'], text: { tokenizer: 'unicode61' } };
}

/** The distance QuiverDB reports (README "Queries"), in float64 over float32-rounded inputs. */
function distance(metric: Metric, a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  let squares = 0;
  for (let i = 0; i < DIM; i++) {
    const x = Math.fround(a[i]!);
    const y = Math.fround(b[i]!);
    dot += x * y;
    normA += x * x;
    normB += y * y;
    squares += (x - y) ** 2;
  }
  if (metric === 'l2') return Math.sqrt(squares);
  if (metric === 'ip') return 1 - dot;
  return 1 - dot / Math.sqrt(normA * normB);
}

function matches(filter: Filter | undefined, metadata: Stored['metadata']): boolean {
  if (filter === undefined) return true;
  const { g, n } = filter as { g?: string; n?: { $lt: number } };
  return (g === undefined || metadata.g === g) && (n === undefined || metadata.n < n.$lt);
}

function check(model: Model, real: Real): void {
  const count = real.docs.count();
  if (count !== model.size) throw new Error(`count ${count} != model ${model.size}`);
  for (const id of IDS) {
    const record = real.docs.get(id);
    const expected = model.get(id);
    if ((record === undefined) !== (expected === undefined)) throw new Error(`get(${id}) presence differs`);
    if (record && expected) {
      if (JSON.stringify(record.metadata) !== JSON.stringify(expected.metadata)) {
        throw new Error(`get(${id}) metadata differs`);
      }
      if (record.text !== expected.text) throw new Error(`get(${id}) text differs`);
      if (record.vector.some((value, i) => value !== Math.fround(expected.vector[i]!))) {
        throw new Error(`get(${id}) vector differs`);
      }
    }
  }
}

/** A record's vector: six numbers in [-1, 1], never all near zero (cosine rejects a zero vector). */
const vectorArbitrary = fc
  .array(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: DIM, maxLength: DIM })
  .map((vector) => (vector.every((value) => Math.abs(value) < 1e-3) ? [1, ...vector.slice(1)] : vector));

const recordArbitrary = fc.record({
  id: fc.constantFrom(...IDS),
  vector: vectorArbitrary,
  n: fc.integer({ min: 0, max: 9 }),
  g: fc.constantFrom(...GROUPS),
  text: fc.option(
    fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }).map((words) => words.join(' ')),
    { nil: undefined },
  ),
});
type GeneratedRecord = typeof recordArbitrary extends fc.Arbitrary<infer T> ? T : never;

function toUpsert(records: readonly GeneratedRecord[]) {
  return records.map(({ id, vector, n, g, text }) => ({
    id,
    vector,
    metadata: { n, g },
    ...(text === undefined ? {} : { text }),
  }));
}

function applyToModel(model: Model, records: readonly GeneratedRecord[]): void {
  for (const { id, vector, n, g, text } of records) model.set(id, { vector, metadata: { n, g }, text });
}

class UpsertCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly records: GeneratedRecord[],
    readonly asynchronous: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (this.asynchronous) {
      // Committed when the call returns; the index insert goes on while the next commands run.
      real.pending.push(real.docs.upsertAsync(toUpsert(this.records)));
    } else {
      real.docs.upsert(toUpsert(this.records));
    }
    applyToModel(model, this.records);
    check(model, real);
  }
  toString = () =>
    `${this.asynchronous ? 'upsertAsync' : 'upsert'}(${this.records.map((record) => record.id).join(',')})`;
}

class DeleteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ids: string[]) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const expected = new Set(this.ids.filter((id) => model.has(id))).size;
    const deleted = real.docs.delete(this.ids);
    if (deleted !== expected) throw new Error(`delete returned ${deleted}, model says ${expected}`);
    for (const id of this.ids) model.delete(id);
    check(model, real);
  }
  toString = () => `delete(${this.ids.join(',')})`;
}

class QueryCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly vector: number[],
    readonly k: number,
    readonly filter: Filter | undefined,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const effort: Partial<QueryOptions> =
      real.kind === 'hnsw'
        ? { ef: 200 }
        : real.kind === 'ivfpq' || real.kind === 'hnsw-int8'
          ? { nprobe: 8, rerank: 1000 }
          : {};
    const hits = real.docs.query({
      vector: this.vector,
      k: this.k,
      ...effort,
      ...(this.filter === undefined ? {} : { filter: this.filter }),
    });
    const candidates = [...model.entries()]
      .filter(([, { metadata }]) => matches(this.filter, metadata))
      .map(([id, { vector }]) => ({ id, distance: distance(real.metric, vector, this.vector) }))
      .sort((a, b) => a.distance - b.distance);
    const expected = candidates.slice(0, this.k);
    const where = `query(k=${this.k}, filter=${JSON.stringify(this.filter)})`;
    if (hits.length !== expected.length) {
      throw new Error(`${where} returned ${hits.length} hits; min(k, matches) is ${expected.length}`);
    }
    if (new Set(hits.map((hit) => hit.id)).size !== hits.length) throw new Error(`${where} repeated an id`);
    // A hit counts as correct when its exact distance is within the exact k-th (ties at the k-th
    // distance are interchangeable).
    const kth = expected.at(-1)?.distance ?? 0;
    let correct = 0;
    let previous = Number.NEGATIVE_INFINITY;
    for (const hit of hits) {
      const truth = model.get(hit.id);
      if (!truth) throw new Error(`${where} returned ${hit.id}, which the model does not hold`);
      if (!matches(this.filter, truth.metadata)) throw new Error(`${where} returned ${hit.id}, which does not match`);
      const exact = distance(real.metric, truth.vector, this.vector);
      if (Math.abs(hit.distance - exact) > TOLERANCE) {
        throw new Error(`${where}: ${hit.id} reported at distance ${hit.distance}; exact is ${exact}`);
      }
      if (hit.distance < previous - TOLERANCE) throw new Error(`${where}: hits are not best first`);
      previous = hit.distance;
      if (exact <= kth + TOLERANCE) correct++;
    }
    // flat is exact search: every hit is in the exact top k. hnsw with ef 200 over at most 40 records
    // visits all of them, so anything short of all is a bug too. ivfpq probes every list and
    // re-ranks the best 1,000 of ~10,000 PQ codes (m 3: 2 dimensions a byte) exactly: at most one of
    // the exact top k may rank below 1,000 codes by its coarse code, hence 0.9 from k 10. hnsw-int8
    // rescores its best 1,000 graph candidates of at most 1,040 records by the float distance (a
    // search of effort 1,000): its answers are exact too.
    const needed = real.kind === 'ivfpq' ? Math.floor(0.9 * expected.length) : expected.length;
    if (correct < needed) throw new Error(`${where}: ${correct} of ${hits.length} hits in the exact top k`);
  }
  toString = () => `query(k=${this.k}${this.filter === undefined ? '' : `, filter=${JSON.stringify(this.filter)}`})`;
}

class TextQueryCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly word: string) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const found = real.docs
      .query({ text: this.word, k: 100 })
      .map((hit) => hit.id)
      .sort();
    const expected = [...model.entries()]
      .filter(([, { text }]) => text?.split(' ').includes(this.word))
      .map(([id]) => id)
      .sort();
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      throw new Error(
        `text query '${this.word}' found ${found.join(',')}; the model holds it in ${expected.join(',')}`,
      );
    }
  }
  toString = () => `query(text=${this.word})`;
}

class SnapshotCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.docs.snapshot();
    check(model, real);
  }
  toString = () => 'snapshot()';
}

class CompactCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.docs.compact();
    check(model, real);
  }
  toString = () => 'compact()';
}

function failOnWarning(warning: { message: string }): void {
  throw new Error(`unexpected warning: ${warning.message}`);
}

/** Closes and reopens, loading the collection synchronously or off the event loop (collectionAsync). */
class ReopenCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly asynchronous: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await Promise.all(real.pending.splice(0));
    real.db.close();
    real.db = open(real.path, { onWarning: failOnWarning });
    real.docs = this.asynchronous ? await real.db.collectionAsync('docs') : real.db.collection('docs');
    check(model, real);
  }
  toString = () => `close(); open()${this.asynchronous ? '; collectionAsync()' : ''}`;
}

/**
 * Opens the database read-only beside the writer: that is exactly how a reopen after a crash
 * opens it (the last snapshot plus a replay of the log after it), without killing anything.
 */
class CrashViewCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const reader = open(real.path, {
      readOnly: true,
      onWarning: (warning) => {
        // Before the first snapshot, a crash leaves none: the index is rebuilt, as it must be.
        if (warning.code !== 'SNAPSHOT_MISSING') failOnWarning(warning);
      },
    });
    try {
      check(model, { ...real, db: reader, docs: reader.collection('docs') });
    } finally {
      reader.close();
    }
  }
  toString = () => 'open({ readOnly: true })';
}

const filterArbitrary: fc.Arbitrary<Filter | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...GROUPS).map((g): Filter => ({ g })),
  fc.integer({ min: 0, max: 10 }).map((n): Filter => ({ n: { $lt: n } })),
);

/** The commands; compaction retrains a trained ivfpq index (seconds), so its variants leave it out. */
function commands(withCompact: boolean) {
  return [
    fc
      .tuple(
        fc.uniqueArray(recordArbitrary, { minLength: 1, maxLength: 8, selector: (record) => record.id }),
        fc.boolean(),
      )
      .map(([records, asynchronous]) => new UpsertCommand(records, asynchronous)),
    fc.array(fc.constantFrom(...IDS), { minLength: 1, maxLength: 6 }).map((ids) => new DeleteCommand(ids)),
    fc
      .tuple(vectorArbitrary, fc.integer({ min: 1, max: 12 }), filterArbitrary)
      .map(([vector, k, filter]) => new QueryCommand(vector, k, filter)),
    fc
      .tuple(vectorArbitrary, fc.integer({ min: 1, max: 12 }), filterArbitrary)
      .map(([vector, k, filter]) => new QueryCommand(vector, k, filter)),
    fc.constantFrom(...WORDS).map((word) => new TextQueryCommand(word)),
    fc.constant(new SnapshotCommand()),
    ...(withCompact ? [fc.constant(new CompactCommand())] : []),
    fc.boolean().map((asynchronous) => new ReopenCommand(asynchronous)),
    fc.constant(new CrashViewCommand()),
  ];
}

/** Base records of the ivfpq variants (ids `base-<n>`, no text): enough for the index to train. */
function ivfpqBaseRecords(): GeneratedRecord[] {
  const next = random(4242);
  return Array.from({ length: IVFPQ_BASE }, (_, n) => ({
    id: `base-${n}`,
    vector: Array.from({ length: DIM }, () => Math.fround(next() * 2 - 1)),
    n: n % 10,
    g: GROUPS[n % 3]!,
    text: undefined,
  }));
}

/**
 * One trained ivfpq and one trained int8 hnsw database per metric, made once and copied into each
 * run's directory (training takes seconds, a copy milliseconds).
 */
const trainedBase = new Map<string, { path: string; cleanup: () => void }>();
const baseRecords = ivfpqBaseRecords();
/** The base records a kind's runs start from. */
const baseOf = (kind: Kind): GeneratedRecord[] =>
  kind === 'ivfpq' ? baseRecords : kind === 'hnsw-int8' ? baseRecords.slice(0, INT8_BASE) : [];
beforeAll(() => {
  for (const kind of ['ivfpq', 'hnsw-int8'] as const) {
    for (const metric of METRICS) {
      const directory = tempDirectory(`quiver-model-${kind}-${metric}-`);
      const db = open(directory.path);
      const docs = db.collection('docs', collectionOptions(kind, metric));
      docs.upsert(toUpsert(baseOf(kind)));
      const { plan } = docs.query({ vector: baseRecords[0]!.vector, k: 1, explain: true });
      db.close();
      if (plan.strategy !== (kind === 'ivfpq' ? 'ivfpq' : 'hnsw'))
        throw new Error(`the ${metric} ${kind} base did not train`);
      trainedBase.set(`${kind}/${metric}`, directory);
    }
  }
}, 120_000);
afterAll(() => {
  for (const directory of trainedBase.values()) directory.cleanup();
});

/** Runs and commands per run: bounded so that the twelve variants take well under a minute here. */
const BUDGET: Record<Kind, { numRuns: number; maxCommands: number }> = {
  hnsw: { numRuns: 6, maxCommands: 30 },
  'hnsw-int8': { numRuns: 5, maxCommands: 30 },
  flat: { numRuns: 6, maxCommands: 30 },
  ivfpq: { numRuns: 3, maxCommands: 20 },
};

/** Fixed; QUIVERDB_MODEL_SEED=<n> runs other sequences (each variant's seed is printed). */
const BASE_SEED = Number(process.env['QUIVERDB_MODEL_SEED'] ?? 20261205);

describe('matches a Map model under random operation sequences', () => {
  for (const [kindIndex, kind] of KINDS.entries()) {
    for (const [metricIndex, metric] of METRICS.entries()) {
      const seed = BASE_SEED + 10 * kindIndex + metricIndex;
      it(`${kind}, ${metric} (seed ${seed})`, async () => {
        console.log(`model test ${kind}/${metric}: fast-check seed ${seed}`);
        await fc.assert(
          fc.asyncProperty(
            fc.commands(commands(kind !== 'ivfpq'), { maxCommands: BUDGET[kind].maxCommands, size: 'max' }),
            async (sequence) => {
              const directory = tempDirectory('quiver-model-');
              const start = trainedBase.get(`${kind}/${metric}`);
              if (start) cpSync(start.path, directory.path, { recursive: true });
              const db = open(directory.path, { snapshotThreshold: 15, onWarning: failOnWarning });
              const real: Real = {
                path: directory.path,
                db,
                docs: db.collection('docs', collectionOptions(kind, metric)),
                kind,
                metric,
                pending: [],
              };
              const model: Model = new Map();
              applyToModel(model, baseOf(kind));
              try {
                await fc.asyncModelRun(() => ({ model, real }), sequence);
                await Promise.all(real.pending);
              } finally {
                await Promise.allSettled(real.pending);
                real.db.close();
                directory.cleanup();
              }
            },
          ),
          { seed, numRuns: BUDGET[kind].numRuns },
        );
      });
    }
  }
});
