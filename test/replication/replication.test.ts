// Replication through a real nats-server (JetStream, 127.0.0.1, temporary storage): a writer and
// two replica processes converge; a replica SIGKILLed mid-apply resumes exactly; a publisher
// SIGKILLed between the server's acknowledgement and its cursor update duplicates nothing; bad
// input and broken streams get QuiverErrors. Every process started here is stopped at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, open, QuiverError } from '../../src/index.js';
import { decodeChange, encodeChange } from '../../src/replication/codec.js';
import { openReplica, publish } from '../../src/replication/index.js';
import { crashPointReached } from '../helpers/crash-point.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { ensureBin, quiverJson } from '../cli/build-bin.js';
import { freePort, type NatsNode, startNatsServer } from '../helpers/nats-server.js';
import { type DatabaseState, seededWrites, stateOf } from './state.js';

const REPLICA = join(import.meta.dirname, 'replica-process.ts');
const PUBLISHER = join(import.meta.dirname, 'publisher-process.ts');
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

let nats: NatsNode;
const directories: ReturnType<typeof tempDirectory>[] = [];
function directory(): string {
  const made = tempDirectory();
  directories.push(made);
  return made.path;
}

beforeAll(async () => {
  nats = await startNatsServer();
}, 30_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await nats?.stop();
  for (const made of directories) made.cleanup();
});

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a test script in a child process (killed after `timeoutMs`). */
function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    // 'close', not 'exit': it waits for the child's output, which carries the crash point's marker.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function stateFrom(result: ChildRun): DatabaseState {
  const line = result.stdout.split('\n').find((row) => row.startsWith('state '));
  if (line === undefined)
    throw new Error(`no state from the child (${result.code ?? result.signal}): ${result.stderr}`);
  return JSON.parse(line.slice('state '.length)) as DatabaseState;
}

async function codeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return error instanceof QuiverError ? error.code : `raw: ${String(error)}`;
  }
  return undefined;
}

describe('a writer and two replica processes', () => {
  it('converge to the writer state: one from the stream start, one from a backup taken mid-stream', async () => {
    const source = open(directory(), { durability: 'normal' });
    const publisher = await publish(source, { servers: nats.url, stream: 'converge' });
    seededWrites(source, 11, 15);
    const backup = await source.backup(join(directory(), 'backup'));
    expect(backup.changeSeq).toBe(source.changeSeq());
    seededWrites(source, 12, 15); // overwrites, deletes, drops 'doomed' again after recreating it
    const target = String(source.changeSeq());
    const expected = stateOf(source);
    expect(expected.collections.map((collection) => collection.name)).toEqual(['docs', 'flat']);
    const [fromStart, fromBackup] = await Promise.all([
      run(REPLICA, [join(directory(), 'a'), nats.url, 'converge', target]),
      run(REPLICA, [join(directory(), 'b'), nats.url, 'converge', target, backup.path]),
    ]);
    expect(fromBackup.stdout).toContain(`ready ${backup.changeSeq}\n`);
    expect(stateFrom(fromStart)).toEqual(expected);
    expect(stateFrom(fromBackup)).toEqual(expected);
    await publisher.stop();
    source.close();
  }, 80_000);
});

