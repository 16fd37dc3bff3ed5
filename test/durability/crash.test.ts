// Crash tests: a writer in a child process is killed with SIGKILL at seeded points — after a
// random delay, or at a named crash point (mid-batch before the commit, after the commit, between
// snapshot write and rename, before the manifest, during compaction); half of its upserts are
// upsertAsync calls whose index inserts may still run. Each runs over an hnsw, flat, (trained)
// ivfpq or (trained) int8 hnsw collection. The reopened database must hold exactly the acknowledged operations (plus, at
// most, the one in flight, whole), open without a damaged snapshot or codebook, and still answer
// queries with exact-search recall (odd seeds reopen with collectionAsync, even ones with
// collection). A crash-point case fails unless the child reports that its point fired. Records
// carry text in a collection with a full-text index: the texts survive as the other data does, and
// text queries find exactly the surviving records holding each word.
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, type QuiverWarning } from '../../src/index.js';
import { crashPointReached } from '../helpers/crash-point.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { random } from '../helpers/random.js';
import {
  baseRecords,
  collectionOptions,
  DIM,
  INT8_BASE_COUNT,
  type IndexKind,
  type Model,
  modelAfter,
  TEXT_WORDS,
  workload,
} from './crash-workload.js';

const WRITER = join(import.meta.dirname, 'crash-writer.ts');
const OPERATIONS = 60;

interface Run {
  acknowledged: number; // operations acknowledged before the kill
  finished: boolean;
  stderr: string;
}

/**
 * Databases whose collection 'docs' holds the ivfpq base records, trained, and the int8 base records,
 * its ranges learned, each made once and copied into each run's directory of its kind (training
 * takes seconds; the copy, milliseconds).
 */
const starts = new Map<IndexKind, { path: string; cleanup: () => void }>();
const base = baseRecords();
const baseOf = (kind: IndexKind) =>
  kind === 'ivfpq' ? base : kind === 'hnsw-int8' ? base.slice(0, INT8_BASE_COUNT) : [];
beforeAll(() => {
  for (const [kind, strategy] of [
    ['ivfpq', 'ivfpq'],
    ['hnsw-int8', 'hnsw'],
  ] as const) {
    const start = tempDirectory(`quiver-crash-${kind}-`);
    starts.set(kind, start);
    const db = open(start.path);
    try {
      const docs = db.collection('docs', collectionOptions(kind));
      docs.upsert(baseOf(kind));
      // Trained: the answer comes from the codes, so they are saved and replayed.
      expect(docs.query({ vector: base[0]!.vector, k: 1, explain: true }).plan.strategy).toBe(strategy);
    } finally {
      db.close();
    }
  }
}, 120_000);
afterAll(() => {
  for (const start of starts.values()) start.cleanup();
});

