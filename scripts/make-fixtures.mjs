// Makes the tiny database fixtures, one per schema version: test/fixtures/schema-v<N>/ for every
// N from 1 to the number of migrations in src/storage/migrations/ that has no folder yet (a
// fixture, once committed, is never regenerated). test/fixtures/README.md says how each is made
// and what it holds. Run from the repository root:
//   node --import tsx scripts/make-fixtures.mjs            (every missing version)
//   node --import tsx scripts/make-fixtures.mjs --version 8
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import { open } from '../src/index.ts';
import { migrations } from '../src/storage/migrations/index.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'test', 'fixtures');
const SQLITE_FILE = 'quiver.sqlite';
const CURRENT = migrations.length;

// When each feature a fixture exercises first existed, as a schema version: a fixture of version N
// uses only what version N's QuiverDB had.
const SNAPSHOTS_FROM = 2; // the manifest and graph snapshot files
const FILTERS_FROM = 3; // declared field indexes (filters came with them)
const IVFPQ_FROM = 4; // ivfpq, its codebook and codes in SQLite
const TEXT_FROM = 5; // text on records, the full-text index
// Codebook format 1 and ivfpq settings without targetRecall were written up to schema version 4;
// calibration (codebook format 2) came after it.
const CODEBOOK_V1_UNTIL = 4;
// The trained ivfpq collection (9,984 vectors) is kept in the first fixture of each codebook format
// and in the newest version, not in every fixture, to keep the fixtures small.
const TRAINED_IVFPQ = (version) => version === CODEBOOK_V1_UNTIL || version === CURRENT;
const IVFPQ_TRAINING_VECTORS = 39 * 256;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta'];

/** A mulberry32 generator of numbers in [0, 1): the same seed gives the same fixture. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vectors(next, count, dim) {
  return Array.from({ length: count }, () => Array.from({ length: dim }, () => Math.fround(next() * 2 - 1)));
}

/**
 * Writes the data of a version-`version` fixture with the current code into `directory` and returns
 * what the fixture test must find there: every record of the small collections, and the answers
 * (ids and distances) of queries at an effort that makes them exact.
 */
function writeSource(directory, version) {
  const next = random(1000 + version);
  const db = open(directory, { snapshotThreshold: 1_000_000 });
  const expected = { schemaVersion: version, collections: {} };
  const graphOptions = {
    dim: 4,
    metric: 'l2',
    index: { type: 'hnsw', m: 8, efConstruction: 64, ef: 64 },
    ...(version >= FILTERS_FROM ? { indexes: ['group'] } : {}),
    ...(version >= TEXT_FROM ? { text: { tokenizer: 'unicode61' } } : {}),
  };
  const graph = db.collection('graph', graphOptions);
  const graphRecords = (from, count) =>
    vectors(next, count, 4).map((vector, i) => ({
      id: `g-${from + i}`,
      vector,
      metadata: { group: ['a', 'b', 'c'][(from + i) % 3], n: from + i },
      ...(version >= TEXT_FROM ? { text: `${WORDS[(from + i) % 4]} note ${from + i}` } : {}),
    }));
  graph.upsert(graphRecords(0, 30));
  graph.delete(['g-3', 'g-7']);
  // The snapshot covers the log so far; the writes after it are replayed from the log on open.
  if (version >= SNAPSHOTS_FROM) graph.snapshot();
  graph.upsert(graphRecords(30, 5));
  graph.upsert(graphRecords(1, 1).map((record) => ({ ...record, metadata: { ...record.metadata, updated: true } })));
  graph.delete(['g-11']);

  const exact = db.collection('exact', { dim: 4, metric: 'cosine', index: { type: 'flat' } });
  exact.upsert(vectors(next, 12, 4).map((vector, i) => ({ id: `e-${i}`, vector, metadata: { i } })));
  if (version >= SNAPSHOTS_FROM) exact.snapshot();
  exact.delete(['e-5']);

  const queries = vectors(next, 3, 4);
  const record = (collection) => {
    const records = {};
    for (let i = 0; i < 40; i++) {
      const found = collection.get(`${collection.name[0]}-${i}`);
      if (found) records[found.id] = { vector: [...found.vector], metadata: found.metadata, text: found.text ?? null };
    }
    return records;
  };
  const answers = (collection, options) =>
    queries.map((vector) => collection.query({ vector, k: 5, ...options }).map((hit) => [hit.id, hit.distance]));
  expected.collections.graph = {
    settings: graphOptions,
    count: graph.count(),
    records: record(graph),
    queries: queries.map((vector) => [...vector]),
    effort: { ef: 200 },
    answers: answers(graph, { ef: 200 }),
    ...(version >= FILTERS_FROM
      ? { filtered: { filter: { group: 'b' }, answers: answers(graph, { ef: 200, filter: { group: 'b' } }) } }
      : {}),
    ...(version >= TEXT_FROM ? { text: { query: 'bravo', ids: graph.query({ text: 'bravo', k: 50 }).map((hit) => hit.id).sort() } } : {}),
  };
  expected.collections.exact = {
    settings: { dim: 4, metric: 'cosine', index: { type: 'flat' } },
    count: exact.count(),
    records: record(exact),
    queries: queries.map((vector) => [...vector]),
    effort: {},
    answers: answers(exact, {}),
  };

  if (version >= IVFPQ_FROM) {
    const trained = TRAINED_IVFPQ(version);
    const settings = { dim: 8, metric: 'ip', index: { type: 'ivfpq', nlist: 4, m: 2 } };
    const quantized = db.collection('quantized', settings);
    const count = trained ? IVFPQ_TRAINING_VECTORS : 20;
    quantized.upsert(vectors(next, count, 8).map((vector, i) => ({ id: `q-${i}`, vector })));
    // The codebook and codes cover the log up to here; later writes are replayed from the log.
    quantized.snapshot();
    quantized.upsert(vectors(next, 3, 8).map((vector, i) => ({ id: `q-${count + i}`, vector })));
    quantized.delete(['q-0']);
    const quantizedQueries = vectors(next, 3, 8);
    const effort = { nprobe: 4, rerank: 10_000 };
    const strategy = quantized.query({ vector: quantizedQueries[0], k: 1, explain: true }).plan.strategy;
    if (strategy !== (trained ? 'ivfpq' : 'exact')) throw new Error(`quantized answered by ${strategy}`);
    expected.collections.quantized = {
      settings,
      count: quantized.count(),
      trained,
      records: Object.fromEntries(
        quantized.get(['q-1', 'q-2', `q-${count}`]).map((found) => [found.id, { vector: [...found.vector], metadata: found.metadata, text: null }]),
      ),
      queries: quantizedQueries.map((vector) => [...vector]),
      effort,
      answers: quantizedQueries.map((vector) =>
        quantized.query({ vector, k: 5, ...effort }).map((hit) => [hit.id, hit.distance]),
      ),
    };
  }
  db.close();
  return expected;
}

