// The import suite (`npm run bench -- --suite import`): the rate of `collection.upsertArrow` from a
// synthetic N × 128 Arrow IPC file into fresh databases, per index type and durability mode, in this
// process and (the first import of a process, as `quiver import` makes) in a child process
// (import-child.ts). Uses QuiverDB's public API only (src/index.ts); writes import.json and import.md.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  makeData,
  makeVector,
  RecordBatchFileWriter,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { CollectionOptions, Database, OpenOptions } from '../../src/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { loadAverages, type MachineInfo, machineInfo, REPOSITORY_ROOT } from './machine.js';
import { folderBytes, median, now, secondsBetween } from './measure.js';
import type { BenchOptions } from './options.js';
import { createProgress, type Progress } from './progress.js';
import { formatBytes, suiteHeadline, table } from './report-markdown.js';

/** Dimension of the synthetic vectors. */
export const IMPORT_DIM = 128;
/** The collection name inside each benchmark database. */
const COLLECTION = 'imported';
/** Seed of the synthetic vectors. */
const SEED = 2025;

export type ImportIndex =
  | { type: 'flat' }
  | { type: 'hnsw'; m: number; efConstruction: number }
  | { type: 'ivfpq'; nlist: number; m: number | undefined };

/** What the suite measures, fixed by --quick, --vectors, --index, --durability and --passes. */
export interface ImportPlan {
  /** Rows of the Arrow file. */
  vectors: number;
  /** Rows per record batch of the file: each batch is one upsert (one transaction). */
  batchRows: number;
  /** Whether the file also holds three scalar metadata columns (lang, year, score). */
  metadata: boolean;
  indexes: ImportIndex[];
  durabilities: Array<'normal' | 'full'>;
  /** Timed imports per flat and ivfpq case (the median is reported); hnsw cases run once. */
  repeats: number;
  /** Untimed imports per flat and ivfpq case before the timed ones, in this process. */
  warmup: number;
  /**
   * Whether each flat and ivfpq case also imports once in a new child process: the first import of
   * a process, as one `quiver import` makes, pays for the JIT and for memory not yet touched.
   */
  fresh: boolean;
}

/** The plan: 100,000 vectors in batches of 10,000 (--quick: 5,000 in batches of 1,000). */
export function importPlan(
  options: Pick<
    BenchOptions,
    'quick' | 'vectors' | 'index' | 'm' | 'efConstruction' | 'nlist' | 'pqM' | 'passes' | 'warmup' | 'metadata'
  > & {
    durability: 'full' | 'normal' | undefined;
  },
): ImportPlan {
  const indexes: ImportIndex[] = options.index.map((type) =>
    type === 'flat'
      ? { type }
      : type === 'hnsw'
        ? { type, m: options.m[0] ?? 16, efConstruction: options.efConstruction[0] ?? 200 }
        : { type, nlist: options.nlist[0] ?? 256, m: options.pqM?.[0] },
  );
  return {
    vectors: options.vectors ?? (options.quick ? 5_000 : 100_000),
    batchRows: options.quick ? 1_000 : 10_000,
    metadata: options.metadata,
    indexes,
    durabilities: options.durability === undefined ? ['normal', 'full'] : [options.durability],
    repeats: options.passes,
    warmup: options.warmup,
    fresh: !options.quick,
  };
}

/** Figures of one import. */
export interface ImportRun {
  /** `upsertArrow(file)` from call to settled promise: read, validate, commit every batch, update the index. */
  seconds: number;
  vectorsPerSecond: number;
  /** `db.close()` after it (the index snapshot, SQLite's final checkpoint). */
  closeSeconds: number;
  /** The database folder after close(). */
  diskBytes: number;
  /** 1-minute load average when the import started: the machine may be shared. */
  loadAverage: number;
}

