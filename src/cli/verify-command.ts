// `quiver verify DB`: checks, read-only, that quiver.sqlite is sound, every snapshot passes the
// snapshot reader and agrees with the records and the log, and every record is well-formed.
// Imports src/db.ts and storage/, and for a snapshot without vectors the graph (index/hnsw.ts) and
// the open's own fill (collection/persistence.ts); never changes the database (a snapshot is read
// and checksummed in place, and a graph filled in memory). Exit 1 on damage.
import { indexKind } from '../index/registry.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../errors.js';
import { type Database, open } from '../index.js';
import { VectorFile, vectorFileOf } from '../index/vector-file.js';
import { normalized } from '../index/vector-math.js';
import { type HnswParams, HnswIndex } from '../index/hnsw.js';
import { fillFromRecords, notLoggedAfter } from '../collection/persistence.js';
import { runSync } from '../steps.js';
import { readSnapshot, readSnapshotHeadSteps } from '../storage/snapshot-file.js';
import { type CollectionRow, type Store, vectorOf } from '../storage/store.js';
import { recordKey } from '../storage/record-key.js';
import { inspectRecord } from '../storage/stored-record.js';
import { formatCount, type Output } from './output.js';
import { storeOf } from './store-of.js';
import { type Parsed, parse, positionals } from './usage.js';

export const VERIFY_HELP = `Usage: quiver verify DB [options]

Checks the database directory DB without changing it (read-only): SQLite's own integrity_check; every
index snapshot (magic, version, checksums, length, parameters) against its manifest, the records
and the log (a snapshot without vectors is filled from the records as an open fills it, each vector
against the checksum it kept); the log (it names existing collections, and its last word on each
label agrees with the records); and every record (its checksum over label, id, vector and metadata, and its head checksum
over all but the vector; a vector of dim × 4 bytes of finite float32; metadata a JSON object; a label in
range; unique labels and ids; stored under the key its label gives). Lists each problem found.

Options:
  --json        print the report as JSON
  -q, --quiet   no progress bar
  -h, --help    this help

Exit status: 0 nothing is damaged (notes may be printed), 1 damage found or DB unreadable,
2 bad usage.`;

export function verifyArguments(argv: readonly string[]): Parsed {
  return parse(argv, {});
}

export interface Finding {
  /** 'damage' fails verify; 'note' is worth knowing but harmless. */
  severity: 'damage' | 'note';
  collection?: string;
  check: 'sqlite' | 'snapshot' | 'vectors' | 'log' | 'record' | 'files';
  message: string;
  /** What happens about it: e.g. the next open rebuilds the index from the records. */
  consequence?: string;
}

/** Findings about one record kept per kind before they are summarised (a damaged file can hold millions). */
const EXAMPLES_PER_KIND = 5;

export async function runVerify(parsed: Parsed, output: Output): Promise<number> {
  const [database] = positionals(parsed, ['DB']) as [string];
  const findings: Finding[] = [];
  let db: Database;
  try {
    db = open(database, { readOnly: true });
  } catch (error) {
    if (error instanceof QuiverError && (error.code === 'CORRUPT' || error.code === 'FORMAT_TOO_NEW')) {
      findings.push({ severity: 'damage', check: 'sqlite', message: error.message });
      return report(output, database, findings, []);
    }
    throw error;
  }
  const summaries: { name: string; records: number }[] = [];
  try {
    const store = storeOf(db);
    const problems = store.integrityCheck().filter((line) => line !== 'ok');
    for (const problem of problems) findings.push({ severity: 'damage', check: 'sqlite', message: problem });
    for (const id of store.orphanLogCollections()) {
      findings.push({
        severity: 'damage',
        check: 'log',
        message: `log rows name collection id ${id}, which does not exist`,
        consequence: 'harmless to reads; a dropped collection left log rows behind',
      });
    }
    const rows = store.listCollections();
    const names = new Set(rows.map((row) => row.name));
    for (const entry of safeReaddir(db.path)) {
      if (entry.isDirectory() && !names.has(entry.name)) {
        findings.push({
          severity: 'note',
          check: 'files',
          message: `folder '${entry.name}' belongs to no collection`,
          consequence: 'harmless; it can be removed',
        });
      }
    }
    for (const row of rows) {
      const labels = verifyRecords(store, row, findings, output);
      verifyLogAndSnapshot(store, db.path, row, labels, findings);
      summaries.push({ name: row.name, records: labels.size });
    }
  } finally {
    db.close();
  }
  return report(output, database, findings, summaries);
}