/** The version 1 layout of a codebook: format 2 without its 24 calibration bytes. */
function codebookV1(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) !== 2) throw new Error('expected a format 2 codebook');
  const length = bytes.length - 24;
  const out = new Uint8Array(length);
  out.set(bytes.subarray(0, length - 4));
  const outView = new DataView(out.buffer);
  outView.setUint32(4, 1, true);
  outView.setUint32(8, length, true);
  outView.setUint32(length - 4, crc32(out.subarray(0, length - 4)), true);
  return out;
}

/** ivfpq settings as version ≤ CODEBOOK_V1_UNTIL stored them: without targetRecall. */
function withoutTargetRecall(json) {
  const { targetRecall: _targetRecall, ...rest } = JSON.parse(json);
  return JSON.stringify(rest);
}

/**
 * Writes `sqliteFile` in schema version `version`: migrations 1…version applied verbatim (they are
 * append-only, so these are exactly the tables version `version` created), then every row of the
 * source database that has a table and column there, and the objects the code creates beside the
 * migrations (field indexes, full-text tables).
 */
function writeOldSchema(sqliteFile, sourceFile, version) {
  const db = new Database(sqliteFile);
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.transaction(() => {
    for (let applied = 1; applied <= version; applied++) db.exec(migrations[applied - 1]);
    db.pragma(`user_version = ${version}`);
  })();
  db.exec(`ATTACH DATABASE '${sourceFile.replaceAll("'", "''")}' AS source`);
  const objects = (schema) =>
    db.prepare(`SELECT type, name, tbl_name AS tableName, sql FROM ${schema}.sqlite_master`).all();
  const columns = (schema, table) =>
    db
      .prepare(`SELECT name FROM pragma_table_info(?, ?)`)
      .all(table, schema)
      .map((row) => row.name);
  db.transaction(() => {
    const own = new Set(objects('main').map((object) => object.name));
    const sourceObjects = objects('source');
    // Full-text tables are created by the code, not by a migration: create each (SQLite makes its
    // shadow tables, which refuse direct writes) and index the texts of its collection by label, as
    // the code does (src/storage/text-index.ts).
    const textTables = [];
    for (const object of sourceObjects) {
      if (object.type === 'table' && object.sql?.startsWith('CREATE VIRTUAL TABLE') && !own.has(object.name)) {
        if (version < TEXT_FROM) throw new Error(`${object.name} needs schema version ${TEXT_FROM}`);
        db.exec(object.sql);
        textTables.push(object.name);
      }
    }
    const isShadow = (name) => textTables.some((table) => name.startsWith(`${table}_`));
    const tables = objects('main').filter(
      (object) => object.type === 'table' && !object.sql?.startsWith('CREATE VIRTUAL') && !isShadow(object.name),
    );
    for (const { name } of tables) {
      if (name === 'sqlite_sequence' || !sourceObjects.some((object) => object.name === name)) continue;
      const shared = columns('source', name).filter((column) => columns('main', name).includes(column));
      const list = shared.map((column) => `"${column}"`).join(', ');
      db.exec(`DELETE FROM main."${name}"`);
      db.exec(`INSERT INTO main."${name}" (${list}) SELECT ${list} FROM source."${name}"`);
    }
    for (const table of textTables) {
      const collection = Number(/^records_text_(\d+)$/.exec(table)?.[1]);
      db.prepare(
        `INSERT INTO main."${table}" (rowid, text) SELECT label, text FROM main.records WHERE collection_id = ? AND text IS NOT NULL ORDER BY label`,
      ).run(collection);
    }
    // The AUTOINCREMENT counters: labels are checked against the changes ever logged.
    db.exec('DELETE FROM main.sqlite_sequence');
    db.exec(
      'INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM source.sqlite_sequence ' +
        'WHERE name IN (SELECT name FROM main.sqlite_master)',
    );
    for (const object of sourceObjects) {
      if (object.type === 'index' && object.sql !== null && !own.has(object.name)) db.exec(object.sql);
    }
    if (version <= CODEBOOK_V1_UNTIL && version >= IVFPQ_FROM) {
      for (const row of db.prepare('SELECT collection_id AS id, params, codebook FROM ivfpq_codebooks').all()) {
        db.prepare('UPDATE ivfpq_codebooks SET codebook = ?, params = ? WHERE collection_id = ?').run(
          codebookV1(row.codebook),
          withoutTargetRecall(row.params),
          row.id,
        );
      }
      for (const row of db.prepare("SELECT id, index_params FROM collections WHERE index_type = 'ivfpq'").all()) {
        db.prepare('UPDATE collections SET index_params = ? WHERE id = ?').run(withoutTargetRecall(row.index_params), row.id);
        db.prepare('UPDATE manifest SET params = ? WHERE collection_id = ?').run(
          withoutTargetRecall(db.prepare('SELECT params FROM manifest WHERE collection_id = ?').pluck().get(row.id)),
          row.id,
        );
      }
    }
  })();
  db.exec('DETACH DATABASE source');
  db.exec('VACUUM');
  db.close();
}

