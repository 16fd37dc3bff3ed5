// The NATS side of replication: loads the optional client packages (only when replication is used),
// connects (with the credentials and TLS the server asks for), and creates or checks the JetStream
// stream of a database's changes. No message here ever holds a password, token or key.
import { accessSync, constants, readFileSync } from 'node:fs';
import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
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
  /** The user name the server requires (with `password`). */
  user?: string;
  /** The password of `user`. */
  password?: string;
  /** The token the server requires (instead of a user and password). */
  token?: string;
  /** A file holding the NATS nkey seed (`SU…`) of the user the server knows by its public key. */
  nkey?: string;
  /**
   * TLS to the server: `true` checks its certificate against the system's CAs; an object names PEM
   * files — `ca` the authority to trust instead, `cert` and `key` a client certificate for a
   * server that verifies clients. Without it, TLS is used only when the server requires it.
   */
  tls?: boolean | StreamTls;
}

export interface StreamTls {
  /** PEM file of the certificate authority that signed the server's certificate. */
  ca?: string;
  /** PEM file of the client's certificate (with `key`). */
  cert?: string;
  /** PEM file of the client certificate's private key. */
  key?: string;
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
  checkConnectionOptions(options);
  return { servers, stream: options.stream, subject };
}

const TLS_FILES = ['ca', 'cert', 'key'] as const;

function checkConnectionOptions(options: StreamOptions): void {
  for (const name of ['user', 'password', 'token', 'nkey'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new QuiverError('INVALID_ARGUMENT', `options.${name} must be a non-empty string`);
    }
  }
  if (options.nkey !== undefined) checkReadable(options.nkey, 'options.nkey');
  if ((options.user === undefined) !== (options.password === undefined)) {
    throw new QuiverError('INVALID_ARGUMENT', 'options.user and options.password go together: give both or neither');
  }
  const schemes = [options.user, options.token, options.nkey].filter((value) => value !== undefined).length;
  if (schemes > 1) {
    throw new QuiverError('INVALID_ARGUMENT', 'give one of options.user/password, options.token and options.nkey');
  }
  const tls = options.tls;
  if (tls === undefined || typeof tls === 'boolean') return;
  if (tls === null || typeof tls !== 'object') {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'options.tls must be true, false or { ca?, cert?, key? } (PEM file paths)',
    );
  }
  for (const key of Object.keys(tls)) {
    if (!(TLS_FILES as readonly string[]).includes(key)) {
      throw new QuiverError('INVALID_ARGUMENT', `options.tls.${key} is not an option; use ca, cert and key`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new QuiverError('INVALID_ARGUMENT', 'options.tls.cert and options.tls.key go together: give both or neither');
  }
  for (const name of TLS_FILES) {
    const value = tls[name];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new QuiverError('INVALID_ARGUMENT', `options.tls.${name} must be the path of a PEM file`);
    }
    if (value !== undefined) checkReadable(value, `options.tls.${name}`);
  }
}

function checkReadable(path: string, option: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `${option}: cannot read ${path} (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** A file an option names, read now so that a wrong path is INVALID_ARGUMENT rather than a connection failure. */
function readOptionFile(path: string, option: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new QuiverError('INVALID_ARGUMENT', `${option}: cannot read ${path} (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** The client's connection options for `options`' credentials and TLS. */
function connectionOptions(modules: { transport: TransportModule }, options: StreamOptions): NodeConnectionOptions {
  const connection: NodeConnectionOptions = {};
  if (options.user !== undefined) {
    connection.user = options.user;
    connection.pass = options.password!;
  }
  if (options.token !== undefined) connection.token = options.token;
  if (options.nkey !== undefined) {
    const seed = new TextDecoder().decode(readOptionFile(options.nkey, 'options.nkey')).trim();
    connection.authenticator = modules.transport.nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  const tls = options.tls;
  if (tls === true) connection.tls = {};
  else if (typeof tls === 'object') {
    connection.tls = {};
    for (const name of TLS_FILES) {
      const path = tls[name];
      if (path === undefined) continue;
      connection.tls[`${name}File`] = path;
    }
  }
  return connection;
}

/** A server URL without the user and password it may carry. */
export function withoutCredentials(server: string): string {
  return server.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1');
}

/** Why connecting failed, as a QuiverError: UNAUTHORIZED when the server refused the credentials. */
function connectError(error: unknown, servers: readonly string[]): QuiverError {
  const where = servers.map(withoutCredentials).join(', ');
  const message = (error as Error)?.message ?? String(error);
  const causes = [error, (error as { cause?: unknown })?.cause];
  if (
    causes.some((cause) => (cause as Error | undefined)?.name === 'AuthorizationError') ||
    /authori[sz]ation violation|user authentication/i.test(message)
  ) {
    return new QuiverError(
      'UNAUTHORIZED',
      `NATS at ${where} refused the credentials (${message}); check user/password, token or nkey`,
      { cause: error },
    );
  }
  if (/certificate|tls|ssl|self.signed/i.test(message)) {
    return new QuiverError(
      'IO_ERROR',
      `TLS to NATS at ${where} failed (${message}); check tls.ca (the authority that signed the server's certificate) and tls.cert/tls.key`,
      { cause: error },
    );
  }
  return new QuiverError('IO_ERROR', `could not connect to NATS at ${where}: ${message}`, { cause: error });
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
  const credentials = connectionOptions(modules, options);
  let connection: NatsConnection;
  try {
    connection = await modules.transport.connect({
      ...credentials,
      servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  } catch (error) {
    throw connectError(error, servers);
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
