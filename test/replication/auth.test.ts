// Credentials and TLS to NATS, against real nats-servers on 127.0.0.1: one requiring a user and
// password, one a token, one an nkey, one TLS with a certificate made here by openssl (skipped, with
// the reason, when openssl is missing). Wrong credentials are UNAUTHORIZED and no message shows a secret.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, QuiverError } from '../../src/index.js';
import { openReplica, publish } from '../../src/replication/index.js';
import type { StreamOptions } from '../../src/replication/nats.js';
import { ensureBin, quiver, quiverJson, run, BIN } from '../cli/build-bin.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { type NatsNode, startNatsServer } from '../helpers/nats-server.js';

const PASSWORD = 's3cret-pass';
const TOKEN = 't0ken-value';
const made = tempDirectory();
const nodes: NatsNode[] = [];
const opensslMissing = spawnSync('openssl', ['version']).status !== 0;

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  made.cleanup();
});

async function server(config: string): Promise<string> {
  const node = await startNatsServer({ config });
  nodes.push(node);
  return node.url;
}

async function failure(action: () => Promise<unknown>): Promise<QuiverError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof QuiverError) return error;
    throw new Error(`expected a QuiverError, got ${String(error)}`);
  }
  throw new Error('expected a failure');
}

/** Publishes two records and checks a replica holds them, both connecting with `connection`. */
async function replicates(name: string, connection: Omit<StreamOptions, 'stream'>): Promise<void> {
  const source = open(join(made.path, `${name}-source`));
  const publisher = await publish(source, { ...connection, stream: name });
  const replica = await openReplica(join(made.path, `${name}-replica`), { ...connection, stream: name });
  try {
    source.collection('docs', { dim: 2 }).upsert([
      { id: 'a', vector: [1, 0] },
      { id: 'b', vector: [0, 1] },
    ]);
    expect(await replica.waitFor(source.changeSeq(), { timeoutMs: 20_000 })).toBe(true);
    expect(replica.collection('docs').get('b')?.vector).toEqual(Float32Array.from([0, 1]));
  } finally {
    replica.close();
    await publisher.stop();
    source.close();
  }
}

describe('user and password', () => {
  let url: string;
  beforeAll(async () => {
    url = await server(`authorization { user: quiver, password: "${PASSWORD}" }`);
  }, 30_000);

  it('replicates with the right ones', async () => {
    await replicates('userpass', { servers: url, user: 'quiver', password: PASSWORD });
  });

  it('refuses a wrong password with UNAUTHORIZED, naming no secret', async () => {
    const source = open(join(made.path, 'wrong-source'));
    try {
      const error = await failure(() =>
        publish(source, { servers: url, stream: 's', user: 'quiver', password: 'nope-x' }),
      );
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).not.toContain('nope-x');
      const missing = await failure(() => openReplica(join(made.path, 'wrong-replica'), { servers: url, stream: 's' }));
      expect(missing.code).toBe('UNAUTHORIZED');
    } finally {
      source.close();
    }
  });

  it('keeps credentials in a server URL out of messages', async () => {
    const error = await failure(() =>
      openReplica(join(made.path, 'url-replica'), {
        servers: url.replace('nats://', 'nats://quiver:bad-pw@'),
        stream: 's',
      }),
    );
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).not.toContain('bad-pw');
  });
});

describe('user and password on the command line', () => {
  it('quiver publish and quiver replicate take --user and --password (or QUIVER_NATS_PASSWORD)', async () => {
    await ensureBin();
    const url = await server(`authorization { user: quiver, password: "${PASSWORD}" }`);
    const sourcePath = join(made.path, 'cli-source');
    const writer = open(sourcePath);
    writer.collection('docs', { dim: 2 }).upsert([{ id: 'a', vector: [1, 2] }]);
    const last = writer.changeSeq();
    writer.close();
    const stream = ['--servers', url, '--stream', 'cli', '--user', 'quiver'];
    const published = quiverJson<{ seq: number }>(
      'publish',
      sourcePath,
      ...stream,
      '--password',
      PASSWORD,
      '--until',
      String(last),
    );
    expect(published.document.seq).toBe(last);
    const replicaPath = join(made.path, 'cli-replica');
    const withVariable = run(
      process.execPath,
      [BIN, 'replicate', replicaPath, ...stream, '--until', String(last), '--json'],
      undefined,
      {
        QUIVER_NATS_PASSWORD: PASSWORD,
      },
    );
    expect(JSON.parse(withVariable.stdout).seq).toBe(last);
    const wrong = quiver(
      'replicate',
      join(made.path, 'cli-wrong'),
      ...stream,
      '--password',
      'bad-cli-pw',
      '--until',
      '1',
    );
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('UNAUTHORIZED');
    expect(wrong.stderr).not.toContain('bad-cli-pw');
    expect(quiver('replicate', join(made.path, 'cli-usage'), ...stream).status).toBe(2); // --user without a password
  }, 60_000);
});

