// Command-line options of `npm run bench`: parsing, defaults, --quick and the --help text.
// Imports node:util and the error type; knows nothing of data sets or contestants beyond names.

import { parseArgs } from 'node:util';
import { QuiverError } from '../../src/errors.js';
import type { Metric } from '../datasets/dataset.js';
import { parseMetric } from '../datasets/dataset.js';

/** The measurements `npm run bench` can make: recall/latency sweeps, ingest and open times, filters, Arrow import. */
export type Suite = 'recall' | 'durability' | 'filters' | 'import' | 'text' | 'footprint' | 'replication';

function isSuite(name: string, suites: readonly Suite[]): name is Suite {
  return (suites as readonly string[]).includes(name);
}

/** Every setting of one harness run, after defaults and --quick are applied. */
export interface BenchOptions {
  suite: Suite;
  /**
   * Durability suite: size of the collection whose open time is measured; import suite: rows of the
   * Arrow file (undefined: the plan's own).
   */
  vectors: number | undefined;
  datasets: string[];
  out: string;
  /** Recall depths to report (e.g. 1, 10, 100). */
  recallDepths: number[];
  m: number[];
  efConstruction: number[];
  ef: number[];
  index: Array<'hnsw' | 'flat' | 'ivfpq'>;
  /** ivfpq: coarse lists and PQ sub-spaces (undefined: QuiverDB's default, dim / 8) to build. */
  nlist: number[];
  pqM: number[] | undefined;
  /** ivfpq: lists probed and candidates re-ranked; every pair is one sweep point. */
  nprobe: (number | 'auto')[];
  rerank: (number | 'auto')[];
  passes: number;
  warmup: number;
  queries: number | undefined;
  limit: number | undefined;
  contestants: string[];
  metric: Metric | undefined;
  durability: 'full' | 'normal' | undefined;
  /** QuiverDB's native threads (open's `threads`); undefined: its default, the number of cores. */
  threads: number | undefined;
  /** Queries per batch call in the batch measurement; undefined: all the queries in one call. */
  batch: number | undefined;
  cacheDir: string | undefined;
  quick: boolean;
  /** Import suite: the Arrow file also holds three scalar metadata columns. */
  metadata: boolean;
  /** Text suite: fvecs files of the corpus and query vectors, in the files' order. */
  corpusVectors: string | undefined;
  queryVectors: string | undefined;
  /** Text suite: seeded random corpus and query vectors of this dim, for latency only. */
  randomVectors: number | undefined;
  /** Text suite: the full-text tokenizer (default porter). */
  tokenizer: 'porter' | 'unicode61' | 'trigram' | undefined;
  progress: boolean;
  quiet: boolean;
  help: boolean;
}

/** The defaults, documented in --help. */
export const DEFAULTS = {
  dataset: 'synthetic',
  recallDepths: [1, 10, 100],
  m: [16],
  efConstruction: [200],
  ef: [10, 20, 40, 80, 160, 320],
  index: ['hnsw'] as Array<'hnsw' | 'flat' | 'ivfpq'>,
  nlist: [256],
  nprobe: [1, 2, 4, 8, 16, 32, 64],
  rerank: [10, 100],
  passes: 3,
  warmup: 1,
  contestants: ['quiverdb', 'hnswlib-node'],
};

/** What --quick changes unless the option is given explicitly: a smoke run of about a minute. */
export const QUICK = { limit: 2000, queries: 50, ef: [10, 40, 160], passes: 1, warmup: 1 };

