// The durability suite (`npm run bench -- --suite durability`): durable ingest rates by batch size,
// durability mode and index type, beside hnswlib-node built in memory; and open times of an hnsw
// collection from its snapshot, after a crash with log rows to replay, and rebuilt from the records.
// Uses QuiverDB's public API only (src/index.ts); writes durability.json and durability.md.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { Database, OpenOptions, QuiverProgress, UpsertRecord } from '../../src/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { loadAverages, type MachineInfo, machineInfo, REPOSITORY_ROOT } from './machine.js';
import { folderBytes, median, now, percentile, secondsBetween } from './measure.js';
import type { BenchOptions } from './options.js';
import { createProgress, type Progress } from './progress.js';
import { formatBytes, suiteHeadline, table } from './report-markdown.js';

/** Dimension of the synthetic vectors of every measurement. */
export const DURABILITY_DIM = 128;
/** The collection name inside each benchmark database. */
const COLLECTION = 'durability';
/** Records per upsert while building the open-time collection and in the crashing writer. */
const LOAD_BATCH = 1_000;
/** Seed of the synthetic vectors; the crashing writer uses SEED + 1 for its new records. */
const SEED = 2024;
/** hnswlib's level seed, as the recall suite's baseline uses. */
const HNSWLIB_SEED = 100;
/** QuiverDB's default hnsw build parameters (README), used by hnswlib-node by hand too. */
const HNSW = { m: 16, efConstruction: 200 } as const;

/** One ingest measurement: `vectors` records in upserts of `batchSize`. */
export interface IngestStep {
  batchSize: number;
  vectors: number;
}

/** What the suite measures, fixed by --quick and --vectors. */
export interface DurabilityPlan {
  ingest: IngestStep[];
  indexes: Array<'hnsw' | 'flat'>;
  durabilities: Array<'full' | 'normal'>;
  /** Records in the collection whose open time is measured. */
  openVectors: number;
  /** Log rows the crashing writer leaves to replay. */
  replayRows: number;
  /** Timed opens per case; the median is reported. */
  repeats: number;
}

/**
 * The plan: batch size 1 gets fewer vectors so it ends in reasonable time under fsync per commit.
 * `vectors` (--vectors) sets the open-time collection size, scales the replay to a tenth of it
 * (at most 10,000 rows) and caps every ingest step.
 */
export function durabilityPlan(options: { quick: boolean; vectors?: number | undefined }): DurabilityPlan {
  const base: DurabilityPlan = options.quick
    ? {
        ingest: [
          { batchSize: 1, vectors: 200 },
          { batchSize: 100, vectors: 2_000 },
          { batchSize: 10_000, vectors: 10_000 },
        ],
        indexes: ['hnsw', 'flat'],
        durabilities: ['full', 'normal'],
        openVectors: 10_000,
        replayRows: 1_000,
        repeats: 1,
      }
    : {
        ingest: [
          { batchSize: 1, vectors: 2_000 },
          { batchSize: 100, vectors: 50_000 },
          { batchSize: 10_000, vectors: 50_000 },
        ],
        indexes: ['hnsw', 'flat'],
        durabilities: ['full', 'normal'],
        openVectors: 100_000,
        replayRows: 10_000,
        repeats: 3,
      };
  const cap = options.vectors;
  if (cap === undefined) return base;
  return {
    ...base,
    ingest: base.ingest.map((step) => ({ ...step, vectors: Math.min(step.vectors, cap) })),
    openVectors: cap,
    replayRows: Math.max(1, Math.min(10_000, Math.ceil(cap / 10))),
  };
}

/** Figures of one ingest run. */
export interface IngestFigures {
  index: 'hnsw' | 'flat';
  durability: 'full' | 'normal';
  batchSize: number;
  vectors: number;
  commits: number;
  /** Wall time from the first upsert call to the last one returning; every batch is committed. */
  seconds: number;
  vectorsPerSecond: number;
  commitsPerSecond: number;
  /** Per-upsert wall time in milliseconds (nearest rank); max shows automatic index snapshots. */
  commitMilliseconds: { p50: number; p99: number; max: number };
  /** Seconds of the final close() (QuiverDB writes the index snapshot there). */
  closeSeconds: number;
  diskBytes: number;
}

