// A float graph written without its vectors (native/hnsw-file.h: links, labels, a CRC-32 per stored
// vector, the deleted nodes' vectors) and filled again from the rows: the filled graph answers exactly
// as the graph that was written; the checksums the native writer keeps are those TypeScript computes
// over the stored vectors; rows that differ, labels not awaited and labels never given are reported.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isQuiverError } from '../../src/errors.js';
import { HnswIndex } from '../../src/index/hnsw.js';
import { createHnswGraph, type HnswSpace, type Int8Ranges, type NativeHnswGraph } from '../../src/native/hnsw-graph.js';
import { crc32 } from '../../src/quant/crc32.js';
import { random } from '../helpers/random.js';

const DIM = 16;
const COUNT = 600;
const M = 8;
const DELETED = [3, 77, 410];
const folder = mkdtempSync(join(tmpdir(), 'quiver-hnsw-without-vectors-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function matrix(rows: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: rows * DIM }, () => next() * 2 - 1);
}

const rows = matrix(COUNT, 1);
const queries = matrix(40, 2);
const labels = Uint32Array.from({ length: COUNT }, (_, i) => i);
const live = labels.filter((label) => !DELETED.includes(label));

function built(space: HnswSpace): NativeHnswGraph {
  const graph = createHnswGraph(space, DIM);
  graph.init({ maxElements: COUNT, m: M, efConstruction: 64, seed: 100 });
  graph.addBatch(rows, labels, 1);
  for (const label of DELETED) graph.markDelete(label);
  return graph;
}

/** Writes `graph` without vectors and loads it into a new graph awaiting them. */
function reloaded(space: HnswSpace, graph: NativeHnswGraph, name: string): { graph: NativeHnswGraph; file: string } {
  const file = join(folder, `${space}-${name}.graph`);
  graph.save(file, true);
  return { graph: loadedFrom(space, file), file };
}

/** A new graph (int8 with `ranges`) loading the whole of `file` as a graph without vectors. */
function loadedFrom(space: HnswSpace, file: string, ranges?: Int8Ranges): NativeHnswGraph {
  const bytes = readFileSync(file);
  const loaded = createHnswGraph(space, DIM, 'simd', 'sorted', ranges);
  try {
    loaded.loadRange({
      path: file,
      offset: 0,
      length: bytes.length,
      crcSeed: 0,
      crcExpected: crc32(bytes),
      withoutVectors: true,
    });
  } catch (error) {
    loaded.dispose();
    throw error;
  }
  return loaded;
}

/** The rows of `of` (labels), as the bytes a fill takes. */
function rowBytes(of: Uint32Array, source = rows): Uint8Array {
  const out = new Float32Array(of.length * DIM);
  for (let i = 0; i < of.length; i++) out.set(source.subarray(of[i]! * DIM, (of[i]! + 1) * DIM), i * DIM);
  return new Uint8Array(out.buffer);
}

function searched(graph: NativeHnswGraph): { labels: Uint32Array; distances: Float32Array } {
  const out = {
    labels: new Uint32Array((queries.length / DIM) * 10),
    distances: new Float32Array((queries.length / DIM) * 10),
  };
  graph.searchBatch({ queries, k: 10, ef: 50, threads: 1, ...out });
  return out;
}

function stored(graph: NativeHnswGraph, of: Uint32Array): Float32Array {
  const out = new Float32Array(of.length * DIM);
  graph.readVectors(of, out);
  return out;
}

describe.each<HnswSpace>(['l2', 'ip', 'cosine'])('a %s graph without its vectors', (space) => {
  it("is smaller by the live vectors, keeps each stored vector's CRC-32, and filled answers as the graph written", () => {
    const graph = built(space);
    const full = join(folder, `${space}-full.graph`);
    graph.save(full);
    const { graph: loaded, file } = reloaded(space, graph, 'round');
    expect(statSync(full).size - statSync(file).size).toBe(live.length * (DIM * 4 - 4) - DELETED.length * 4);

    // Each element: its layer-0 list (4 + 2M × 4 bytes), its label (8), its vector's CRC-32 (4),
    // after the 96-byte header; the CRC is the one TypeScript computes over the stored vector.
    const bytes = readFileSync(file);
    const element = 4 + 2 * M * 4 + 12;
    const vectors = stored(graph, labels);
    for (let node = 0; node < COUNT; node++) {
      const at = 96 + node * element;
      const label = Number(bytes.readBigUInt64LE(at + 4 + 2 * M * 4));
      const vector = new Uint8Array(vectors.buffer, label * DIM * 4, DIM * 4);
      expect(bytes.readUInt32LE(at + element - 4)).toBe(crc32(vector));
    }

    expect(Array.from(loaded.labels())).toEqual(Array.from(labels));
    expect(() => searched(loaded)).toThrow(/awaits its vectors/);
    // In two runs, out of order: the fill places each row by its label.
    const second = live.filter((label) => label % 2 === 1);
    const first = live.filter((label) => label % 2 === 0);
    expect(Array.from(loaded.fillVectors(second, rowBytes(second)))).toEqual([]);
    expect(Array.from(loaded.fillVectors(first, rowBytes(first)))).toEqual([]);
    expect(Array.from(loaded.finishFill())).toEqual([]);
    expect(searched(loaded)).toEqual(searched(graph));
    expect(stored(loaded, labels)).toEqual(vectors);
    graph.dispose();
    loaded.dispose();
  });

  it('reports rows that differ, labels it does not await, and live labels that got no row', () => {
    const graph = built(space);
    const { graph: loaded } = reloaded(space, graph, 'report');
    const changed = rows.slice();
    changed[20 * DIM] = changed[20 * DIM]! + 0.5;
    const given = live.filter((label) => label !== 500 && label !== 501);
    expect(Array.from(loaded.fillVectors(given, rowBytes(given, changed)))).toEqual([20]);
    // A label the graph lacks, a deleted one (its vector came with the file), one given before.
    const extra = Uint32Array.of(5000, DELETED[0]!, 7);
    expect(Array.from(loaded.fillVectors(extra, rowBytes(Uint32Array.of(0, 1, 2))))).toEqual([5000, DELETED[0], 7]);
    expect(Array.from(loaded.finishFill())).toEqual([500, 501]);
    // The two stand-ins hold their neighbours' mean: finite, and near the rows they replace.
    const standIns = stored(loaded, Uint32Array.of(500, 501));
    expect(standIns.every(Number.isFinite)).toBe(true);
    expect(standIns.some((value) => value !== 0)).toBe(true);
    // Every other stored vector is the row it was given (normalised for cosine, as inserts store it).
    const others = given.filter((label) => label !== 20);
    expect(stored(loaded, others)).toEqual(stored(graph, others));
    expect(stored(loaded, Uint32Array.of(DELETED[0]!))).toEqual(stored(graph, Uint32Array.of(DELETED[0]!)));
    expect(() => loaded.finishFill()).toThrow(/awaits no vectors/);
    // Rows that are not labels.length × dim float32s are refused before the addon is called.
    const refused = (() => {
      try {
        loaded.fillVectors(Uint32Array.of(1), new Uint8Array(DIM * 4 - 1));
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(isQuiverError(refused, 'INVALID_ARGUMENT')).toBe(true);
    graph.dispose();
    loaded.dispose();
  });

  it("rejects a file whose deleted node's vector does not match its checksum, before the payload checksum", () => {
    const graph = built(space);
    const file = join(folder, `${space}-damaged.graph`);
    graph.save(file, true);
    const bytes = readFileSync(file);
    // The deleted nodes' vectors follow the elements, in node order.
    bytes[96 + COUNT * (4 + 2 * M * 4 + 12) + 5]! ^= 0x10;
    writeFileSync(file, bytes);
    const thrown = (() => {
      try {
        loadedFrom(space, file);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(isQuiverError(thrown, 'NATIVE_ERROR')).toBe(true);
    expect((thrown as Error).message).toMatch(/deleted element \d+'s vector/);
    graph.dispose();
  });
});

it('an int8 graph is never written, nor read, without its codes', () => {
  const ranges = { lows: new Float32Array(DIM).fill(-1), highs: new Float32Array(DIM).fill(1) };
  const graph = createHnswGraph('l2', DIM, 'simd', 'sorted', ranges);
  graph.init({ maxElements: 16, m: M, efConstruction: 64, seed: 100 });
  graph.addBatch(rows.subarray(0, 4 * DIM), Uint32Array.of(0, 1, 2, 3), 1);
  expect(() => graph.save(join(folder, 'int8.graph'), true)).toThrow(/codes are not the records' vectors/);
  // The index refuses before the addon does.
  const index = new HnswIndex('l2', DIM, { m: M, efConstruction: 64 }, 16, 'simd', ranges);
  expect(() => index.writeGraphWithoutVectors(join(folder, 'int8-index.graph'))).toThrow(
    expect.objectContaining({ code: 'INTERNAL' }),
  );
  index.dispose();
  // A snapshot flagged as without vectors, for an int8 graph, is refused (the open then rebuilds).
  const file = join(folder, 'int8-full.graph');
  graph.save(file);
  expect(() => loadedFrom('l2', file, ranges)).toThrow(/int8 graph's snapshot holds its codes/);
  graph.dispose();
});
