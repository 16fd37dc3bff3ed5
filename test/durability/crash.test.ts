// Crash tests: a writer in a child process is killed with SIGKILL at seeded points — after a
// random delay, or at a named crash point (mid-batch before the commit, after the commit, between
// snapshot write and rename, before the manifest, during compaction); half of its upserts are
// upsertAsync calls whose graph inserts may still run. The reopened database must hold exactly
// the acknowledged operations (plus, at most, the one in flight, whole), open without a damaged
// snapshot, and still answer queries with exact-search recall. Records carry text in a collection
// with a full-text index: the texts survive as the other data does, and text queries find exactly
// the surviving records holding each word (the index never needs a repair after a crash).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, type QuiverWarning } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import { DIM, type Model, modelAfter, TEXT_WORDS, workload } from './crash-workload.js';

const WRITER = join(import.meta.dirname, 'crash-writer.ts');
const OPERATIONS = 60;

interface Run {
  acknowledged: number; // operations acknowledged before the kill
  finished: boolean;
}

/** Runs the writer until it is killed (by delay or crash point) or finishes. */
function runWriter(directory: string, seed: number, kill: { afterMs?: number; crashAt?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (kill.crashAt !== undefined) env['QUIVERDB_CRASH_AT'] = kill.crashAt;
    else delete env['QUIVERDB_CRASH_AT'];
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, directory, String(seed), String(OPERATIONS)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (kill.afterMs !== undefined && timer === undefined && output.includes('ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const finished = output.includes('done\n');
      if (signal !== 'SIGKILL' && !finished) {
        reject(new Error(`writer exited with ${code ?? signal} before finishing: ${errors}`));
        return;
      }
      const acks = [...output.matchAll(/^ack (\d+)$/gm)].map((match) => Number(match[1]));
      resolve({ acknowledged: acks.length === 0 ? 0 : Math.max(...acks) + 1, finished });
    });
  });
}

function sameAsModel(
  actual: Map<string, { vector: number[]; metadata: unknown; text: string | undefined }>,
  model: Model,
): boolean {
  if (actual.size !== model.size) return false;
  for (const [id, expected] of model) {
    const found = actual.get(id);
    if (found === undefined) return false;
    if (JSON.stringify(found.metadata) !== JSON.stringify(expected.metadata)) return false;
    if (found.text !== expected.text) return false;
    if (found.vector.some((value, i) => value !== expected.vector[i])) return false;
  }
  return true;
}

/** Reopens after the kill and checks the state against the acknowledged prefix. */
function verify(directory: string, seed: number, run: Run): void {
  const operations = workload(seed, OPERATIONS);
  const warnings: QuiverWarning[] = [];
  const db = open(directory, { onWarning: (warning) => warnings.push(warning) });
  try {
    const names = db.listCollections().map((info) => info.name);
    if (names.length === 0) {
      // Killed before the collection's creation committed: nothing may have been acknowledged.
      expect(run.acknowledged, `seed ${seed}`).toBe(0);
      return;
    }
    const docs = db.collection('docs');
    const actual = new Map<string, { vector: number[]; metadata: unknown; text: string | undefined }>();
    for (let id = 0; id < 200; id++) {
      const record = docs.get(String(id));
      if (record) {
        actual.set(record.id, { vector: Array.from(record.vector), metadata: record.metadata, text: record.text });
      }
    }
    const acknowledged = modelAfter(operations, run.acknowledged);
    const inFlight = modelAfter(operations, Math.min(run.acknowledged + 1, OPERATIONS));
    const matches = sameAsModel(actual, acknowledged) || sameAsModel(actual, inFlight);
    expect(matches, `seed ${seed}: state after ${run.acknowledged} acknowledged operations`).toBe(true);
    expect(docs.count(), `seed ${seed}`).toBe(actual.size);
    // A crash never leaves a snapshot that fails verification; only "none yet" is acceptable.
    const unexpected = warnings.filter((warning) => warning.code !== 'SNAPSHOT_MISSING');
    expect(
      unexpected.map((warning) => warning.message),
      `seed ${seed}`,
    ).toEqual([]);
    // Queries reach what exact search over the surviving records finds.
    const next = random(seed * 7 + 1);
    const entries = [...actual.entries()];
    for (let q = 0; q < 5 && entries.length > 0; q++) {
      const query = Array.from({ length: DIM }, () => next() * 2 - 1);
      const k = Math.min(10, entries.length);
      const exact = entries
        .map(([id, { vector }]) => ({ id, distance: vector.reduce((sum, x, i) => sum + (x - query[i]!) ** 2, 0) }))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, k)
        .map((entry) => entry.id);
      const found = docs.query({ vector: query, k, ef: 200 }).map((hit) => hit.id);
      const recall = found.filter((id) => exact.includes(id)).length / k;
      // 200 points at most and ef 200: HNSW is effectively exhaustive, so anything short of 0.9
      // means the replayed index disagrees with the records.
      expect(recall, `seed ${seed}`).toBeGreaterThanOrEqual(0.9);
    }
    // The full-text index holds exactly the surviving texts.
    for (const word of TEXT_WORDS) {
      const holding = entries.filter(([, { text }]) => text?.split(' ').includes(word)).map(([id]) => id);
      const found = docs.query({ text: word, k: 200 }).map((hit) => hit.id);
      expect(found.sort(), `seed ${seed}: text '${word}'`).toEqual(holding.sort());
    }
  } finally {
    db.close();
  }
}

