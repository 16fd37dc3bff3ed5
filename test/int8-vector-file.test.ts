// An int8 HNSW collection's float-vector file (src/index/vector-file.ts) through the public API: a
// snapshot writes it beside the graph; rescorings read it (and nothing else) for labels unchanged
// since, with the exact float distances; a vector updated in place, or a freed label reused, after the
// snapshot is rescored with its new vector from the records; a reader keeps answering like the writer
// across the writer's next snapshot; a damaged, foreign or missing file is reported with
// VECTOR_FILE_INVALID and the records answer, identically.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Collection, open, type QuiverWarning } from '../src/index.js';
import { slotBytes, VECTOR_FILE_HEADER_BYTES } from '../src/index/vector-file.js';
import { nativeKernels } from '../src/native/kernels.js';
import { loadFixture, tempDirectory } from './helpers/fixtures.js';

const fixture = loadFixture('siftsmall');
const COUNT = 3000;
const cleanups: (() => void)[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function database() {
  const directory = tempDirectory();
  cleanups.push(directory.cleanup);
  const warnings: QuiverWarning[] = [];
  const openIt = (readOnly = false) =>
    open(directory.path, { readOnly, onWarning: (warning) => warnings.push(warning) });
  return { path: directory.path, folder: join(directory.path, 'sift'), warnings, openIt };
}

/** The first COUNT siftsmall vectors under ids 0 … COUNT-1, in order (so label i holds id i), snapshotted. */
function loaded(openIt: () => ReturnType<typeof open>) {
  const db = openIt();
  const docs = db.collection('sift', { dim: 128, index: { type: 'hnsw', vectors: 'int8' } });
  for (let start = 0; start < COUNT; start += 1000) {
    docs.upsert(fixture.base.slice(start, start + 1000).map((vector, i) => ({ id: start + i, vector })));
  }
  docs.snapshot();
  return { db, docs };
}

const l2 = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((sum, x, i) => sum + (x - b[i]!) ** 2, 0));

/** Ids and distances of k 10 for the first 40 queries. */
const answersOf = (collection: Collection) =>
  fixture.queries
    .slice(0, 40)
    .map((vector) => collection.query({ vector, k: 10 }).map(({ id, distance }) => ({ id, distance })));

function snapshotFiles(folder: string) {
  const names = readdirSync(folder).sort();
  return {
    names,
    graph: names.find((name) => name.endsWith('.bin'))!,
    vectors: names.find((name) => name.endsWith('.f32'))!,
  };
}

