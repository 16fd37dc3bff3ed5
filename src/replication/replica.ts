// openReplica(): a read replica of a database whose changes a publisher puts on a JetStream stream.
// It bootstraps from a backup (or the stream's start), applies the changes in seq order — each batch
// in one SQLite transaction that also mirrors the changes into its own log, whose last seq is the
// applied seq — and serves every read API while refusing writes with READ_ONLY.
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { DatabaseImpl, SQLITE_FILE } from '../db.js';
import { QuiverError } from '../errors.js';
import { loadQuiverAddon } from '../native-loader.js';
import { collectionNameSchema, collectionOptionsSchema, filterSelectionSchema } from '../schema.js';
import type { ChangeRow } from '../storage/change-store.js';
import { crashPoint } from '../storage/crash-point.js';
import type {
  BackupResult,
  Change,
  ChangeConsumerInfo,
  ChangeFeedInfo,
  ChangeRetention,
  ChangesOptions,
  Collection,
  CollectionInfo,
  CollectionOptions,
  Database,
  Metadata,
  Metric,
  OpenOptions,
  UpsertRecord,
  WatchOptions,
} from '../types.js';
import { type ChangeMessage, decodeChange } from './codec.js';
import { checkStreamOptions, natsError, openStream, type StreamHandle, type StreamOptions } from './nats.js';

export interface ReplicaOptions extends StreamOptions, Omit<OpenOptions, 'readOnly'> {
  /** A backup directory (db.backup / quiver backup) to start from when `path` holds no database yet. */
  bootstrap?: string;
  /** Most changes applied in one transaction (default 10,000). */
  maxBatch?: number;
  /** Called when applying stops on an error (also `failure`; `waitFor` then rejects with it). */
  onError?: (error: QuiverError) => void;
}

export interface ReplicaLag {
  /** Changes on the stream not applied yet (received and still pending on the server). */
  seqs: number;
  /** 0 when caught up; else how long ago the oldest change not applied yet was committed (writer's clock). */
  ms: number;
}

/** A read replica: every read API of a Database; writes raise READ_ONLY. */
export interface Replica extends Database {
  /** The seq of the source's change log this replica holds (its state is the source's at that seq). */
  readonly appliedSeq: number;
  /** Why applying stopped, if it did (the replica still serves its last state unless CLOSED). */
  readonly failure: QuiverError | undefined;
  /**
   * How far behind the stream the replica is.
   * @example
   * const { seqs, ms } = replica.lag();
   * @throws {QuiverError} CLOSED
   */
  lag(): ReplicaLag;
  /**
   * Resolves true once the replica holds the source's change `seq` (read-your-writes: pass the
   * writer's `db.changeSeq()` after its write), false after `timeoutMs` (default 30,000).
   * @example
   * const seq = writer.changeSeq();
   * if (await replica.waitFor(seq)) replica.collection('docs').get('a');
   * @throws {QuiverError} INVALID_ARGUMENT, CLOSED, or the error that stopped applying, as a rejected promise
   */
  waitFor(seq: number, options?: { timeoutMs?: number }): Promise<boolean>;
}

const DEFAULT_MAX_BATCH = 10_000;
const DEFAULT_WAIT_MS = 30_000;
/**
 * A pull request of the consumer, or the server's notice that it expired, can be lost between
 * cluster nodes (core NATS delivers at most once); the client then waits, idle, until it misses two
 * heartbeats and pulls again. Seen as ~2 s stalls with 1 s heartbeats on a loaded three-node
 * cluster; 250 ms heartbeats bound such a stall to about half a second.
 */
const HEARTBEAT_MS = 250;
/** How long one pull request of the consumer lasts on the server. */
const PULL_EXPIRES_MS = 30_000;
/** Missed heartbeats after which the consumer is replaced (its node stopped): about 2 s. */
const HEARTBEATS_LOST = 8;
const STALL_CHECK_MS = 1_000;
/**
 * While the server still holds at least GATHER_BACKLOG messages for the replica (a catch-up), what
 * arrived waits up to GATHER_MS for more, so that a catch-up applies large transactions: one fsync
 * per transaction, and from 1,000 upserts of a collection the HNSW graph inserts on native threads,
 * as for the writer's own large batches. A replica that keeps up — a smaller backlog, such as the
 * rest of one commit still on its way — applies at once: waiting there only adds lag.
 */
