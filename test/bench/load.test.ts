// Tests for bench/datasets/load.ts: folder auto-detection on the fixtures and on every shared data
// set, metric-specific ground truth, --limit recomputing ground truth, synthetic specs, bad specs.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeGroundTruth } from '../../bench/datasets/ground-truth.js';
import { loadDataset } from '../../bench/datasets/load.js';
import { recallAtK } from '../../bench/datasets/recall.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const shared = join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets');
const cacheDir = mkdtempSync(join(tmpdir(), 'quiverdb-load-test-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('loadDataset on folders', () => {
  it('loads the siftsmall fixture with its own ground truth', async () => {
    const dataset = await loadDataset(join(fixtures, 'siftsmall'), { cacheDir });
    expect(dataset).toMatchObject({ name: 'siftsmall', metric: 'l2', dim: 128, baseCount: 10_000, queryCount: 100 });
    expect(dataset.groundTruthK).toBe(100);
    expect(dataset.groundTruthSource).toBe('groundtruth.ivecs');
    expect(dataset.base.length).toBe(10_000 * 128);
    expect(dataset.groundTruth[0]).toBe(2176);
  });

  it('recomputes the ground truth under --limit, and keeps query rows under --queries', async () => {
    const limited = await loadDataset(join(fixtures, 'siftsmall'), { limit: 1000, queries: 10, k: 20, cacheDir });
    expect([limited.baseCount, limited.queryCount, limited.groundTruthK]).toEqual([1000, 10, 20]);
    expect(limited.groundTruthSource).toMatch(/computed|cache/);
    for (const id of limited.groundTruth) expect(id).toBeLessThan(1000);
    const fewer = await loadDataset(join(fixtures, 'siftsmall'), { queries: 3, cacheDir });
    expect(fewer.groundTruthSource).toBe('groundtruth.ivecs');
    expect(fewer.groundTruth.length).toBe(300);
  });

  it('picks the metric-specific ground truth of cohere-wiki-1k and honours --metric', async () => {
    const own = await loadDataset(join(fixtures, 'cohere-wiki-1k'), { cacheDir });
    expect(own.metric).toBe('ip');
    expect(own.groundTruthSource).toBe('groundtruth_ip.ivecs');
    const cosine = await loadDataset(join(fixtures, 'cohere-wiki-1k'), { metric: 'cosine', cacheDir });
    expect(cosine.groundTruthSource).toBe('groundtruth_cosine.ivecs');
    // Exact cosine ground truth computed here agrees with the shipped file (ties aside: compare sets at 10).
    const computed = computeGroundTruth(
      { count: cosine.baseCount, dim: cosine.dim, data: cosine.base },
      { count: cosine.queryCount, dim: cosine.dim, data: cosine.queries },
      'cosine',
      { k: 10 },
    );
    const overlap = recallAtK(
      { ids: computed.ids, stride: computed.k },
      { ids: cosine.groundTruth, stride: cosine.groundTruthK },
      10,
    );
    expect(overlap).toBe(1);
  });

  it('generates synthetic sets from a spec', async () => {
    const dataset = await loadDataset('synthetic:n=500,dim=16,clusters=4,intrinsic=4,queries=8,seed=2', {
      k: 10,
      cacheDir,
    });
    expect(dataset).toMatchObject({ baseCount: 500, queryCount: 8, dim: 16, metric: 'l2', groundTruthK: 10 });
    expect(dataset.name).toBe('synthetic-n500-d16-c4-i4-s2');
  });

  it('names what is wrong with a bad spec', async () => {
    await expect(loadDataset(join(cacheDir, 'nothing-here'))).rejects.toThrow(/neither a folder/);
    await expect(loadDataset(cacheDir)).rejects.toThrow(/holds no base\.fvecs/);
    await expect(loadDataset(join(fixtures, 'siftsmall', 'README.md'))).rejects.toThrow(/unknown data-set file type/);
    await expect(loadDataset(join(fixtures, 'siftsmall'), { limit: 0 })).rejects.toThrow(
      /limit must be a positive integer/,
    );
  });
});

describe.skipIf(!existsSync(shared))('every shared data set loads from its folder', () => {
  const expected: Array<[string, string, number, number, number]> = [
    ['siftsmall', 'l2', 128, 10_000, 100],
    ['bigann10k', 'l2', 128, 10_000, 100],
    ['cohere-wiki-1k', 'ip', 768, 900, 100],
    ['fashion-mnist-small', 'l2', 784, 1000, 500],
    ['mnist-784', 'l2', 784, 60_000, 10_000],
  ];
  for (const [name, metric, dim, baseCount, queryCount] of expected) {
    it(name, async () => {
      const dataset = await loadDataset(join(shared, name), { cacheDir });
      expect(dataset).toMatchObject({ name, metric, dim, baseCount, queryCount, groundTruthK: 100 });
      // Each ships its ground truth; none is recomputed on a plain load.
      expect(dataset.groundTruthSource).toMatch(/^groundtruth/);
      if (name === 'mnist-784') {
        expect(dataset.labels?.length).toBe(60_000);
        expect(dataset.groundTruthDistances?.length).toBe(10_000 * 100);
        // bvecs widened: pixel values are 0..255 floats.
        expect(Math.max(...dataset.base.subarray(0, 784))).toBeLessThanOrEqual(255);
      }
      if (name === 'bigann10k') expect(dataset.notes.join()).toMatch(/100 of 100 queries equal a base vector/);
    });
  }
});
