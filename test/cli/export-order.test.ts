// `quiver export --order id` writes records in id order (the order of get), the default keeps
// storage order, and an unknown order is bad usage (exit 2), through the built bin.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { ensureBin, quiver } from './build-bin.js';

let directory: ReturnType<typeof tempDirectory>;
const path = (...parts: string[]) => join(directory.path, ...parts);
const IDS = ['m', 'b', 'z', 'a', '10', '9'];

beforeAll(async () => {
  await ensureBin();
  directory = tempDirectory();
  const db = open(path('db'));
  db.collection('docs', { dim: 2 }).upsert(IDS.map((id, i) => ({ id, vector: [i, 1] })));
  db.close();
}, 120_000);
afterAll(() => directory.cleanup());

const idsIn = (file: string) => tableFromIPC(readFileSync(file)).getChild('id')!.toArray() as string[];

it('exports in id order with --order id, in storage order by default', () => {
  expect(quiver('export', path('db'), 'docs', path('by-id.arrow'), '--order', 'id').status).toBe(0);
  expect(idsIn(path('by-id.arrow'))).toEqual(['10', '9', 'a', 'b', 'm', 'z']);
  expect(quiver('export', path('db'), 'docs', path('stored.arrow')).status).toBe(0);
  expect(idsIn(path('stored.arrow'))).toEqual(IDS);
  expect(quiver('export', path('db'), 'docs', path('bad.arrow'), '--order', 'label').status).toBe(2);
});