/** hnswlib-node (or its brute-force index) built in memory by hand, for scale. */
export interface InMemoryBuildFigures {
  index: 'hnsw' | 'flat';
  vectors: number;
  seconds: number;
  vectorsPerSecond: number;
}

/** The three ways an hnsw collection can open. */
export type OpenCase = 'snapshot' | 'replay' | 'rebuild';

/** Figures of one open case. */
export interface OpenFigures {
  case: OpenCase;
  description: string;
  /** Records in the collection when it is opened. */
  records: number;
  /** Log rows written after the snapshot and not covered by it (0 for a clean close). */
  logRows: number;
  /** Bytes of the whole database folder, of quiver.sqlite (+ -wal) and of the snapshot file. */
  diskBytes: number;
  sqliteBytes: number;
  snapshotBytes: number;
  /** `open()` + `db.collection(name)` in seconds, every repetition, and their median. */
  runs: number[];
  seconds: number;
  /** The first k=10 query after opening, in milliseconds (median over repetitions). */
  firstQueryMilliseconds: number;
  /** Progress phases QuiverDB reported while opening (load, replay, rebuild). */
  phases: string[];
  /** Warning codes QuiverDB reported while opening. */
  warnings: string[];
}

/** Everything the durability suite writes to durability.json. */
export interface DurabilityResults {
  formatVersion: 1;
  suite: 'durability';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** os.loadavg() (1, 5, 15 minutes) at the start and the end: the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  parameters: DurabilityPlan & { dim: number; quick: boolean; hnsw: typeof HNSW };
  ingest: IngestFigures[];
  inMemoryBuilds: InMemoryBuildFigures[];
  /** Seconds to build the open-time collection (durability 'normal', batches of 1,000). */
  openCollectionBuildSeconds: number;
  open: OpenFigures[];
}

type OpenFunction = (path: string, options?: OpenOptions) => Database;

async function loadOpen(): Promise<OpenFunction> {
  const { open } = await import('../../src/index.js');
  return open;
}

/** Synthetic 128-d vectors from the harness's default distribution (clustered, 32 intrinsic dims). */
function syntheticVectors(count: number, seed: number): Float32Array {
  return generateSynthetic({ n: count, dim: DURABILITY_DIM, queries: 1, seed }).base;
}

/** Records `start .. start + count` of `vectors` (row i gets id `idOffset + i`), in batches. */
function batchesOf(vectors: Float32Array, count: number, batchSize: number, idOffset = 0): UpsertRecord[][] {
  const batches: UpsertRecord[][] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch: UpsertRecord[] = [];
    for (let row = start; row < Math.min(count, start + batchSize); row++) {
      batch.push({ id: idOffset + row, vector: vectors.subarray(row * DURABILITY_DIM, (row + 1) * DURABILITY_DIM) });
    }
    batches.push(batch);
  }
  return batches;
}

