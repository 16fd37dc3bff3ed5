// Snapshots: written on close, loaded (not rebuilt) on open, the log truncated behind them;
// damaged, missing, stale or mismatched snapshots are detected and the index rebuilt from the
// records, with a warning — never a crash and never a wrong answer.
import Sqlite from 'better-sqlite3';
import { appendFileSync, copyFileSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HnswIndex } from '../../src/index/hnsw.js';
import { crc32 } from '../../src/quant/crc32.js';
import { type Database, open, type OpenOptions, type QuiverProgress, type QuiverWarning } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { randomVectors } from '../helpers/random.js';

const DIM = 16;
const vectors = randomVectors(600, DIM, 42);
const queries = randomVectors(20, DIM, 43);

let directory: ReturnType<typeof tempDirectory>;
let warnings: QuiverWarning[];
let progress: QuiverProgress[];
let db: Database;
const options = (): OpenOptions => ({
  onWarning: (warning) => warnings.push(warning),
  onProgress: (event) => progress.push(event),
});

beforeEach(() => {
  directory = tempDirectory();
  warnings = [];
  progress = [];
  db = open(directory.path, options());
  const docs = db.collection('docs', { dim: DIM });
  docs.upsert(vectors.map((vector, i) => ({ id: i, vector, metadata: { i } })));
  docs.delete([0, 1, 2]);
});
afterEach(() => {
  db.close();
  directory.cleanup();
});

/** Exact answers from a flat collection holding the same records. */
function expectExactAnswers(database: Database): void {
  const docs = database.collection('docs');
  expect(docs.count()).toBe(597);
  expect(docs.get(['0', '1', '2', '3']).map((record) => record.id)).toEqual(['3']);
  for (const query of queries) {
    const hits = docs.query({ vector: query, k: 10, ef: 600 });
    const expected = vectors
      .map((vector, i) => ({ i, d: vector.reduce((sum, x, j) => sum + (x - query[j]!) ** 2, 0) }))
      .filter(({ i }) => i > 2)
      .sort((a, b) => a.d - b.d)
      .slice(0, 10)
      .map(({ i }) => String(i));
    expect(hits.map((hit) => hit.id)).toEqual(expected);
  }
}

function snapshotFiles(): string[] {
  return readdirSync(join(directory.path, 'docs'));
}

function reopen(): Database {
  db.close();
  warnings = [];
  progress = [];
  db = open(directory.path, options());
  db.collection('docs');
  return db;
}

function logRows(): number {
  const sqlite = new Sqlite(join(directory.path, 'quiver.sqlite'), { readonly: true });
  try {
    return (sqlite.prepare('SELECT count(*) AS n FROM oplog').get() as { n: number }).n;
  } finally {
    sqlite.close();
  }
}

