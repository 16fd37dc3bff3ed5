// Readers beside a writer, in other processes: the writer commits batches larger than a read page,
// deletes older batches whole (so labels are freed and reused) and snapshots often (so old snapshot
// files are replaced under the readers); two readOnly readers query, read everything by filter and
// count for a bounded time. Every call of a reader must answer from one committed state: no error,
// no batch seen in part, every hit's distance that of its own vector, no warning. Seeded; a failing
// run prints its seed (QUIVERDB_READERS_SEED replays one, QUIVERDB_READERS_SECONDS runs longer).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { DIM, sizeOf, textOf, vectorOf } from './reader-workload.js';

const READER = join(import.meta.dirname, 'reader-child.ts');
const SECONDS = Number(process.env['QUIVERDB_READERS_SECONDS'] ?? 15);

interface Summary {
  calls: { query: number; text: number; get: number; count: number };
  problems: string[];
  warnings: string[];
}

function runReader(directory: string, seed: number): Promise<Summary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', READER, directory, String(seed), String(SECONDS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') reject(new Error(`reader exited with ${code}: ${errors}`));
      else resolve(JSON.parse(line) as Summary);
    });
  });
}

const batchRecords = (batch: number) =>
  Array.from({ length: sizeOf(batch) }, (_, index) => ({
    id: `b${batch}-${index}`,
    vector: vectorOf(batch, index),
    text: textOf(batch, index),
    metadata: { kind: 'doc', batch, size: sizeOf(batch) },
  }));

let directory: { path: string; cleanup: () => void } | undefined;
afterEach(() => directory?.cleanup());

describe('readers beside a writer, in other processes', () => {
  it('answer every call from one committed state', { timeout: (SECONDS + 90) * 1000 }, async () => {
    const seed = Number(process.env['QUIVERDB_READERS_SEED'] ?? Date.now() % 1_000_000);
    const next = random(seed);
    directory = tempDirectory('quiver-readers-');
    const db = open(directory.path, { snapshotThreshold: 1500, onWarning: () => {} });
    const docs = db.collection('docs', {
      dim: DIM,
      index: { type: 'hnsw', m: 8, efConstruction: 32, ef: 32 },
      text: true,
    });
    let batch = 0;
    for (; batch < 4; batch++) docs.upsert(batchRecords(batch));
    const readers = [runReader(directory.path, seed + 1), runReader(directory.path, seed + 2)];
    let settled = false;
    const done = Promise.all(readers).finally(() => {
      settled = true;
    });
    const live: number[] = [0, 1, 2, 3];
    while (!settled) {
      // A new batch (reusing the labels of the last deleted one), then an older batch deleted whole.
      docs.upsert(batchRecords(batch));
      live.push(batch++);
      if (live.length > 4) {
        const victim = live.splice(Math.floor(next() * (live.length - 1)), 1)[0]!;
        docs.delete({ filter: { batch: victim } });
      }
      if (next() < 0.2) docs.snapshot();
      if (batch >= 60) {
        // Batch numbers stay below 60 (the readers count batches 0–59): start over with fresh ids.
        for (const old of live.splice(0)) docs.delete({ filter: { batch: old } });
        batch = 0;
      }
      await yieldToEvents();
    }
    const summaries = await done;
    db.close();
    const report = JSON.stringify(summaries, null, 1);
    for (const summary of summaries) {
      expect(summary.problems, `seed ${seed}: ${report}`).toEqual([]);
      expect(summary.warnings, `seed ${seed}: ${report}`).toEqual([]);
      expect(
        summary.calls.query + summary.calls.text + summary.calls.get + summary.calls.count,
        `seed ${seed}`,
      ).toBeGreaterThan(10);
    }
  });
});
