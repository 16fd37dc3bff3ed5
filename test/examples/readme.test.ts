// The README's code blocks, run as tests: if an example stops working, this fails.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { open, QuiverError } from '../../src/index.js';
import { openReplica, publish } from '../../src/replication/index.js';
import { openInWorker } from '../../src/worker/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { startNatsServer } from '../helpers/nats-server.js';

let directory: ReturnType<typeof tempDirectory>;
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => directory.cleanup());

it('"Using it" works as written', () => {
  const db = open(`${directory.path}/my.quiver`);
  const docs = db.collection('docs', { dim: 3, metric: 'cosine' });
  docs.upsert([
    { id: 'a', vector: [0.1, 0.2, 0.3], metadata: { lang: 'en', year: 2024 } },
    { id: 'b', vector: new Float32Array([0.3, 0.2, 0.1]), metadata: { lang: 'de', year: 2021 } },
  ]);
  const hits = docs.query({ vector: [0.1, 0.2, 0.25], k: 10 });
  expect(hits.map((hit) => hit.id)).toEqual(['a', 'b']);
  expect(hits[0]?.distance).toBeCloseTo(0.004, 3);
  expect(hits[0]?.score).toBeCloseTo(0.996, 3);
  expect(hits[0]?.metadata).toEqual({ lang: 'en', year: 2024 });
  expect(docs.get('a')?.vector).toEqual(new Float32Array([0.1, 0.2, 0.3]));
  expect(docs.get(['a', 'missing']).map((record) => record.id)).toEqual(['a']);
  expect(docs.delete(['a'])).toBe(1);
  expect(docs.count()).toBe(1);
  expect(db.listCollections()).toEqual([
    {
      name: 'docs',
      dim: 3,
      metric: 'cosine',
      index: { type: 'hnsw', m: 16, efConstruction: 200, ef: 64 },
      indexes: [],
      count: 1,
    },
  ]);
  expect(db.dropCollection('docs')).toBe(true);
  db.close();
});

it('the collection option examples work as written', () => {
  const db = open(directory.path);
  const images = db.collection('images', {
    dim: 512,
    metric: 'l2',
    index: { type: 'hnsw', m: 32, efConstruction: 400, ef: 128 },
  });
  const small = db.collection('small', { dim: 64, index: { type: 'flat' } });
  expect(images.index).toEqual({ type: 'hnsw', m: 32, efConstruction: 400, ef: 128 });
  expect(small.index).toEqual({ type: 'flat' });
  db.close();
});

it('the error-handling example catches DIMENSION_MISMATCH', () => {
  const db = open(directory.path);
  const docs = db.collection('docs', { dim: 3 });
  let handled = false;
  try {
    docs.upsert([{ id: 'x', vector: [1, 2] }]);
  } catch (error) {
    if (error instanceof QuiverError && error.code === 'DIMENSION_MISMATCH') handled = true;
  }
  expect(handled).toBe(true);
  db.close();
});

it('the "Filters" examples work as written', () => {
  const db = open(directory.path);
  const docs = db.collection('docs', { dim: 2, indexes: ['lang', 'year'] });
  docs.upsert([
    { id: 'a', vector: [1, 0], metadata: { lang: 'en', year: 2021, draft: false, tags: ['a'] } },
    { id: 'b', vector: [0, 1], metadata: { lang: 'en', year: 2019, draft: false, tags: ['c'] } },
    { id: 'c', vector: [1, 1], metadata: { lang: 'de', year: 1999, draft: true, tags: ['b'] } },
    { id: 'd', vector: [2, 0], metadata: { lang: 'en', year: 2022, draft: true, review: { by: 'Ann' } } },
  ]);
  const q = [1, 0];
  const recent = docs.query({
    vector: q,
    k: 10,
    filter: { lang: 'en', year: { $gte: 2020 }, $or: [{ draft: false }, { 'review.by': { $exists: true } }] },
  });
  expect(recent.map((hit) => hit.id)).toEqual(['a', 'd']);
  expect(docs.get({ filter: { lang: 'de' }, limit: 100 }).map((record) => record.id)).toEqual(['c']);
  expect(docs.count({ filter: { tags: { $in: ['a', 'b'] } } })).toBe(2);
  expect(docs.delete({ filter: { year: { $lt: 2000 } } })).toBe(1);
  expect(docs.count()).toBe(3);
  db.close();
});

