// The text suite (`npm run bench -- --suite text --dataset <BEIR folder>`): loads a BEIR-format
// corpus into a collection with a full-text index (title + text of each document, as one text),
// and reports nDCG@10, recall@100 and MRR@10 against the qrels, text-query QPS and p50/p99, the
// ingest rate with text and the full-text index's size. With --corpus-vectors and --query-vectors
// (fvecs in the files' order) it also measures vector-only search and each fusion; with
// --random-vectors <dim>, seeded random vectors stand in for a dataset without embeddings, for the
// latencies only (their relevance is n/a). It also times reopening the collection (the in-memory
// text index is rebuilt then) and the memory that takes. Uses QuiverDB's public API, and SQLite's
// dbstat (read-only) for the index size; writes text.json and text.md.

import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { QueryOptions } from '../../src/index.js';
import { type BeirDataset, loadBeir } from '../datasets/beir.js';
import { SeededRandom } from '../datasets/synthetic.js';
import { readFvecs } from '../datasets/texmex.js';
import { type MachineInfo, machineInfo } from './machine.js';
import { folderBytes, now, percentile, secondsBetween } from './measure.js';
import type { BenchOptions } from './options.js';
import { createProgress } from './progress.js';
import { type RelevanceSummary, summarize } from './relevance.js';

const COLLECTION = 'text';
/** Documents per upsert while loading. */
const LOAD_BATCH = 1_000;
/** Depth of the ranked lists the metrics read (recall@100). */
const DEPTH = 100;
/** Hits per timed query. */
const K = 10;
/** Weighted-fusion alphas measured beside RRF. */
const ALPHAS = [0.3, 0.5, 0.7];

/** Seed of --random-vectors (corpus vectors first, then query vectors). */
const RANDOM_VECTORS_SEED = 16;