describe('int8 hnsw float-vector files', () => {
  it('are written beside the snapshot, and rescorings read every candidate from them with the exact float distance', () => {
    const { folder, openIt, warnings } = database();
    const { db, docs } = loaded(openIt);
    const files = snapshotFiles(folder);
    expect(files.names).toEqual([files.graph, files.vectors]);
    expect(files.vectors).toBe(files.graph.replace(/\.bin$/, '.f32'));
    expect(readFileSync(join(folder, files.vectors)).length).toBe(VECTOR_FILE_HEADER_BYTES + COUNT * slotBytes(128));
    const reads = vi.spyOn(nativeKernels, 'readVectorSlots');
    const answers = answersOf(docs);
    // Every candidate came out of the file whole: no rescoring went to the records.
    expect(reads).toHaveBeenCalled();
    for (const [index, call] of reads.mock.calls.entries()) {
      expect(reads.mock.results[index]!.value).toBe(call[0].labels.length);
    }
    answers.forEach((hits, q) => {
      expect(hits).toHaveLength(10);
      for (const hit of hits)
        expect(hit.distance).toBeCloseTo(l2(fixture.queries[q]!, fixture.base[Number(hit.id)]!), 3);
    });
    db.close();
    // A reopen loads the snapshot with its file and answers the same.
    const again = openIt();
    expect(answersOf(again.collection('sift'))).toEqual(answers);
    again.close();
    expect(warnings).toEqual([]);
  });

  it('rescore a vector updated in place, or a freed label reused, after the snapshot with its new vector', () => {
    const { openIt, warnings } = database();
    const { db, docs } = loaded(openIt);
    const query = (q: number) => docs.query({ vector: fixture.queries[q]!, k: 3 });
    // Id 5 keeps label 5; its slot in the file still holds the old vector.
    const nearest = query(0)[0]!;
    docs.upsert([{ id: 5, vector: fixture.queries[0]! }]);
    expect(query(0)[0]).toMatchObject({ id: '5', distance: 0 });
    // The old nearest moves far away: its stale slot would still rank it near.
    docs.upsert([{ id: nearest.id, vector: new Float32Array(128).fill(1000) }]);
    expect(query(0).map((hit) => hit.id)).not.toContain(nearest.id);
    // Label 7 is freed and reused by a new id with another vector.
    docs.delete(7);
    docs.upsert([{ id: 'new', vector: fixture.queries[1]! }]);
    expect(query(1)[0]).toMatchObject({ id: 'new', distance: 0 });
    db.close();
    // After a reopen (the same snapshot and file, the log replayed) and a new snapshot alike.
    const again = openIt();
    const reopened = again.collection('sift');
    expect(reopened.query({ vector: fixture.queries[0]!, k: 1 })[0]).toMatchObject({ id: '5', distance: 0 });
    expect(reopened.query({ vector: fixture.queries[1]!, k: 1 })[0]).toMatchObject({ id: 'new', distance: 0 });
    reopened.snapshot();
    expect(reopened.query({ vector: fixture.queries[0]!, k: 1 })[0]).toMatchObject({ id: '5', distance: 0 });
    expect(reopened.query({ vector: fixture.queries[1]!, k: 1 })[0]).toMatchObject({ id: 'new', distance: 0 });
    again.close();
    expect(warnings).toEqual([]);
  });

  it('keep a reader answering like the writer across the writer’s next snapshot (which removes the old file)', () => {
    const { folder, openIt, warnings } = database();
    const { db, docs } = loaded(openIt);
    const reader = openIt(true);
    const read = reader.collection('sift');
    const before = snapshotFiles(folder);
    expect(answersOf(read)).toEqual(answersOf(docs));
    docs.upsert(fixture.base.slice(COUNT, COUNT + 2000).map((vector, i) => ({ id: COUNT + i, vector })));
    docs.upsert([{ id: 11, vector: fixture.queries[2]! }]);
    docs.snapshot();
    const after = snapshotFiles(folder);
    expect(after.names).toHaveLength(2);
    expect(after.names).not.toContain(before.vectors);
    expect(answersOf(read)).toEqual(answersOf(docs));
    expect(read.query({ vector: fixture.queries[2]!, k: 1 })[0]).toMatchObject({ id: '11', distance: 0 });
    reader.close();
    db.close();
    expect(warnings).toEqual([]);
  });

  it('report a damaged, foreign or missing file with VECTOR_FILE_INVALID and answer the same from the records', () => {
    const { folder, openIt, warnings } = database();
    const { db, docs } = loaded(openIt);
    const answers = answersOf(docs);
    db.close();
    const { vectors } = snapshotFiles(folder);
    const path = join(folder, vectors);
    const good = readFileSync(path);
    const reopenAndCompare = (damage: Buffer | undefined, when: 'open' | 'query') => {
      if (damage === undefined) rmSync(path);
      else writeFileSync(path, damage);
      warnings.length = 0;
      const again = openIt();
      const collection = again.collection('sift');
      expect(warnings.map((warning) => warning.code)).toEqual(when === 'open' ? ['VECTOR_FILE_INVALID'] : []);
      expect(answersOf(collection)).toEqual(answers);
      expect(warnings.map((warning) => warning.code)).toEqual(['VECTOR_FILE_INVALID']); // once, however many reads
      expect(warnings[0]!.collection).toBe('sift');
      again.close();
    };
    // A float of the slot of the first query's nearest (label = id here): found when first read.
    const slotByte = Buffer.from(good);
    slotByte[VECTOR_FILE_HEADER_BYTES + Number(answers[0]![0]!.id) * slotBytes(128) + 40]! ^= 0x10;
    reopenAndCompare(slotByte, 'query');
    // The header (its dim, under its CRC-32), a file cut short, and no file at all: found at open.
    const header = Buffer.from(good);
    header[16]! ^= 0x01;
    reopenAndCompare(header, 'open');
    reopenAndCompare(good.subarray(0, good.length - 100), 'open');
    reopenAndCompare(undefined, 'open');
    // The next snapshot writes it anew.
    const writer = openIt();
    writer.collection('sift').snapshot();
    writer.close();
    warnings.length = 0;
    const healed = openIt();
    expect(answersOf(healed.collection('sift'))).toEqual(answers);
    healed.close();
    expect(warnings).toEqual([]);
  });
});