it('the ivfpq example works as written', () => {
  const db = open(directory.path);
  const big = db.collection('big', { dim: 768, metric: 'cosine', index: { type: 'ivfpq', nlist: 1024 } });
  const q = Array.from({ length: 768 }, (_, i) => Math.sin(i));
  big.upsert([{ id: 'only', vector: q }]);
  const hits = big.query({ vector: q, k: 10, nprobe: 32, rerank: 200 });
  expect(hits.map((hit) => hit.id)).toEqual(['only']); // untrained: exact search until enough vectors
  db.close();
});

it('the "Off the event loop" example works as written', async () => {
  const path = `${directory.path}/my.quiver`;
  const setup = open(path);
  setup.collection('docs', { dim: 3 }).upsert([{ id: 'first', vector: [0, 0, 1] }]);
  setup.close();
  const logged: string[] = [];
  const db = open(path, {
    onProgress: ({ collection, phase, done, total }) => logged.push(`${collection} ${phase} ${done} ${total}`),
  });
  const docs = await db.collectionAsync('docs');
  expect(logged).toEqual(['docs load 0 1']);

  const records = Array.from({ length: 3000 }, (_, i) => ({ id: `r${i}`, vector: [i, 1, 0] }));
  const pending = docs.upsertAsync(records);
  expect(docs.count()).toBe(3001);
  expect(docs.query({ vector: [2999, 1, 0], k: 1 })[0]).toMatchObject({ id: 'r2999', distance: 0 });
  const { inserted, updated } = await pending;
  expect({ inserted, updated }).toEqual({ inserted: 3000, updated: 0 });
  expect(docs.query({ vector: [0, 0, 1], k: 1 })[0]?.id).toBe('first');
  db.close();
});

