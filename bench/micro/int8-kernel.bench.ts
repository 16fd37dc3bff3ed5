// Micro-benchmark: the int8 HNSW graph's own traversal (src/index/hnsw.ts with int8 ranges; the
// kernels of native/scalar-quantiser.cc) against the float32 graph's, on a 20k subset of mnist-784
// and a synthetic 768-d cosine set: time per single query at equal ef, the int8 graph asked for
// max(k, rerank) candidates as the int8 index asks it (the float rescoring excluded from the time),
// and recall@10 of both (the int8 one after rescoring its candidates with the float vectors). And
// the kernels nearly alone: nanoseconds per label of each graph's exactAmong over its first
// KERNEL_LABELS labels (a hash look-up of the label, then the query kernel; int8 vectors cache-resident).
// Run by hand: `node --import tsx bench/micro/int8-kernel.bench.ts [--mnist DIR] [--rows 20000]
// [--sets both|mnist|synthetic] [--threads 2]`.
// Prints figures; asserts nothing.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { HnswIndex } from '../../src/index/hnsw.js';
import { learnRanges } from '../../src/index/scalar-quantiser.js';
import { normalizedRows } from '../../src/index/vector-math.js';
import { nativeKernels } from '../../src/native/kernels.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { readBvecs } from '../datasets/texmex.js';
import { type MicroDataSet as DataSet, timedRound } from './micro-report.js';

const flag = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1]!;
};
const THREADS = Number(flag('--threads', '2'));
const MNIST = flag('--mnist', join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'mnist-784'));
/** Base rows of each set (mnist-784 has 60,000; its first rows are taken). */
const BASE_ROWS = Number(flag('--rows', '20000'));
/** Which sets to run: `mnist`, `synthetic` or `both`. */
const SETS = flag('--sets', 'both');
const QUERY_ROWS = 1000;
const K = 10;
const RERANK = 20;
const EFS = [20, 64];
const PARAMS = { m: 16, efConstruction: 200 };
/** Each time is the best of this many alternating rounds: the machine is shared, and the best round is the one least disturbed. */
const ROUNDS = 3;
const ROUND_MS = 1000;
/** Labels scored per query in the kernel measurement: 2,000 int8 vectors (1.6 MB) stay in cache; float ones (6 MB) less so. */
const KERNEL_LABELS = 2000;

const format = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Exact top-k labels and distances per query (cosine over normalised copies, as the graphs see them). */
function exactTop(set: DataSet, queries: Float32Array, base: Float32Array, k: number) {
  const count = queries.length / set.dim;
  const labels = new Int32Array(count * k);
  const distances = new Float32Array(count * k);
  nativeKernels.exactTopK({
    metric: set.metric === 'l2' ? 'l2' : 'ip',
    queries,
    base,
    dim: set.dim,
    k,
    labels,
    distances,
  });
  return { labels, distances };
}

/** Microseconds per query of `pass` (which runs `queryCount` queries), over one round of ROUND_MS. */
function roundMicros(pass: () => void, queryCount: number): number {
  const { queries, ms } = timedRound(pass, queryCount, ROUND_MS);
  return (ms * 1000) / queries;
}

function seconds(work: () => void): number {
  const start = performance.now();
  work();
  return (performance.now() - start) / 1000;
}