/** Figures of one (index, durability) case. */
export interface ImportCase {
  index: ImportIndex;
  label: string;
  durability: 'normal' | 'full';
  vectors: number;
  batches: number;
  /** The untimed warm-up imports (none for hnsw), then the timed ones. */
  warmupRuns: ImportRun[];
  runs: ImportRun[];
  /** The import in a new child process (flat and ivfpq, unless --quick). */
  freshProcess: ImportRun | undefined;
  /** Medians over the timed runs. */
  seconds: number;
  vectorsPerSecond: number;
  closeSeconds: number;
  diskBytes: number;
}

/** Everything the import suite writes to import.json. */
export interface ImportResults {
  formatVersion: 1;
  suite: 'import';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** os.loadavg() (1, 5, 15 minutes) at the start and the end. */
  loadAverage: { start: number[]; end: number[] };
  parameters: ImportPlan & { dim: number; quick: boolean; threads: number; fileBytes: number };
  cases: ImportCase[];
}

/** A short label for an index configuration. */
export function importIndexLabel(index: ImportIndex): string {
  if (index.type === 'hnsw') return `hnsw m=${index.m} efc=${index.efConstruction}`;
  if (index.type === 'ivfpq') return `ivfpq nlist=${index.nlist} m=${index.m ?? 'dim/8'}`;
  return 'flat';
}

function collectionOptions(index: ImportIndex): CollectionOptions {
  if (index.type === 'hnsw')
    return { dim: IMPORT_DIM, index: { type: 'hnsw', m: index.m, efConstruction: index.efConstruction } };
  if (index.type === 'ivfpq') {
    return {
      dim: IMPORT_DIM,
      index: { type: 'ivfpq', nlist: index.nlist, ...(index.m === undefined ? {} : { m: index.m }) },
    };
  }
  return { dim: IMPORT_DIM, index: { type: 'flat' } };
}

/** The values of the optional metadata columns for row `row`. */
export function importMetadataOf(row: number): { lang: string; year: number; score: number } {
  return { lang: LANGUAGES[row % LANGUAGES.length]!, year: 1990 + (row % 35), score: (row % 1000) / 7 };
}
const LANGUAGES = ['en', 'de', 'fr', 'es'] as const;

/**
 * Writes `count` synthetic vectors (the harness's default clustered distribution) as an Arrow IPC
 * file of record batches of `batchRows`: `id` Utf8 (the row number), `vector` FixedSizeList<Float32>,
 * and with `metadata` the columns of {@link importMetadataOf}: `lang` Utf8, `year` Int32, `score` Float64.
 */
export function writeImportFile(path: string, count: number, batchRows: number, metadata = false): number {
  const vectors = generateSynthetic({ n: count, dim: IMPORT_DIM, queries: 1, seed: SEED }).base;
  const batches = [];
  const type = new FixedSizeList(IMPORT_DIM, new Field('item', new Float32(), false));
  for (let start = 0; start < count; start += batchRows) {
    const rows = Math.min(batchRows, count - start);
    const ids = vectorFromArray(
      Array.from({ length: rows }, (_, row) => String(start + row)),
      new Utf8(),
    );
    const child = makeData({
      type: new Float32(),
      length: rows * IMPORT_DIM,
      data: vectors.subarray(start * IMPORT_DIM, (start + rows) * IMPORT_DIM),
    });
    const rowsOf = Array.from({ length: rows }, (_, row) => importMetadataOf(start + row));
    const table = new Table({
      id: ids,
      vector: makeVector(makeData({ type, length: rows, child })),
      ...(metadata
        ? {
            lang: vectorFromArray(
              rowsOf.map((values) => values.lang),
              new Utf8(),
            ),
            year: vectorFromArray(
              rowsOf.map((values) => values.year),
              new Int32(),
            ),
            score: vectorFromArray(
              rowsOf.map((values) => values.score),
              new Float64(),
            ),
          }
        : {}),
    });
    batches.push(...table.batches);
  }
  writeFileSync(path, RecordBatchFileWriter.writeAll(batches).toUint8Array(true));
  return statSync(path).size;
}

type OpenFunction = (path: string, options?: OpenOptions) => Database;

