// `quiver backup`, `quiver restore` and the change log in `quiver info`, through the built bin.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { ensureBin, quiver, quiverJson } from './build-bin.js';

let directory: ReturnType<typeof tempDirectory>;
const path = (...parts: string[]) => join(directory.path, ...parts);

beforeAll(async () => {
  await ensureBin();
  directory = tempDirectory();
  const db = open(path('db'));
  db.registerConsumer('sync', { after: 0 });
  const docs = db.collection('docs', { dim: 4 });
  docs.upsert(Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, vector: [i, 1, 2, 3], metadata: { i } })));
  docs.delete(['d0', 'd1']);
  db.setChangeRetention({ rows: 1000, ageMs: 3_600_000 });
  db.close();
}, 120_000);
afterAll(() => directory.cleanup());

it('quiver info reports the change log: its seqs, the bytes retention keeps, the limit and the consumers', () => {
  const info = quiverJson<{ changes: Record<string, unknown> }>('info', path('db'));
  expect(info.status).toBe(0);
  expect(info.document.changes).toMatchObject({
    firstSeq: 1,
    lastSeq: 53,
    rows: 53,
    retention: { rows: 1000, ageMs: 3_600_000 },
    consumers: [{ name: 'sync', seq: 0 }],
  });
  expect(info.document.changes['bytes']).toBeGreaterThan(50 * 16);
  expect(quiver('info', path('db')).stdout).toMatch(
    /change log: seqs 1 … 53, 53 changes kept \(.+\); retention at most 1,000 rows and 3600 s; consumers sync at 0/,
  );
});

it('quiver backup then quiver restore give a database with the same records and change seq', () => {
  const backup = quiverJson<{ changeSeq: number; path: string }>('backup', path('db'), path('backup'));
  expect(backup.status).toBe(0);
  expect(backup.document.changeSeq).toBe(53);
  const restored = quiverJson<{ changeSeq: number; collections: unknown[] }>(
    'restore',
    path('backup'),
    path('restored'),
  );
  expect(restored.status).toBe(0);
  expect(restored.document).toMatchObject({ changeSeq: 53, collections: [{ name: 'docs', count: 48 }] });
  const db = open(path('restored'), { readOnly: true });
  expect(db.collection('docs').get('d7')?.metadata).toEqual({ i: 7 });
  expect(db.collection('docs').get('d0')).toBeUndefined();
  db.close();
});

it('refuses a non-empty destination and a directory that holds no backup (exit 1), bad usage (exit 2)', () => {
  writeFileSync(path('file.txt'), 'x');
  const taken = quiverJson<{ error: { code: string } }>('backup', path('db'), directory.path);
  expect(taken.status).toBe(1);
  expect(taken.document.error.code).toBe('INVALID_ARGUMENT');
  const none = quiverJson<{ error: { code: string } }>('restore', path('db', 'docs'), path('elsewhere'));
  expect(none.status).toBe(1);
  expect(none.document.error.code).toBe('NOT_FOUND');
  expect(quiver('backup', path('db')).status).toBe(2);
  expect(quiver('publish', path('db'), '--stream', 's').status).toBe(2); // no --servers
  for (const command of ['backup', 'restore', 'publish', 'replicate']) {
    expect(quiver(command, '--help').stdout).toMatch(new RegExp(`^Usage: quiver ${command}`));
  }
});
