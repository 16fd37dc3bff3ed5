// `quiver publish DB` and `quiver replicate DIR`: a publisher or a read replica (quiverdb/replication)
// run as a process until SIGINT/SIGTERM (or --until SEQ), with a progress line a second.
import { isQuiverError } from '../errors.js';
import { type Database, open } from '../index.js';
import type { StreamOptions, StreamTls } from '../replication/nats.js';
import type { Output } from './output.js';
import { integerOption, type Parsed, parse, positionals, stringOption, UsageError } from './usage.js';

const STREAM_OPTIONS = {
  servers: { type: 'string' },
  stream: { type: 'string' },
  subject: { type: 'string' },
  until: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  nkey: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** Secrets may come from the environment rather than the command line (which other users can see). */
const PASSWORD_VARIABLE = 'QUIVER_NATS_PASSWORD';
const TOKEN_VARIABLE = 'QUIVER_NATS_TOKEN';

const CONNECTION_HELP = `  --user NAME        the user the NATS server requires (with --password)
  --password PASS    its password (or set ${PASSWORD_VARIABLE}: a command line is visible to others)
  --token TOKEN      the token the server requires (or set ${TOKEN_VARIABLE})
  --nkey FILE        a file holding the nkey seed of the user the server knows
  --tls              TLS, checking the server's certificate against the system's CAs
  --tls-ca FILE      TLS, trusting the certificate authority in this PEM file
  --tls-cert FILE    a client certificate (PEM, with --tls-key) for a server that verifies clients
  --tls-key FILE     its private key (PEM)`;

export const PUBLISH_HELP = `Usage: quiver publish DB --servers URL[,URL…] --stream NAME [options]

Publishes the change log of the database directory DB to the NATS JetStream stream NAME
(created when missing), one message per change with the id databaseId:seq, and follows new
commits until interrupted. The cursor (a consumer named publish.NAME in DB) moves only after
the server acknowledged, so a restart publishes nothing twice in effect. Runs beside the
writer process (the cursor is the one thing it writes).

Options:
  --servers URLS     NATS server URLs, comma-separated (e.g. nats://127.0.0.1:4222)
  --stream NAME      the stream (letters, digits, _ and -)
  --subject SUBJECT  its subject (default quiver.NAME)
  --replicas N       copies of the stream when it is created (1 to 5; default 1)
  --until SEQ        exit once the stream holds change SEQ
${CONNECTION_HELP}
  --json             print the result as JSON
  -q, --quiet        no progress lines
  -h, --help         this help

Exit status: 0 ok, 1 it failed, 2 bad usage.`;

export const REPLICATE_HELP = `Usage: quiver replicate DIR --servers URL[,URL…] --stream NAME [options]

Runs a read replica in the directory DIR (created when missing) that applies the changes the
publisher puts on stream NAME, until interrupted. A new replica starts from --bootstrap (a
backup of the source) or else from the stream's first message.

Options:
  --servers URLS     NATS server URLs, comma-separated
  --stream NAME      the stream
  --subject SUBJECT  its subject (default quiver.NAME)
  --bootstrap DIR    a backup to start a new replica from
  --until SEQ        exit once the replica holds change SEQ
${CONNECTION_HELP}
  --json             print the result as JSON
  -q, --quiet        no progress lines
  -h, --help         this help

Exit status: 0 ok, 1 it failed, 2 bad usage.`;

export function publishArguments(argv: readonly string[]): Parsed {
  return parse(argv, { ...STREAM_OPTIONS, replicas: { type: 'string' } });
}

export function replicateArguments(argv: readonly string[]): Parsed {
  return parse(argv, { ...STREAM_OPTIONS, bootstrap: { type: 'string' } });
}

function streamOptions(parsed: Parsed): StreamOptions {
  const servers = stringOption(parsed, 'servers');
  const stream = stringOption(parsed, 'stream');
  if (servers === undefined) throw new UsageError('missing --servers');
  if (stream === undefined) throw new UsageError('missing --stream');
  const options: StreamOptions = { servers: servers.split(','), stream };
  const subject = stringOption(parsed, 'subject');
  if (subject !== undefined) options.subject = subject;
  const user = stringOption(parsed, 'user');
  const password = stringOption(parsed, 'password') ?? process.env[PASSWORD_VARIABLE];
  if (user !== undefined) {
    if (password === undefined) throw new UsageError(`--user needs --password (or ${PASSWORD_VARIABLE})`);
    options.user = user;
    options.password = password;
  } else if (stringOption(parsed, 'password') !== undefined) {
    throw new UsageError('--password needs --user');
  }
  const token = stringOption(parsed, 'token') ?? process.env[TOKEN_VARIABLE];
  if (token !== undefined) options.token = token;
  const nkey = stringOption(parsed, 'nkey');
  if (nkey !== undefined) options.nkey = nkey;
  const tls: StreamTls = {};
  for (const name of ['ca', 'cert', 'key'] as const) {
    const file = stringOption(parsed, `tls-${name}`);
    if (file !== undefined) tls[name] = file;
  }
  if (Object.keys(tls).length > 0) options.tls = tls;
  else if (parsed.values.tls === true) options.tls = true;
  return options;
}

/** Resolves on SIGINT or SIGTERM, or when `done()` is true (checked every 50 ms); ticks once a second. */
function runUntil(done: () => boolean, tick: () => void): Promise<void> {
  return new Promise((resolve) => {
    let ticks = 0;
    const stop = (): void => {
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    const timer = setInterval(() => {
      if (++ticks % 20 === 0) tick();
      if (done()) stop();
    }, 50);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runPublish(parsed: Parsed, output: Output): Promise<number> {
  const [database] = positionals(parsed, ['DB']) as [string];
  const options = streamOptions(parsed);
  const replicas = integerOption(parsed, 'replicas', 1, 5);
  const until = integerOption(parsed, 'until', 0, Number.MAX_SAFE_INTEGER);
  const { publish } = await import('../replication/index.js');
  let db: Database;
  try {
    db = open(database, { onWarning: output.warning });
  } catch (error) {
    // The app holds the writer lock: publish beside it through a read-only open.
    if (!isQuiverError(error, 'LOCKED')) throw error;
    db = open(database, { readOnly: true, onWarning: output.warning });
  }
  try {
    let failure: Error | undefined;
    const publisher = await publish(db, {
      ...options,
      ...(replicas === undefined ? {} : { replicas }),
      onError: (error) => {
        failure = error;
      },
      onRetry: (error) => output.warning({ message: `publishing again: ${error.message}` }),
    });
    await runUntil(
      () => failure !== undefined || (until !== undefined && publisher.seq >= until),
      () => output.note(`published ${publisher.published} changes; the stream holds up to seq ${publisher.seq}`),
    );
    await publisher.stop();
    if (failure !== undefined) throw failure;
    output.result(
      { database: db.path, stream: options.stream, seq: publisher.seq, published: publisher.published },
      () => [
        `published ${publisher.published} changes of ${db.path} to stream ${options.stream}; it holds up to seq ${publisher.seq}`,
      ],
    );
    return 0;
  } finally {
    db.close();
  }
}

export async function runReplicate(parsed: Parsed, output: Output): Promise<number> {
  const [directory] = positionals(parsed, ['DIR']) as [string];
  const options = streamOptions(parsed);
  const until = integerOption(parsed, 'until', 0, Number.MAX_SAFE_INTEGER);
  const bootstrap = stringOption(parsed, 'bootstrap');
  const { openReplica } = await import('../replication/index.js');
  const replica = await openReplica(directory, {
    ...options,
    ...(bootstrap === undefined ? {} : { bootstrap }),
    onWarning: output.warning,
  });
  try {
    await runUntil(
      () => replica.failure !== undefined || (until !== undefined && replica.appliedSeq >= until),
      () => {
        const lag = replica.lag();
        output.note(`holds change seq ${replica.appliedSeq}; ${lag.seqs} behind (${lag.ms} ms)`);
      },
    );
    if (replica.failure !== undefined) throw replica.failure;
    output.result({ replica: replica.path, stream: options.stream, seq: replica.appliedSeq }, () => [
      `replica ${replica.path} holds the changes of stream ${options.stream} up to seq ${replica.appliedSeq}`,
    ]);
    return 0;
  } finally {
    replica.close();
  }
}