/** One way of querying, measured for relevance and latency (relevance NaN, null in JSON, when the vectors were random). */
export interface TextModeResult extends RelevanceSummary {
  mode: string;
  qps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface TextResults {
  suite: 'text';
  machine: MachineInfo;
  loadAverage: number[];
  dataset: string;
  documents: number;
  queries: number;
  tokenizer: string;
  passes: number;
  ingestSeconds: number;
  /** Documents per second through upsert (with their text and, when given, their vectors). */
  ingestRate: number;
  /** 'given' (fvecs files), 'random' (--random-vectors: latency only) or 'none'. */
  vectors: 'given' | 'random' | 'none';
  /** Seconds to open the database and the collection again after the load (the in-memory text index is built then). */
  openSeconds: number;
  /** Growth of the heap and array buffers over that open, after garbage collection (bytes). */
  openMemoryBytes: number;
  /** Bytes of the FTS5 index's tables in quiver.sqlite, and of the whole database folder. */
  textIndexBytes: number;
  databaseBytes: number;
  modes: TextModeResult[];
  /** Hybrid (RRF) p50 over the sum of the vector-only and text-only p50s (when vectors were given). */
  hybridLatencyRatio?: number;
  /** The same ratio of the p99s. */
  hybridLatencyRatioP99?: number;
}

export type TextOptions = Pick<
  BenchOptions,
  'datasets' | 'out' | 'queries' | 'passes' | 'warmup' | 'progress' | 'quiet'
> & {
  corpusVectors?: string | undefined;
  queryVectors?: string | undefined;
  randomVectors?: number | undefined;
  tokenizer?: 'porter' | 'unicode61' | 'trigram' | undefined;
};

/** `rows` seeded gaussian vectors of `dim` numbers. */
function randomVectors(rows: number, dim: number, random: SeededRandom): { dim: number; data: Float32Array } {
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = random.gaussian();
  return { dim, data };
}

/** The garbage collector, exposed for the memory measurement. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function vectorsOf(path: string, rows: number, what: string): { dim: number; data: Float32Array } {
  const set = readFvecs(path);
  if (set.count !== rows) {
    throw new Error(`${path} holds ${set.count} vectors; the ${what} has ${rows} rows (one vector per row, in order)`);
  }
  return { dim: set.dim, data: set.data };
}

/** Runs the text suite on the first --dataset and writes text.json and text.md. */
export async function runText(
  options: TextOptions,
): Promise<{ results: TextResults; outDir: string; files: string[] }> {
  const { open } = await import('../../src/index.js');
  const progress = createProgress({ bar: options.progress, quiet: options.quiet });
  const folder = options.datasets[0]!;
  const data: BeirDataset = loadBeir(folder);
  const queries = options.queries === undefined ? data.queries : data.queries.slice(0, options.queries);
  const qrels = new Map(queries.map((query) => [query.id, data.qrels.get(query.id)!]));
  if ((options.corpusVectors === undefined) !== (options.queryVectors === undefined)) {
    throw new Error('give --corpus-vectors and --query-vectors together');
  }
  if (options.randomVectors !== undefined && options.corpusVectors !== undefined) {
    throw new Error('give --random-vectors or --corpus-vectors and --query-vectors, not both');
  }
  const random = options.randomVectors === undefined ? undefined : new SeededRandom(RANDOM_VECTORS_SEED);
  const corpusVectors =
    options.corpusVectors !== undefined
      ? vectorsOf(options.corpusVectors, data.corpus.length, 'corpus')
      : random && randomVectors(data.corpus.length, options.randomVectors!, random);
  const queryVectors =
    options.queryVectors !== undefined
      ? vectorsOf(options.queryVectors, data.queryRows, 'queries file')
      : random && randomVectors(data.queryRows, options.randomVectors!, random);
  const vectorKind = random !== undefined ? 'random' : corpusVectors !== undefined ? 'given' : 'none';
  if (corpusVectors && queryVectors && corpusVectors.dim !== queryVectors.dim) {
    throw new Error(`corpus vectors have dim ${corpusVectors.dim}, query vectors ${queryVectors.dim}`);
  }
  const dim = corpusVectors ? corpusVectors.dim : 1;
  const tokenizer = options.tokenizer ?? 'porter';
  progress.log(`${data.name}: ${data.corpus.length} documents, ${queries.length} judged queries`);

  const directory = mkdtempSync(join(tmpdir(), 'quiver-bench-text-'));
  try {
    const db = open(directory);
    // Without vectors the collection still needs one per record: a constant, searched by nobody.
    const docs = db.collection(COLLECTION, {
      dim,
      metric: corpusVectors ? 'cosine' : 'l2',
      index: corpusVectors ? { type: 'hnsw' } : { type: 'flat' },
      text: { tokenizer },
    });
    const one = new Float32Array([1]);
    const started = now();
    for (let start = 0; start < data.corpus.length; start += LOAD_BATCH) {
      const batch = data.corpus.slice(start, start + LOAD_BATCH).map((document, i) => ({
        id: document.id,
        vector: corpusVectors ? corpusVectors.data.subarray((start + i) * dim, (start + i + 1) * dim) : one,
        // Title and text as one text, as BEIR's flat BM25 indexes them.
        text: document.title === '' ? document.text : `${document.title}\n${document.text}`,
      }));
      docs.upsert(batch);
    }
    const ingestSeconds = secondsBetween(started, now());
    progress.log(`ingested in ${ingestSeconds.toFixed(2)} s`);

    const queryVector = (position: number): Float32Array =>
      queryVectors!.data.subarray(position * dim, (position + 1) * dim);
    const modes: { mode: string; options: (query: (typeof queries)[number]) => QueryOptions }[] = [
      { mode: 'text (BM25)', options: (query) => ({ text: query.text }) },
    ];
    if (queryVectors) {
      modes.push({ mode: 'vector', options: (query) => ({ vector: queryVector(query.position) }) });
      modes.push({
        mode: 'hybrid RRF (k 60)',
        options: (query) => ({ vector: queryVector(query.position), text: query.text }),
      });
      for (const alpha of ALPHAS) {
        modes.push({
          mode: `hybrid weighted α ${alpha}`,
          options: (query) => ({
            vector: queryVector(query.position),
            text: query.text,
            fusion: { method: 'weighted', alpha },
          }),
        });
      }
    }
    const results: TextModeResult[] = [];
    for (const { mode, options: optionsOf } of modes) {
      const answers = new Map<string, string[]>();
      // Random vectors say nothing of relevance: only the text mode's is measured then.
      const judged = vectorKind !== 'random' || mode === 'text (BM25)';
      for (const query of judged ? queries : []) {
        answers.set(
          query.id,
          docs.query({ ...optionsOf(query), k: DEPTH, includeText: false }).map((hit) => hit.id),
        );
      }
      const relevance: RelevanceSummary = judged
        ? summarize(answers, qrels)
        : { queries: queries.length, ndcgAt10: Number.NaN, recallAt100: Number.NaN, mrrAt10: Number.NaN };
      for (let pass = 0; pass < options.warmup; pass++)
        for (const query of queries) docs.query({ ...optionsOf(query), k: K });
      const latencies: number[] = [];
      let total = 0;
      for (let pass = 0; pass < options.passes; pass++) {
        for (const query of queries) {
          const asked = { ...optionsOf(query), k: K };
          const start = now();
          docs.query(asked);
          const seconds = secondsBetween(start, now());
          latencies.push(seconds * 1000);
          total += seconds;
        }
      }
      latencies.sort((a, b) => a - b);
      const result = {
        mode,
        ...relevance,
        qps: latencies.length / total,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
      };
      results.push(result);
      progress.log(
        `${mode}: nDCG@10 ${figure(result.ndcgAt10)}, recall@100 ${figure(result.recallAt100)}, MRR@10 ${figure(result.mrrAt10)}, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms`,
      );
    }
    db.close();
    // Reopen: the collection's indexes are loaded (the vector index from its snapshot, the in-memory
    // text index from the FTS5 table), timed, with the memory that takes.
    const gc = collector();
    gc();
    const memoryBefore = heapBytes();
    const openStarted = now();
    const reopened = open(directory);
    const collection = reopened.collection(COLLECTION);
    const openSeconds = secondsBetween(openStarted, now());
    gc();
    const openMemoryBytes = heapBytes() - memoryBefore;
    progress.log(
      `reopened in ${openSeconds.toFixed(3)} s, ${(openMemoryBytes / 1048576).toFixed(1)} MiB more heap (${collection.count()} records)`,
    );
    reopened.close();
    const textIndexBytes = textIndexSize(join(directory, 'quiver.sqlite'));
    const byMode = new Map(results.map((result) => [result.mode, result]));
    const hybrid = byMode.get('hybrid RRF (k 60)');
    const results_: TextResults = {
      suite: 'text',
      machine: machineInfo(),
      loadAverage: loadavg(),
      dataset: data.name,
      documents: data.corpus.length,
      queries: queries.length,
      tokenizer,
      passes: options.passes,
      ingestSeconds,
      ingestRate: data.corpus.length / ingestSeconds,
      vectors: vectorKind,
      openSeconds,
      openMemoryBytes,
      textIndexBytes,
      databaseBytes: folderBytes(directory),
      modes: results,
      ...(hybrid === undefined
        ? {}
        : {
            hybridLatencyRatio: hybrid.p50Ms / (byMode.get('vector')!.p50Ms + byMode.get('text (BM25)')!.p50Ms),
            hybridLatencyRatioP99: hybrid.p99Ms / (byMode.get('vector')!.p99Ms + byMode.get('text (BM25)')!.p99Ms),
          }),
    };
    const outDir = resolve(options.out);
    mkdirSync(outDir, { recursive: true });
    const files = [join(outDir, 'text.json'), join(outDir, 'text.md')];
    writeFileSync(files[0]!, `${JSON.stringify(results_, null, 2)}\n`);
    writeFileSync(files[1]!, renderText(results_));
    return { results: results_, outDir, files };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Bytes of the FTS5 tables (records_text_*) in a quiver.sqlite, by SQLite's dbstat. */
function textIndexSize(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'records\\_text\\_%' ESCAPE '\\'")
      .pluck()
      .get() as number;
  } finally {
    db.close();
  }
}

/** A relevance figure, or n/a when it was not measured. */
function figure(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(4);
}

function renderText(results: TextResults): string {
  const lines = [
    `# Text retrieval: ${results.dataset}`,
    '',
    `${results.documents} documents, ${results.queries} judged queries, tokenizer ${results.tokenizer}, ${results.passes} timed pass(es); load average ${results.loadAverage.map((value) => value.toFixed(2)).join(' ')}.`,
    '',
    `Ingest: ${results.ingestRate.toFixed(0)} documents/s (${results.ingestSeconds.toFixed(2)} s). Full-text index: ${(results.textIndexBytes / 1048576).toFixed(2)} MiB; database folder ${(results.databaseBytes / 1048576).toFixed(2)} MiB.`,
    '',
    `Reopen (vector index and in-memory text index loaded): ${(results.openSeconds * 1000).toFixed(0)} ms, ${(results.openMemoryBytes / 1048576).toFixed(1)} MiB of heap.`,
    '',
    ...(results.vectors === 'random'
      ? [
          'Vectors: seeded random (--random-vectors), for latency only: relevance of vector and hybrid modes is n/a.',
          '',
        ]
      : []),
    '| mode | nDCG@10 | recall@100 | MRR@10 | QPS | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.modes.map(
      (mode) =>
        `| ${mode.mode} | ${figure(mode.ndcgAt10)} | ${figure(mode.recallAt100)} | ${figure(mode.mrrAt10)} | ${mode.qps.toFixed(0)} | ${mode.p50Ms.toFixed(3)} | ${mode.p99Ms.toFixed(3)} |`,
    ),
  ];
  if (results.hybridLatencyRatio !== undefined) {
    lines.push(
      '',
      `Hybrid (RRF) p50 / (vector p50 + text p50): ${results.hybridLatencyRatio.toFixed(2)}; the same of the p99s: ${results.hybridLatencyRatioP99!.toFixed(2)}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