describe('crashes', () => {
  it('a replica SIGKILLed mid-apply resumes exactly where its last transaction ended', async () => {
    const source = open(directory(), { durability: 'normal' });
    const publisher = await publish(source, { servers: nats.url, stream: 'kill-replica' });
    seededWrites(source, 21, 20);
    const target = String(source.changeSeq());
    const replicaPath = join(directory(), 'replica');
    // Batches of at most 25 changes: the 4th transaction is killed before its commit.
    const killed = await run(REPLICA, [replicaPath, nats.url, 'kill-replica', target], {
      QUIVERDB_CRASH_AT: 'replica-before-commit:4',
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(crashPointReached(killed.stderr, 'replica-before-commit:4'), killed.stderr).toBe(true);
    // What survived is a committed prefix of the source's log: three whole transactions.
    const survivor = open(replicaPath, { readOnly: true });
    const held = survivor.changeSeq();
    survivor.close();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(Number(target));
    const resumed = await run(REPLICA, [replicaPath, nats.url, 'kill-replica', target]);
    expect(resumed.stdout).toContain(`ready ${held}\n`);
    expect(stateFrom(resumed)).toEqual(stateOf(source));
    await publisher.stop();
    source.close();
  }, 80_000);

  it('a publisher SIGKILLed between the acknowledgement and its cursor update publishes nothing twice', async () => {
    const sourcePath = directory();
    const writer = open(sourcePath, { durability: 'normal' });
    seededWrites(writer, 31, 12);
    const last = writer.changeSeq();
    writer.close();
    expect(last).toBeGreaterThan(150);
    const killed = await run(PUBLISHER, [sourcePath, nats.url, 'kill-publisher', String(last)], {
      QUIVERDB_CRASH_AT: 'publish-after-ack:3',
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(crashPointReached(killed.stderr, 'publish-after-ack:3'), killed.stderr).toBe(true);
    const source = open(sourcePath, { durability: 'normal' });
    // Rounds of 50: two cursor updates made it, the third round's 50 are on the stream but not in the cursor.
    expect(source.listConsumers()).toEqual([
      { name: 'publish.kill-publisher', seq: 100, updatedAt: expect.any(Number) },
    ]);
    const publisher = await publish(source, { servers: nats.url, stream: 'kill-publisher', batch: 50 });
    while (publisher.seq < last) await new Promise((resolve) => setTimeout(resolve, 10));
    await publisher.stop();
    // JetStream dropped the re-published 101 … 150 as duplicates: one message per change.
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const connection = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(connection)).streams.info('kill-publisher');
    await connection.close();
    expect(info.state.messages).toBe(last);
    expect(info.state.last_seq).toBe(last);
    const replica = await openReplica(join(directory(), 'replica'), { servers: nats.url, stream: 'kill-publisher' });
    expect(await replica.waitFor(last, { timeoutMs: 30_000 })).toBe(true);
    expect(stateOf(replica)).toEqual(stateOf(source));
    replica.close();
    source.close();
  }, 80_000);
});

describe('a replica in this process', () => {
  let source: Database;
  let localReplica: string;
  beforeAll(() => {
    localReplica = join(directory(), 'replica');
    source = open(directory(), { durability: 'normal' });
  });
  afterAll(() => source.close());

  it('serves reads, refuses every write with READ_ONLY, reports lag and gives read-your-writes with waitFor', async () => {
    const publisher = await publish(source, { servers: nats.url, stream: 'local' });
    const docs = source.collection('docs', { dim: 3, indexes: ['n'] });
    docs.upsert([{ id: 'a', vector: [1, 2, 3], metadata: { n: 1 } }]);
    const replica = await openReplica(localReplica, { servers: nats.url, stream: 'local' });
    try {
      for (let i = 0; i < 20; i++) {
        docs.upsert([{ id: `w${i}`, vector: [i, 0, 1], metadata: { n: i } }]);
        const seq = source.changeSeq();
        expect(await replica.waitFor(seq, { timeoutMs: 10_000 })).toBe(true);
        expect(replica.collection('docs').get(`w${i}`)?.metadata).toEqual({ n: i }); // read-your-writes
      }
      const notes = source.collection('notes', { dim: 2, text: true });
      notes.upsert([{ id: 'n1', vector: [1, 0], text: 'replicas answer text queries' }]);
      expect(await replica.waitFor(source.changeSeq(), { timeoutMs: 10_000 })).toBe(true);
      expect(
        replica
          .collection('notes')
          .query({ text: 'answer', k: 5 })
          .map((hit) => hit.id),
      ).toEqual(['n1']);
      expect(replica.collection('notes').get('n1')?.text).toBe('replicas answer text queries');
      expect(replica.lag()).toEqual({ seqs: 0, ms: 0 });
      expect(replica.appliedSeq).toBe(source.changeSeq());
      expect(replica.readOnly).toBe(true);
      const copy = replica.collection('docs');
      expect(copy.count({ filter: { n: { $gte: 10 } } })).toBe(10);
      expect(copy.query({ vector: [1, 2, 3], k: 1 })[0]?.id).toBe('a');
      expect(await codeOf(() => copy.upsert([{ id: 'z', vector: [0, 0, 1] }]))).toBe('READ_ONLY');
      expect(await codeOf(() => copy.upsertAsync([{ id: 'z', vector: [0, 0, 1] }]))).toBe('READ_ONLY');
      expect(await codeOf(() => copy.delete('a'))).toBe('READ_ONLY');
      expect(await codeOf(() => copy.compact())).toBe('READ_ONLY');
      expect(await codeOf(() => replica.collection('new', { dim: 2 }))).toBe('READ_ONLY');
      expect(await codeOf(() => replica.collection('docs', { dim: 3, indexes: ['other'] }))).toBe('READ_ONLY');
      expect(await codeOf(() => replica.dropCollection('docs'))).toBe('READ_ONLY');
      expect(await codeOf(() => replica.compact())).toBe('READ_ONLY');
      expect(await codeOf(() => replica.collection('missing'))).toBe('NOT_FOUND');
      expect(replica.collection('docs', { dim: 3, indexes: ['n'] }).count()).toBe(21);
      expect(await codeOf(() => replica.waitFor(-1))).toBe('INVALID_ARGUMENT');
      expect(await replica.waitFor(source.changeSeq() + 1000, { timeoutMs: 50 })).toBe(false);
      // Its change log mirrors the source's, seq for seq.
      expect(replica.changes({ after: source.changeSeq() - 1 })).toEqual(
        source.changes({ after: source.changeSeq() - 1 }),
      );
    } finally {
      replica.close();
      await publisher.stop();
    }
    expect(await codeOf(() => replica.collection('docs'))).toBe('CLOSED');
  }, 40_000);

  it('builds the text index the source declares on an existing collection (a change of its own)', async () => {
    const writer = open(directory(), { durability: 'normal' });
    const publisher = await publish(writer, { servers: nats.url, stream: 'text-later' });
    const replica = await openReplica(join(directory(), 'replica'), { servers: nats.url, stream: 'text-later' });
    try {
      const texts = ['the reset button', 'warranty of two years', 'reset the router twice', 'no text here'];
      writer.collection('docs', { dim: 2 }).upsert(texts.map((text, i) => ({ id: `d${i}`, vector: [i, 1], text })));
      expect(await replica.waitFor(writer.changeSeq(), { timeoutMs: 10_000 })).toBe(true);
      expect(replica.collection('docs').text).toBeUndefined();
      expect(await codeOf(() => replica.collection('docs', { dim: 2, text: true }))).toBe('READ_ONLY');
      const before = writer.changeSeq();
      const docs = writer.collection('docs', { dim: 2, text: { tokenizer: 'trigram' } }); // built now, on the writer
      expect(writer.changes({ after: before }).map(({ committedAt, ...change }) => change)).toEqual([
        {
          seq: before + 1,
          collection: 'docs',
          op: 'index',
          settings: { text: { tokenizer: 'trigram', removeDiacritics: true } },
        },
      ]);
      expect(await replica.waitFor(writer.changeSeq(), { timeoutMs: 10_000 })).toBe(true);
      const copy = replica.collection('docs');
      expect(copy.text).toEqual(docs.text);
      const ids = (collection: typeof docs, text: string): string[] =>
        collection.query({ text, k: 10 }).map((hit) => hit.id);
      expect(ids(docs, 'reset').sort()).toEqual(['d0', 'd2']);
      expect(ids(copy, 'eset').sort()).toEqual(['d0', 'd2']); // trigrams: the replica has the writer's tokenizer
      for (const text of ['reset', 'warranty', 'router', 'eset']) expect(ids(copy, text)).toEqual(ids(docs, text));
      // Records written after the declaration are indexed on both sides.
      docs.upsert([{ id: 'd9', vector: [9, 1], text: 'reset once more' }]);
      expect(await replica.waitFor(writer.changeSeq(), { timeoutMs: 10_000 })).toBe(true);
      expect(ids(copy, 'reset')).toEqual(ids(docs, 'reset'));
      expect(ids(copy, 'reset')).toContain('d9');
    } finally {
      replica.close();
      await publisher.stop();
      writer.close();
    }
  }, 40_000);

  it('a reopened replica opens every index before it resolves, then applies and answers as the writer', async () => {
    const writer = open(directory(), { durability: 'normal' });
    const publisher = await publish(writer, { servers: nats.url, stream: 'reopen' });
    const path = join(directory(), 'replica');
    const options = { servers: nats.url, stream: 'reopen' };
    try {
      const docs = writer.collection('docs', { dim: 4 });
      const flat = writer.collection('flat', { dim: 4, index: { type: 'flat' } });
      const records = (from: number) =>
        Array.from({ length: 40 }, (_, i) => ({ id: `r${from + i}`, vector: [from + i, i % 7, 1, (i * 3) % 5] }));
      docs.upsert(records(0));
      flat.upsert(records(0));
      const first = await openReplica(path, options);
      expect(await first.waitFor(writer.changeSeq(), { timeoutMs: 10_000 })).toBe(true);
      first.close(); // snapshots the HNSW graph
      // Damage the graph's snapshot: opening the index rebuilds it from the records, with a warning.
      const snapshots = readdirSync(join(path, 'docs')).filter((name) => name.endsWith('.bin'));
      expect(snapshots.length).toBeGreaterThan(0);
      for (const name of snapshots) {
        const file = join(path, 'docs', name);
        const bytes = readFileSync(file);
        bytes[bytes.length >> 1]! ^= 0xff;
        writeFileSync(file, bytes);
      }
      const warnings: string[] = [];
      const replica = await openReplica(path, { ...options, onWarning: (warning) => warnings.push(warning.code) });
      try {
        // Opened while openReplica ran, not by the first change applied (or the first read).
        expect(warnings).toEqual(['SNAPSHOT_INVALID']);
        docs.upsert(records(40));
        flat.upsert(records(40));
        flat.delete(['r3', 'r50']);
        expect(await replica.waitFor(writer.changeSeq(), { timeoutMs: 10_000 })).toBe(true);
        expect(stateOf(replica)).toEqual(stateOf(writer));
        expect(warnings).toEqual(['SNAPSHOT_INVALID']);
      } finally {
        replica.close();
      }
    } finally {
      await publisher.stop();
      writer.close();
    }
  }, 40_000);

  it('bad options, an unreachable server, a missing stream and a directory that is no replica are QuiverErrors', async () => {
    expect(await codeOf(() => publish(source, { servers: [], stream: 'x' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => publish(source, { servers: nats.url, stream: 'a.b' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => publish(source, { servers: nats.url, stream: 'x', batch: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => publish(source, { servers: nats.url, stream: 'x', subject: 'a.*' }))).toBe(
      'INVALID_ARGUMENT',
    );
    const closed = `nats://127.0.0.1:${await freePort()}`;
    expect(await codeOf(() => publish(source, { servers: closed, stream: 'x' }))).toBe('IO_ERROR');
    expect(
      await codeOf(() => openReplica(join(directory(), 'r'), { servers: nats.url, stream: 'no-such-stream' })),
    ).toBe('NOT_FOUND');
    expect(await codeOf(() => openReplica(source.path, { servers: nats.url, stream: 'local' }))).toBe('LOCKED');
    const plain = open(directory());
    plain.collection('c', { dim: 2 }).upsert([{ id: 'a', vector: [1, 2] }]);
    plain.close();
    expect(await codeOf(() => openReplica(plain.path, { servers: nats.url, stream: 'local' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await codeOf(() =>
        openReplica(join(directory(), 'r2'), { servers: nats.url, stream: 'local', bootstrap: directory() }),
      ),
    ).toBe('NOT_FOUND');
    expect(await codeOf(() => publish(source, { servers: nats.url, stream: 'local', subject: 'other.subject' }))).toBe(
      'SETTINGS_MISMATCH',
    );
  }, 30_000);

  it('a replica refuses a stream that does not start at change 1 (CHANGES_EXPIRED) and another database’s stream', async () => {
    const trimmed = open(directory(), { durability: 'normal' });
    const docs = trimmed.collection('docs', { dim: 2 });
    for (let i = 0; i < 1100; i++) docs.upsert([{ id: `r${i}`, vector: [i, 1] }]); // no consumer: the early changes are trimmed
    const publisher = await publish(trimmed, { servers: nats.url, stream: 'trimmed' });
    while (publisher.seq < trimmed.changeSeq()) await new Promise((resolve) => setTimeout(resolve, 10));
    const failures: string[] = [];
    const replica = await openReplica(join(directory(), 'replica'), {
      servers: nats.url,
      stream: 'trimmed',
      onError: (error) => failures.push(error.code),
    });
    expect(await codeOf(() => replica.waitFor(trimmed.changeSeq(), { timeoutMs: 10_000 }))).toBe('CHANGES_EXPIRED');
    expect(failures).toEqual(['CHANGES_EXPIRED']);
    expect(replica.failure?.code).toBe('CHANGES_EXPIRED');
    expect(replica.listCollections()).toEqual([]); // nothing applied
    replica.close();
    await publisher.stop();
    trimmed.close();
    // A replica of 'local' pointed at another database's stream stops at its first message.
    const other = await openReplica(localReplica, { servers: nats.url, stream: 'trimmed' });
    expect(await codeOf(() => other.waitFor(other.appliedSeq + 1, { timeoutMs: 10_000 }))).toBe('SETTINGS_MISMATCH');
    other.close();
  }, 30_000);
});

describe('the command line', () => {
  it('quiver publish and quiver replicate run a publisher and a replica as processes', async () => {
    await ensureBin();
    const sourcePath = directory();
    const writer = open(sourcePath, { durability: 'normal' });
    seededWrites(writer, 41, 5);
    const last = writer.changeSeq();
    const expected = stateOf(writer);
    writer.close();
    const published = quiverJson<{ seq: number; published: number }>(
      'publish',
      sourcePath,
      '--servers',
      nats.url,
      '--stream',
      'cli',
      '--until',
      String(last),
    );
    expect(published.document).toEqual({ database: sourcePath, stream: 'cli', seq: last, published: last });
    const replicaPath = join(directory(), 'replica');
    const replicated = quiverJson<{ seq: number }>(
      'replicate',
      replicaPath,
      '--servers',
      nats.url,
      '--stream',
      'cli',
      '--until',
      String(last),
    );
    expect(replicated.document.seq).toBe(last);
    const replica = open(replicaPath, { readOnly: true });
    expect(stateOf(replica)).toEqual(expected);
    replica.close();
  }, 60_000);
});

describe('the message format', () => {
  it('round-trips every kind of change and rejects damage with CORRUPT', () => {
    const id = 'ab'.repeat(16);
    const changes = [
      { seq: 1, collection: 'c', op: 'create' as const, settings: { dim: 2, metric: 'l2' as const }, committedAt: 5 },
      {
        seq: 2,
        collection: 'c',
        op: 'upsert' as const,
        id: 'a',
        vector: new Float32Array([1.5, -2]),
        metadata: { x: [1, 'y'] },
        committedAt: 6,
      },
      { seq: 3, collection: 'c', op: 'delete' as const, id: 'a', committedAt: 7 },
      { seq: 4, collection: 'c', op: 'drop' as const, committedAt: 8 },
    ];
    for (const change of changes) expect(decodeChange(encodeChange(id, change))).toEqual({ databaseId: id, change });
    const upsert = encodeChange(id, changes[1]!);
    const codes = [
      upsert.subarray(0, upsert.length - 1), // vector cut short
      new TextEncoder().encode('not json\n'),
      new TextEncoder().encode('{"v":1}'),
      new TextEncoder().encode(`{"v":1,"db":"${id}","seq":2,"collection":"c","op":"upsert","at":1,"id":"a"}\n`),
      new TextEncoder().encode(`{"v":1,"db":"${id}","seq":2,"collection":"c","op":"merge","at":1}\n`),
      new TextEncoder().encode(`{"v":1,"db":"short","seq":2,"collection":"c","op":"drop","at":1}\n`),
    ].map((bytes) => {
      try {
        decodeChange(bytes);
        return 'accepted';
      } catch (error) {
        return error instanceof QuiverError ? error.code : 'raw';
      }
    });
    expect(codes).toEqual(['CORRUPT', 'CORRUPT', 'CORRUPT', 'CORRUPT', 'CORRUPT', 'CORRUPT']);
    expect(() => decodeChange(new TextEncoder().encode(`{"v":2,"db":"${id}"}\n`))).toThrow(
      expect.objectContaining({ code: 'FORMAT_TOO_NEW' }),
    );
  });
});