function safeReaddir(path: string) {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Scans every record; returns the set of labels seen. */
function verifyRecords(store: Store, row: CollectionRow, findings: Finding[], output: Output): Set<number> {
  const labels = new Set<number>();
  const ids = new Set<string>();
  const counts = new Map<string, number>();
  const add = (kind: string, message: string) => {
    const seen = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, seen);
    if (seen <= EXAMPLES_PER_KIND) {
      findings.push({ severity: 'damage', collection: row.name, check: 'record', message });
    }
  };
  const total = store.count(row.id);
  const bar = output.progress(`verifying ${row.name}`, total);
  let done = 0;
  for (const record of store.scanRecords(row.id)) {
    const where = `record '${record.id}' (label ${record.label}, rowid ${record.rowid})`;
    if (labels.has(record.label)) add('label', `${where} repeats label ${record.label}`);
    labels.add(record.label);
    if (ids.has(record.id)) add('id', `${where} repeats id '${record.id}'`);
    ids.add(record.id);
    const inspected = inspectRecord(record, row.dim);
    if ('damage' in inspected) add(inspected.kind, `${where} ${inspected.damage}`);
    else if (record.rowid !== recordKey(row.id, record.label)) {
      // Queries read a hit by this key: a record under another one is not found by its label.
      add('key', `${where} is stored under rowid ${record.rowid}; its label needs ${recordKey(row.id, record.label)}`);
    }
    if (++done % 10_000 === 0) bar.update(done);
  }
  bar.stop();
  for (const [kind, count] of counts) {
    if (count > EXAMPLES_PER_KIND) {
      findings.push({
        severity: 'damage',
        collection: row.name,
        check: 'record',
        message: `${formatCount(count - EXAMPLES_PER_KIND)} more records with the same kind of damage (${kind})`,
      });
    }
  }
  return labels;
}