async function crashAndVerify(seed: number, kill: { afterMs?: number; crashAt?: string }): Promise<Run> {
  const directory = tempDirectory('quiver-crash-');
  try {
    const run = await runWriter(directory.path, seed, kill);
    verify(directory.path, seed, run);
    return run;
  } finally {
    directory.cleanup();
  }
}

describe('SIGKILL after a seeded delay', () => {
  for (let seed = 1; seed <= 26; seed++) {
    it(`seed ${seed}`, async () => {
      const delay = Math.floor(random(seed)() * 900);
      await crashAndVerify(seed, { afterMs: delay });
    });
  }
});

describe('SIGKILL at a named crash point', () => {
  const points = [
    'upsert-before-commit',
    'upsert-after-commit',
    'snapshot-before-rename',
    'snapshot-before-manifest',
    'snapshot-before-cleanup',
    'compact-mid-build',
  ];
  let seed = 100;
  for (const point of points) {
    for (const occurrence of [1, 2, 3, 5]) {
      const runSeed = seed++;
      it(`${point}, occurrence ${occurrence} (seed ${runSeed})`, async () => {
        const run = await crashAndVerify(runSeed, { crashAt: `${point}:${occurrence}` });
        // The point is reached in this workload unless it has fewer occurrences; either way the
        // state was verified. Most runs must actually crash for the test to mean something.
        expect(run.acknowledged).toBeLessThanOrEqual(OPERATIONS);
      });
    }
  }

  it('most crash-point runs really crash before the workload ends', async () => {
    let crashed = 0;
    for (const [i, point] of ['upsert-before-commit', 'snapshot-before-rename', 'compact-mid-build'].entries()) {
      const run = await crashAndVerify(500 + i, { crashAt: `${point}:1` });
      if (!run.finished) crashed++;
    }
    expect(crashed).toBe(3);
  });
});

describe('a snapshot of the same seq as the one in the manifest', () => {
  it('never overwrites the manifest’s file: a crash before the manifest commit keeps it valid', async () => {
    const directory = tempDirectory('quiver-crash-');
    try {
      // snapshot() then compact() without writes in between: both cover the same seq, and the
      // compacted graph (no deleted nodes) differs from the first. The kill lands after compact's
      // file is renamed into place, before the manifest names it.
      const script = `
        const { open } = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
        const db = open(process.argv[1]);
        const docs = db.collection('docs', { dim: 4 });
        docs.upsert(Array.from({ length: 400 }, (_, i) => ({ id: i, vector: [i, i % 7, i % 11, 1] })));
        docs.delete(Array.from({ length: 100 }, (_, i) => 300 + i));
        docs.snapshot();
        docs.compact();
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, directory.path], {
        env: { ...process.env, QUIVERDB_CRASH_AT: 'snapshot-before-manifest:2' },
        stdio: 'ignore',
      });
      const signal = await new Promise((resolve) => child.on('exit', (_code, killed) => resolve(killed)));
      expect(signal).toBe('SIGKILL');
      const warnings: QuiverWarning[] = [];
      const db = open(directory.path, { onWarning: (warning) => warnings.push(warning) });
      try {
        const docs = db.collection('docs');
        expect(warnings.map((warning) => warning.message)).toEqual([]);
        expect(docs.count()).toBe(300);
        expect(docs.query({ vector: [5, 5, 5, 1], k: 1 })[0]?.id).toBe('5');
      } finally {
        db.close();
      }
    } finally {
      directory.cleanup();
    }
  });
});
