// BEIR-format text retrieval data: corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text})
// and a qrels TSV (query-id, corpus-id, score, with a header row), as BEIR and
// ../shared/datasets/scifact lay them out. Node built-ins and the error type only.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../../src/errors.js';

export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

export interface BeirQuery {
  id: string;
  text: string;
  /** Row of the query in queries.jsonl (its row in a query-vectors file). */
  position: number;
}

/** qrels: for each query id, the judged documents and their relevance grades (0: judged not relevant). */
export type Qrels = Map<string, Map<string, number>>;

export interface BeirDataset {
  name: string;
  corpus: BeirDocument[];
  /** The queries that have at least one judgement, in file order. */
  queries: BeirQuery[];
  qrels: Qrels;
  /** Rows of queries.jsonl, judged or not. */
  queryRows: number;
}

function fail(message: string): never {
  throw new QuiverError('INVALID_ARGUMENT', message);
}

function readJsonl(path: string, what: string): Record<string, unknown>[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const rows: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      fail(`${path} line ${i + 1} is not JSON (a BEIR ${what} file holds one JSON object per line)`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) fail(`${path} line ${i + 1} is not an object`);
    rows.push(row as Record<string, unknown>);
  });
  return rows;
}

function field(row: Record<string, unknown>, key: string, path: string, line: number, optional = false): string {
  const value = row[key];
  if (value === undefined && optional) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return fail(`${path} row ${line + 1} has no string '${key}'`);
}

/** The qrels file of a folder: qrels-test.tsv, qrels/test.tsv, or the only .tsv there is. */
function qrelsFile(folder: string): string {
  for (const candidate of ['qrels-test.tsv', join('qrels', 'test.tsv')]) {
    if (existsSync(join(folder, candidate))) return join(folder, candidate);
  }
  const tsv = readdirSync(folder).filter((name) => name.endsWith('.tsv'));
  if (tsv.length === 1) return join(folder, tsv[0]!);
  return fail(`${folder} holds no qrels-test.tsv, qrels/test.tsv or single .tsv file of relevance judgements`);
}

export function parseQrels(text: string, path: string): Qrels {
  const qrels: Qrels = new Map();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.trim().split(/\t| +/);
    if (i === 0 && Number.isNaN(Number(parts[parts.length - 1]))) return; // the header row
    if (parts.length < 3) fail(`${path} line ${i + 1} needs query-id, corpus-id and score`);
    // Three columns (BEIR) or four (TREC: query, iteration, document, relevance).
    const [query, document, grade] =
      parts.length >= 4 ? [parts[0]!, parts[2]!, parts[3]!] : [parts[0]!, parts[1]!, parts[2]!];
    const relevance = Number(grade);
    if (!Number.isFinite(relevance)) fail(`${path} line ${i + 1} has score '${grade}', not a number`);
    let judged = qrels.get(query);
    if (judged === undefined) {
      judged = new Map();
      qrels.set(query, judged);
    }
    judged.set(document, relevance);
  });
  return qrels;
}

/** Reads a BEIR folder; queries without judgements are left out (they cannot be scored). */
export function loadBeir(folder: string): BeirDataset {
  for (const file of ['corpus.jsonl', 'queries.jsonl']) {
    if (!existsSync(join(folder, file)))
      fail(`${folder} has no ${file}; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels`);
  }
  const corpusPath = join(folder, 'corpus.jsonl');
  const corpus = readJsonl(corpusPath, 'corpus').map((row, i) => ({
    id: field(row, '_id', corpusPath, i),
    title: field(row, 'title', corpusPath, i, true),
    text: field(row, 'text', corpusPath, i),
  }));
  const queriesPath = join(folder, 'queries.jsonl');
  const path = qrelsFile(folder);
  const qrels = parseQrels(readFileSync(path, 'utf8'), path);
  const queries = readJsonl(queriesPath, 'queries')
    .map((row, i) => ({ id: field(row, '_id', queriesPath, i), text: field(row, 'text', queriesPath, i), position: i }))
    .filter((query) => qrels.has(query.id));
  if (queries.length === 0) fail(`no query of ${queriesPath} has a judgement in ${path}`);
  const name =
    folder
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() ?? folder;
  return { name, corpus, queries, qrels, queryRows: readJsonl(queriesPath, 'queries').length };
}