/** Runs the writer until it is killed (by delay or crash point) or finishes. */
function runWriter(
  directory: string,
  seed: number,
  kind: IndexKind,
  kill: { afterMs?: number; crashAt?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (kill.crashAt !== undefined) env['QUIVERDB_CRASH_AT'] = kill.crashAt;
    else delete env['QUIVERDB_CRASH_AT'];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WRITER, directory, String(seed), String(OPERATIONS), kind],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
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
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const finished = output.includes('done\n');
      if (signal !== 'SIGKILL' && !finished) {
        reject(new Error(`writer exited with ${code ?? signal} before finishing: ${errors}`));
        return;
      }
      const acks = [...output.matchAll(/^ack (\d+)$/gm)].map((match) => Number(match[1]));
      resolve({ acknowledged: acks.length === 0 ? 0 : Math.max(...acks) + 1, finished, stderr: errors });
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

/** Reopens after the kill and checks the state against the acknowledged prefix (and the base records). */
async function verify(directory: string, seed: number, kind: IndexKind, run: Run): Promise<void> {
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
    // Odd seeds load the collection off the event loop: both open paths recover from the crash.
    const docs = seed % 2 === 1 ? await db.collectionAsync('docs') : db.collection('docs');
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
    const baseKept = baseOf(kind);
    expect(docs.count(), `seed ${seed}`).toBe(actual.size + baseKept.length);
    for (let n = 0; n < baseKept.length; n += 97) {
      expect(Array.from(docs.get(baseKept[n]!.id)?.vector ?? []), `seed ${seed}: base record ${n}`).toEqual(
        baseKept[n]!.vector,
      );
    }
    // A crash never leaves a snapshot that fails verification; only "none yet" is acceptable.
    const unexpected = warnings.filter((warning) => warning.code !== 'SNAPSHOT_MISSING');
    expect(
      unexpected.map((warning) => warning.message),
      `seed ${seed}`,
    ).toEqual([]);
    // Queries reach what exact search over the surviving records finds.
    const next = random(seed * 7 + 1);
    const entries = [...actual.entries()];
    const searched = [...entries, ...baseKept.map((record) => [record.id, record] as const)];
    for (let q = 0; q < 5 && searched.length > 0; q++) {
      const query = Array.from({ length: DIM }, () => next() * 2 - 1);
      const k = Math.min(10, searched.length);
      const exact = searched
        .map(([id, { vector }]) => ({ id, distance: vector.reduce((sum, x, i) => sum + (x - query[i]!) ** 2, 0) }))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, k)
        .map((entry) => entry.id);
      const found = docs.query({ vector: query, k, ef: 200, nprobe: 16, rerank: 1000 }).map((hit) => hit.id);
      const recall = found.filter((id) => exact.includes(id)).length / k;
      // hnsw: 200 points at most and ef 200 make the search effectively exhaustive; int8 hnsw
      // rescores its best 1,000 candidates of at most 1,200 by the float distance. ivfpq: every
      // list probed and the best 1,000 of ~10,000 codes (m 4, 2 dimensions per byte) re-ranked
      // exactly. flat is exact. Anything short of 0.9 means the replayed index disagrees with the records.
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

async function crashAndVerify(
  seed: number,
  kind: IndexKind,
  kill: { afterMs?: number; crashAt?: string },
): Promise<Run> {
  const directory = tempDirectory('quiver-crash-');
  try {
    const start = starts.get(kind);
    if (start !== undefined) cpSync(start.path, directory.path, { recursive: true });
    const run = await runWriter(directory.path, seed, kind, kill);
    if (kill.crashAt !== undefined) {
      // A point never reached would leave a clean run that proves nothing about that point.
      expect(crashPointReached(run.stderr, kill.crashAt), `seed ${seed}: ${kill.crashAt} never fired`).toBe(true);
      expect(run.finished, `seed ${seed}`).toBe(false);
    }
    await verify(directory.path, seed, kind, run);
    return run;
  } finally {
    directory.cleanup();
  }
}

describe('SIGKILL after a seeded delay', () => {
  // Seeds 1–16 hnsw, 17–22 ivfpq, 23–26 flat, 27–30 int8 hnsw.
  for (let seed = 1; seed <= 30; seed++) {
    const kind: IndexKind = seed <= 16 ? 'hnsw' : seed <= 22 ? 'ivfpq' : seed <= 26 ? 'flat' : 'hnsw-int8';
    it(`${kind}, seed ${seed}`, async () => {
      const delay = Math.floor(random(seed)() * 900);
      await crashAndVerify(seed, kind, { afterMs: delay });
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
      // Seed 123's workload holds only 3 compactions, so compact-mid-build:5 takes seed 124 (6).
      const runSeed = seed === 123 ? 124 : seed;
      seed++;
      it(`hnsw, ${point}, occurrence ${occurrence} (seed ${runSeed})`, async () => {
        await crashAndVerify(runSeed, 'hnsw', { crashAt: `${point}:${occurrence}` });
      });
    }
  }
  // ivfpq keeps no snapshot file: its codebook and codes are written to SQLite in the manifest's
  // transaction (snapshot-before-manifest fires inside it); compaction retrains from the records.
  // flat keeps nothing but the manifest row; its compaction rebuilds from the records.
  for (const [kind, point, occurrence, runSeed] of [
    ['ivfpq', 'upsert-before-commit', 2, 200],
    ['ivfpq', 'upsert-after-commit', 3, 201],
    ['ivfpq', 'snapshot-before-manifest', 1, 202],
    ['ivfpq', 'snapshot-before-manifest', 2, 203],
    ['ivfpq', 'compact-mid-build', 1, 204],
    ['flat', 'upsert-before-commit', 3, 300],
    ['flat', 'upsert-after-commit', 2, 301],
    ['flat', 'compact-mid-build', 1, 302],
    // int8 hnsw: its ranges travel inside the graph file, so its snapshot points are the graph's;
    // its float-vector file is written and renamed before the graph's file (snapshot-before-rename
    // finds it in place with the old snapshot still named in the manifest).
    ['hnsw-int8', 'upsert-after-commit', 2, 400],
    ['hnsw-int8', 'vector-file-before-rename', 1, 405],
    ['hnsw-int8', 'vector-file-before-rename', 2, 406],
    ['hnsw-int8', 'snapshot-before-rename', 1, 401],
    ['hnsw-int8', 'snapshot-before-rename', 2, 407],
    ['hnsw-int8', 'snapshot-before-manifest', 2, 402],
    ['hnsw-int8', 'snapshot-before-cleanup', 1, 403],
    ['hnsw-int8', 'compact-mid-build', 1, 404],
  ] as const) {
    it(`${kind}, ${point}, occurrence ${occurrence} (seed ${runSeed})`, async () => {
      await crashAndVerify(runSeed, kind, { crashAt: `${point}:${occurrence}` });
    });
  }
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
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const signal = await new Promise((resolve) => child.on('close', (_code, killed) => resolve(killed)));
      expect(signal).toBe('SIGKILL');
      expect(crashPointReached(stderr, 'snapshot-before-manifest:2'), stderr).toBe(true);
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
