// publish(): follows a database's change log and publishes every change to its JetStream stream,
// one message per change with the id databaseId:seq, moving its consumer cursor only after the
// server acknowledged (at-least-once; JetStream's de-duplication makes a re-publish harmless).
import type { PubAck } from '@nats-io/jetstream';
import { QuiverError } from '../errors.js';
import { crashPoint } from '../storage/crash-point.js';
import type { Database } from '../types.js';
import { encodeChange } from './codec.js';
import { natsError, openStream, type StreamHandle, type StreamOptions } from './nats.js';

export interface PublishOptions extends StreamOptions {
  /** The database consumer whose cursor records what the stream holds (default `publish.<stream>`). */
  consumer?: string;
  /** Copies of the stream when it is created (1 to 5; default 1). Three on a three-node cluster survive one node down. */
  replicas?: number;
  /** Most changes published per round before the cursor moves (default 1,000). */
  batch?: number;
  /** How often to look for commits of other processes, in ms (default 10). */
  pollMs?: number;
  /** Called after each round the server acknowledged. */
  onProgress?: (progress: { seq: number; published: number }) => void;
  /** Called when a round was not acknowledged and will be published again (publishing goes on). */
  onRetry?: (error: QuiverError) => void;
  /** Called when publishing stops on an error (it is also the rejection of `done`). */
  onError?: (error: QuiverError) => void;
}

export interface Publisher {
  /** The newest seq the stream acknowledged (and the cursor holds). */
  readonly seq: number;
  /** Changes published since start. */
  readonly published: number;
  /** Rounds published again because the server did not acknowledge them in time. */
  readonly retries: number;
  /** Settles when publishing stops: after stop(), or rejected with the error that stopped it. */
  readonly done: Promise<void>;
  /** Finishes the round in flight, then closes the NATS connection. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_BATCH = 1000;
const DEFAULT_POLL_MS = 10;
/** A publish waits this long for the server's acknowledgement before the round is retried. */
const ACK_TIMEOUT_MS = 5_000;
/** Pause before a round is published again: doubling from the first to the most. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

class PublisherImpl implements Publisher {
  seq = 0;
  published = 0;
  retries = 0;
  #failedRounds = 0;
  readonly done: Promise<void>;
  readonly #controller = new AbortController();

  constructor(
    readonly db: Database,
    readonly handle: StreamHandle,
    readonly consumer: string,
    readonly options: PublishOptions,
  ) {
    this.seq = db.listConsumers().find((row) => row.name === consumer)?.seq ?? 0;
    this.done = this.#run();
    this.done.catch((error: unknown) => options.onError?.(natsError(error, 'publishing changes')));
  }

  async #run(): Promise<void> {
    const { db, handle, consumer } = this;
    const databaseId = db.changeFeedInfo().databaseId;
    const batch = this.options.batch ?? DEFAULT_BATCH;
    const pollMs = this.options.pollMs ?? DEFAULT_POLL_MS;
    const signal = this.#controller.signal;
    try {
      while (!signal.aborted) {
        const page = db.changes({ consumer, limit: batch });
        if (page.length === 0) {
          // Wakes at once for commits of this process, else after pollMs.
          const watcher = db.watch({ after: this.seq, pollMs, signal });
          await watcher.next();
          await watcher.return?.();
          continue;
        }
        // Pipelined: every publish of the round is in flight at once; the stream keeps their order.
        let acks: PubAck[];
        try {
          acks = await Promise.all(
            page.map((change) =>
              handle.client.publish(handle.subject, encodeChange(databaseId, change), {
                msgID: `${databaseId}:${change.seq}`,
                timeout: ACK_TIMEOUT_MS,
              }),
            ),
          );
        } catch (error) {
          // No acknowledgement (a node down, a leader election, a reconnect): the whole round goes
          // again after a pause; what did reach the stream is dropped there as a duplicate.
          if (signal.aborted) break;
          this.retries++;
          this.options.onRetry?.(natsError(error, `publishing to stream '${handle.stream}'`));
          await sleep(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.#failedRounds++, 4)), signal);
          continue;
        }
        this.#failedRounds = 0;
        if (acks.some((ack) => ack.stream !== handle.stream)) {
          throw new QuiverError(
            'SETTINGS_MISMATCH',
            `subject '${handle.subject}' is captured by another stream than '${handle.stream}'`,
          );
        }
        const last = page[page.length - 1]!.seq;
        crashPoint('publish-after-ack');
        db.commitConsumer(consumer, last);
        this.seq = last;
        this.published += page.length;
        this.options.onProgress?.({ seq: last, published: this.published });
      }
    } catch (error) {
      if (!signal.aborted) throw natsError(error, `publishing to stream '${handle.stream}'`);
    } finally {
      await handle.connection.close().catch(() => {});
    }
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.done.catch(() => {});
  }
}

/**
 * Publishes `db`'s change log to a JetStream stream (created when missing), from where the
 * publisher's consumer cursor stands — a new one starts at the oldest change still kept — then
 * follows new commits until stopped. Run one publisher per database and stream.
 * @example
 * import { open } from 'quiverdb';
 * import { publish } from 'quiverdb/replication';
 * const db = open('./main.quiver');
 * const publisher = await publish(db, { servers: 'nats://127.0.0.1:4222', stream: 'docs' });
 * // A secured server: publish(db, { servers, stream, user: 'app', password, tls: { ca: './ca.pem' } })
 * // … later
 * await publisher.stop();
 * @throws {QuiverError} INVALID_ARGUMENT (options, including an unreadable nkey or TLS file; the NATS
 *   client is not installed), UNAUTHORIZED (the server refused the credentials), IO_ERROR (NATS
 *   unreachable, TLS failed), SETTINGS_MISMATCH (the stream exists with other subjects), CHANGES_EXPIRED (the
 *   consumer fell behind the retention), CLOSED, as a rejected promise
 */
export async function publish(db: Database, options: PublishOptions): Promise<Publisher> {
  const batch = options?.batch ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.batch must be an integer from 1 to 100,000; got ${String(batch)}`,
    );
  }
  const replicas = options?.replicas ?? 1;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.replicas must be an integer from 1 to 5; got ${String(replicas)}`,
    );
  }
  const pollMs = options?.pollMs ?? DEFAULT_POLL_MS;
  if (!Number.isFinite(pollMs) || pollMs < 1) {
    throw new QuiverError('INVALID_ARGUMENT', `options.pollMs must be at least 1; got ${String(pollMs)}`);
  }
  const consumer = options.consumer ?? `publish.${options.stream}`;
  // Registered before connecting, so that nothing committed from now on can be trimmed unpublished.
  if (!db.listConsumers().some((row) => row.name === consumer)) {
    db.registerConsumer(consumer, { after: db.changeFeedInfo().firstSeq - 1 });
  }
  const handle = await openStream(options, { replicas });
  return new PublisherImpl(db, handle, consumer, options);
}