describe('token', () => {
  let url: string;
  beforeAll(async () => {
    url = await server(`authorization { token: "${TOKEN}" }`);
  }, 30_000);

  it('replicates with the right token and refuses a wrong one with UNAUTHORIZED', async () => {
    await replicates('token', { servers: url, token: TOKEN });
    const error = await failure(() =>
      openReplica(join(made.path, 'token-wrong'), { servers: url, stream: 'token', token: 'wrong-tok' }),
    );
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).not.toContain('wrong-tok');
  });
});

describe('nkey', () => {
  it('replicates with the seed file of a user the server knows by its public key', async () => {
    const user = nkeys.createUser();
    const seedFile = join(made.path, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
    const url = await server(`authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`);
    await replicates('nkey', { servers: url, nkey: seedFile });
    const other = join(made.path, 'other.nk');
    writeFileSync(other, new TextDecoder().decode(nkeys.createUser().getSeed()));
    expect(
      (await failure(() => openReplica(join(made.path, 'nkey-wrong'), { servers: url, stream: 'nkey', nkey: other })))
        .code,
    ).toBe('UNAUTHORIZED');
  }, 30_000);
});

describe.skipIf(opensslMissing)('TLS (needs openssl to make a certificate: skipped when it is missing)', () => {
  let url: string;
  let ca: string;
  beforeAll(async () => {
    const file = (name: string): string => join(made.path, name);
    const openssl = (...args: string[]): void => {
      const result = spawnSync('openssl', args, { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`openssl ${args[0]}: ${result.stderr}`);
    };
    ca = file('ca.pem');
    // An authority, and a server certificate it signs for 127.0.0.1 (with localhost, the name the client checks).
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=quiver test CA',
      '-keyout',
      file('ca.key'),
      '-out',
      ca,
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      file('server.key'),
      '-out',
      file('server.csr'),
    );
    writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      ca,
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      file('san.ext'),
      '-out',
      file('server.pem'),
    );
    url = await server(`tls { cert_file: "${file('server.pem')}", key_file: "${file('server.key')}" }`);
  }, 60_000);

  it('replicates over TLS trusting the test authority', async () => {
    expect(readFileSync(ca, 'utf8')).toContain('BEGIN CERTIFICATE');
    await replicates('tls', { servers: url, tls: { ca } });
  });

  it('refuses a server certificate it cannot verify with IO_ERROR', async () => {
    const error = await failure(() =>
      openReplica(join(made.path, 'tls-untrusted'), { servers: url, stream: 'tls', tls: true }),
    );
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/TLS/);
  });
});

describe('bad connection options', () => {
  it.each([
    [{ user: 'quiver' }, /user and options.password/],
    [{ user: 'quiver', password: 'p', token: 't' }, /one of/],
    [{ token: '' }, /token must be/],
    [{ tls: { ca: 'x', pem: 'y' } }, /tls.pem is not an option/],
    [{ tls: { cert: '/nonexistent/c.pem' } }, /cert and options.tls.key/],
    [{ nkey: '/nonexistent/user.nk' }, /cannot read/],
    [{ tls: { ca: '/nonexistent/ca.pem' } }, /cannot read/],
  ])('%j is INVALID_ARGUMENT', async (connection, message) => {
    const error = await failure(() =>
      openReplica(join(made.path, 'bad'), { servers: 'nats://127.0.0.1:1', stream: 's', ...(connection as object) }),
    );
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });
});
