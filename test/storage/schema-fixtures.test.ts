// Databases of every schema version (test/fixtures/schema-v<N>, made by scripts/make-fixtures.mjs;
// see test/fixtures/README.md) open with the current code: it upgrades them, holds every record
// as recorded, answers the recorded queries with the recorded ids and distances, takes writes and
// a snapshot, and reopens with answers equal to exact search over the records.
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Collection, type Metric, open, type QuiverWarning } from '../../src/index.js';
import { migrations } from '../../src/storage/migrations/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

interface StoredRecord {
  vector: number[];
  metadata: Record<string, unknown>;
  text: string | null;
}
interface ExpectedCollection {
  settings: { dim: number; metric: Metric };
  count: number;
  trained?: boolean;
  records: Record<string, StoredRecord>;
  queries: number[][];
  effort: { ef?: number; nprobe?: number; rerank?: number };
  answers: [string, number][][];
  filtered?: { filter: { group: string }; answers: [string, number][][] };
  text?: { query: string; ids: string[] };
}
interface Expected {
  schemaVersion: number;
  collections: Record<string, ExpectedCollection>;
}

const versions = readdirSync(FIXTURES)
  .map((name) => /^schema-v(\d+)$/.exec(name)?.[1])
  .filter((version) => version !== undefined)
  .map(Number)
  .sort((a, b) => a - b);

it('every schema version has a fixture (run scripts/make-fixtures.mjs after adding a migration)', () => {
  expect(versions).toEqual(Array.from({ length: migrations.length }, (_, i) => i + 1));
});

function distance(metric: Metric, a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  let squares = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! ** 2;
    normB += b[i]! ** 2;
    squares += (a[i]! - b[i]!) ** 2;
  }
  if (metric === 'l2') return Math.sqrt(squares);
  if (metric === 'ip') return 1 - dot;
  return 1 - dot / Math.sqrt(normA * normB);
}

function expectAnswers(actual: [string, number][], expected: [string, number][], where: string): void {
  expect(
    actual.map(([id]) => id),
    where,
  ).toEqual(expected.map(([id]) => id));
  // float32 arithmetic, the same on every run of the same code; 1e-5 leaves room for a kernel
  // that sums in another order.
  for (const [i, [, value]] of actual.entries()) {
    expect(Math.abs(value - expected[i]![1]), where).toBeLessThan(1e-5);
  }
}

function expectRecords(collection: Collection, records: Record<string, StoredRecord>, where: string): void {
  for (const [id, stored] of Object.entries(records)) {
    const found = collection.get(id);
    expect(found, `${where}: ${id}`).toBeDefined();
    expect(Array.from(found!.vector), `${where}: ${id}`).toEqual(stored.vector);
    expect(found!.metadata, `${where}: ${id}`).toEqual(stored.metadata);
    expect(found!.text ?? null, `${where}: ${id}`).toBe(stored.text);
  }
}

function hitsOf(collection: Collection, vector: number[], options: object): [string, number][] {
  return collection.query({ vector, k: 5, ...options }).map((hit) => [hit.id, hit.distance]);
}