/** A deterministic stand-in for a sentence embedding of dim 384: letter counts, spread and normalised. */
function standInEmbedding(text: string): number[] {
  const vector = new Array<number>(384).fill(0.01);
  for (const char of text.toLowerCase()) vector[(char.codePointAt(0)! * 7) % 384]! += 1;
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

it('the "RAG" documents example works as written', () => {
  const db = open(directory.path);
  const embedding1 = standInEmbedding('Hold the reset button for ten seconds.');
  const embedding2 = standInEmbedding('The warranty covers two years.');
  const question = standInEmbedding('how do I reset the device');

  const docs = db.collection('docs', { dim: 384, metric: 'cosine', text: true }); // porter stemming
  docs.upsert([
    {
      id: 'p1',
      vector: embedding1,
      text: 'Hold the reset button for ten seconds.',
      metadata: { source: 'manual.pdf', page: 3 },
    },
    {
      id: 'p2',
      vector: embedding2,
      text: 'The warranty covers two years.',
      metadata: { source: 'terms.pdf', page: 1 },
    },
  ]);
  const bm25 = docs.query({ text: 'how do I reset the device', k: 10 }); // BM25 only
  const hybrid = docs.query({ vector: question, text: 'reset device', k: 10 }); // hybrid: reciprocal rank fusion (k = 60)
  const { hits, plan } = docs.query({
    vector: question,
    text: 'reset device',
    k: 10,
    fusion: { method: 'weighted', alpha: 0.7 }, // 0.7 × vector + 0.3 × text, each normalised to [0, 1]
    filter: { source: 'manual.pdf' }, // applies to both sides
    explain: true, // each side's candidates, ranks and raw scores, and the fused scores
  });

  // "the" is in both passages, "reset" only in p1: p1 first.
  expect(bm25.map((hit) => hit.id)).toEqual(['p1', 'p2']);
  expect(bm25[0]?.text).toBe('Hold the reset button for ten seconds.');
  expect(hybrid[0]?.id).toBe('p1');
  expect(hits.map((hit) => hit.id)).toEqual(['p1']);
  expect(hits[0]?.score).toBe(1);
  expect(plan.strategy).toBe('hybrid');
  expect(plan.fused?.[0]).toMatchObject({ id: 'p1', vectorRank: 1, textRank: 1 });
  db.close();
});

it('the "RAG" embedding and reranking examples work as written (without downloading a model)', async () => {
  const db = open(directory.path);
  // Stands in for transformers.js's `pipeline('feature-extraction', ...)`: same call, same result shape.
  const pipeline = async (_task: string, _model: string) => async (texts: string[], _options: object) => ({
    tolist: () => texts.map(standInEmbedding),
  });
  const crossEncoder = async (query: string, texts: string[]) =>
    texts.map((text) => (text.toLowerCase().includes('milk') && query === 'groceries' ? 1 : 0));

  const extractor = await pipeline('feature-extraction', 'Xenova/all-MiniLM-L6-v2');
  const embed = async (texts: string[]) => (await extractor(texts, { pooling: 'mean', normalize: true })).tolist();

  const notes = db.collection('notes', { dim: 384, metric: 'cosine', text: true, embed });
  await notes.upsertAsync([
    { id: 'n1', text: 'Buy milk and eggs' },
    { id: 'n2', text: 'Call the dentist' },
  ]);
  const found = await notes.queryAsync({ text: 'groceries', k: 5 }); // embeds the question, then hybrid

  expect(found.map((hit) => hit.id).sort()).toEqual(['n1', 'n2']);
  expect(notes.get('n1')?.vector).toEqual(new Float32Array(standInEmbedding('Buy milk and eggs')));

  const best = await notes.queryAsync({
    text: 'groceries',
    k: 3,
    rerank: {
      candidates: 50,
      score: async (query, hits) =>
        crossEncoder(
          query,
          hits.map((hit) => hit.text ?? ''),
        ),
    },
  });
  // best[0].rerankScore: the scorer's; best[0].score: the retrieval score, kept
  expect(best.map((hit) => [hit.id, hit.rerankScore])).toEqual([
    ['n1', 1],
    ['n2', 0],
  ]);
  expect(best[0]?.score).toBe(found.find((hit) => hit.id === 'n1')?.score);
  db.close();
});

it('the "Change feed, backups and read replicas" examples work as written', async () => {
  const nats = await startNatsServer();
  const url = nats.url; // the README's 'nats://127.0.0.1:4222', on a free port here
  try {
    const db = open(`${directory.path}/main.quiver`);
    db.registerConsumer('search-sync', { after: 0 });
    const docs = db.collection('docs', { dim: 3 });
    docs.upsert([{ id: 'a', vector: [1, 2, 3], metadata: { lang: 'en' } }]);
    const seen = db
      .changes({ consumer: 'search-sync' })
      .map((change) => [change.seq, change.op, change.collection, change.id]);
    expect(seen).toEqual([
      [1, 'create', 'docs', undefined],
      [2, 'upsert', 'docs', 'a'],
    ]);
    db.commitConsumer('search-sync', db.changeSeq());
    db.setChangeRetention({ rows: 1_000_000 });
    const { changeSeq } = await db.backup(`${directory.path}/backups/main-1`);
    expect(changeSeq).toBe(2);

    const publisher = await publish(db, { servers: url, stream: 'main' });
    const replica = await openReplica(`${directory.path}/replica.quiver`, {
      servers: url,
      stream: 'main',
      bootstrap: `${directory.path}/backups/main-1`,
    });
    docs.upsert([{ id: 'b', vector: [3, 2, 1] }]);
    await replica.waitFor(db.changeSeq());
    expect(replica.collection('docs').get('b')?.vector).toEqual(new Float32Array([3, 2, 1]));
    expect(replica.collection('docs').get('a')?.metadata).toEqual({ lang: 'en' }); // from the backup
    replica.close();
    await publisher.stop();
    db.close();
  } finally {
    await nats.stop();
  }
}, 30_000);

it('"In a worker thread" works as written', async () => {
  const db = await openInWorker(`${directory.path}/my.quiver`);
  const docs = await db.collection('docs', { dim: 3, metric: 'cosine' });
  await docs.upsert([{ id: 'a', vector: [0.1, 0.2, 0.3], metadata: { lang: 'en' } }]);
  const hits = await docs.query({ vector: [0.1, 0.2, 0.25], k: 10, filter: { lang: 'en' } });
  expect(hits.map((hit) => hit.id)).toEqual(['a']);
  await db.close();
  await expect(docs.count()).rejects.toMatchObject({ code: 'CLOSED' });
});
