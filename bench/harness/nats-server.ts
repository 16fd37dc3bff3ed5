// Real nats-server processes with JetStream on 127.0.0.1, on free ports, with temporary storage,
// for the replication tests and the replication suite; every one started is killed on process exit.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsNode {
  readonly url: string;
  readonly name: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const directories: string[] = [];
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** Installs nats-server through scripts/ensure-nats-server.sh when it is missing. */
export function ensureNatsServer(): void {
  if (spawnSync('nats-server', ['--version']).status === 0) return;
  const script = join(import.meta.dirname, '..', '..', 'scripts', 'ensure-nats-server.sh');
  const result = spawnSync('bash', [script], { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error('nats-server is missing and scripts/ensure-nats-server.sh could not install it');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function startProcess(configFile: string, name: string, url: string): Promise<NatsNode> {
  const child = spawn('nats-server', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let log = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server ${name} did not start in 15 s:\n${log}`));
    }, 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve({ url, name, stop });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server ${name} exited with ${code}:\n${log}`));
    });
  });
}

/** One JetStream server; `config` adds lines to its configuration (e.g. an `authorization` or `tls` block). */
export async function startNatsServer(options: { config?: string } = {}): Promise<NatsNode> {
  ensureNatsServer();
  const directory = mkdtempSync(join(tmpdir(), 'quiverdb-nats-'));
  directories.push(directory);
  const port = await freePort();
  const config = join(directory, 'server.conf');
  writeFileSync(
    config,
    `listen: "127.0.0.1:${port}"\nserver_name: n1\njetstream { store_dir: "${join(directory, 'js')}" }\n${options.config ?? ''}\n`,
  );
  return startProcess(config, 'n1', `nats://127.0.0.1:${port}`);
}

/** A cluster of `size` JetStream servers routed to each other on loopback. */
export async function startNatsCluster(size: number): Promise<NatsNode[]> {
  ensureNatsServer();
  const directory = mkdtempSync(join(tmpdir(), 'quiverdb-nats-cluster-'));
  directories.push(directory);
  const ports: { client: number; cluster: number }[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), cluster: await freePort() });
  const routes = ports.map(({ cluster }) => `"nats-route://127.0.0.1:${cluster}"`).join(', ');
  return Promise.all(
    ports.map(({ client, cluster }, i) => {
      const name = `n${i + 1}`;
      const config = join(directory, `${name}.conf`);
      writeFileSync(
        config,
        [
          `listen: "127.0.0.1:${client}"`,
          `server_name: ${name}`,
          `jetstream { store_dir: "${join(directory, name)}" }`,
          `cluster { name: quiver, listen: "127.0.0.1:${cluster}", routes: [${routes}] }`,
        ].join('\n'),
      );
      return startProcess(config, name, `nats://127.0.0.1:${client}`);
    }),
  );
}
