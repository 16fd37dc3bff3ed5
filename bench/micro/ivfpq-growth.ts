// The IVF-PQ calibration's rerank growth (docs/ivfpq.md, "Calibration", step 4): for each data set,
// an IvfPqIndex over the vectors in memory (nlist 256, m dim/8, target 0.95; training and
// calibration as a collection runs them), then recall@10 against exact ground truth with the
// calibrated settings (the rerank scaled by the measured growth) and with the rerank scaled in
// proportion, as before the growth was measured.
// Run by hand: `npx tsx bench/micro/ivfpq-growth.ts [near-duplicates] [clusters] [mnist]` (all three
// without arguments; mnist reads ../shared/datasets/mnist-784, 1,000 queries). Prints a table;
// asserts nothing. The numbers are the index's own: no SQLite, so times are not printed.
import { join } from 'node:path';
import { IvfPqIndex } from '../../src/index/ivfpq.js';
import { nativeKernels } from '../../src/native/kernels.js';
import { loadDataset } from '../datasets/load.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { REPOSITORY_ROOT } from '../harness/machine.js';

interface Row {
  set: string;
  vectors: number;
  calibrated: string;
  growth: string;
  rerank: string;
  recall: string;
}

function measure(set: string, base: Float32Array, queries: Float32Array, dim: number): Row {
  const fetch = (labels: readonly number[]) =>
    labels.map((label) => ({ label, vector: base.subarray(label * dim, (label + 1) * dim) }));
  const index = new IvfPqIndex('l2', dim, { nlist: 256, m: dim / 8, targetRecall: 0.95 }, fetch);
  const count = base.length / dim;
  index.upsertBatch(
    Int32Array.from({ length: count }, (_, row) => row),
    base,
  );
  const queryCount = queries.length / dim;
  const truth = new Int32Array(queryCount * 10);
  nativeKernels.exactTopK({
    metric: 'l2',
    queries,
    base,
    dim,
    k: 10,
    labels: truth,
    distances: new Float32Array(queryCount * 10),
  });
  const recallWith = (options: { nprobe?: number; rerank?: number }): { recall: number; rerank: number } => {
    let found = 0;
    let rerank = 0;
    for (let query = 0; query < queryCount; query++) {
      const result = index.searchWith(queries.subarray(query * dim, (query + 1) * dim), 10, options);
      rerank = result.stats.rerank;
      const wanted = new Set(truth.subarray(query * 10, (query + 1) * 10));
      for (const label of result.neighbours.labels) if (wanted.has(label)) found++;
    }
    return { recall: found / (queryCount * 10), rerank };
  };
  const calibration = index.calibration!;
  const proportional = Math.min(
    10_000,
    Math.ceil((calibration.rerank * Math.max(count, calibration.base)) / calibration.base),
  );
  const withGrowth = recallWith({});
  const inProportion = recallWith({ nprobe: calibration.nprobe, rerank: proportional });
  return {
    set,
    vectors: count,
    calibrated: `${calibration.nprobe} / ${calibration.rerank} at ${calibration.base}`,
    growth: calibration.growth.toFixed(2),
    rerank: `${proportional} → ${withGrowth.rerank}`,
    recall: `${inProportion.recall.toFixed(3)} → ${withGrowth.recall.toFixed(3)}`,
  };
}

const wanted = process.argv.slice(2);
const runs = wanted.length > 0 ? wanted : ['near-duplicates', 'clusters', 'mnist'];
const rows: Row[] = [];
for (const run of runs) {
  if (run === 'near-duplicates') {
    for (const seed of [42, 7, 1]) {
      const data = generateSynthetic({ kind: 'near-duplicates', seed, queries: 100 });
      rows.push(measure(`near-duplicates 30k × 64, seed ${seed}`, data.base, data.queries, 64));
    }
  } else if (run === 'clusters') {
    const data = generateSynthetic({ n: 100_000, dim: 128, queries: 100, seed: 42 });
    rows.push(measure('clusters 100k × 128', data.base, data.queries, 128));
  } else if (run === 'mnist') {
    const data = await loadDataset(join(REPOSITORY_ROOT, '..', 'shared', 'datasets', 'mnist-784'));
    rows.push(measure('mnist-784 60k, 1,000 queries', data.base, data.queries.subarray(0, 1000 * data.dim), data.dim));
  } else {
    throw new Error(`unknown data set '${run}': near-duplicates, clusters or mnist`);
  }
}
console.log(
  '| data set | vectors | calibrated nprobe / rerank at base | growth used | rerank, proportional → growth | recall@10, proportional → growth |',
);
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(`| ${row.set} | ${row.vectors} | ${row.calibrated} | ${row.growth} | ${row.rerank} | ${row.recall} |`);
}
