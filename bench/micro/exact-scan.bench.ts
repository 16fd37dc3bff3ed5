// Micro-benchmark: native exact top-k, on 1 and 2 native threads, against its TypeScript twin and a
// plain JavaScript loop on 100,000 × 128 random vectors. Run by hand: `npx tsx
// bench/micro/exact-scan.bench.ts`. Prints a tinybench table and the speed ratios
// (QUIVERDB_PORTABLE_KERNELS=1 measures the portable kernel).
import { Bench } from 'tinybench';
import { type KernelMetric, type NativeKernels, nativeKernels } from '../../src/native/kernels.js';
import { referenceKernels } from '../../src/native-reference.js';
import { SeededRandom } from '../../src/quant/random.js';
import { plainTopK } from '../contestants/plain-js.js';

const BASE_COUNT = 100_000;
const DIM = 128;
const QUERY_COUNT = 8;
const K = 10;

const random = new SeededRandom(2024);
const base = Float32Array.from({ length: BASE_COUNT * DIM }, () => random.nextFloat() * 2 - 1);
const queries = Float32Array.from({ length: QUERY_COUNT * DIM }, () => random.nextFloat() * 2 - 1);
const firstQuery = queries.subarray(0, DIM);
const labels = new Int32Array(QUERY_COUNT * K);
const distances = new Float32Array(QUERY_COUNT * K);

/** What an application would write without QuiverDB: the harness's plain-js exact top-k. */
function plainLoop(query: Float32Array): void {
  labels.set(plainTopK(base, BASE_COUNT, DIM, 'l2', query, K));
}

function scan(kernels: NativeKernels, metric: KernelMetric, batch: Float32Array, threads = 1): void {
  kernels.exactTopK({ metric, queries: batch, base, dim: DIM, k: K, labels, distances, threads });
}

// Sanity check before timing: both kernels return the same nearest neighbours.
scan(nativeKernels, 'l2', queries);
const nativeLabels = labels.slice();
scan(referenceKernels, 'l2', queries);
const agreeing = nativeLabels.filter((label, slot) => label === labels[slot]).length;
console.log(`native and reference agree on ${agreeing} of ${labels.length} top-${K} labels`);

const bench = new Bench({ name: 'exact top-k', time: 2_000, iterations: 5, warmupIterations: 2 });
const tasks = {
  native1: `native, 1 query (l2, ${BASE_COUNT} × ${DIM}, k ${K})`,
  native1threads2: 'native, 1 query, 2 threads (l2)',
  native8: `native, batch of ${QUERY_COUNT} queries (l2)`,
  native8threads2: `native, batch of ${QUERY_COUNT} queries, 2 threads (l2)`,
  native8ip: `native, batch of ${QUERY_COUNT} queries (ip)`,
  reference1: 'TypeScript reference, 1 query (l2)',
  reference8: `TypeScript reference, batch of ${QUERY_COUNT} queries (l2)`,
  plain1: 'plain JavaScript loop, 1 query (l2)',
};
bench
  .add(tasks.native1, () => scan(nativeKernels, 'l2', firstQuery))
  .add(tasks.native1threads2, () => scan(nativeKernels, 'l2', firstQuery, 2))
  .add(tasks.native8, () => scan(nativeKernels, 'l2', queries))
  .add(tasks.native8threads2, () => scan(nativeKernels, 'l2', queries, 2))
  .add(tasks.native8ip, () => scan(nativeKernels, 'ip', queries))
  .add(tasks.reference1, () => scan(referenceKernels, 'l2', firstQuery))
  .add(tasks.reference8, () => scan(referenceKernels, 'l2', queries))
  .add(tasks.plain1, () => plainLoop(firstQuery));
await bench.run();
console.table(bench.table());

/** Mean milliseconds per call of a finished task. */
function meanMilliseconds(name: string): number {
  const result = bench.getTask(name)?.result;
  if (result?.state !== 'completed') throw new Error(`task "${name}" did not complete`);
  return result.latency.mean;
}
const perQuery = (name: string, queryCount: number) => meanMilliseconds(name) / queryCount;
console.log(
  `per query: native ${perQuery(tasks.native1, 1).toFixed(2)} ms alone, ${perQuery(tasks.native8, QUERY_COUNT).toFixed(2)} ms in a batch; ` +
    `reference ${perQuery(tasks.reference1, 1).toFixed(2)} ms alone, ${perQuery(tasks.reference8, QUERY_COUNT).toFixed(2)} ms in a batch`,
);
console.log(
  `speed ratio (reference / native): ${(meanMilliseconds(tasks.reference1) / meanMilliseconds(tasks.native1)).toFixed(1)}× for one query, ` +
    `${(meanMilliseconds(tasks.reference8) / meanMilliseconds(tasks.native8)).toFixed(1)}× for a batch of ${QUERY_COUNT}`,
);
const plain = meanMilliseconds(tasks.plain1);
console.log(
  `speed ratio (plain JavaScript loop / native): ${(plain / meanMilliseconds(tasks.native1)).toFixed(1)}× for one query ` +
    `(${(plain / meanMilliseconds(tasks.native1threads2)).toFixed(1)}× on 2 threads), ` +
    `${(plain / perQuery(tasks.native8, QUERY_COUNT)).toFixed(1)}× per query in a batch of ${QUERY_COUNT} ` +
    `(${(plain / perQuery(tasks.native8threads2, QUERY_COUNT)).toFixed(1)}× on 2 threads)`,
);
