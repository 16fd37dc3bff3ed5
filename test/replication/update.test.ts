// A replica applies 'update' changes: metadata merged or replaced and text set or removed on the
// writer arrive as the same records (vectors, metadata, text) on a replica through a real
// nats-server, and the replica's filters and full-text index follow, as do those of a read-only opener
// of the replica's database. The server is stopped at the end.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Collection, open } from '../../src/index.js';
import { openReplica, publish } from '../../src/replication/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { type NatsNode, startNatsServer } from '../helpers/nats-server.js';

let nats: NatsNode;
const made = tempDirectory();
beforeAll(async () => {
  nats = await startNatsServer();
}, 30_000);
afterAll(async () => {
  await nats?.stop();
  made.cleanup();
});

function recordsOf(collection: Collection) {
  return collection
    .get({ filter: {} })
    .map(({ id, vector, metadata, text }) => ({ id, vector: Array.from(vector), metadata, text }));
}

it('applies updates as the writer committed them', async () => {
  const source = open(join(made.path, 'source'), { durability: 'normal' });
  const docs = source.collection('docs', { dim: 2, text: true, indexes: ['lang'] });
  const publisher = await publish(source, { servers: nats.url, stream: 'updates' });
  const replica = await openReplica(join(made.path, 'replica'), { servers: nats.url, stream: 'updates' });
  try {
    docs.upsert(
      Array.from({ length: 20 }, (_, i) => ({
        id: `r${i}`,
        vector: [i, 1],
        metadata: { lang: i % 2 === 0 ? 'en' : 'fr', n: i },
        text: `word${i}`,
      })),
    );
    docs.update({ filter: { lang: 'en' } }, { metadata: { lang: 'de', n: null, seen: true } });
    docs.update({ ids: ['r1', 'r3'] }, { metadata: { only: 1 } }, { merge: false });
    docs.update({ ids: ['r5'] }, { text: 'renamed' });
    docs.update({ ids: ['r7'] }, { text: null });
    expect(await replica.waitFor(source.changeSeq(), { timeoutMs: 20_000 })).toBe(true);
    const copy = replica.collection('docs');
    expect(recordsOf(copy)).toEqual(recordsOf(docs));
    expect(copy.get('r0')!.metadata).toEqual({ lang: 'de', seen: true });
    expect(copy.get('r1')!.metadata).toEqual({ only: 1 });
    expect(copy.get('r7')!.text).toBeUndefined();
    expect(copy.count({ filter: { lang: 'de' } })).toBe(10);
    expect(copy.query({ text: 'renamed' }).map((hit) => hit.id)).toEqual(['r5']);
    expect(copy.query({ text: 'word7' })).toEqual([]);
    expect(replica.changes({ after: 0 }).map((change) => change.op)).toEqual(source.changes().map((c) => c.op));
  } finally {
    replica.close();
    await publisher.stop();
    source.close();
  }
}, 60_000);

it("a read-only opener of the replica's database follows the replicated text updates", async () => {
  const source = open(join(made.path, 'source-2'), { durability: 'normal' });
  const docs = source.collection('docs', { dim: 2, text: true });
  const publisher = await publish(source, { servers: nats.url, stream: 'updates-2' });
  const replica = await openReplica(join(made.path, 'replica-2'), { servers: nats.url, stream: 'updates-2' });
  const reader = () => open(join(made.path, 'replica-2'), { readOnly: true });
  let opened: ReturnType<typeof reader> | undefined;
  try {
    docs.upsert(Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, vector: [i, 1], text: `word${i}` })));
    expect(await replica.waitFor(source.changeSeq(), { timeoutMs: 20_000 })).toBe(true);
    opened = reader();
    const copy = opened.collection('docs');
    expect(copy.query({ text: 'word5' }).map((hit) => hit.id)).toEqual(['r5']);
    docs.update({ ids: ['r5'] }, { text: 'renamed' });
    docs.update({ ids: ['r6'] }, { text: null });
    expect(await replica.waitFor(source.changeSeq(), { timeoutMs: 20_000 })).toBe(true);
    expect(copy.query({ text: 'renamed' }).map((hit) => hit.id)).toEqual(['r5']);
    expect(copy.query({ text: 'word5' })).toEqual([]);
    expect(copy.query({ text: 'word6' })).toEqual([]);
    expect(copy.query({ text: 'word7' }).map((hit) => hit.id)).toEqual(['r7']);
  } finally {
    opened?.close();
    replica.close();
    await publisher.stop();
    source.close();
  }
}, 60_000);