function measureIngest(
  open: OpenFunction,
  folder: string,
  vectors: Float32Array,
  index: 'hnsw' | 'flat',
  durability: 'full' | 'normal',
  step: IngestStep,
): IngestFigures {
  const directory = join(folder, `ingest-${index}-${durability}-${step.batchSize}`);
  // Records are built before the clock starts: the figure is QuiverDB's, not the caller's.
  const batches = batchesOf(vectors, step.vectors, step.batchSize);
  const database = open(directory, { durability });
  try {
    const collection = database.collection(COLLECTION, { dim: DURABILITY_DIM, index: { type: index } });
    const commitMilliseconds = new Float64Array(batches.length);
    const start = now();
    let previous = start;
    batches.forEach((batch, position) => {
      collection.upsert(batch);
      const after = now();
      commitMilliseconds[position] = Number(after - previous) / 1e6;
      previous = after;
    });
    const seconds = secondsBetween(start, previous);
    if (collection.count() !== step.vectors) {
      throw new Error(`the collection holds ${collection.count()} records after ${step.vectors} upserts`);
    }
    const closeStart = now();
    database.close();
    const closeSeconds = secondsBetween(closeStart, now());
    const sorted = commitMilliseconds.slice().sort();
    return {
      index,
      durability,
      batchSize: step.batchSize,
      vectors: step.vectors,
      commits: batches.length,
      seconds,
      vectorsPerSecond: step.vectors / seconds,
      commitsPerSecond: batches.length / seconds,
      commitMilliseconds: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
      closeSeconds,
      diskBytes: folderBytes(directory),
    };
  } finally {
    database.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** hnswlib-node used directly, in memory, as an application would without QuiverDB. */
function measureInMemory(vectors: Float32Array, count: number, index: 'hnsw' | 'flat'): InMemoryBuildFigures {
  const start = now();
  const graph =
    index === 'hnsw'
      ? new hnswlib.HierarchicalNSW('l2', DURABILITY_DIM)
      : new hnswlib.BruteforceSearch('l2', DURABILITY_DIM);
  if (graph instanceof hnswlib.HierarchicalNSW) graph.initIndex(count, HNSW.m, HNSW.efConstruction, HNSWLIB_SEED);
  else graph.initIndex(count);
  for (let row = 0; row < count; row++) {
    // hnswlib-node takes plain arrays; the conversion is part of using it by hand.
    graph.addPoint(Array.from(vectors.subarray(row * DURABILITY_DIM, (row + 1) * DURABILITY_DIM)), row);
  }
  const seconds = secondsBetween(start, now());
  return { index, vectors: count, seconds, vectorsPerSecond: count / seconds };
}

/** The snapshot files of the collection: `<db>/<collection>/hnsw.<seq>.bin`. */
function snapshotFiles(directory: string): string[] {
  const folder = join(directory, COLLECTION);
  try {
    return readdirSync(folder)
      .filter((name) => /^hnsw\.\d+\.bin$/.test(name))
      .map((name) => join(folder, name));
  } catch {
    return [];
  }
}

function bytesOf(files: string[]): number {
  let total = 0;
  for (const file of files) {
    try {
      total += statSync(file).size;
    } catch {
      // A file SQLite removed (an empty -wal) counts as nothing.
    }
  }
  return total;
}

/**
 * Runs the crashing writer in a child process: it upserts `count` new records after the snapshot
 * and exits with process.exit(0) without close(), as a crash would; the OS releases its lock.
 */
function crashWriter(directory: string, startId: number, count: number): void {
  const script = join(REPOSITORY_ROOT, 'bench', 'harness', 'durability-writer.ts');
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', script, directory, COLLECTION, String(startId), String(count), String(SEED + 1)],
    { cwd: REPOSITORY_ROOT, encoding: 'utf8' },
  );
  if (child.status !== 0) {
    throw new Error(`the crashing writer failed (exit ${child.status ?? child.signal}): ${child.stderr.trim()}`);
  }
}

const OPEN_DESCRIPTIONS: Record<OpenCase, string> = {
  snapshot: 'from its snapshot after a clean close()',
  replay: 'snapshot + log replay after a writer exited without close() (a crash)',
  rebuild: 'full rebuild from the records (snapshot file deleted; SNAPSHOT_INVALID)',
};

/** Times `repeats` opens of fresh copies of `state`, so every open sees the same files. */
function measureOpen(
  open: OpenFunction,
  state: string,
  work: string,
  openCase: OpenCase,
  logRows: number,
  query: Float32Array,
  repeats: number,
): OpenFigures {
  const runs: number[] = [];
  const firstQueries: number[] = [];
  const phases = new Set<string>();
  const warnings = new Set<string>();
  let records = 0;
  for (let repeat = 0; repeat < repeats; repeat++) {
    rmSync(work, { recursive: true, force: true });
    cpSync(state, work, { recursive: true });
    const options: OpenOptions = {
      onWarning: (warning) => warnings.add(warning.code),
      onProgress: (progress: QuiverProgress) => phases.add(progress.phase),
    };
    const start = now();
    const database = open(work, options);
    const collection = database.collection(COLLECTION);
    runs.push(secondsBetween(start, now()));
    const queryStart = now();
    collection.query({ vector: query, k: 10 });
    firstQueries.push(Number(now() - queryStart) / 1e6);
    records = collection.count();
    database.close();
  }
  rmSync(work, { recursive: true, force: true });
  const sqliteFiles = ['quiver.sqlite', 'quiver.sqlite-wal'].map((name) => join(state, name));
  return {
    case: openCase,
    description: OPEN_DESCRIPTIONS[openCase],
    records,
    logRows,
    diskBytes: folderBytes(state),
    sqliteBytes: bytesOf(sqliteFiles),
    snapshotBytes: bytesOf(snapshotFiles(state)),
    runs,
    seconds: median(runs),
    firstQueryMilliseconds: median(firstQueries),
    phases: [...phases].sort(),
    warnings: [...warnings].sort(),
  };
}

/** Runs the whole suite in a temporary folder (removed at the end) and returns the figures. */
export async function measureDurability(
  plan: DurabilityPlan,
  quick: boolean,
  progress: Progress,
): Promise<DurabilityResults> {
  const open = await loadOpen();
  const startedAt = new Date().toISOString();
  const startLoad = loadAverages();
  const folder = mkdtempSync(join(tmpdir(), 'quiverdb-bench-durability-'));
  try {
    const largest = Math.max(plan.openVectors, ...plan.ingest.map((step) => step.vectors));
    progress.log(`generating ${largest} synthetic ${DURABILITY_DIM}-d vectors`);
    const vectors = syntheticVectors(largest, SEED);

    const ingest: IngestFigures[] = [];
    for (const index of plan.indexes) {
      for (const durability of plan.durabilities) {
        for (const step of plan.ingest) {
          const figures = measureIngest(open, folder, vectors, index, durability, step);
          ingest.push(figures);
          progress.log(
            `ingest ${index}, durability ${durability}, batch ${step.batchSize}: ${Math.round(figures.vectorsPerSecond)} vectors/s ` +
              `(${step.vectors} vectors, ${figures.commits} commits, commit p50 ${figures.commitMilliseconds.p50.toFixed(2)} ms)`,
          );
        }
      }
    }
    const inMemoryBuilds: InMemoryBuildFigures[] = [];
    for (const index of plan.indexes) {
      for (const count of [...new Set(plan.ingest.map((step) => step.vectors))].sort((a, b) => a - b)) {
        const figures = measureInMemory(vectors, count, index);
        inMemoryBuilds.push(figures);
        progress.log(
          `hnswlib-node by hand, ${index}, ${count} vectors: ${Math.round(figures.vectorsPerSecond)} vectors/s`,
        );
      }
    }

    // The open-time collection: built once with durability 'normal' (its build is not the figure),
    // closed cleanly, then copied into the three states.
    const snapshotState = join(folder, 'state-snapshot');
    progress.log(`building the ${plan.openVectors} × ${DURABILITY_DIM} hnsw collection for open times`);
    const buildStart = now();
    const database = open(snapshotState, { durability: 'normal' });
    const collection = database.collection(COLLECTION, { dim: DURABILITY_DIM, index: { type: 'hnsw', ...HNSW } });
    for (const batch of batchesOf(vectors, plan.openVectors, LOAD_BATCH)) collection.upsert(batch);
    database.close();
    const openCollectionBuildSeconds = secondsBetween(buildStart, now());
    progress.log(`built and closed in ${openCollectionBuildSeconds.toFixed(1)} s`);

    const replayState = join(folder, 'state-replay');
    cpSync(snapshotState, replayState, { recursive: true });
    crashWriter(replayState, plan.openVectors, plan.replayRows);
    const rebuildState = join(folder, 'state-rebuild');
    cpSync(snapshotState, rebuildState, { recursive: true });
    const deleted = snapshotFiles(rebuildState);
    if (deleted.length === 0) throw new Error(`no snapshot file under ${join(rebuildState, COLLECTION)}`);
    for (const file of deleted) rmSync(file);

    const query = vectors.subarray(0, DURABILITY_DIM);
    const work = join(folder, 'work');
    const openFigures: OpenFigures[] = [];
    for (const [openCase, state, logRows] of [
      ['snapshot', snapshotState, 0],
      ['replay', replayState, plan.replayRows],
      ['rebuild', rebuildState, 0],
    ] as const) {
      const figures = measureOpen(open, state, work, openCase, logRows, query, plan.repeats);
      openFigures.push(figures);
      progress.log(
        `open ${openCase} (${figures.records} records): ${figures.seconds.toFixed(3)} s ` +
          `[${figures.runs.map((run) => run.toFixed(3)).join(', ')}]; phases ${figures.phases.join(',') || '–'}; ` +
          `warnings ${figures.warnings.join(',') || '–'}`,
      );
    }

    return {
      formatVersion: 1,
      suite: 'durability',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machineInfo(),
      loadAverage: { start: startLoad, end: loadAverages() },
      parameters: { ...plan, dim: DURABILITY_DIM, quick, hnsw: HNSW },
      ingest,
      inMemoryBuilds,
      openCollectionBuildSeconds,
      open: openFigures,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function integer(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

/** Renders durability.md: the machine, a vectors/s summary by batch size, the details, open times. */
export function renderDurabilityMarkdown(results: DurabilityResults): string {
  const { parameters } = results;
  const parts: string[] = ['# QuiverDB durability benchmark'];
  parts.push(suiteHeadline(results));
  parts.push(
    `${parameters.dim}-d synthetic vectors (the harness's default clustered distribution); hnsw with QuiverDB's defaults ` +
      `(m=${parameters.hnsw.m}, efConstruction=${parameters.hnsw.efConstruction}). 'full' fsyncs every commit (SQLite synchronous=FULL); ` +
      `'normal' does not. Ingest time runs from the first upsert call to the last one returning, records built beforehand; ` +
      'close() (which writes the index snapshot) is timed apart.',
  );

  const batchSizes = [...new Set(results.ingest.map((figures) => figures.batchSize))];
  const summaryRows: string[][] = [];
  for (const index of parameters.indexes) {
    for (const durability of parameters.durabilities) {
      const row = [index, `QuiverDB, durability '${durability}'`];
      for (const batchSize of batchSizes) {
        const figures = results.ingest.find(
          (candidate) =>
            candidate.index === index && candidate.durability === durability && candidate.batchSize === batchSize,
        );
        row.push(figures ? integer(figures.vectorsPerSecond) : '–');
      }
      summaryRows.push(row);
    }
    const row = [
      index,
      index === 'hnsw' ? 'hnswlib-node by hand, in memory' : 'hnswlib-node BruteforceSearch, in memory',
    ];
    for (const batchSize of batchSizes) {
      const step = parameters.ingest.find((candidate) => candidate.batchSize === batchSize);
      const build = results.inMemoryBuilds.find(
        (candidate) => candidate.index === index && candidate.vectors === step?.vectors,
      );
      row.push(build ? integer(build.vectorsPerSecond) : '–');
    }
    summaryRows.push(row);
  }
  parts.push('## Durable ingest, vectors/s');
  parts.push(
    table(
      [
        'index',
        'writer',
        ...batchSizes.map((batchSize) => {
          const step = parameters.ingest.find((candidate) => candidate.batchSize === batchSize);
          return `batch ${batchSize.toLocaleString('en-US')} (${(step?.vectors ?? 0).toLocaleString('en-US')} vectors)`;
        }),
      ],
      summaryRows,
    ),
  );
  parts.push(
    'hnswlib-node has no batches and no durability: its figure is its in-memory build rate (addPoint per vector) on the ' +
      'same number of vectors, repeated in each column for scale.',
  );
  parts.push('### Details');
  parts.push(
    table(
      [
        'index',
        'durability',
        'batch',
        'vectors',
        'commits',
        's',
        'vectors/s',
        'commits/s',
        'commit p50 ms',
        'p99 ms',
        'max ms',
        'close s',
        'disk',
      ],
      results.ingest.map((figures) => [
        figures.index,
        figures.durability,
        integer(figures.batchSize),
        integer(figures.vectors),
        integer(figures.commits),
        fixed(figures.seconds, 2),
        integer(figures.vectorsPerSecond),
        figures.commitsPerSecond < 10 ? fixed(figures.commitsPerSecond, 2) : integer(figures.commitsPerSecond),
        fixed(figures.commitMilliseconds.p50, 2),
        fixed(figures.commitMilliseconds.p99, 2),
        fixed(figures.commitMilliseconds.max, 1),
        fixed(figures.closeSeconds, 3),
        formatBytes(figures.diskBytes),
      ]),
    ),
  );
  parts.push(
    table(
      ['in memory, by hand', 'vectors', 's', 'vectors/s'],
      results.inMemoryBuilds.map((build) => [
        build.index === 'hnsw' ? 'hnswlib-node HierarchicalNSW' : 'hnswlib-node BruteforceSearch',
        integer(build.vectors),
        fixed(build.seconds, 2),
        integer(build.vectorsPerSecond),
      ]),
    ),
  );

  parts.push(`## Open time of a ${parameters.openVectors.toLocaleString('en-US')} × ${parameters.dim} hnsw collection`);
  parts.push(
    `\`open(path)\` + \`db.collection(name)\`, ${parameters.repeats === 1 ? 'one open' : `median of ${parameters.repeats} opens`}, each of a fresh copy of the same files ` +
      `(so the files are in the OS page cache: warm opens). The collection was built in ${fixed(results.openCollectionBuildSeconds, 1)} s ` +
      `(durability 'normal', batches of ${LOAD_BATCH.toLocaleString('en-US')}, close included). The replay case's writer ran in a child ` +
      'process that upserted the new records after the snapshot and called process.exit(0) without close().',
  );
  parts.push(
    table(
      [
        'case',
        'records',
        'log rows to replay',
        'open s (median)',
        'runs s',
        'first query ms',
        'disk',
        'SQLite',
        'snapshot file',
        'phases',
        'warnings',
      ],
      results.open.map((figures) => [
        `${figures.case}: ${figures.description}`,
        integer(figures.records),
        integer(figures.logRows),
        fixed(figures.seconds, 3),
        figures.runs.map((run) => run.toFixed(3)).join(', '),
        fixed(figures.firstQueryMilliseconds, 2),
        formatBytes(figures.diskBytes),
        formatBytes(figures.sqliteBytes),
        formatBytes(figures.snapshotBytes),
        figures.phases.join(', ') || '–',
        figures.warnings.join(', ') || '–',
      ]),
    ),
  );
  return `${parts.join('\n\n')}\n`;
}

/** Runs the suite with parsed options and writes `<out>/durability.json` and `<out>/durability.md`. */
export async function runDurability(
  options: Pick<BenchOptions, 'quick' | 'vectors' | 'out' | 'progress' | 'quiet'>,
): Promise<{ results: DurabilityResults; outDir: string; files: string[] }> {
  const progress = createProgress({ bar: false, quiet: options.quiet });
  const plan = durabilityPlan(options);
  const results = await measureDurability(plan, options.quick, progress);
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'durability.json'), join(outDir, 'durability.md')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, renderDurabilityMarkdown(results));
  progress.log(`results written to ${outDir}`);
  return { results, outDir, files };
}