function verifyLogAndSnapshot(
  store: Store,
  databasePath: string,
  row: CollectionRow,
  labels: Set<number>,
  findings: Finding[],
): void {
  const damage = (check: Finding['check'], message: string, consequence?: string) =>
    findings.push({
      severity: 'damage',
      collection: row.name,
      check,
      message,
      ...(consequence === undefined ? {} : { consequence }),
    });
  // The log's last word on each label must agree with the records.
  const last = store.lastLoggedOps(row.id);
  for (const { label, op, seq } of last) {
    if (op === 'upsert' && !labels.has(label)) {
      damage('log', `log row ${seq} upserted label ${label}, but no record has that label`);
    } else if (op === 'delete' && labels.has(label)) {
      damage('log', `log row ${seq} deleted label ${label}, but a record still has it`);
    }
  }
  const manifest = store.manifest(row.id);
  const rebuilt = 'the next writable open rebuilds the index from the records';
  if (manifest !== undefined) {
    const covered = store.logLength(row.id, 0) - store.logLength(row.id, manifest.seq);
    if (covered > 0) {
      findings.push({
        severity: 'note',
        collection: row.name,
        check: 'log',
        message: `${covered} log rows at or below the snapshot's seq ${manifest.seq} were not truncated`,
        consequence: 'harmless',
      });
    }
  }
  const directory = join(databasePath, row.name);
  const snapshotFiles = safeReaddir(directory)
    .map((entry) => entry.name)
    .filter((name) => /^hnsw\.\d+\.bin/.test(name));
  const named = manifest?.file ? manifest.file.split('/').pop() : undefined;
  for (const name of snapshotFiles) {
    if (name !== named) {
      findings.push({
        severity: 'note',
        collection: row.name,
        check: 'files',
        message: `snapshot file ${row.name}/${name} is not the one the manifest names`,
        consequence: 'harmless; the next writable open removes it',
      });
    }
  }
  const kind = indexKind(row.index);
  if (kind.persistence !== 'file' || kind.fileHeader === undefined) return;
  const expected = kind.fileHeader(row.index);
  if (manifest === undefined || !manifest.file) {
    if (labels.size > 0) {
      findings.push({
        severity: 'note',
        collection: row.name,
        check: 'snapshot',
        message: 'no index snapshot yet (the writer has not closed or snapshotted since the first records)',
        consequence: 'the next open builds the index from the records',
      });
    }
    return;
  }
  try {
    const snapshot = readSnapshot(join(databasePath, manifest.file));
    const { header } = snapshot;
    if (snapshot.checksum !== manifest.checksum) {
      damage('snapshot', `${manifest.file}: its checksum differs from the manifest's`, rebuilt);
      return;
    }
    if (header.seq !== manifest.seq) {
      damage('snapshot', `${manifest.file} covers seq ${header.seq}; the manifest says ${manifest.seq}`, rebuilt);
      return;
    }
    if (header.dim !== row.dim || header.metric !== row.metric) {
      damage(
        'snapshot',
        `${manifest.file} holds dim ${header.dim} ${header.metric}; the collection is dim ${row.dim} ${row.metric}`,
        rebuilt,
      );
      return;
    }
    if (header.m !== expected.m || header.efConstruction !== expected.efConstruction) {
      damage(
        'snapshot',
        `${manifest.file} was built with m ${header.m}, efConstruction ${header.efConstruction}; the collection has m ${expected.m}, efConstruction ${expected.efConstruction}`,
        rebuilt,
      );
      return;
    }
    // The snapshot's labels, with the log after it replayed, must be exactly the records' labels.
    const live = new Set(snapshot.liveLabels);
    for (const label of store.labelsLoggedAfter(row.id, manifest.seq)) {
      if (labels.has(label)) live.add(label);
      else live.delete(label);
    }
    const missing = [...labels].filter((label) => !live.has(label));
    const extra = [...live].filter((label) => !labels.has(label));
    if (missing.length > 0 || extra.length > 0) {
      damage(
        'snapshot',
        `${manifest.file} plus the log disagrees with the records: ${missing.length} records missing from the index` +
          `${missing.length > 0 ? ` (labels ${missing.slice(0, 5).join(', ')}…)` : ''}, ${extra.length} index labels without a record`,
        rebuilt,
      );
    }
    if (header.withoutVectors === true) {
      const problem = unexplainedVectors(store, row, join(databasePath, manifest.file), manifest.seq);
      if (problem !== undefined) damage('vectors', `${manifest.file}: ${problem}`, rebuilt);
    }
    const vectorFile = vectorFileOf(manifest.file);
    if (existsSync(join(databasePath, vectorFile))) {
      // Labels the log touched after the snapshot are not read from its float-vector file.
      const changed = new Set(store.labelsLoggedAfter(row.id, manifest.seq));
      const unchanged = snapshot.liveLabels.filter((label) => !changed.has(label) && labels.has(label));
      const problem = vectorFileProblem(store, row, join(databasePath, vectorFile), manifest.seq, unchanged);
      if (problem !== undefined) {
        damage(
          'vectors',
          `${vectorFile}: ${problem}`,
          'rescorings read those vectors from the records; the next snapshot writes the file anew',
        );
      }
    }
  } catch (error) {
    if (!(error instanceof QuiverError)) throw error;
    damage('snapshot', error.message, rebuilt);
  }
}