/** The --help text. */
export const HELP = `Usage: npm run bench -- [options]

Measures recall, QPS, latency, build time, memory, disk and open time of QuiverDB and of
hnswlib-node used directly, over one or more data sets, and writes JSON, Markdown and SVG.
With --suite durability, measures durable ingest rates and open times instead; with --suite
filters, filtered recall and latency at several selectivities; with --suite import, the rate of
upsertArrow from an Arrow IPC file; with --suite replication, change-feed throughput and lag
through NATS JetStream.

Suite:
  --suite <name>           recall (default): the recall/QPS sweep over data sets.
                           durability: ingest rate (vectors/s) for batches of 1, 100 and 10,000
                           under durability full and normal, hnsw and flat, beside hnswlib-node
                           built in memory; open time of a 100,000 × 128 hnsw collection from its
                           snapshot, with 10,000 log rows to replay after a crash, and rebuilt.
                           --quick shrinks it to 10,000 vectors. Writes durability.json and .md
                           filters: on each --dataset, recall@10 and p50/p99 latency of queries
                           filtered to 0.1%, 1%, 10%, 50% and 100% of the records (and to one
                           class when the set has labels, e.g. mnist-784's digits), against
                           exact filtered ground truth. Writes filters.json and .md
                           import: writes a synthetic N × 128 Arrow IPC file (batches of 10,000
                           rows) and imports it with upsertArrow into new databases for each
                           --index (default flat,ivfpq,hnsw) under durability normal and full
                           (or --durability); vectors/s, seconds, close time, disk. flat and
                           ivfpq import --warmup times untimed, then --passes times (median),
                           and once in a new process (as quiver import does); hnsw once.
                           --quick: 5,000 vectors in batches of 1,000, one pass, no new process.
                           Writes import.json and .md
                           text: on the --dataset BEIR folder (corpus.jsonl, queries.jsonl, a
                           qrels .tsv), BM25 nDCG@10, recall@100 and MRR@10, text-query QPS and
                           p50/p99, ingest rate with text, full-text index size; with
                           --corpus-vectors and --query-vectors also vector-only and fusions.
                           Writes text.json and .md
                           replication: changes/s of the writer, publish() and a new replica
                           (batches of 1, 100, 10,000 of 128-d with metadata; 1,000 / 20,000 /
                           50,000 changes, --quick 200 / 2,000 / 10,000) and commit-to-visible
                           lag p50/p99 at 1,000 changes/s with one NATS node and three (R3);
                           starts nats-server itself. Writes replication.json and .md
                           footprint: RSS of a new process after importing quiverdb (ESM and
                           CJS, from a fresh dist/) over bare node, and µs per query in process
                           vs through openInWorker (20,000 × 128; --quick 2,000). Writes
                           footprint.json and .md
  --corpus-vectors <fvecs> Text suite: one vector per corpus.jsonl row, in order
  --query-vectors <fvecs>  Text suite: one vector per queries.jsonl row, in order
  --random-vectors <dim>   Text suite: seeded random corpus and query vectors of this dim, to
                           measure vector-only and hybrid LATENCY where a dataset has no
                           embeddings (their relevance figures are then n/a)
  --tokenizer <name>       Text suite: porter (default), unicode61 or trigram
  --vectors <N>            Durability suite: size of the collection whose open time is measured
                           (default 100000, --quick 10000); also caps the ingest runs.
                           Import suite: rows of the Arrow file (default 100000, --quick 5000)
  --metadata               Import suite: the file also holds three scalar metadata columns
                           (lang Utf8, year Int32, score Float64)

Data:
  --dataset <spec>         Repeatable. A folder (base.{fvecs,bvecs} + query.* + groundtruth*.ivecs,
                           or base.arrow + query.arrow, or one .hdf5), an ann-benchmarks .hdf5/.h5
                           file, an Arrow .arrow/.arrows file, or
                           synthetic:n=10000,dim=128,clusters=100,intrinsic=32,queries=100,seed=42
                           (also spread=, noise=, metric=). Default: ${DEFAULTS.dataset}
  --metric <l2|cosine|ip>  Use this metric instead of the data set's own (ground truth is
                           taken from groundtruth_<metric>.ivecs or computed)
  --limit <N>              Use only the first N base vectors (ground truth is recomputed)
  --queries <N>            Use only the first N queries
  --cache <dir>            Ground-truth cache (default bench-results/.cache)

Indexes:
  --index <list>           Index types: hnsw, flat, ivfpq (default ${DEFAULTS.index.join(',')})
  --nlist <list>           ivfpq coarse lists (default ${DEFAULTS.nlist.join(',')})
  --pq-m <list>            ivfpq PQ sub-spaces = bytes per vector (default: dim / 8)
  --nprobe <list>          ivfpq lists probed, swept (default ${DEFAULTS.nprobe.join(',')}); 'auto':
                           the engine's own choice (QuiverDB: calibrated at training)
  --rerank <list>          ivfpq candidates re-ranked exactly, swept with each nprobe
                           (default ${DEFAULTS.rerank.join(',')}; rerank ≤ k means no re-rank; 'auto' as above)
  --m <list>               HNSW graph degree(s) (default ${DEFAULTS.m.join(',')})
  --ef-construction <list> HNSW build effort(s) (default ${DEFAULTS.efConstruction.join(',')})
  --ef <list>              Search efforts to sweep (default ${DEFAULTS.ef.join(',')}); hnswlib
                           searches with max(ef, k)
  --contestants <list>     quiverdb (query: hits with metadata), quiverdb-ids (queryIds: ids and
                           distances only), quiverdb-int8 (query over an int8 HNSW graph), hnswlib-node, plain-js (exact search as a plain
                           JavaScript loop; flat only); optional peer engines, installed with
                           \`npm install --prefix bench/peers\`: usearch (hnsw), vectorlite (hnsw),
                           lancedb (HNSW-SQ for hnsw, IVF-PQ + refine for ivfpq)
                           (default ${DEFAULTS.contestants.join(',')})
  --durability <mode>      QuiverDB's durability: full or normal (default: QuiverDB's own)
  --threads <N>            QuiverDB's native threads for builds, batched queries and exact scans
                           (default: its own, the number of cores); HNSW single queries run on one
  --batch <N>              Queries per batch call in the batch measurement (QuiverDB's queryBatch /
                           queryIdsBatch at the first k of each ef; default: all queries in one call)

Measurement:
  --k <list>               Recall depths (default ${DEFAULTS.recallDepths.join(',')}). Depths up to 10
                           come from one k=10 search; larger depths from a search of that k
  --passes <N>             Timed passes over the queries per ef; medians reported (default ${DEFAULTS.passes})
  --warmup <N>             Untimed warm-up passes before them (default ${DEFAULTS.warmup})
  --quick                  Smoke run: --limit ${QUICK.limit} --queries ${QUICK.queries} --ef ${QUICK.ef.join(',')} --passes ${QUICK.passes}
                           unless given explicitly

Output:
  --out <dir>              Results folder (default bench-results/<timestamp>): results.json,
                           results.md and <data set>.svg
  --no-progress            No progress bar (it is off anyway when stderr is not a terminal)
  --quiet                  No progress bar and no log lines
  --help                   This text
`;

