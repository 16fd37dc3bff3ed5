// The NATS side of replication: loads the optional client packages (only when replication is used),
// connects, and creates or checks the JetStream stream of a database's changes.
import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { QuiverError, toQuiverError } from '../errors.js';

/** JetStream drops a message whose id it saw within this window: a re-publish after a crash is harmless. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** How long setting up the stream is tried again while the cluster does not answer. */
const SETUP_RETRY_MS = 20_000;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface StreamOptions {
  /** NATS server URLs, e.g. 'nats://127.0.0.1:4222' (several: a cluster). */
  servers: string | string[];
  /** The JetStream stream of this database's changes (letters, digits, _ and -). */
  stream: string;
  /** The subject its messages go to (default `quiver.<stream>`). */
  subject?: string;
}

export interface StreamHandle {
  readonly connection: NatsConnection;
  readonly client: JetStreamClient;
  readonly manager: JetStreamManager;
  readonly stream: string;
  readonly subject: string;
}

type JetStreamModule = typeof import('@nats-io/jetstream');
type TransportModule = typeof import('@nats-io/transport-node');

async function load(): Promise<{ jetstream: JetStreamModule; transport: TransportModule }> {
  try {
    const [transport, jetstream] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
    return { jetstream, transport };
  } catch (error) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'quiverdb/replication needs the NATS client: npm install @nats-io/transport-node @nats-io/jetstream',
      { cause: error },
    );
  }
}

export function checkStreamOptions(options: StreamOptions): { servers: string[]; stream: string; subject: string } {
  if (options === null || typeof options !== 'object') {
    throw new QuiverError('INVALID_ARGUMENT', 'options must be an object { servers, stream }');
  }
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (
    !Array.isArray(servers) ||
    servers.length === 0 ||
    servers.some((server) => typeof server !== 'string' || server.length === 0)
  ) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      "options.servers must be a NATS URL or a list of them, e.g. 'nats://127.0.0.1:4222'",
    );
  }
  if (typeof options.stream !== 'string' || !STREAM_NAME.test(options.stream)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.stream must be 1 to 64 letters, digits, _ or -; got ${JSON.stringify(options.stream)}`,
    );
  }
  const subject = options.subject ?? `quiver.${options.stream}`;
  if (typeof subject !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subject)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `options.subject must be a plain NATS subject (no wildcards); got ${JSON.stringify(subject)}`,
    );
  }
  return { servers, stream: options.stream, subject };
}

/**
 * Connects and makes sure the stream exists and captures the subject: created when missing (file
 * storage, `replicas` copies, the de-duplication window above), checked when present.
 */
export async function openStream(
  options: StreamOptions,
  create: { replicas?: number | undefined } | undefined,
): Promise<StreamHandle> {
  const { servers, stream, subject } = checkStreamOptions(options);
  const modules = await load();
  let connection: NatsConnection;
  try {
    connection = await modules.transport.connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  } catch (error) {
    throw new QuiverError(
      'IO_ERROR',
      `could not connect to NATS at ${servers.join(', ')}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  // A cluster that just started answers 'no suitable peers' or times out until its JetStream
  // leader is elected: try again for a while.
  const deadline = Date.now() + SETUP_RETRY_MS;
  for (;;) {
    try {
      return await setUpStream(modules.jetstream, connection, stream, subject, create);
    } catch (error) {
      if (error instanceof QuiverError || Date.now() >= deadline) {
        await connection.close().catch(() => {});
        if (error instanceof QuiverError) throw error;
        throw new QuiverError('IO_ERROR', `setting up JetStream stream '${stream}': ${(error as Error).message}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function setUpStream(
  jetstream: JetStreamModule,
  connection: NatsConnection,
  stream: string,
  subject: string,
  create: { replicas?: number | undefined } | undefined,
): Promise<StreamHandle> {
  const manager = await jetstream.jetstreamManager(connection);
  let info: StreamInfo | undefined;
  try {
    info = await manager.streams.info(stream);
  } catch (error) {
    if (!/not found/i.test((error as Error).message)) throw error;
  }
  if (info === undefined) {
    if (create === undefined) {
      throw new QuiverError(
        'NOT_FOUND',
        `JetStream has no stream '${stream}'; start the publisher first (quiver publish)`,
      );
    }
    await manager.streams.add({
      name: stream,
      subjects: [subject],
      storage: jetstream.StorageType.File,
      num_replicas: create.replicas ?? 1,
      duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
    });
  } else if (!info.config.subjects?.includes(subject)) {
    throw new QuiverError(
      'SETTINGS_MISMATCH',
      `stream '${stream}' exists with subjects ${JSON.stringify(info.config.subjects ?? [])}, not '${subject}'; ` +
        'give its subject as options.subject, or another stream name',
    );
  }
  return { connection, client: jetstream.jetstream(connection), manager, stream, subject };
}

/** A NATS failure as a QuiverError (IO_ERROR), QuiverErrors unchanged. */
export function natsError(error: unknown, context: string): QuiverError {
  if (error instanceof QuiverError) return error;
  const converted = toQuiverError(error, context);
  return converted.code === 'INTERNAL'
    ? new QuiverError('IO_ERROR', `${context}: ${(error as Error).message}`, { cause: error })
    : converted;
}