/**
 * What a snapshot without vectors does not explain, its graph filled from the records as an open
 * fills it (src/collection/persistence.ts): vectors that differ from the checksums it kept (or
 * records it lacks, or live labels without a record) with no logged change since; undefined when
 * nothing. Holds the whole graph in memory while it checks.
 */
function unexplainedVectors(store: Store, row: CollectionRow, file: string, seq: number): string | undefined {
  const head = runSync(readSnapshotHeadSteps(file));
  const graph = {
    path: file,
    offset: head.graphOffset,
    length: head.graphLength,
    crcSeed: head.labelsChecksum,
    crcExpected: head.checksum,
    withoutVectors: true,
  };
  const index = HnswIndex.load(graph, row.metric, row.dim, row.index as HnswParams, head.liveLabels);
  try {
    const unlogged = notLoggedAfter(store, row.id, seq, runSync(fillFromRecords(store, row, index)));
    if (unlogged.length === 0) return undefined;
    const some = `${unlogged.slice(0, 5).join(', ')}${unlogged.length > 5 ? '…' : ''}`;
    return `the records of ${unlogged.length} labels (${some}) differ from what the snapshot kept, and the log does not say why`;
  } finally {
    index.dispose();
  }
}

/**
 * What is wrong with a float-vector file (src/index/vector-file.ts) whose `labels` (live in its
 * snapshot, unchanged since) must each read back whole and equal to the record's vector (normalised
 * for cosine); undefined when nothing is.
 */
function vectorFileProblem(
  store: Store,
  row: CollectionRow,
  path: string,
  seq: number,
  labels: Uint32Array,
): string | undefined {
  let file: VectorFile;
  try {
    file = VectorFile.open(path, { dim: row.dim, metric: row.metric, seq });
  } catch (error) {
    if (!(error instanceof QuiverError)) throw error;
    return error.message;
  }
  const bad: number[] = [];
  try {
    const chunk = 256;
    const out = new Float32Array(chunk * row.dim);
    const ok = new Uint8Array(chunk);
    for (let start = 0; start < labels.length; start += chunk) {
      const run = labels.subarray(start, start + chunk);
      file.read(run, out, ok);
      const records = new Map(
        store.vectorsByLabels(row.id, Array.from(run)).map(({ label, vector }) => [label, vectorOf(vector, row.dim)]),
      );
      run.forEach((label, i) => {
        const stored = records.get(label);
        const expected = stored === undefined || row.metric !== 'cosine' ? stored : normalized(stored);
        const slot = out.subarray(i * row.dim, (i + 1) * row.dim);
        if (ok[i] !== 1 || expected === undefined || expected.some((value, d) => !Object.is(value, slot[d]))) {
          bad.push(label);
        }
      });
    }
  } finally {
    file.close();
  }
  if (bad.length === 0) return undefined;
  return `${bad.length} of ${labels.length} slots are damaged or differ from the records (labels ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? '…' : ''})`;
}

function report(
  output: Output,
  database: string,
  findings: Finding[],
  collections: { name: string; records: number }[],
): number {
  const damaged = findings.some((finding) => finding.severity === 'damage');
  output.result({ database, ok: !damaged, collections, findings }, () => [
    ...findings.map(
      (finding) =>
        `${finding.severity === 'damage' ? 'DAMAGE' : 'note'}  ${finding.collection === undefined ? '' : `${finding.collection}: `}` +
        `[${finding.check}] ${finding.message}${finding.consequence === undefined ? '' : ` — ${finding.consequence}`}`,
    ),
    damaged
      ? `${database}: damage found (${findings.filter((finding) => finding.severity === 'damage').length} problems)`
      : `${database}: ok (${collections.length} collections, ${formatCount(collections.reduce((sum, c) => sum + c.records, 0))} records checked)`,
  ]);
  return damaged ? 1 : 0;
}