for (const version of versions) {
  describe(`schema version ${version}`, () => {
    const folder = join(FIXTURES, `schema-v${version}`);
    const expected = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as Expected;

    it('opens with the current code, answers as recorded, takes writes and reopens', () => {
      const directory = tempDirectory(`quiver-schema-v${version}-`);
      try {
        cpSync(folder, directory.path, { recursive: true });
        const warnings: QuiverWarning[] = [];
        const onWarning = (warning: QuiverWarning) => warnings.push(warning);
        let db = open(directory.path, { onWarning });
        expect(db.listCollections().map((info) => info.name)).toEqual(Object.keys(expected.collections).sort());
        for (const [name, collectionExpected] of Object.entries(expected.collections)) {
          const collection = db.collection(name);
          const where = `v${version} ${name}`;
          expect(collection.count(), where).toBe(collectionExpected.count);
          expectRecords(collection, collectionExpected.records, where);
          collectionExpected.queries.forEach((vector, q) => {
            expectAnswers(hitsOf(collection, vector, collectionExpected.effort), collectionExpected.answers[q]!, where);
          });
          if (collectionExpected.filtered) {
            const { filter, answers } = collectionExpected.filtered;
            collectionExpected.queries.forEach((vector, q) => {
              const hits = hitsOf(collection, vector, { ...collectionExpected.effort, filter });
              expectAnswers(hits, answers[q]!, `${where} filtered`);
            });
          }
          if (collectionExpected.text) {
            const { query, ids } = collectionExpected.text;
            const found = collection.query({ text: query, k: 50 }).map((hit) => hit.id);
            expect(found.sort(), `${where} text`).toEqual(ids);
          }
          if (collectionExpected.trained !== undefined) {
            const { plan } = collection.query({ vector: collectionExpected.queries[0]!, k: 1, explain: true });
            expect(plan.strategy, where).toBe(collectionExpected.trained ? 'ivfpq' : 'exact');
          }
        }
        // A fixture without snapshots (schema 1) has its indexes built from the records.
        const allowed = version === 1 ? ['SNAPSHOT_MISSING'] : [];
        expect(warnings.filter((warning) => !allowed.includes(warning.code)).map((warning) => warning.message)).toEqual(
          [],
        );

        // Writes on the upgraded database: an upsert, an update, a delete and a snapshot per collection.
        const written = new Map<string, Map<string, number[]>>();
        for (const [name, collectionExpected] of Object.entries(expected.collections)) {
          const collection = db.collection(name);
          const dim = collectionExpected.settings.dim;
          const [first, second] = Object.keys(collectionExpected.records);
          const added = Array.from({ length: dim }, (_, i) => (i + 1) / dim);
          const changed = Array.from({ length: dim }, (_, i) => (i % 2 === 0 ? 0.5 : -0.5));
          collection.upsert([
            { id: 'added', vector: added, metadata: { group: 'b' } },
            { id: second!, vector: changed, metadata: { group: 'b' } },
          ]);
          expect(collection.delete([first!])).toBe(1);
          collection.snapshot();
          const vectors = new Map(
            Object.entries(collectionExpected.records).map(([id, stored]) => [id, stored.vector] as const),
          );
          vectors.delete(first!);
          vectors.set(second!, changed.map(Math.fround));
          vectors.set('added', added.map(Math.fround));
          written.set(name, vectors);
        }
        db.close();

        warnings.length = 0;
        db = open(directory.path, { onWarning });
        for (const [name, collectionExpected] of Object.entries(expected.collections)) {
          const collection = db.collection(name);
          const where = `v${version} ${name} after writes`;
          const vectors = written.get(name)!;
          expect(collection.count(), where).toBe(collectionExpected.count + 1 - 1);
          expect(Array.from(collection.get('added')?.vector ?? []), where).toEqual(vectors.get('added'));
          expect(collection.get(Object.keys(collectionExpected.records)[0]!), where).toBeUndefined();
          // Small collections are known whole: answers equal exact search over their records.
          const whole = Object.keys(collectionExpected.records).length === collectionExpected.count;
          for (const vector of collectionExpected.queries) {
            const found = hitsOf(collection, vector, collectionExpected.effort).map(([id]) => id);
            if (whole) {
              const exact = [...vectors.entries()]
                .map(([id, stored]) => ({ id, distance: distance(collectionExpected.settings.metric, stored, vector) }))
                .sort((a, b) => a.distance - b.distance)
                .slice(0, 5)
                .map((entry) => entry.id);
              expect(found, where).toEqual(exact);
            }
          }
          // Under l2 and cosine a record is its own nearest neighbour (not under ip).
          if (collectionExpected.settings.metric !== 'ip') {
            expect(hitsOf(collection, vectors.get('added')!, collectionExpected.effort)[0]?.[0], where).toBe('added');
          }
        }
        expect(warnings.map((warning) => warning.message)).toEqual([]);
        db.close();
      } finally {
        directory.cleanup();
      }
    });
  });
}
