// One writer at a time: a second writer (in this process or another) gets LOCKED at once, a
// dead holder's lock is released by the OS, and read-only opens work beside the writer and see
// its commits.
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Database, open, QuiverError } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

let directory: ReturnType<typeof tempDirectory>;
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => directory.cleanup());

const OPEN_IN_CHILD = `
  const { open } = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
  try {
    const db = open(process.argv[1]);
    process.stdout.write('opened\\n');
    if (process.argv[2] === 'hold') setInterval(() => {}, 1000);
    else db.close();
  } catch (error) {
    process.stdout.write(error.code + '\\n');
  }
`;

function openInChild(path: string): { output: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', OPEN_IN_CHILD, path], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { output: result.stdout.trim() };
}

function expectLocked(action: () => unknown): void {
  try {
    action();
    expect.unreachable('a second writer must be refused');
  } catch (error) {
    expect(error).toBeInstanceOf(QuiverError);
    expect((error as QuiverError).code).toBe('LOCKED');
    expect((error as QuiverError).message).toMatch(/readOnly: true/);
  }
}

it('a second writer in the same process gets LOCKED; after close the next one opens', () => {
  const first = open(directory.path);
  expectLocked(() => open(directory.path));
  first.close();
  const second = open(directory.path);
  second.close();
});

it('a second writer in another process gets LOCKED instead of waiting for the holder', () => {
  const db = open(directory.path);
  try {
    const { output } = openInChild(directory.path);
    expect(output).toBe('LOCKED');
  } finally {
    db.close();
  }
  expect(openInChild(directory.path).output).toBe('opened');
});

it('the lock of a holder that died is released', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', OPEN_IN_CHILD, directory.path, 'hold'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('opened')) resolve();
    });
  });
  expectLocked(() => open(directory.path));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  const db = open(directory.path);
  db.close();
});

it('a read-only open works beside the writer and sees its new commits', () => {
  const writer = open(directory.path);
  let reader: Database | undefined;
  try {
    const docs = writer.collection('docs', { dim: 2 });
    docs.upsert([{ id: 'a', vector: [1, 0] }]);
    reader = open(directory.path, { readOnly: true });
    const seen = reader.collection('docs');
    expect(seen.count()).toBe(1);
    expect(seen.queryIds({ vector: [0, 1], k: 5 }).map((hit) => hit.id)).toEqual(['a']);

    docs.upsert([{ id: 'b', vector: [0, 1], metadata: { late: true } }]);
    expect(seen.queryIds({ vector: [0, 1], k: 1 })[0]?.id).toBe('b'); // the id table follows the writer
    expect(seen.count()).toBe(2); // caught up automatically before the call
    expect(seen.query({ vector: [0, 1], k: 1 })[0]).toMatchObject({ id: 'b', metadata: { late: true } });

    // A snapshot truncates the log behind the reader's position: it reloads instead of replaying.
    docs.snapshot();
    docs.delete('a');
    reader.refresh();
    expect(seen.count()).toBe(1);
    expect(seen.query({ vector: [1, 0], k: 5 }).map((hit) => hit.id)).toEqual(['b']);

    // New collections appear; dropped ones close.
    writer.collection('more', { dim: 3 }).upsert([{ id: 'x', vector: [1, 2, 3] }]);
    expect(reader.listCollections().map((info) => info.name)).toEqual(['docs', 'more']);
    expect(reader.collection('more').count()).toBe(1);
    writer.dropCollection('docs');
    expect(() => seen.count()).toThrowError(expect.objectContaining({ code: 'CLOSED' }));
  } finally {
    reader?.close();
    writer.close();
  }
});