function benchmark(set: DataSet): void {
  const { dim, metric } = set;
  const cosine = metric === 'cosine';
  const count = set.base.length / dim;
  const queryCount = set.queries.length / dim;
  const seen = {
    base: cosine ? normalizedRows(set.base, dim) : set.base,
    queries: cosine ? normalizedRows(set.queries, dim) : set.queries,
  };
  const truth = exactTop(set, seen.queries, seen.base, K).labels;
  console.log(
    `\n## ${set.name}: ${count} × ${dim}, ${metric}, ${queryCount} queries, k ${K}, rerank ${RERANK}, m ${PARAMS.m}, efConstruction ${PARAMS.efConstruction}`,
  );
  const labels = Uint32Array.from({ length: count }, (_, label) => label);
  const float = new HnswIndex(metric, dim, PARAMS, count);
  const floatBuild = seconds(() => float.upsertBatch(labels, set.base, THREADS));
  // The ranges the int8 index learns (from the vectors as the graph sees them: normalised for cosine).
  const int8 = new HnswIndex(metric, dim, PARAMS, count, 'simd', learnRanges(seen.base, dim));
  const int8Build = seconds(() => int8.upsertBatch(labels, set.base, THREADS));
  console.log(`build on ${THREADS} threads: float ${format(floatBuild, 1)} s, int8 ${format(int8Build, 1)} s`);

  const queries = Array.from({ length: queryCount }, (_, q) => set.queries.subarray(q * dim, (q + 1) * dim));
  const candidates = Math.max(K, RERANK);
  for (const ef of EFS) {
    let floatHits = 0;
    let int8Hits = 0;
    for (let q = 0; q < queryCount; q++) {
      const expected = new Set(truth.subarray(q * K, (q + 1) * K));
      for (const label of float.search(queries[q]!, K, ef).labels) if (expected.has(label)) floatHits++;
      // The int8 index's rescoring: exact float distances of the candidates, the k best kept.
      const found = int8.search(queries[q]!, candidates, ef).labels;
      const query = seen.queries.subarray(q * dim, (q + 1) * dim);
      const scored = found.map((label) => {
        let score = 0;
        for (let i = 0; i < dim; i++) {
          const value = seen.base[label * dim + i]!;
          score += metric === 'l2' ? (value - query[i]!) ** 2 : -value * query[i]!;
        }
        return { label, score };
      });
      scored.sort((a, b) => a.score - b.score || a.label - b.label);
      for (const { label } of scored.slice(0, K)) if (expected.has(label)) int8Hits++;
    }
    const floatPass = () => {
      for (const query of queries) float.search(query, K, ef);
    };
    const int8Pass = () => {
      for (const query of queries) int8.search(query, candidates, ef);
    };
    floatPass();
    int8Pass(); // warm-up
    let best = { float: Infinity, int8: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      best = {
        float: Math.min(best.float, roundMicros(floatPass, queryCount)),
        int8: Math.min(best.int8, roundMicros(int8Pass, queryCount)),
      };
    }
    console.log(
      `ef ${ef}: float graph ${format(best.float, 1)} µs/query (k ${K}), recall@${K} ${format(floatHits / (queryCount * K), 3)}; ` +
        `int8 graph ${format(best.int8, 1)} µs/query (${candidates} candidates), recall@${K} after rescoring ${format(int8Hits / (queryCount * K), 3)}; ` +
        `int8 ÷ float time **${format(best.int8 / best.float, 2)}**`,
    );
  }
  const kernelLabels = Uint32Array.from({ length: Math.min(KERNEL_LABELS, count) }, (_, label) => label);
  const kernelQueries = queries.slice(0, 100);
  const kernelPass = (graph: HnswIndex) => () => {
    for (const query of kernelQueries) graph.exactAmong(query, kernelLabels, 1);
  };
  let kernel = { float: Infinity, int8: Infinity };
  for (let round = 0; round < ROUNDS; round++) {
    const distances = kernelQueries.length * kernelLabels.length;
    kernel = {
      float: Math.min(kernel.float, (roundMicros(kernelPass(float), 1) * 1000) / distances),
      int8: Math.min(kernel.int8, (roundMicros(kernelPass(int8), 1) * 1000) / distances),
    };
  }
  console.log(
    `exactAmong over ${kernelLabels.length} labels per query: float ${format(kernel.float, 1)} ns/label, ` +
      `int8 ${format(kernel.int8, 1)} ns/label (**${format(kernel.int8 / kernel.float, 2)}**)`,
  );
  float.dispose();
  int8.dispose();
}

console.log(`# int8 vs float32 HNSW traversal — ${new Date().toISOString()}`);
console.log(
  `threads ${THREADS}; load average before: ${loadavg()
    .map((value) => format(value, 2))
    .join(', ')}`,
);
const mnistFound = existsSync(join(MNIST, 'base.bvecs'));
if (SETS !== 'synthetic' && mnistFound) {
  benchmark({
    name: `mnist-784 (first ${BASE_ROWS})`,
    metric: 'l2',
    dim: 784,
    base: readBvecs(join(MNIST, 'base.bvecs'), { limit: BASE_ROWS }).data,
    queries: readBvecs(join(MNIST, 'query.bvecs'), { limit: QUERY_ROWS }).data,
  });
} else if (SETS !== 'synthetic') {
  console.log(`\n(mnist-784 skipped: no base.bvecs in ${MNIST}; pass --mnist DIR)`);
}
if (SETS !== 'mnist') {
  const synthetic = generateSynthetic({ n: BASE_ROWS, dim: 768, queries: QUERY_ROWS, metric: 'cosine', seed: 7 });
  benchmark({ name: 'synthetic-768', metric: 'cosine', dim: 768, base: synthetic.base, queries: synthetic.queries });
}
console.log(
  `\nload average after: ${loadavg()
    .map((value) => format(value, 2))
    .join(', ')}`,
);