/** One import into a new database at `directory` (removed afterwards), timed; for this process and the child. */
export async function importOnce(
  open: OpenFunction,
  directory: string,
  file: string,
  index: ImportIndex,
  durability: 'normal' | 'full',
  vectors: number,
): Promise<ImportRun & { batches: number }> {
  rmSync(directory, { recursive: true, force: true });
  const loadAverage = loadAverages()[0]!;
  const database = open(directory, { durability });
  try {
    const collection = database.collection(COLLECTION, collectionOptions(index));
    const start = now();
    const result = await collection.upsertArrow(file);
    const seconds = secondsBetween(start, now());
    if (result.inserted !== vectors || collection.count() !== vectors) {
      throw new Error(`the import inserted ${result.inserted} of ${vectors} rows (count ${collection.count()})`);
    }
    const closeStart = now();
    database.close();
    const closeSeconds = secondsBetween(closeStart, now());
    return {
      seconds,
      vectorsPerSecond: vectors / seconds,
      closeSeconds,
      diskBytes: folderBytes(directory),
      loadAverage,
      batches: result.batches,
    };
  } finally {
    database.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** {@link importOnce} in a new Node process (bench/harness/import-child.ts). */
function importInChild(
  directory: string,
  file: string,
  index: ImportIndex,
  durability: 'normal' | 'full',
  vectors: number,
): ImportRun {
  const script = join(REPOSITORY_ROOT, 'bench', 'harness', 'import-child.ts');
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', script, directory, file, JSON.stringify(index), durability, String(vectors)],
    { cwd: REPOSITORY_ROOT, encoding: 'utf8' },
  );
  if (child.status !== 0) {
    throw new Error(
      `the import in a child process failed (exit ${child.status ?? child.signal}): ${child.stderr.trim()}`,
    );
  }
  const { batches: _, ...run } = JSON.parse(child.stdout) as ImportRun & { batches: number };
  return run;
}

/** Runs the whole suite in a temporary folder (removed at the end) and returns the figures. */
export async function measureImport(plan: ImportPlan, quick: boolean, progress: Progress): Promise<ImportResults> {
  const { open } = await import('../../src/index.js');
  const startedAt = new Date().toISOString();
  const startLoad = loadAverages();
  const folder = mkdtempSync(join(tmpdir(), 'quiverdb-bench-import-'));
  try {
    const file = join(folder, `synthetic-${plan.vectors}x${IMPORT_DIM}.arrow`);
    progress.log(`writing ${plan.vectors} × ${IMPORT_DIM} vectors to an Arrow IPC file (batches of ${plan.batchRows})`);
    const fileBytes = writeImportFile(file, plan.vectors, plan.batchRows, plan.metadata);
    const cases: ImportCase[] = [];
    for (const index of plan.indexes) {
      for (const durability of plan.durabilities) {
        const repeats = index.type === 'hnsw' ? 1 : plan.repeats;
        const warmup = index.type === 'hnsw' ? 0 : plan.warmup;
        let freshProcess: ImportRun | undefined;
        if (plan.fresh && index.type !== 'hnsw') {
          freshProcess = importInChild(join(folder, 'db'), file, index, durability, plan.vectors);
          progress.log(
            `${importIndexLabel(index)}, durability ${durability}, in a new process: ` +
              `${Math.round(freshProcess.vectorsPerSecond)} vectors/s (${freshProcess.seconds.toFixed(2)} s, load ${freshProcess.loadAverage})`,
          );
        }
        const runs: ImportRun[] = [];
        let batches = 0;
        for (let repeat = 0; repeat < warmup + repeats; repeat++) {
          const { batches: read, ...run } = await importOnce(
            open,
            join(folder, 'db'),
            file,
            index,
            durability,
            plan.vectors,
          );
          batches = read;
          runs.push(run);
          progress.log(
            `${importIndexLabel(index)}, durability ${durability}${repeat < warmup ? ' (warm-up)' : ''}: ` +
              `${Math.round(run.vectorsPerSecond)} vectors/s ` +
              `(${run.seconds.toFixed(2)} s, close ${run.closeSeconds.toFixed(2)} s, load ${run.loadAverage})`,
          );
        }
        const timed = runs.slice(warmup);
        const seconds = median(timed.map((run) => run.seconds));
        cases.push({
          index,
          label: importIndexLabel(index),
          durability,
          vectors: plan.vectors,
          batches,
          warmupRuns: runs.slice(0, warmup),
          runs: timed,
          freshProcess,
          seconds,
          vectorsPerSecond: plan.vectors / seconds,
          closeSeconds: median(timed.map((run) => run.closeSeconds)),
          diskBytes: median(timed.map((run) => run.diskBytes)),
        });
      }
    }
    return {
      formatVersion: 1,
      suite: 'import',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machineInfo(),
      loadAverage: { start: startLoad, end: loadAverages() },
      parameters: { ...plan, dim: IMPORT_DIM, quick, threads: availableParallelism(), fileBytes },
      cases,
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const integer = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');

/** Renders import.md: the machine, then one row per (index, durability) case. */
export function renderImportMarkdown(results: ImportResults): string {
  const { parameters } = results;
  const parts: string[] = ['# QuiverDB Arrow import benchmark'];
  parts.push(suiteHeadline(results));
  parts.push(
    `\`collection.upsertArrow(file)\` of a ${parameters.vectors.toLocaleString('en-US')} × ${parameters.dim} Arrow IPC file ` +
      `(${formatBytes(parameters.fileBytes)}, record batches of ${parameters.batchRows.toLocaleString('en-US')} rows: \`id\` Utf8, ` +
      `\`vector\` FixedSizeList<Float32>${parameters.metadata ? ', metadata `lang` Utf8, `year` Int32, `score` Float64' : ''}; ` +
      'synthetic clustered vectors, the file in the page cache) into a new collection of a new ' +
      `database, ${parameters.threads} native threads. Each batch is one upsert: one transaction that writes the records and the ` +
      "index's log. 'full' fsyncs every commit; 'normal' does not. close() (index snapshot, final checkpoint) is timed apart. " +
      `flat and ivfpq: ${parameters.warmup} untimed warm-up import${parameters.warmup === 1 ? '' : 's'}, then the median of ` +
      `${parameters.repeats} import${parameters.repeats === 1 ? '' : 's'}; hnsw: one import. ` +
      (parameters.fresh
        ? '"new process": one more import of each flat and ivfpq case in a new Node process, the first import there, ' +
          'as one `quiver import` makes (it pays for the JIT and for memory the process has not touched yet).'
        : ''),
  );
  parts.push(
    table(
      [
        'index',
        'durability',
        'vectors',
        'batches',
        'import s',
        'vectors/s',
        'new process vectors/s',
        'close s',
        'disk',
        'runs s (load)',
      ],
      results.cases.map((entry) => [
        entry.label,
        entry.durability,
        integer(entry.vectors),
        integer(entry.batches),
        entry.seconds.toFixed(2),
        integer(entry.vectorsPerSecond),
        entry.freshProcess === undefined ? '–' : integer(entry.freshProcess.vectorsPerSecond),
        entry.closeSeconds.toFixed(2),
        formatBytes(entry.diskBytes),
        entry.runs.map((run) => `${run.seconds.toFixed(2)} (${run.loadAverage})`).join(', '),
      ]),
    ),
  );
  return `${parts.join('\n\n')}\n`;
}

/** Runs the suite with parsed options and writes `<out>/import.json` and `<out>/import.md`. */
export async function runImport(
  options: Pick<
    BenchOptions,
    | 'quick'
    | 'vectors'
    | 'index'
    | 'm'
    | 'efConstruction'
    | 'nlist'
    | 'pqM'
    | 'passes'
    | 'warmup'
    | 'metadata'
    | 'durability'
    | 'out'
    | 'progress'
    | 'quiet'
  >,
): Promise<{ results: ImportResults; outDir: string; files: string[] }> {
  const progress = createProgress({ bar: false, quiet: options.quiet });
  const plan = importPlan(options);
  const results = await measureImport(plan, options.quick, progress);
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'import.json'), join(outDir, 'import.md')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, renderImportMarkdown(results));
  progress.log(`results written to ${outDir}`);
  return { results, outDir, files };
}
