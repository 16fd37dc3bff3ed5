// The types of typed collections (db.collection<M, K>()): metadata typed M on upsert, get, page and
// query hits; filters that know M's keys and the operators; update's merge patch and replace forms;
// `score` present for cosine and ip; the explain types; and the untyped default unchanged. Checked
// by vitest's typecheck (npm test), never run.
import { describe, expectTypeOf, it } from 'vitest';
import type {
  Collection,
  Database,
  ExplainedQuery,
  ExplainedTextQuery,
  FieldOperators,
  Filter,
  Metadata,
  QueryHit,
  QuiverRecord,
  RecordPage,
} from '../src/index.js';
import type { WorkerDatabase } from '../src/worker/index.js';

interface Doc {
  lang: string;
  year: number;
  tags: string[];
  author?: { name: string };
}

declare const db: Database;
const docs = db.collection<Doc, 'cosine'>('docs', { dim: 3, metric: 'cosine' });
const vector = [0.1, 0.2, 0.3];

describe('a typed collection', () => {
  it('takes M on upsert and rejects other metadata', () => {
    docs.upsert([{ id: 'a', vector, metadata: { lang: 'en', year: 2024, tags: [] } }]);
    // @ts-expect-error year must be a number
    docs.upsert([{ id: 'a', vector, metadata: { lang: 'en', year: '2024', tags: [] } }]);
    // @ts-expect-error lang is required by Doc
    docs.upsert([{ id: 'a', vector, metadata: { year: 2024, tags: [] } }]);
    // @ts-expect-error Doc has no key 'colour'
    docs.upsert([{ id: 'a', vector, metadata: { lang: 'en', year: 2024, tags: [], colour: 'red' } }]);
  });

  it('returns M from get, page and query hits', () => {
    expectTypeOf(docs.get('a')).toEqualTypeOf<QuiverRecord<Doc> | undefined>();
    expectTypeOf(docs.get(['a'])).toEqualTypeOf<QuiverRecord<Doc>[]>();
    expectTypeOf(docs.get({ filter: { lang: 'en' }, limit: 10, offset: 20 })).toEqualTypeOf<QuiverRecord<Doc>[]>();
    expectTypeOf(docs.page({ limit: 10 })).toEqualTypeOf<RecordPage<Doc>>();
    const hits = docs.query({ vector, k: 3 });
    expectTypeOf(hits[0]!.metadata).toEqualTypeOf<Doc>();
    expectTypeOf(hits[0]!.metadata.year).toEqualTypeOf<number>();
  });

  it('has score in the hits of cosine and ip collections, optional otherwise', () => {
    expectTypeOf(docs.query({ vector })[0]!.score).toEqualTypeOf<number>();
    expectTypeOf(docs.queryIds({ vector })[0]!.score).toEqualTypeOf<number>();
    const ip = db.collection<Doc, 'ip'>('ip', { dim: 3, metric: 'ip' });
    expectTypeOf(ip.query({ vector })[0]!.score).toEqualTypeOf<number>();
    const l2 = db.collection<Doc, 'l2'>('l2');
    expectTypeOf(l2.query({ vector })[0]!.score).toEqualTypeOf<number | undefined>();
    // Without type arguments the metric is inferred from the options.
    const inferred = db.collection('inferred', { dim: 3, metric: 'cosine' });
    expectTypeOf(inferred.metric).toEqualTypeOf<'cosine'>();
    expectTypeOf(inferred.query({ vector })[0]!.score).toEqualTypeOf<number>();
    // @ts-expect-error the options' metric must agree with the type argument
    db.collection<Doc, 'cosine'>('docs', { dim: 3, metric: 'l2' });
  });

  it('returns the explain types with typed hits', () => {
    const explained = docs.query({ vector, explain: true });
    expectTypeOf(explained).toEqualTypeOf<ExplainedQuery<QueryHit<Doc> & { score: number }>>();
    expectTypeOf(explained.plan.strategy).toBeString();
    const text = docs.query({ text: 'words', explain: true });
    expectTypeOf(text).toEqualTypeOf<ExplainedTextQuery<QueryHit<Doc> & { score: number }>>();
    expectTypeOf(text.hits[0]!.metadata).toEqualTypeOf<Doc>();
  });

  it('knows M top-level keys and the operators in filters', () => {
    type DocFilter = Filter<Doc>;
    expectTypeOf<DocFilter>().toHaveProperty('year');
    expectTypeOf<NonNullable<DocFilter['year']>>().toEqualTypeOf<number | FieldOperators<number>>();
    expectTypeOf<FieldOperators<number>>().toHaveProperty('$gte').toEqualTypeOf<number | undefined>();
    docs.query({ vector, filter: { year: { $gte: 2020, $lt: 2030 }, lang: { $in: ['en', 'de'] } } });
    docs.query({ vector, filter: { tags: 'x', $or: [{ lang: 'en' }, { year: 2020 }], 'author.name': 'Ann' } });
    docs.count({ filter: { year: { $not: { $gt: 3 } } } });
    // @ts-expect-error Doc has no key 'colour'
    docs.query({ vector, filter: { colour: 'red' } });
    // @ts-expect-error year holds numbers
    docs.get({ filter: { year: { $gte: '2020' } } });
    // @ts-expect-error no such operator
    docs.delete({ filter: { year: { $greater: 1 } } });
  });

  it('types update: a patch of M when merging (null removes), the whole of M when replacing', () => {
    docs.update({ ids: ['a'] }, { metadata: { year: 2025, author: null } });
    docs.update({ filter: { lang: 'en' } }, { text: 'new words' });
    docs.update({ ids: ['a'] }, { metadata: { lang: 'fr', year: 1, tags: [] } }, { merge: false });
    // @ts-expect-error replacing needs the whole of M
    docs.update({ ids: ['a'] }, { metadata: { year: 2025 } }, { merge: false });
    // @ts-expect-error year holds numbers
    docs.update({ ids: ['a'] }, { metadata: { year: 'soon' } });
    expectTypeOf(docs.update({ ids: ['a'] }, { text: null })).toEqualTypeOf<number>();
  });

  it('is typed through the worker too', async () => {
    const workerDb = {} as WorkerDatabase;
    const remote = await workerDb.collection<Doc, 'cosine'>('docs');
    expectTypeOf(await remote.get('a')).toEqualTypeOf<QuiverRecord<Doc> | undefined>();
    expectTypeOf((await remote.query({ vector }))[0]!.score).toEqualTypeOf<number>();
  });
});

describe('an untyped collection', () => {
  it('keeps Metadata, free-form filters and an optional score', () => {
    const plain = db.collection('plain');
    expectTypeOf(plain).toEqualTypeOf<Collection>();
    expectTypeOf(plain.get('a')).toEqualTypeOf<QuiverRecord<Metadata> | undefined>();
    plain.upsert([{ id: 'a', vector, metadata: { when: new Date(), anything: [{ nested: true }], gone: undefined } }]);
    plain.query({ vector, filter: { whatever: { $gte: 1 } } });
    plain.update({ ids: ['a'] }, { metadata: { any: 'key', drop: null } });
    expectTypeOf(plain.query({ vector })[0]!.score).toEqualTypeOf<number | undefined>();
  });
});