function makeFixture(version) {
  const folder = join(FIXTURES, `schema-v${version}`);
  if (existsSync(folder)) throw new Error(`${folder} exists; a fixture is never regenerated`);
  const source = mkdtempSync(join(tmpdir(), 'quiver-fixture-'));
  try {
    const expected = writeSource(source, version);
    mkdirSync(folder, { recursive: true });
    if (version === CURRENT) {
      // The newest version is the current code's own output, as written.
      const db = new Database(join(source, SQLITE_FILE));
      db.exec('VACUUM');
      db.close();
      cpSync(join(source, SQLITE_FILE), join(folder, SQLITE_FILE));
    } else {
      writeOldSchema(join(folder, SQLITE_FILE), join(source, SQLITE_FILE), version);
    }
    // Snapshot files (one folder per collection) exist from the version that has a manifest.
    if (version >= SNAPSHOTS_FROM) {
      for (const entry of readdirSync(source, { withFileTypes: true })) {
        if (entry.isDirectory()) cpSync(join(source, entry.name), join(folder, entry.name), { recursive: true });
      }
    }
    writeFileSync(join(folder, 'expected.json'), `${JSON.stringify(expected, null, 1)}\n`);
    console.log(`made ${folder}`);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

const argument = process.argv.indexOf('--version');
const versions =
  argument >= 0
    ? [Number(process.argv[argument + 1])]
    : Array.from({ length: CURRENT }, (_, i) => i + 1).filter((version) => !existsSync(join(FIXTURES, `schema-v${version}`)));
for (const version of versions) {
  if (!Number.isInteger(version) || version < 1 || version > CURRENT) {
    throw new Error(`--version must be an integer from 1 to ${CURRENT} (the migrations in src/storage/migrations/)`);
  }
  makeFixture(version);
}
if (versions.length === 0) console.log(`every schema version 1…${CURRENT} has its fixture`);