const GATHER_MS = 500;
const GATHER_BACKLOG = 1_000;
/** meta keys of a replica's database. */
const SOURCE_KEY = 'replica_source';
const STREAM_SEQ_KEY = 'replica_stream_seq';
/** Collection methods that write: a replica refuses them. */
const WRITE_METHODS = new Set<PropertyKey>([
  'upsert',
  'upsertAsync',
  'upsertArrow',
  'delete',
  'update',
  'compact',
  'snapshot',
]);

interface Received extends ChangeMessage {
  readonly streamSeq: number;
}

function readOnlyError(what: string): QuiverError {
  return new QuiverError('READ_ONLY', `${what}: this is a read replica; write to the source database`);
}

/** A collection whose write methods raise READ_ONLY. */
function readOnlyCollection(collection: Collection): Collection {
  return new Proxy(collection, {
    get(target, property) {
      if (WRITE_METHODS.has(property)) {
        return () => {
          throw readOnlyError(`cannot ${String(property)} collection '${target.name}'`);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

class ReplicaImpl implements Replica {
  readonly readOnly = true;
  readonly #inner: DatabaseImpl;
  readonly #options: ReplicaOptions;
  readonly #proxies = new WeakMap<Collection, Collection>();
  readonly #queue: Received[] = [];
  readonly #waiters = new Set<() => void>();
  #handle: StreamHandle | undefined;
  #messages: ConsumerMessages | undefined;
  #scheduled = false;
  /** When the oldest message of the queue arrived (ms, performance clock), for GATHER_MS. */
  #queuedAt = 0;
  #gatherTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #failure: QuiverError | undefined;
  /** Messages the server still holds for this replica after the last one received. */
  #pending = 0;
  /** The stream sequence of the last message received (queued or applied). */
  #received = 0;
  #receivedAtLastCheck = 0;
  #checking = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #lastCommittedAt = 0;

  constructor(inner: DatabaseImpl, options: ReplicaOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  get path(): string {
    return this.#inner.path;
  }

  get appliedSeq(): number {
    return this.#inner.changeSeq();
  }

  get failure(): QuiverError | undefined {
    return this.#failure;
  }

  /** Connects and starts consuming after what the replica holds. */
  async start(): Promise<void> {
    const handle = await openStream(this.#options, undefined);
    this.#handle = handle;
    try {
      const start = await this.#startSequence(handle);
      if (start !== undefined) this.#received = start - 1;
      await this.#follow(handle);
      this.#receivedAtLastCheck = this.#received;
      this.#stallTimer = setInterval(() => void this.#checkStall(handle), STALL_CHECK_MS);
      this.#stallTimer.unref();
    } catch (error) {
      await handle.connection.close().catch(() => {});
      throw natsError(error, `following stream '${handle.stream}'`);
    }
  }

  /** Consumes the stream after the last message received (an ordered consumer: in stream order, no acks). */
  async #follow(handle: StreamHandle): Promise<void> {
    const { DeliverPolicy } = await import('@nats-io/jetstream');
    const consumer = await handle.client.consumers.get(handle.stream, {
      filter_subjects: handle.subject,
      ...(this.#received === 0
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.#received + 1 }),
    });
    // Long pulls (each expiry is a chance of the stall described at HEARTBEAT_MS) and short
    // heartbeats, so that a lost pull or a consumer lost with a stopped node is noticed in seconds.
    const messages = await consumer.consume({
      max_messages: 10_000,
      expires: PULL_EXPIRES_MS,
      idle_heartbeat: HEARTBEAT_MS,
    });
    this.#messages = messages;
    void this.#receive(messages);
    void this.#watch(messages, handle);
  }

  /** Starts a new consumer after HEARTBEATS_LOST missed heartbeats (its node stopped, or the stream moved to another leader). */
  async #watch(messages: ConsumerMessages, handle: StreamHandle): Promise<void> {
    for await (const status of messages.status()) {
      if (this.#messages !== messages || this.#closed || this.#failure !== undefined) return;
      if (status.type === 'heartbeats_missed' && status.count >= HEARTBEATS_LOST) {
        await this.#restart(messages, handle);
        return;
      }
    }
  }

  /**
   * Every STALL_CHECK_MS: when the stream holds messages after the last one received and none
   * arrived since the previous check, the consumer is stuck (seen after a leader change on a
   * cluster while heartbeats still come): start a new one.
   */
  async #checkStall(handle: StreamHandle): Promise<void> {
    const messages = this.#messages;
    if (messages === undefined || this.#checking || this.#closed || this.#failure !== undefined) return;
    this.#checking = true;
    try {
      const received = this.#received;
      const info = await handle.manager.streams.info(handle.stream);
      const stalled = info.state.last_seq > received && received === this.#receivedAtLastCheck;
      this.#receivedAtLastCheck = received;
      if (stalled && this.#received === received && this.#messages === messages) await this.#restart(messages, handle);
    } catch {
      // The cluster does not answer now: the next check tries again.
    } finally {
      this.#checking = false;
    }
  }

  /** Replaces a stuck consumer by a new one after the last message received, retrying until the cluster answers. */
  async #restart(messages: ConsumerMessages, handle: StreamHandle): Promise<void> {
    if (this.#messages !== messages) return;
    this.#messages = undefined;
    void messages.close().catch(() => {});
    while (!this.#closed && this.#failure === undefined) {
      try {
        await this.#follow(handle);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /**
   * The stream sequence to start from: after the last message applied, when recorded; else, for a
   * replica bootstrapped at change seq s, the position of change s + 1 assuming one message per
   * change from the stream's first message on (a duplicate beyond JetStream's window only moves
   * the true position later, so this never starts past it). undefined: from the stream's start.
   */
  async #startSequence(handle: StreamHandle): Promise<number | undefined> {
    const recorded = this.#inner.store.changes.meta(STREAM_SEQ_KEY);
    if (recorded !== undefined) return Number(recorded) + 1;
    const applied = this.appliedSeq;
    if (applied === 0) return undefined;
    const info = await handle.manager.streams.info(handle.stream);
    if (info.state.messages === 0) return info.state.last_seq + 1;
    const first = await handle.manager.streams.getMessage(handle.stream, { seq: info.state.first_seq });
    if (first === null) return undefined;
    const firstChange = decodeChange(first.data).change.seq;
    if (firstChange > applied + 1) return undefined; // the gap is reported by the first apply
    return info.state.first_seq + (applied + 1 - firstChange);
  }

  async #receive(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) {
        if (this.#closed || this.#failure !== undefined || this.#messages !== messages) break;
        if (message.seq <= this.#received) continue;
        this.#received = message.seq;
        if (this.#queue.length === 0) this.#queuedAt = performance.now();
        this.#queue.push({ ...decodeChange(message.data), streamSeq: message.seq });
        this.#pending = message.info.pending;
        this.#schedule();
      }
    } catch (error) {
      if (!this.#closed && this.#messages === messages) this.#fail(natsError(error, 'receiving changes'));
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the messages of this turn of the event loop have arrived: they go in one transaction.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#closed || this.#failure !== undefined) return;
      try {
        this.#drain();
      } catch (error) {
        this.#fail(natsError(error, 'applying changes'));
      }
    });
  }

  #drain(): void {
    const max = this.#options.maxBatch ?? DEFAULT_MAX_BATCH;
    clearTimeout(this.#gatherTimer);
    const waited = performance.now() - this.#queuedAt;
    if (this.#pending >= GATHER_BACKLOG && this.#queue.length < max && waited < GATHER_MS) {
      // More is on its way: the next message schedules again, the timer makes sure of it.
      this.#gatherTimer = setTimeout(() => this.#schedule(), GATHER_MS - waited);
      return;
    }
    while (this.#queue.length > 0 && !this.#closed) {
      this.apply(this.#queue.splice(0, max));
    }
    for (const wake of this.#waiters) wake();
  }

  /** Applies received messages in one transaction (those at or below the applied seq are skipped). */
  apply(received: readonly Received[]): void {
    const inner = this.#inner;
    const store = inner.store;
    let applied = this.appliedSeq;
    const fresh: Received[] = [];
    let source = store.changes.meta(SOURCE_KEY);
    for (const message of received) {
      if (source !== undefined && message.databaseId !== source) {
        throw new QuiverError(
          'SETTINGS_MISMATCH',
          `the stream carries changes of database ${message.databaseId}; this replica follows ${source}`,
        );
      }
      source ??= message.databaseId;
      if (message.change.seq <= applied) continue; // published twice: applied already
      if (message.change.seq !== applied + 1) {
        throw new QuiverError(
          'CHANGES_EXPIRED',
          `the stream's next change is seq ${message.change.seq}, but this replica holds up to ${applied}: ` +
            'the changes between are gone; bootstrap a new replica from a backup',
        );
      }
      applied = message.change.seq;
      fresh.push(message);
    }
    if (fresh.length === 0) return;
    try {
      store.transaction(() => {
        for (let start = 0; start < fresh.length; ) start = this.#applyGroup(fresh, start);
        store.changes.insertExact(fresh.map(({ change }) => toRow(change)));
        store.changes.setMeta(SOURCE_KEY, source);
        store.changes.setMeta(STREAM_SEQ_KEY, String(fresh[fresh.length - 1]!.streamSeq));
        crashPoint('replica-before-commit');
      });
    } catch (error) {
      // The in-memory indexes may hold what the transaction rolled back: stop serving them.
      this.#inner.closeWithoutSnapshot();
      throw error;
    }
    this.#lastCommittedAt = fresh[fresh.length - 1]!.change.committedAt;
  }

  /** Applies the changes from `start` that go in one call (consecutive upserts or deletes of one collection); returns the next index. */
  #applyGroup(fresh: readonly Received[], start: number): number {
    const inner = this.#inner;
    const first = fresh[start]!.change;
    switch (first.op) {
      case 'upsert': {
        const records: UpsertRecord[] = [];
        const ids = new Set<string>();
        let end = start;
        for (; end < fresh.length; end++) {
          const change = fresh[end]!.change;
          if (change.op !== 'upsert' || change.collection !== first.collection || ids.has(change.id!)) break;
          ids.add(change.id!);
          const record: UpsertRecord & { text?: string } = {
            id: change.id!,
            vector: change.vector!,
            metadata: change.metadata!,
          };
          if (change.text !== undefined) record.text = change.text;
          records.push(record);
        }
        inner.collection(first.collection).upsert(records);
        return end;
      }
      case 'delete': {
        const ids: string[] = [];
        let end = start;
        for (; end < fresh.length; end++) {
          const change = fresh[end]!.change;
          if (change.op !== 'delete' || change.collection !== first.collection) break;
          ids.push(change.id!);
        }
        inner.collection(first.collection).delete(ids);
        return end;
      }
      case 'update': {
        // The change carries the record's whole metadata and text after the update (no text: none).
        const changes: { metadata?: Metadata; text: string | null } = { text: first.text ?? null };
        if (first.metadata !== undefined) changes.metadata = first.metadata;
        inner.collection(first.collection).update({ ids: [first.id!] }, changes, { merge: false });
        return start + 1;
      }
      case 'create': {
        const settings = first.settings!;
        inner.collection(first.collection, {
          dim: settings.dim!,
          ...(settings.metric === undefined ? {} : { metric: settings.metric }),
          ...(settings.index === undefined ? {} : { index: settings.index }),
          ...(settings.indexes === undefined ? {} : { indexes: settings.indexes }),
          ...(settings.text === undefined ? {} : { text: settings.text }),
        });
        return start + 1;
      }
      case 'index': {
        const collection = inner.collection(first.collection);
        inner.collection(first.collection, {
          dim: collection.dim,
          metric: collection.metric,
          indexes: first.settings?.indexes ?? [],
          ...(first.settings?.text === undefined ? {} : { text: first.settings.text }),
        });
        return start + 1;
      }
      case 'drop':
        inner.dropCollection(first.collection);
        return start + 1;
      default:
        throw new QuiverError(
          'FORMAT_TOO_NEW',
          `change ${first.seq} is a '${first.op}', which this replica cannot apply; upgrade quiverdb`,
        );
    }
  }

  #fail(error: QuiverError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    clearInterval(this.#stallTimer);
    clearTimeout(this.#gatherTimer);
    void this.#messages?.close().catch(() => {});
    void this.#handle?.connection.close().catch(() => {});
    for (const wake of this.#waiters) wake();
    this.#options.onError?.(error);
  }

  lag(): ReplicaLag {
    this.#inner.assertOpen();
    const queued = this.#queue.filter((message) => message.change.seq > this.appliedSeq);
    const seqs = queued.length + this.#pending;
    if (seqs === 0) return { seqs: 0, ms: 0 };
    const oldest = queued[0]?.change.committedAt ?? this.#lastCommittedAt;
    return { seqs, ms: oldest === 0 ? 0 : Math.max(0, Date.now() - oldest) };
  }

  async waitFor(seq: number, options: { timeoutMs?: number } = {}): Promise<boolean> {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new QuiverError('INVALID_ARGUMENT', `waitFor needs a seq (an integer ≥ 0); got ${String(seq)}`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new QuiverError('INVALID_ARGUMENT', `options.timeoutMs must be a number ≥ 0; got ${String(timeoutMs)}`);
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.appliedSeq >= seq) return true;
      if (this.#failure !== undefined) throw this.#failure;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  collection<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions,
  ): Collection<M, K>;
  collection(name: string, options?: CollectionOptions): Collection {
    this.#checkReadable(name, options);
    return this.#wrap(this.#inner.collection(name, options));
  }

  collectionAsync<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions,
  ): Promise<Collection<M, K>>;
  async collectionAsync(name: string, options?: CollectionOptions): Promise<Collection> {
    this.#checkReadable(name, options);
    return this.#wrap(await this.#inner.collectionAsync(name, options));
  }

  /** Opening may not create a collection or declare indexes. */
  #checkReadable(name: string, options: CollectionOptions | undefined): void {
    if (options === undefined) return;
    const row = this.#inner.store.findCollection(name);
    if (row === undefined) throw readOnlyError(`cannot create collection '${name}'`);
    if (options.indexes?.some((field) => !row.indexedFields.includes(field)) === true) {
      throw readOnlyError(`cannot declare indexes on collection '${name}'`);
    }
    if (options.text !== undefined && row.textSettings === undefined) {
      throw readOnlyError(`cannot declare a text index on collection '${name}'`);
    }
  }

  #wrap(collection: Collection): Collection {
    let proxy = this.#proxies.get(collection);
    if (proxy === undefined) {
      proxy = readOnlyCollection(collection);
      this.#proxies.set(collection, proxy);
    }
    return proxy;
  }

  listCollections(): CollectionInfo[] {
    return this.#inner.listCollections();
  }

  dropCollection(name: string): boolean {
    this.#inner.assertOpen();
    throw readOnlyError(`cannot drop collection '${name}'`);
  }

  refresh(): void {
    this.#inner.refresh();
  }

  compact(): void {
    this.#inner.assertOpen();
    throw readOnlyError('cannot compact');
  }

  changeSeq(): number {
    return this.#inner.changeSeq();
  }

  changes(options?: ChangesOptions): Change[] {
    return this.#inner.changes(options);
  }

  watch(options?: WatchOptions): AsyncIterableIterator<Change> {
    return this.#inner.watch(options);
  }

  registerConsumer(name: string, options?: { after?: number }): ChangeConsumerInfo {
    return this.#inner.registerConsumer(name, options);
  }

  commitConsumer(name: string, seq: number): void {
    this.#inner.commitConsumer(name, seq);
  }

  removeConsumer(name: string): boolean {
    return this.#inner.removeConsumer(name);
  }

  listConsumers(): ChangeConsumerInfo[] {
    return this.#inner.listConsumers();
  }

  setChangeRetention(retention: ChangeRetention): void {
    this.#inner.setChangeRetention(retention);
  }

  changeFeedInfo(): ChangeFeedInfo {
    return this.#inner.changeFeedInfo();
  }

  backup(path: string): Promise<BackupResult> {
    return this.#inner.backup(path);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#stallTimer);
    clearTimeout(this.#gatherTimer);
    for (const wake of this.#waiters) wake();
    void this.#messages?.close().catch(() => {});
    void this.#handle?.connection.close().catch(() => {});
    this.#inner.close();
  }
}

function toRow(change: Change): ChangeRow {
  return {
    seq: change.seq,
    collection: change.collection,
    op: change.op,
    id: change.id ?? null,
    vector:
      change.vector === undefined
        ? null
        : Buffer.from(change.vector.buffer, change.vector.byteOffset, change.vector.byteLength),
    metadata: change.metadata === undefined ? null : JSON.stringify(change.metadata),
    text: change.text ?? null,
    settings: change.settings === undefined ? null : JSON.stringify(change.settings),
    committed_at: change.committedAt,
  };
}

/**
 * Does now, while the replica opens, what applying changes would otherwise do on first use, on the
 * event loop and in the middle of following the stream: load zod and build the schemas that
 * creating a collection or updating records validates with (120–380 ms in a new process on a
 * 2-core machine, which stalled every change behind the replica's first 'create' by as much), load
 * the native addon, and open each collection's index asynchronously (a graph loaded or rebuilt by
 * the first change applied after a restart would stall the same way, for longer).
 */
async function prepareApply(inner: DatabaseImpl): Promise<void> {
  for (const schema of [collectionNameSchema, collectionOptionsSchema, filterSelectionSchema]) void schema.schema;
  try {
    loadQuiverAddon();
  } catch {
    // Not every index needs it; one that does reports NATIVE_ERROR, with how to rebuild it, when applied.
  }
  for (const { name } of inner.listCollections()) await inner.collectionAsync(name);
}

/**
 * Opens (creating when missing) a read replica in directory `path` that follows the stream a
 * publisher fills. A new replica starts from `bootstrap` (a backup of the source) or else from the
 * stream's first message, which must then be the source's change 1. Before it resolves it opens
 * every collection's index (asynchronously, as `collectionAsync` does), so that the changes it
 * then applies are not held up by an index loading.
 * @example
 * import { openReplica } from 'quiverdb/replication';
 * const replica = await openReplica('./replica.quiver', { servers: 'nats://127.0.0.1:4222', stream: 'docs' });
 * await replica.waitFor(seqOfMyWrite);
 * replica.collection('docs').query({ vector, k: 10 });
 * @throws {QuiverError} INVALID_ARGUMENT (options; the NATS client is not installed; `path` holds a
 *   database that is not a replica; an unreadable nkey or TLS file), NOT_FOUND (no such stream or
 *   backup), UNAUTHORIZED (the server refused the credentials), IO_ERROR (NATS unreachable, TLS
 *   failed), LOCKED, CORRUPT, as a rejected promise
 */
export async function openReplica(path: string, options: ReplicaOptions): Promise<Replica> {
  if (options === null || typeof options !== 'object') {
    throw new QuiverError('INVALID_ARGUMENT', 'openReplica needs options { servers, stream }');
  }
  const { bootstrap, maxBatch, onError, servers, stream, subject, user, password, token, nkey, tls, ...openOptions } =
    options;
  if (maxBatch !== undefined && (!Number.isSafeInteger(maxBatch) || maxBatch < 1)) {
    throw new QuiverError('INVALID_ARGUMENT', `options.maxBatch must be a positive integer; got ${String(maxBatch)}`);
  }
  if (typeof path !== 'string' || path.length === 0) {
    throw new QuiverError('INVALID_ARGUMENT', 'openReplica needs the path of a database directory');
  }
  // Checked again on connecting; here so that bad options leave no database behind.
  checkStreamOptions(options);
  const fresh = !existsSync(join(path, SQLITE_FILE));
  if (fresh && bootstrap !== undefined) {
    if (!existsSync(join(bootstrap, SQLITE_FILE))) {
      throw new QuiverError(
        'NOT_FOUND',
        `${bootstrap} holds no backup (no ${SQLITE_FILE}); write one with db.backup()`,
      );
    }
    cpSync(bootstrap, path, { recursive: true });
  }
  const inner = new DatabaseImpl(path, openOptions);
  try {
    inner.feed.stopRecording();
    const changes = inner.store.changes;
    if (fresh && bootstrap !== undefined) {
      // A backup's log is the source's: the replica follows the source's database id from its changeSeq.
      changes.setMeta(SOURCE_KEY, inner.changeFeedInfo().databaseId);
      changes.setMeta(STREAM_SEQ_KEY, undefined);
      for (const consumer of inner.listConsumers()) inner.removeConsumer(consumer.name);
    } else if (
      changes.meta(SOURCE_KEY) === undefined &&
      (inner.changeSeq() > 0 || inner.listCollections().length > 0)
    ) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `${path} holds a database that is not a replica; give a new directory (or a backup as options.bootstrap)`,
      );
    }
    await prepareApply(inner);
    const replica = new ReplicaImpl(inner, options);
    await replica.start();
    return replica;
  } catch (error) {
    inner.close();
    throw error;
  }
}
