// Test harness for the filter module: an in-memory better-sqlite3 records table shaped like storage's,
// and a helper that runs a filter both ways (compiled SQL and evaluateFilter) over the same documents.

import Database from 'better-sqlite3';
import { compileFilter, evaluateFilter, type FilterNode, parseFilter } from '../../src/filter/index.js';

export type Document = Record<string, unknown>;

export interface FilterHarness {
  readonly database: Database.Database;
  /** Replaces the table's rows (collection 1) with `documents`, labelled by their index. */
  load(documents: readonly Document[]): void;
  /** Labels the compiled SQL selects, ascending. */
  selectSql(node: FilterNode): number[];
  close(): void;
}

export function createHarness(): FilterHarness {
  const database = new Database(':memory:');
  database.exec(
    'CREATE TABLE records(collection_id INTEGER, id TEXT, label INTEGER, vector BLOB, metadata TEXT /* JSON object */)',
  );
  const insert = database.prepare('INSERT INTO records(collection_id, id, label, metadata) VALUES (?, ?, ?, ?)');
  return {
    database,
    load(documents) {
      database.transaction(() => {
        database.exec('DELETE FROM records');
        documents.forEach((document, label) => {
          insert.run(1, `r${label}`, label, JSON.stringify(document));
          // A second collection with the same documents must never leak into collection 1's results.
          insert.run(2, `r${label}`, label + 1_000_000, JSON.stringify(document));
        });
      })();
    },
    selectSql(node) {
      const { sql, params } = compileFilter(node, { metadataColumn: 'metadata' });
      const rows = database
        .prepare(`SELECT label FROM records WHERE collection_id = ? AND (${sql}) ORDER BY label`)
        .pluck()
        .all(1, ...params);
      return rows as number[];
    },
    close() {
      database.close();
    },
  };
}

/** Labels evaluateFilter accepts, ascending. */
export function selectReference(node: FilterNode, documents: readonly Document[]): number[] {
  const labels: number[] = [];
  documents.forEach((document, label) => {
    // Evaluate the stored form: what SQLite sees is JSON text, so undefined keys are gone, -0 is 0.
    if (evaluateFilter(node, JSON.parse(JSON.stringify(document)) as Document)) labels.push(label);
  });
  return labels;
}

/** Parses `filter`, runs it both ways and returns the labels; throws if SQL and TypeScript disagree. */
export function matchBoth(harness: FilterHarness, documents: readonly Document[], filter: unknown): number[] {
  const node = parseFilter(filter);
  harness.load(documents);
  const sql = harness.selectSql(node);
  const reference = selectReference(node, documents);
  if (JSON.stringify(sql) !== JSON.stringify(reference)) {
    throw new Error(
      `SQL and evaluateFilter disagree on ${JSON.stringify(filter)}: SQL ${JSON.stringify(sql)}, TypeScript ${JSON.stringify(reference)}`,
    );
  }
  return sql;
}
