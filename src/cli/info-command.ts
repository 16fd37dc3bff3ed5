// `quiver info DB`: collections, counts, index settings, sizes on disk, snapshot seq and log length,
// read from quiver.sqlite through a read-only open without loading any index. Imports src/db.ts, storage/.
import { indexKind } from '../index/registry.js';
import { vectorFileOf } from '../index/vector-file.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_FILE } from '../db.js';
import { isQuiverError } from '../errors.js';
import { open } from '../index.js';
import { type CodebookCalibration, readCodebook } from '../quant/codebook-format.js';
import type { IndexParams, Store } from '../storage/store.js';
import { directoryBytes } from './compact-command.js';
import { formatBytes, formatCount, type Output } from './output.js';
import { storeOf } from './store-of.js';
import { type Parsed, parse, positionals } from './usage.js';

export const INFO_HELP = `Usage: quiver info DB [options]

Describes the database directory DB without changing it (a read-only open, no index loaded):
its format, files and sizes, the change log (seqs kept, their bytes: what retention costs on
disk, the retention limit and the consumers' cursors), and per collection the dim, metric, index settings, record count,
bytes of records, snapshot file and the seq it covers, and the log rows after it (what the next
open replays). For ivfpq, the nprobe and rerank its training calibrated and the recall@10 it
expects of them (from the saved codebook).

Options:
  --json        print as JSON
  -h, --help    this help

Exit status: 0 ok, 1 the database cannot be read, 2 bad usage.`;

export function infoArguments(argv: readonly string[]): Parsed {
  return parse(argv, {});
}

const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

export function describeIndex(index: IndexParams): string {
  return indexKind(index).describe(index);
}

/**
 * The calibration saved with an ivfpq collection's codebook: null when it has none (not trained,
 * not saved yet, or made before calibration existed), 'damaged' when the codebook does not read
 * (the next writable open rebuilds it).
 */
function savedCalibration(store: Store, collectionId: number): CodebookCalibration | null | 'damaged' {
  const state = store.ivfpqState(collectionId);
  if (state === undefined) return null;
  try {
    return readCodebook(state.codebook).calibration ?? null;
  } catch (error) {
    if (isQuiverError(error, 'CORRUPT') || isQuiverError(error, 'FORMAT_TOO_NEW')) return 'damaged';
    throw error;
  }
}

function describeCalibration(calibration: CodebookCalibration | null | 'damaged' | undefined): string {
  if (calibration === undefined) return '';
  if (calibration === null) return ', not calibrated';
  if (calibration === 'damaged') return ', codebook damaged (rebuilt on the next open)';
  return (
    `, calibrated nprobe=${calibration.nprobe} rerank=${calibration.rerank} at ${formatCount(calibration.base)} vectors ` +
    `(expected recall@10 ${calibration.expectedRecall.toFixed(3)} on ${calibration.queries} held-back queries), ` +
    `rerank × (records ÷ ${formatCount(calibration.base)})^${calibration.growth.toFixed(2)} beyond`
  );
}

function describeRetention(retention: { rows?: number; ageMs?: number }): string {
  const limits = [
    ...(retention.rows === undefined ? [] : [`${formatCount(retention.rows)} rows`]),
    ...(retention.ageMs === undefined ? [] : [`${(retention.ageMs / 1000).toFixed(0)} s`]),
  ];
  return limits.length === 0 ? 'until every consumer passed' : `at most ${limits.join(' and ')}`;
}

export async function runInfo(parsed: Parsed, output: Output): Promise<number> {
  const [database] = positionals(parsed, ['DB']) as [string];
  const db = open(database, { readOnly: true });
  try {
    const store = storeOf(db);
    const collections = store.listCollections().map((row) => {
      const manifest = store.manifest(row.id);
      const snapshotPath = manifest?.file ? join(db.path, manifest.file) : undefined;
      return {
        name: row.name,
        dim: row.dim,
        metric: row.metric,
        index: row.index,
        // A kind whose state lives in SQLite keeps its codebook there, with the calibration it chose.
        ...(indexKind(row.index).persistence === 'state' ? { calibration: savedCalibration(store, row.id) } : {}),
        count: store.count(row.id),
        recordBytes: store.recordBytes(row.id),
        snapshot:
          manifest === undefined
            ? null
            : {
                file: manifest.file || null,
                seq: manifest.seq,
                bytes: snapshotPath === undefined ? 0 : size(snapshotPath),
                // An int8 graph's float-vector file beside it (0: none).
                vectorFileBytes: snapshotPath === undefined ? 0 : size(vectorFileOf(snapshotPath)),
              },
        logLength: store.logLength(row.id, manifest?.seq ?? 0),
        createdAt: new Date(row.createdAt).toISOString(),
      };
    });
    const files = {
      sqlite: size(join(db.path, SQLITE_FILE)),
      wal: size(join(db.path, `${SQLITE_FILE}-wal`)),
      total: directoryBytes(db.path),
    };
    const changes = db.changeFeedInfo();
    const document = {
      path: db.path,
      formatVersion: Number(store.meta('format_version')),
      createdAt: new Date(Number(store.meta('created_at'))).toISOString(),
      lastSeq: store.lastSeq(),
      files,
      changes,
      collections,
    };
    output.result(document, () => [
      `${db.path}: format ${document.formatVersion}, ${formatBytes(files.total)} on disk ` +
        `(quiver.sqlite ${formatBytes(files.sqlite)}, wal ${formatBytes(files.wal)}), last seq ${document.lastSeq}`,
      `  change log: seqs ${changes.firstSeq} … ${changes.lastSeq}, ${formatCount(changes.rows)} changes kept ` +
        `(${formatBytes(changes.bytes)}); retention ${describeRetention(changes.retention)}; ` +
        (changes.consumers.length === 0
          ? 'no consumers'
          : `consumers ${changes.consumers.map((consumer) => `${consumer.name} at ${consumer.seq}`).join(', ')}`),
      ...(collections.length === 0 ? ['no collections'] : []),
      ...collections.map(
        (c) =>
          `  ${c.name}: ${formatCount(c.count)} records, dim ${c.dim}, ${c.metric}, ${describeIndex(c.index)}` +
          `${describeCalibration(c.calibration)}, ` +
          `${formatBytes(c.recordBytes)} of records; ` +
          (c.snapshot === null
            ? 'no snapshot'
            : c.snapshot.file === null
              ? `log truncated at seq ${c.snapshot.seq}`
              : `snapshot ${c.snapshot.file} (${formatBytes(c.snapshot.bytes)}` +
                (c.snapshot.vectorFileBytes > 0 ? `, float vectors ${formatBytes(c.snapshot.vectorFileBytes)}` : '') +
                `) at seq ${c.snapshot.seq}`) +
          `; ${formatCount(c.logLength)} log rows after it`,
      ),
    ]);
    return 0;
  } finally {
    db.close();
  }
}