describe('a clean close and reopen', () => {
  it('writes one snapshot, truncates the log, and loads it without a rebuild', () => {
    db.close();
    expect(snapshotFiles()).toEqual([`hnsw.603.bin`]);
    expect(logRows()).toBe(0);
    reopen();
    expect(warnings).toEqual([]);
    expect(progress.map((event) => event.phase)).toEqual(['load']);
    expectExactAnswers(db);
  });

  it('replays the log written after a snapshot', () => {
    const docs = db.collection('docs');
    docs.snapshot();
    docs.upsert([{ id: 'late', vector: vectors[5]!, metadata: { late: true } }]);
    docs.delete('late');
    docs.upsert([{ id: 0, vector: vectors[0]! }]);
    docs.delete(0);
    expect(logRows()).toBe(4);
    // A read-only open beside the writer opens exactly as a reopen after a crash would: the
    // snapshot plus the log after it, since the writer has not closed.
    const reader = open(directory.path, { ...options(), readOnly: true });
    try {
      progress = [];
      reader.collection('docs');
      expect(warnings).toEqual([]);
      expect(progress.map((event) => event.phase)).toEqual(['load', 'replay']);
      // 'late' and then id 0 both took label 0, the lowest one freed by the delete in beforeEach.
      expect(progress.at(-1)).toMatchObject({ done: 1, total: 1 });
      expectExactAnswers(reader);
    } finally {
      reader.close();
    }
  });

  it('keeps each vector once: the graph without vectors, filled from the records, with the changes after it replayed', async () => {
    const docs = db.collection('docs');
    docs.snapshot();
    const [name] = snapshotFiles();
    const file = join(directory.path, 'docs', name!);
    // Format 2, flagged as the graph without vectors: smaller than the layer-0 elements with their
    // vectors alone (600 nodes of a 4 + 32 × 4-byte list, a vector and an 8-byte label).
    const bytes = readFileSync(file);
    expect([bytes.readUInt32LE(8), bytes[21]]).toEqual([2, 1]);
    expect(bytes.length).toBeLessThan(600 * (4 + 32 * 4 + DIM * 4 + 8));
    // After the snapshot: a vector changed in place, a record deleted, a new record on a freed label.
    const moved = vectors[9]!.map((x) => -x);
    docs.upsert([{ id: 7, vector: moved, metadata: { i: 7 } }]);
    docs.delete(8);
    docs.upsert([{ id: 'new', vector: vectors[8]! }]);
    const exact = (query: Float32Array) => {
      const all = vectors.map((vector, i) => ({ id: String(i), vector }));
      const current = all.filter(({ id }) => !['0', '1', '2', '7', '8'].includes(id));
      current.push({ id: '7', vector: moved }, { id: 'new', vector: vectors[8]! });
      return current
        .map(({ id, vector }) => ({ id, d: vector.reduce((sum, x, j) => sum + (x - query[j]!) ** 2, 0) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 10)
        .map(({ id }) => id);
    };
    for (const asynchronous of [false, true]) {
      const reader = open(directory.path, { ...options(), readOnly: true });
      try {
        progress = [];
        const opened = asynchronous ? await reader.collectionAsync('docs') : reader.collection('docs');
        expect(warnings).toEqual([]);
        expect(progress.map((event) => event.phase)).toEqual(['load', 'replay']);
        for (const query of [...queries, moved, vectors[8]!]) {
          expect(opened.queryIds({ vector: query, k: 10, ef: 600 }).map((hit) => hit.id)).toEqual(exact(query));
        }
      } finally {
        reader.close();
      }
    }
  });

  it('snapshots automatically once the log passes the threshold', () => {
    db.close();
    db = open(directory.path, { ...options(), snapshotThreshold: 700 });
    const docs = db.collection('docs');
    for (let round = 0; round < 3; round++) {
      docs.upsert(vectors.slice(3, 303).map((vector, i) => ({ id: i + 3, vector, metadata: { i: i + 3 } })));
    }
    // 900 log rows > max(700, 597 / 2): one automatic snapshot after the third batch.
    expect(logRows()).toBe(0);
    expect(snapshotFiles()).toHaveLength(1);
  });
});

describe('damaged snapshots are rebuilt from the records', () => {
  const damage: Record<string, (file: string) => void> = {
    truncated: (file) => truncateSync(file, Math.floor(readFileSync(file).length / 2)),
    'truncated to a few bytes': (file) => truncateSync(file, 10),
    'bit-flipped in the payload': (file) => {
      const bytes = readFileSync(file);
      bytes[bytes.length - 100]! ^= 0x10;
      writeFileSync(file, bytes);
    },
    'bit-flipped in the header': (file) => {
      const bytes = readFileSync(file);
      bytes[17]! ^= 0x01; // dim
      writeFileSync(file, bytes);
    },
    // The graph is read straight from the file into the index: a flipped bit anywhere in it (here a
    // vector byte in the middle, which no structural check can see) is found by the payload checksum.
    'bit-flipped in a vector': (file) => {
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x02;
      writeFileSync(file, bytes);
    },
    'bit-flipped in the live labels': (file) => {
      const bytes = readFileSync(file);
      bytes[64 + 4 * 100]! ^= 0x01; // 597 live labels of 4 bytes after the 64-byte header
      writeFileSync(file, bytes);
    },
    'grown by a byte': (file) => appendFileSync(file, Buffer.of(0)),
    deleted: (file) => rmSync(file),
    'replaced by garbage': (file) => writeFileSync(file, Buffer.alloc(5000, 7)),
  };
  for (const [name, harm] of Object.entries(damage)) {
    it(`${name} → SNAPSHOT_INVALID warning, rebuild, exact answers`, () => {
      db.close();
      harm(join(directory.path, 'docs', 'hnsw.603.bin'));
      reopen();
      expect(warnings.map((warning) => warning.code)).toEqual(['SNAPSHOT_INVALID']);
      expect(warnings[0]?.message).toMatch(/docs\/hnsw\.603\.bin/);
      expect(progress.at(-1)).toEqual({ collection: 'docs', phase: 'rebuild', done: 597, total: 597 });
      expectExactAnswers(db);
      // The rebuilt index is snapshotted again on close, and then loads cleanly.
      reopen();
      expect(warnings).toEqual([]);
      expectExactAnswers(db);
    });
  }

  it("a flipped bit in a vector's checksum is reported as a wrong payload checksum, synchronously and asynchronously", async () => {
    // The graph without vectors (native/hnsw-file.h): 597 live labels, a 96-byte graph header, then
    // per element its layer-0 list (4 + 32 × 4 bytes at m 16), its label (8) and its vector's CRC-32 (4).
    const flip = () => {
      const [name] = snapshotFiles();
      const file = join(directory.path, 'docs', name!);
      const bytes = readFileSync(file);
      expect(bytes.readUInt32LE(8)).toBe(2); // format 2: the graph without vectors
      const element = 300;
      bytes[64 + 597 * 4 + 96 + element * 144 + 140]! ^= 0x02;
      writeFileSync(file, bytes);
    };
    db.close();
    flip();
    reopen();
    expect(warnings.map((warning) => warning.message)).toEqual([expect.stringMatching(/payload checksum is wrong/)]);
    expectExactAnswers(db);
    db.close(); // snapshots the rebuilt index
    flip();
    warnings = [];
    db = open(directory.path, options());
    await db.collectionAsync('docs');
    expect(warnings.map((warning) => warning.message)).toEqual([expect.stringMatching(/payload checksum is wrong/)]);
    expectExactAnswers(db);
  });

  it('a reader whose snapshot the writer replaces and removes during the graph load starts again from the new one', () => {
    db.collection('docs').snapshot();
    const readerWarnings: QuiverWarning[] = [];
    const reader = open(directory.path, { readOnly: true, onWarning: (warning) => readerWarnings.push(warning) });
    const load = HnswIndex.load;
    const spy = vi.spyOn(HnswIndex, 'load').mockImplementationOnce((...args) => {
      // Between the reader's read of the header and the load's own open of the file: the writer
      // snapshots again (a new file) and removes the one the reader started on.
      const docs = db.collection('docs');
      docs.upsert([{ id: 'x', vector: vectors[9]! }]);
      docs.delete('x');
      docs.snapshot();
      return load.apply(HnswIndex, args);
    });
    try {
      expectExactAnswers(reader);
      expect(spy).toHaveBeenCalledTimes(2); // the first load failed on the removed file, the second took the new one
      expect(readerWarnings).toEqual([]);
    } finally {
      spy.mockRestore();
      reader.close();
    }
  });

  it('a header of a newer format, of format 0 or with unknown flags (its checksum right) → rebuild', () => {
    db.close();
    const original = readFileSync(join(directory.path, 'docs', snapshotFiles()[0]!));
    const cases: [string, (bytes: Buffer) => void, RegExp][] = [
      ['newer', (bytes) => bytes.writeUInt32LE(3, 8), /has format 3; this QuiverDB reads up to 2/],
      ['zero', (bytes) => bytes.writeUInt32LE(0, 8), /its format version is 0/],
      ['flags', (bytes) => bytes.writeUInt8(3, 21), /its flags 3 are unknown/],
    ];
    for (const [, change, reason] of cases) {
      const bytes = Buffer.from(original);
      change(bytes);
      bytes.writeUInt32LE(crc32(bytes.subarray(0, 60)), 60);
      // The file the manifest names (each close after a rebuild writes a new one).
      writeFileSync(join(directory.path, 'docs', snapshotFiles()[0]!), bytes);
      reopen();
      expect(warnings.map((warning) => warning.code)).toEqual(['SNAPSHOT_INVALID']);
      expect(warnings[0]!.message).toMatch(reason);
      expectExactAnswers(db);
      db.close();
    }
  });

  it('a stale snapshot (an older file under the manifest name) → rebuild', () => {
    const docs = db.collection('docs');
    docs.snapshot();
    const old = join(directory.path, 'stale.bin');
    copyFileSync(join(directory.path, 'docs', 'hnsw.603.bin'), old);
    docs.upsert([{ id: 'x', vector: vectors[9]! }]);
    docs.delete('x');
    db.close();
    const [current] = snapshotFiles();
    copyFileSync(old, join(directory.path, 'docs', current!));
    reopen();
    expect(warnings.map((warning) => warning.code)).toEqual(['SNAPSHOT_INVALID']);
    expectExactAnswers(db);
  });

  it('a snapshot whose parameters differ from the collection → rebuild', () => {
    db.close();
    const sqlite = new Sqlite(join(directory.path, 'quiver.sqlite'));
    sqlite.prepare(`UPDATE manifest SET params = '{"type":"hnsw","m":8,"efConstruction":200,"ef":64}'`).run();
    sqlite.close();
    reopen();
    expect(warnings.map((warning) => warning.code)).toEqual(['SNAPSHOT_INVALID']);
    expect(warnings[0]?.message).toMatch(/"m":8/);
    expectExactAnswers(db);
  });

  it('no snapshot at all for a collection with records → SNAPSHOT_MISSING, rebuild', () => {
    db.close();
    const sqlite = new Sqlite(join(directory.path, 'quiver.sqlite'));
    sqlite.prepare('DELETE FROM manifest').run();
    sqlite.close();
    reopen();
    expect(warnings.map((warning) => warning.code)).toEqual(['SNAPSHOT_MISSING']);
    expectExactAnswers(db);
  });

  it('without an onWarning handler, the warning goes to process.emitWarning', async () => {
    db.close();
    truncateSync(join(directory.path, 'docs', 'hnsw.603.bin'), 100);
    const emitted = new Promise<Error>((resolve) => process.once('warning', resolve));
    db = open(directory.path);
    db.collection('docs');
    const warning = (await emitted) as Error & { code?: string };
    expect(warning.code).toBe('QUIVERDB_SNAPSHOT_INVALID');
  });
});

describe('orphans', () => {
  it('a snapshot file the manifest does not name is removed on open', () => {
    db.close();
    writeFileSync(join(directory.path, 'docs', 'hnsw.999.bin.tmp'), 'half-written');
    writeFileSync(join(directory.path, 'docs', 'hnsw.998.bin'), 'renamed but never committed');
    reopen();
    expect(snapshotFiles()).toEqual(['hnsw.603.bin']);
    expect(warnings).toEqual([]);
  });

  it('dropCollection removes the snapshot folder', () => {
    db.collection('docs').snapshot();
    db.dropCollection('docs');
    expect(readdirSync(directory.path)).not.toContain('docs');
  });
});
