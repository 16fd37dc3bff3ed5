// Bounded under churn: after 10 rounds of replacing every record, the database directory and
// the index (its snapshot is the graph's in-memory image, deleted nodes included) stay within
// 1.5x of a fresh build of the same records.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { randomVectors } from '../helpers/random.js';

const COUNT = 2000;
const DIM = 32;

let directory: ReturnType<typeof tempDirectory>;
beforeEach(() => {
  directory = tempDirectory();
});
afterEach(() => directory.cleanup());

function sizes(path: string): { disk: number; index: number } {
  let disk = 0;
  let index = 0;
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      const stat = statSync(file);
      if (stat.isDirectory()) walk(file);
      else {
        disk += stat.size;
        if (name.endsWith('.bin')) index += stat.size;
      }
    }
  };
  walk(path);
  return { disk, index };
}

function build(path: string, ids: (i: number) => string, seed: number): void {
  const db = open(path, { durability: 'normal' });
  const docs = db.collection('docs', { dim: DIM });
  docs.upsert(randomVectors(COUNT, DIM, seed).map((vector, i) => ({ id: ids(i), vector, metadata: { seed } })));
  db.close();
}

it('replacing every record 10 times (same ids) stays within 1.5x of a fresh build', () => {
  const fresh = tempDirectory();
  try {
    build(fresh.path, String, 99);
    build(directory.path, String, 0);
    for (let round = 1; round <= 10; round++) build(directory.path, String, round);
    const churned = sizes(directory.path);
    const baseline = sizes(fresh.path);
    expect(churned.index).toBeLessThanOrEqual(1.5 * baseline.index);
    expect(churned.disk).toBeLessThanOrEqual(1.5 * baseline.disk);
  } finally {
    fresh.cleanup();
  }
});

it('deleting every record and inserting new ids 10 times reuses labels and space', () => {
  const fresh = tempDirectory();
  try {
    build(fresh.path, (i) => `fresh-${i}`, 99);
    const db = open(directory.path, { durability: 'normal' });
    const docs = db.collection('docs', { dim: DIM });
    for (let round = 0; round <= 10; round++) {
      if (round > 0) docs.delete(Array.from({ length: COUNT }, (_, i) => `${round - 1}-${i}`));
      docs.upsert(
        randomVectors(COUNT, DIM, round).map((vector, i) => ({
          id: `${round}-${i}`,
          vector,
          metadata: { seed: round },
        })),
      );
    }
    expect(docs.count()).toBe(COUNT);
    db.close();
    const churned = sizes(directory.path);
    const baseline = sizes(fresh.path);
    expect(churned.index).toBeLessThanOrEqual(1.5 * baseline.index);
    expect(churned.disk).toBeLessThanOrEqual(1.5 * baseline.disk);
  } finally {
    fresh.cleanup();
  }
});
