// Tests for bench/datasets/arrow.ts with tiny Arrow IPC files and streams written here.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  List,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { readArrowDataset } from '../../bench/datasets/arrow.js';
import { loadDataset } from '../../bench/datasets/load.js';

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-arrow-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A FixedSizeList<Float32> vector of `rows` rows of `dim` values. */
function fixedVectors(values: number[], dim: number) {
  const child = makeData({ type: new Float32(), length: values.length, data: Float32Array.from(values) });
  const type = new FixedSizeList(dim, new Field('item', new Float32(), false));
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

function write(name: string, table: Table, format: 'file' | 'stream' = 'file'): string {
  const path = join(folder, name);
  writeFileSync(path, tableToIPC(table, format));
  return path;
}

describe('readArrowDataset', () => {
  it('splits one file by its split column and reads the metric from schema metadata', () => {
    const table = new Table({
      embedding: fixedVectors([1, 2, 3, 4, 5, 6, 7, 8], 2),
      split: vectorFromArray(['train', 'base', 'test', 'train'], new Utf8()),
    });
    table.schema.metadata.set('metric', 'cosine');
    const data = readArrowDataset(write('split.arrow', table));
    expect(data.metric).toBe('cosine');
    expect([data.base.count, data.base.dim]).toEqual([3, 2]);
    expect(Array.from(data.base.data)).toEqual([1, 2, 3, 4, 7, 8]);
    expect(Array.from(data.queries.data)).toEqual([5, 6]);
  });

  it('takes queries from a sibling <stem>.query.arrows stream, with ground truth in a neighbors column', () => {
    write('pair.arrow', new Table({ vector: fixedVectors([0, 0, 1, 1, 2, 2], 2) }));
    const neighbors = vectorFromArray([[2, 1]], new List(new Field('item', new Int32(), true)));
    write('pair.query.arrows', new Table({ vector: fixedVectors([2, 2.1], 2), neighbors }), 'stream');
    const data = readArrowDataset(join(folder, 'pair.arrow'));
    expect(data.base.count).toBe(3);
    expect(Array.from(data.queries.data)).toEqual([2, Math.fround(2.1)]);
    expect(Array.from(data.neighbors?.data ?? [])).toEqual([2, 1]);
    expect(data.metric).toBe('l2');
  });

  it('reads List<Float32> columns and holds out the last rows when there is nothing else', () => {
    const rows = Array.from({ length: 20 }, (_, row) => [row, -row, 0.5]);
    const vector = vectorFromArray(rows, new List(new Field('item', new Float32(), true)));
    const data = readArrowDataset(write('alone.arrow', new Table({ features: vector })));
    expect([data.base.count, data.queries.count, data.base.dim]).toEqual([18, 2, 3]);
    expect(Array.from(data.queries.data.subarray(0, 3))).toEqual([18, -18, 0.5]);
    expect(data.notes.join()).toMatch(/last 2 rows/);
  });

  it('gives clear errors for ragged lists, missing vector columns and garbage', () => {
    const ragged = vectorFromArray([[1, 2], [3]], new List(new Field('item', new Float32(), true)));
    expect(() => readArrowDataset(write('ragged.arrow', new Table({ vector: ragged })))).toThrow(
      /ragged\.arrow: column 'vector' row 1 has 1 numbers, but row 0 has 2/,
    );
    const noVectors = new Table({ name: vectorFromArray(['a', 'b'], new Utf8()) });
    expect(() => readArrowDataset(write('names.arrow', noVectors))).toThrow(/names\.arrow has no vector column/);
    writeFileSync(join(folder, 'garbage.arrow'), 'not arrow at all');
    expect(() => readArrowDataset(join(folder, 'garbage.arrow'))).toThrow(
      expect.objectContaining({
        code: 'CORRUPT',
        message: expect.stringMatching(/garbage\.arrow is not a readable Arrow/),
      }),
    );
  });
});

describe('loadDataset on Arrow', () => {
  it('loads base.arrow + query.arrow from a folder and computes the ground truth', async () => {
    const sub = join(folder, 'set');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    writeFileSync(join(sub, 'base.arrow'), tableToIPC(new Table({ vector: fixedVectors([0, 0, 5, 5, 1, 1], 2) })));
    writeFileSync(join(sub, 'query.arrow'), tableToIPC(new Table({ vector: fixedVectors([4, 4], 2) })));
    const dataset = await loadDataset(sub, { cacheDir: join(folder, 'cache') });
    expect(dataset.name).toBe('set');
    expect([dataset.baseCount, dataset.queryCount, dataset.groundTruthK]).toEqual([3, 1, 3]);
    expect(Array.from(dataset.groundTruth)).toEqual([1, 2, 0]);
  });
});