function fail(message: string): never {
  throw new QuiverError('INVALID_ARGUMENT', `${message} (see --help)`);
}

function positiveInteger(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) fail(`--${name} must be a positive integer, got '${value}'`);
  return number;
}

/** A list of positive integers and 'auto'. */
function autoOrIntegerList(name: string, value: string): (number | 'auto')[] {
  const values = value.split(',').map((part) => (part.trim() === 'auto' ? 'auto' : positiveInteger(name, part.trim())));
  return [...new Set(values)];
}

function integerList(name: string, value: string): number[] {
  const numbers = value.split(',').map((part) => positiveInteger(name, part.trim()));
  return [...new Set(numbers)];
}

/**
 * Parses the command line (without the node and script arguments).
 * @throws INVALID_ARGUMENT for unknown options or malformed values
 */
export function parseOptions(argv: readonly string[], now: Date = new Date()): BenchOptions {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        suite: { type: 'string' },
        vectors: { type: 'string' },
        dataset: { type: 'string', multiple: true },
        out: { type: 'string' },
        k: { type: 'string' },
        m: { type: 'string' },
        'ef-construction': { type: 'string' },
        ef: { type: 'string' },
        index: { type: 'string' },
        nlist: { type: 'string' },
        'pq-m': { type: 'string' },
        nprobe: { type: 'string' },
        rerank: { type: 'string' },
        passes: { type: 'string' },
        warmup: { type: 'string' },
        queries: { type: 'string' },
        limit: { type: 'string' },
        contestants: { type: 'string' },
        metric: { type: 'string' },
        durability: { type: 'string' },
        threads: { type: 'string' },
        batch: { type: 'string' },
        cache: { type: 'string' },
        quick: { type: 'boolean' },
        metadata: { type: 'boolean' },
        'corpus-vectors': { type: 'string' },
        'query-vectors': { type: 'string' },
        'random-vectors': { type: 'string' },
        tokenizer: { type: 'string' },
        'no-progress': { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const text = (name: string): string | undefined => values[name] as string | undefined;
  const quick = values['quick'] === true;

  const suite = text('suite') ?? 'recall';
  const suites: readonly Suite[] = ['recall', 'durability', 'filters', 'import', 'text', 'footprint', 'replication'];
  if (!isSuite(suite, suites)) {
    fail(`--suite is recall, durability, filters, import, text, footprint or replication, not '${suite}'`);
  }
  const tokenizer = text('tokenizer');
  if (tokenizer !== undefined && tokenizer !== 'porter' && tokenizer !== 'unicode61' && tokenizer !== 'trigram') {
    fail(`--tokenizer is porter, unicode61 or trigram, not '${tokenizer}'`);
  }
  // The import suite measures every index type unless told otherwise.
  const index = (text('index') ?? (suite === 'import' ? 'flat,ivfpq,hnsw' : DEFAULTS.index.join(',')))
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const type of index) {
    if (type !== 'hnsw' && type !== 'flat' && type !== 'ivfpq')
      fail(`--index knows hnsw and flat (exact), and ivfpq, not '${type}'`);
  }

  const contestants = (text('contestants') ?? DEFAULTS.contestants.join(','))
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (contestants.length === 0) fail('--contestants names none');

  const vectorsText = text('vectors');

  const durability = text('durability');
  if (durability !== undefined && durability !== 'full' && durability !== 'normal') {
    fail(`--durability must be full or normal, got '${durability}'`);
  }

  const warmupText = text('warmup');
  const warmup = warmupText === undefined ? (quick ? QUICK.warmup : DEFAULTS.warmup) : Number(warmupText);
  if (!Number.isInteger(warmup) || warmup < 0) fail(`--warmup must be an integer ≥ 0, got '${warmupText}'`);

  const limitText = text('limit');
  const queriesText = text('queries');
  const passesText = text('passes');
  const efText = text('ef');
  const metricText = text('metric');
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  const threadsText = text('threads');
  const threads = threadsText === undefined ? undefined : positiveInteger('threads', threadsText);
  if (threads !== undefined && threads > 256) fail(`--threads must be at most 256, got '${threadsText}'`);
  return {
    suite,
    vectors: vectorsText === undefined ? undefined : positiveInteger('vectors', vectorsText),
    datasets: (values['dataset'] as string[] | undefined) ?? [DEFAULTS.dataset],
    out: text('out') ?? `bench-results/${stamp}`,
    recallDepths: text('k') === undefined ? DEFAULTS.recallDepths : integerList('k', text('k')!).sort((a, b) => a - b),
    m: text('m') === undefined ? DEFAULTS.m : integerList('m', text('m')!),
    efConstruction:
      text('ef-construction') === undefined
        ? DEFAULTS.efConstruction
        : integerList('ef-construction', text('ef-construction')!),
    ef: efText === undefined ? (quick ? QUICK.ef : DEFAULTS.ef) : integerList('ef', efText).sort((a, b) => a - b),
    index: [...new Set(index)] as Array<'hnsw' | 'flat' | 'ivfpq'>,
    nlist: text('nlist') === undefined ? DEFAULTS.nlist : integerList('nlist', text('nlist')!),
    pqM: text('pq-m') === undefined ? undefined : integerList('pq-m', text('pq-m')!),
    nprobe: text('nprobe') === undefined ? DEFAULTS.nprobe : autoOrIntegerList('nprobe', text('nprobe')!),
    rerank: text('rerank') === undefined ? DEFAULTS.rerank : autoOrIntegerList('rerank', text('rerank')!),
    passes: passesText === undefined ? (quick ? QUICK.passes : DEFAULTS.passes) : positiveInteger('passes', passesText),
    warmup,
    queries: queriesText === undefined ? (quick ? QUICK.queries : undefined) : positiveInteger('queries', queriesText),
    limit: limitText === undefined ? (quick ? QUICK.limit : undefined) : positiveInteger('limit', limitText),
    contestants: [...new Set(contestants)],
    metric: metricText === undefined ? undefined : parseMetric(metricText, '--metric'),
    durability: durability as 'full' | 'normal' | undefined,
    threads,
    batch: text('batch') === undefined ? undefined : positiveInteger('batch', text('batch')!),
    cacheDir: text('cache'),
    quick,
    metadata: values['metadata'] === true,
    corpusVectors: text('corpus-vectors'),
    queryVectors: text('query-vectors'),
    randomVectors:
      text('random-vectors') === undefined ? undefined : positiveInteger('random-vectors', text('random-vectors')!),
    tokenizer: tokenizer as 'porter' | 'unicode61' | 'trigram' | undefined,
    progress: values['no-progress'] !== true && values['quiet'] !== true,
    quiet: values['quiet'] === true,
    help: values['help'] === true,
  };
}
