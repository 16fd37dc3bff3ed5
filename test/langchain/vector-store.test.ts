// QuiverVectorStore against LangChain's vector-store contract: the standard cases of LangChain's
// own integration suite (empty store, add, delete, idempotent add by id, get by ids…), filters,
// the retriever, MMR, hybrid search, and fromTexts then reopen. SyntheticEmbeddings ranks (equal
// texts embed equally); FakeEmbeddings' constant vectors could not.
import { Document } from '@langchain/core/documents';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, open, QuiverError } from '../../src/index.js';
import { QuiverVectorStore, type QuiverVectorStoreConfig } from '../../src/langchain/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

const embeddings = new SyntheticEmbeddings({ vectorSize: 6 });
let directory: ReturnType<typeof tempDirectory>;
let db: Database;

beforeEach(() => {
  directory = tempDirectory('quiver-langchain-');
  db = open(directory.path);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

function store(config: Partial<QuiverVectorStoreConfig> = {}): QuiverVectorStore {
  return new QuiverVectorStore(embeddings, { db, collectionName: 'docs', ...config });
}

const foo = () => new Document({ pageContent: 'foo', metadata: { id: 1 } });
const bar = () => new Document({ pageContent: 'bar', metadata: { id: 2 } });

describe('the standard vector-store cases', () => {
  it('an empty store finds nothing, gets nothing and deletes nothing', async () => {
    const empty = store();
    expect(await empty.similaritySearch('foo', 2)).toEqual([]);
    expect(await empty.getByIds(['1'])).toEqual([]);
    await empty.delete({ ids: ['1'] });
    expect(db.listCollections()).toEqual([]);
  });

  it('adds documents, returns their ids and finds them, without modifying the input', async () => {
    const documents = [foo(), bar()];
    const ids = await store().addDocuments(documents);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect(documents).toEqual([foo(), bar()]);
    const found = await store().similaritySearch('bar', 1);
    expect(found).toEqual([new Document({ id: ids[1]!, pageContent: 'bar', metadata: { id: 2 } })]);
    expect(db.collection('docs').dim).toBe(6);
  });

  it('deletes documents by id, one and several, and ignores missing ids', async () => {
    const docs = store();
    await docs.addDocuments([foo(), bar()], { ids: ['1', '2'] });
    await docs.delete({ ids: ['1'] });
    expect((await docs.similaritySearch('foo', 2)).map((d) => d.id)).toEqual(['2']);
    await docs.addDocuments([foo()], { ids: ['1'] });
    await docs.delete({ ids: ['1', '2', 'never-added'] });
    expect(await docs.similaritySearch('foo', 2)).toEqual([]);
    expect(db.collection('docs').count()).toBe(0);
  });

  it('adding the same ids twice leaves one copy (idempotent by id)', async () => {
    const docs = store();
    await docs.addDocuments([foo(), bar()], { ids: ['1', '2'] });
    await docs.addDocuments([foo(), bar()], { ids: ['1', '2'] });
    expect(db.collection('docs').count()).toBe(2);
    expect((await docs.similaritySearch('foo', 10)).map((d) => d.pageContent).sort()).toEqual(['bar', 'foo']);
  });

  it('adding an existing id replaces its text, metadata and vector', async () => {
    const docs = store();
    await docs.addDocuments([foo(), bar()], { ids: ['1', '2'] });
    await docs.addDocuments([new Document({ pageContent: 'new foo', metadata: { id: 1, v: 2 } })], { ids: ['1'] });
    expect(db.collection('docs').count()).toBe(2);
    expect(await docs.getByIds(['1'])).toEqual([
      new Document({ id: '1', pageContent: 'new foo', metadata: { id: 1, v: 2 } }),
    ]);
    const [[best]] = (await docs.similaritySearchWithScore('new foo', 1)) as [[Document, number]];
    expect(best.id).toBe('1');
  });

  it('gets documents by id in the order asked, leaving out missing ids', async () => {
    const docs = store();
    await docs.addDocuments([foo(), bar()], { ids: ['1', '2'] });
    expect((await docs.getByIds(['2', 'missing', '1'])).map((d) => [d.id, d.pageContent])).toEqual([
      ['2', 'bar'],
      ['1', 'foo'],
    ]);
    expect(await docs.getByIds(['missing'])).toEqual([]);
  });

  it("a document's own id is its record id", async () => {
    const docs = store();
    const ids = await docs.addDocuments([new Document({ id: 'mine', pageContent: 'foo', metadata: {} })]);
    expect(ids).toEqual(['mine']);
    expect((await docs.getByIds(['mine']))[0]?.pageContent).toBe('foo');
  });
});

describe('search', () => {
  it('scores are distances, best first, and filters use QuiverDB filters', async () => {
    const docs = store();
    await docs.addDocuments(
      [
        new Document({ pageContent: 'apples and pears', metadata: { source: 'a.txt', page: 1 } }),
        new Document({ pageContent: 'apples and pears', metadata: { source: 'b.txt', page: 2 } }),
        new Document({ pageContent: 'the quick fox', metadata: { source: 'b.txt', page: 3 } }),
      ],
      { ids: ['a1', 'b2', 'b3'] },
    );
    const all = await docs.similaritySearchWithScore('apples and pears', 3);
    expect(
      all
        .map(([d]) => d.id)
        .slice(0, 2)
        .sort(),
    ).toEqual(['a1', 'b2']);
    expect(all[0]![1]).toBeCloseTo(0, 5);
    expect(all[2]![1]).toBeGreaterThan(all[1]![1]);
    const filtered = await docs.similaritySearch('apples and pears', 3, { source: 'b.txt', page: { $gte: 2 } });
    expect(filtered.map((d) => d.id)).toEqual(['b2', 'b3']);
    await docs.delete({ filter: { source: 'b.txt' } });
    expect((await docs.similaritySearch('fox', 3)).map((d) => d.id)).toEqual(['a1']);
  });

  it('asRetriever answers with the k best documents', async () => {
    const docs = store();
    await docs.addDocuments([foo(), bar(), new Document({ pageContent: 'baz', metadata: {} })], {
      ids: ['1', '2', '3'],
    });
    const retrieved = await docs.asRetriever(1).invoke('bar');
    expect(retrieved.map((d) => d.id)).toEqual(['2']);
    const filtered = await docs.asRetriever({ k: 3, filter: { id: 1 } }).invoke('bar');
    expect(filtered.map((d) => d.id)).toEqual(['1']);
  });

  it('maxMarginalRelevanceSearch prefers a different document over a duplicate', async () => {
    const docs = store();
    await docs.addDocuments([foo(), foo(), bar()], { ids: ['foo-1', 'foo-2', 'bar'] });
    const similar = await docs.similaritySearch('foo', 2);
    expect(similar.map((d) => d.pageContent)).toEqual(['foo', 'foo']);
    const varied = await docs.maxMarginalRelevanceSearch('foo', { k: 2, fetchK: 3, lambda: 0.2 }, undefined);
    expect(varied.map((d) => d.pageContent)).toEqual(['foo', 'bar']);
    const retriever = docs.asRetriever({ k: 2, searchType: 'mmr', searchKwargs: { fetchK: 3, lambda: 0.2 } });
    expect((await retriever.invoke('foo')).map((d) => d.pageContent)).toEqual(['foo', 'bar']);
  });

  it("search: 'hybrid' fuses the full-text ranking of the query's words", async () => {
    const docs = store({ search: 'hybrid', collectionOptions: { text: true } });
    await docs.addDocuments(
      [
        new Document({ pageContent: 'zebra crossing rules', metadata: {} }),
        new Document({ pageContent: 'unrelated words here', metadata: {} }),
        new Document({ pageContent: 'more unrelated text', metadata: {} }),
      ],
      { ids: ['zebra', 'x', 'y'] },
    );
    const [best] = await docs.similaritySearch('zebra', 1);
    expect(best?.id).toBe('zebra');
    // By the embedding alone another document is nearest: the word match is what ranked 'zebra' first.
    const byVector = store({ collectionOptions: { text: true } });
    expect((await byVector.similaritySearch('zebra', 1))[0]?.id).toBe('y');
  });
});

describe('collections', () => {
  it('fromTexts creates the collection with the first vector dimension; fromExistingCollection reopens it', async () => {
    await QuiverVectorStore.fromTexts(['foo', 'bar'], [{ n: 1 }, { n: 2 }], embeddings, {
      db,
      collectionName: 'docs',
      collectionOptions: { metric: 'cosine' },
    });
    db.close();
    db = open(directory.path);
    const reopened = await QuiverVectorStore.fromExistingCollection(embeddings, {
      db,
      collectionName: 'docs',
      collectionOptions: { metric: 'cosine' },
    });
    expect(reopened.collection).toMatchObject({ dim: 6, metric: 'cosine' });
    expect((await reopened.similaritySearch('bar', 1)).map((d) => [d.pageContent, d.metadata])).toEqual([
      ['bar', { n: 2 }],
    ]);
  });

  it('vectors of another dimension than the collection are DIMENSION_MISMATCH, nothing written', async () => {
    const docs = store();
    await docs.addVectors([[1, 2, 3]], [foo()], { ids: ['1'] });
    await expect(docs.addVectors([[1, 2]], [bar()], { ids: ['2'] })).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
    });
    expect(db.collection('docs').count()).toBe(1);
  });

  it('bad arguments are QuiverErrors with a code, and nothing is written', async () => {
    expect(() => new QuiverVectorStore(embeddings, { collectionName: 'docs' } as never)).toThrow(QuiverError);
    expect(() => store({ collectionName: '' })).toThrow(/collectionName/);
    expect(() => store({ search: 'keyword' as never })).toThrow(/'vector' or 'hybrid'/);
    const docs = store();
    await expect(docs.addVectors([[1, 2]], [foo(), bar()])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(docs.addDocuments([foo()], { ids: ['1', '2'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(docs.delete()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(docs.delete({ ids: ['1'], filter: {} } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(docs.maxMarginalRelevanceSearch('foo', { k: 1, lambda: 2 }, undefined)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      QuiverVectorStore.fromExistingCollection(embeddings, { db, collectionName: 'none' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(db.listCollections()).toEqual([]);
  });

  it('metadata as document loaders produce it: undefined dropped, dates as ISO strings, arrays of objects', async () => {
    const docs = store();
    await docs.addDocuments(
      [
        new Document({
          pageContent: 'a loaded page',
          metadata: {
            author: undefined,
            modified: new Date(0),
            authors: [{ name: 'Ada' }],
            loc: { lines: { from: 1, to: 9 } },
          },
        }),
      ],
      { ids: ['page'] },
    );
    expect((await docs.getByIds(['page']))[0]?.metadata).toEqual({
      modified: '1970-01-01T00:00:00.000Z',
      authors: [{ name: 'Ada' }],
      loc: { lines: { from: 1, to: 9 } },
    });
  });
});
