// Model-based property test: random sequences of upsert / delete / query / snapshot / reopen
// against a plain Map, checking count, get and recall against exact search over the model, and
// text: each record's text through get, and text queries finding exactly the records holding a word.
// fast-check prints the seed and the shrunk command list of any failing run.
import fc from 'fast-check';
import { it } from 'vitest';
import { type Collection, type Database, open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

const DIM = 6;
const IDS = Array.from({ length: 40 }, (_, i) => `id-${i}`);

type Model = Map<string, { vector: number[]; metadata: { n: number }; text: string | undefined }>;
/** The words texts are made of (each a whole word under the unicode61 tokenizer). */
const WORDS = ['red', 'green', 'blue', 'cyan'];
interface Real {
  path: string;
  db: Database;
  docs: Collection;
}

const vectorArbitrary = fc.array(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), {
  minLength: DIM,
  maxLength: DIM,
});

function check(model: Model, real: Real): void {
  if (real.docs.count() !== model.size) throw new Error(`count ${real.docs.count()} != model ${model.size}`);
  for (const id of IDS) {
    const record = real.docs.get(id);
    const expected = model.get(id);
    if ((record === undefined) !== (expected === undefined)) throw new Error(`get(${id}) presence differs`);
    if (record && expected) {
      if (record.metadata['n'] !== expected.metadata.n) throw new Error(`get(${id}) metadata differs`);
      if (record.text !== expected.text) throw new Error(`get(${id}) text differs`);
      if (record.vector.some((value, i) => value !== Math.fround(expected.vector[i]!))) {
        throw new Error(`get(${id}) vector differs`);
      }
    }
  }
}

class UpsertCommand implements fc.Command<Model, Real> {
  constructor(readonly records: { id: string; vector: number[]; n: number; text: string | undefined }[]) {}
  check = () => true;
  run(model: Model, real: Real): void {
    real.docs.upsert(
      this.records.map(({ id, vector, n, text }) => ({
        id,
        vector,
        metadata: { n },
        ...(text === undefined ? {} : { text }),
      })),
    );
    for (const { id, vector, n, text } of this.records) model.set(id, { vector, metadata: { n }, text });
    check(model, real);
  }
  toString = () => `upsert(${this.records.map((record) => record.id).join(',')})`;
}

class DeleteCommand implements fc.Command<Model, Real> {
  constructor(readonly ids: string[]) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const expected = new Set(this.ids.filter((id) => model.has(id))).size;
    const deleted = real.docs.delete(this.ids);
    if (deleted !== expected) throw new Error(`delete returned ${deleted}, model says ${expected}`);
    for (const id of this.ids) model.delete(id);
    check(model, real);
  }
  toString = () => `delete(${this.ids.join(',')})`;
}

class QueryCommand implements fc.Command<Model, Real> {
  constructor(
    readonly vector: number[],
    readonly k: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const hits = real.docs.query({ vector: this.vector, k: this.k, ef: 100 });
    const expected = [...model.entries()]
      .map(([id, { vector }]) => ({
        id,
        distance: vector.reduce((sum, x, i) => sum + (Math.fround(x) - Math.fround(this.vector[i]!)) ** 2, 0),
      }))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, this.k);
    if (hits.length !== expected.length) throw new Error(`query returned ${hits.length}, expected ${expected.length}`);
    // Recall against exact search, counting ties at the k-th distance as correct: with at most
    // 40 records and ef 100 the graph search visits everything, so anything below 1 is a bug.
    const kth = expected.at(-1)?.distance ?? 0;
    for (const hit of hits) {
      const truth = model.get(hit.id);
      if (!truth) throw new Error(`query returned deleted id ${hit.id}`);
      const distance = truth.vector.reduce(
        (sum, x, i) => sum + (Math.fround(x) - Math.fround(this.vector[i]!)) ** 2,
        0,
      );
      if (distance > kth * (1 + 1e-5) + 1e-6)
        throw new Error(`query returned ${hit.id} outside the exact top ${this.k}`);
    }
  }
  toString = () => `query(k=${this.k})`;
}

class TextQueryCommand implements fc.Command<Model, Real> {
  constructor(readonly word: string) {}
  check = () => true;
  run(model: Model, real: Real): void {
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

class SnapshotCommand implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    real.docs.snapshot();
    check(model, real);
  }
  toString = () => 'snapshot()';
}

class ReopenCommand implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    real.db.close();
    real.db = open(real.path, {
      onWarning: (warning) => {
        throw new Error(`unexpected warning: ${warning.message}`);
      },
    });
    real.docs = real.db.collection('docs');
    check(model, real);
  }
  toString = () => 'close(); open()';
}

/**
 * Opens the database read-only beside the writer: that is exactly how a reopen after a crash
 * opens it (the last snapshot plus a replay of the log after it), without killing anything.
 */
class CrashViewCommand implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    const reader = open(real.path, {
      readOnly: true,
      onWarning: (warning) => {
        // Before the first snapshot, a crash leaves none: the index is rebuilt, as it must be.
        if (warning.code !== 'SNAPSHOT_MISSING') throw new Error(`unexpected warning: ${warning.message}`);
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

const commands = [
  fc
    .uniqueArray(
      fc.record({
        id: fc.constantFrom(...IDS),
        vector: vectorArbitrary,
        n: fc.integer(),
        text: fc.option(
          fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }).map((words) => words.join(' ')),
          {
            nil: undefined,
          },
        ),
      }),
      {
        minLength: 1,
        maxLength: 8,
        selector: (record) => record.id,
      },
    )
    .map((records) => new UpsertCommand(records)),
  fc.array(fc.constantFrom(...IDS), { minLength: 1, maxLength: 6 }).map((ids) => new DeleteCommand(ids)),
  fc.tuple(vectorArbitrary, fc.integer({ min: 1, max: 12 })).map(([vector, k]) => new QueryCommand(vector, k)),
  fc.constantFrom(...WORDS).map((word) => new TextQueryCommand(word)),
  fc.constant(new SnapshotCommand()),
  fc.constant(new ReopenCommand()),
  fc.constant(new CrashViewCommand()),
];

it('matches a Map model under random operation sequences', () => {
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 40, size: 'max' }), (sequence) => {
      const directory = tempDirectory('quiver-model-');
      const db = open(directory.path, { snapshotThreshold: 15 });
      const real: Real = {
        path: directory.path,
        db,
        docs: db.collection('docs', { dim: DIM, text: { tokenizer: 'unicode61' } }),
      };
      try {
        fc.modelRun(() => ({ model: new Map(), real }), sequence);
      } finally {
        real.db.close();
        directory.cleanup();
      }
    }),
    { numRuns: 60 },
  );
});
