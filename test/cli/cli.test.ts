// The `quiver` command line end to end, through the built bin (dist/cli.js, also through a symlink
// the way npm installs a bin): import, export, query, info, verify (healthy and damaged), compact,
// --json, --help and the exit statuses (0 ok, 1 damage or failure, 2 bad usage).
import { mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  List,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCheckout } from '../../src/cli/bench-command.js';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { randomVectors } from '../helpers/random.js';
import { BIN, ensureBin, quiver, quiverJson, ROOT, run } from './build-bin.js';

let directory: ReturnType<typeof tempDirectory>;
const path = (...parts: string[]) => join(directory.path, ...parts);

/** An Arrow file of `n` rows, dim 8: ids d0.., metadata lang (en/de), year, tags. */
function writeArrow(file: string, n: number, format: 'file' | 'stream' = 'file'): Float32Array[] {
  const vectors = randomVectors(n, 8, 7);
  const table = new Table({
    id: vectorFromArray(
      vectors.map((_, i) => `d${i}`),
      new Utf8(),
    ),
    vector: vectorFromArray(
      vectors.map((vector) => Array.from(vector)),
      new FixedSizeList(8, new Field('item', new Float32(), false)),
    ),
    lang: vectorFromArray(
      vectors.map((_, i) => (i % 2 === 0 ? 'en' : 'de')),
      new Utf8(),
    ),
    year: vectorFromArray(
      vectors.map((_, i) => 2000 + (i % 25)),
      new Int32(),
    ),
    tags: vectorFromArray(
      vectors.map((_, i) => [`t${i % 3}`]),
      new List(new Field('item', new Utf8(), true)),
    ),
  });
  writeFileSync(file, tableToIPC(table, format));
  return vectors;
}

/** An .fvecs file of `vectors`. */
function writeFvecs(file: string, vectors: Float32Array[]): void {
  const dim = vectors[0]!.length;
  const bytes = Buffer.alloc(vectors.length * (4 + dim * 4));
  vectors.forEach((vector, row) => {
    const start = row * (4 + dim * 4);
    bytes.writeInt32LE(dim, start);
    for (const [i, value] of vector.entries()) bytes.writeFloatLE(value, start + 4 + i * 4);
  });
  writeFileSync(file, bytes);
}

beforeAll(async () => {
  await ensureBin();
  directory = tempDirectory('quiver-cli-');
}, 120_000);
afterAll(() => directory.cleanup());

describe('the bin', () => {
  it('runs through a symlink with its shebang, as an installed bin does', () => {
    mkdirSync(path('bin'), { recursive: true });
    symlinkSync(BIN, path('bin', 'quiver'));
    const help = run(path('bin', 'quiver'), ['--help'], directory.path);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: quiver COMMAND/);
    const version = run(path('bin', 'quiver'), ['--version'], directory.path);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin).toEqual({ quiver: './dist/cli.js' });
  });

  it('prints help for every command with exit 0', () => {
    for (const command of ['import', 'export', 'query', 'info', 'verify', 'compact']) {
      const ran = quiver(command, '--help');
      expect(ran.status, command).toBe(0);
      expect(ran.stdout).toMatch(new RegExp(`^Usage: quiver ${command}`));
      expect(ran.stdout).toMatch(/Exit status/);
    }
    expect(quiver('help', 'verify').stdout).toMatch(/^Usage: quiver verify/);
  });

  it('exits 2 on bad usage, saying what was wrong, also as JSON', () => {
    const none = quiver();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/Usage: quiver/);
    expect(quiver('frobnicate').status).toBe(2);
    const unknownOption = quiver('info', path('db'), '--colour');
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toMatch(/--colour/);
    expect(quiver('import', path('db'), 'docs').stderr).toMatch(/missing FILE/);
    expect(quiver('query', path('db'), 'docs', '--vector', '[1,2]', '--k', 'ten').status).toBe(2);
    expect(quiver('query', path('db'), 'docs').stderr).toMatch(/--vector JSON or --like ID, --text WORDS/);
    expect(quiver('import', path('db'), 'docs', path('x.csv')).status).toBe(2);
    const badFilter = quiverJson('export', path('db'), 'docs', path('x.arrow'), '--filter', '{"year":{"$near":1}}');
    expect(badFilter.status).toBe(2);
    expect(badFilter.document).toMatchObject({ error: { code: 'USAGE', message: expect.stringMatching(/\$near/) } });
    expect(quiver('export', path('db'), 'docs', path('x.arrow'), '--filter', '{not json').status).toBe(2);
  });

  it('finds no harness outside a repository checkout', () => {
    expect(findCheckout(directory.path)).toBeUndefined();
    expect(findCheckout(join(ROOT, 'src', 'cli'))).toBe(ROOT);
  });
});

describe('import, query, export, info, compact', () => {
  let vectors: Float32Array[];
  const db = () => path('main.quiver');

  beforeAll(() => {
    vectors = writeArrow(path('docs.arrow'), 300);
  });

  it('imports an Arrow file, creating the collection, and reports the rate', () => {
    const human = quiver('import', db(), 'docs', path('docs.arrow'), '--index', 'hnsw', '--m', '8');
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/imported 300 rows .* \(created\): 300 inserted, 0 updated/);
    expect(human.stdout).toMatch(/[\d,]+ vectors\/s/);
    const again = quiverJson('import', db(), 'docs', path('docs.arrow'));
    expect(again.status).toBe(0);
    expect(again.document).toMatchObject({
      created: false,
      rows: 300,
      inserted: 0,
      updated: 300,
      dim: 8,
      index: 'hnsw',
    });
    expect(again.document['vectorsPerSecond']).toBeGreaterThan(0);
  });

  it('imports .fvecs and .bvecs with row numbers as ids, and an Arrow stream', () => {
    writeFvecs(path('small.fvecs'), vectors.slice(0, 50));
    const fvecs = quiverJson('import', db(), 'texmex', path('small.fvecs'), '--index', 'flat', '--batch-size', '20');
    expect(fvecs.document).toMatchObject({ rows: 50, inserted: 50, batches: 3, format: 'fvecs', index: 'flat' });
    const bytes = Buffer.alloc(3 * (4 + 8));
    for (let row = 0; row < 3; row++) {
      bytes.writeInt32LE(8, row * 12);
      for (let i = 0; i < 8; i++) bytes[row * 12 + 4 + i] = row * 10 + i;
    }
    writeFileSync(path('small.bvecs'), bytes);
    const bvecs = quiverJson('import', db(), 'bytes', path('small.bvecs'), '--metric', 'ip');
    expect(bvecs.document).toMatchObject({ rows: 3, metric: 'ip', index: 'hnsw' });
    // Into the existing collection: the stored metric is kept when only --dim is given.
    expect(quiverJson('import', db(), 'bytes', path('small.bvecs'), '--dim', '8').document).toMatchObject({
      created: false,
      updated: 3,
      metric: 'ip',
    });
    writeArrow(path('docs.arrows'), 20, 'stream');
    expect(quiverJson('import', db(), 'streamed', path('docs.arrows')).document).toMatchObject({ rows: 20 });
    const reader = open(db(), { readOnly: true });
    try {
      expect(reader.collection('texmex').get('49')?.vector).toEqual(vectors[49]);
      expect(reader.collection('bytes').get('2')?.vector).toEqual(new Float32Array([20, 21, 22, 23, 24, 25, 26, 27]));
    } finally {
      reader.close();
    }
  });

  it('refuses a truncated .fvecs file before writing, and a dim that does not fit (exit 1)', () => {
    writeFvecs(path('cut.fvecs'), vectors.slice(0, 10));
    truncateSync(path('cut.fvecs'), 10 * 36 - 7);
    const cut = quiverJson('import', db(), 'cut', path('cut.fvecs'), '--dim', '8');
    expect(cut.status).toBe(1);
    expect(cut.document).toMatchObject({ error: { code: 'CORRUPT', message: expect.stringMatching(/truncated/) } });
    const wrong = quiver('import', db(), 'texmex', path('docs.arrow'), '--dim', '4');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/SETTINGS_MISMATCH/);
  });

  it('queries by vector and by a stored record, with --k and --ef', () => {
    const byVector = quiverJson<{ hits: { id: string; distance: number; metadata: unknown }[] }>(
      'query',
      db(),
      'docs',
      '--vector',
      JSON.stringify(Array.from(vectors[7]!)),
      '--k',
      '3',
      '--ef',
      '50',
    );
    expect(byVector.status).toBe(0);
    expect(byVector.document.hits).toHaveLength(3);
    expect(byVector.document.hits[0]).toMatchObject({
      id: 'd7',
      distance: 0,
      metadata: { lang: 'de', year: 2007, tags: ['t1'] },
    });
    const like = quiverJson<{ hits: { id: string }[] }>('query', db(), 'docs', '--like', 'd7', '--k', '5');
    expect(like.document.hits).toHaveLength(5);
    expect(like.document.hits.map((hit) => hit.id)).not.toContain('d7');
    expect(quiver('query', db(), 'docs', '--like', 'd7').stdout).toMatch(/^ {2}1 {2}d\d+ {2}distance/);
    // --filter goes to query({ filter }); a library without filtered queries is a usage error saying so.
    const filtered = quiverJson<{ hits: { metadata: { lang: string } }[] }>(
      'query',
      db(),
      'docs',
      '--like',
      'd7',
      '--k',
      '4',
      '--filter',
      '{"lang":"en"}',
    );
    if (filtered.status === 0) {
      expect(filtered.document.hits.length).toBeGreaterThan(0);
      expect(filtered.document.hits.every((hit) => hit.metadata.lang === 'en')).toBe(true);
    } else {
      expect(filtered.status).toBe(2);
      expect(filtered.document).toMatchObject({ error: { message: expect.stringMatching(/quiver export/) } });
    }
    const missing = quiver('query', db(), 'docs', '--like', 'nope');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
    expect(quiver('query', db(), 'nothing', '--vector', '[1]').status).toBe(1);
  });

  it('queries by text, and by text and vector fused', () => {
    const file = path('text-db');
    const writer = open(file);
    writer.collection('notes', { dim: 2, text: true }).upsert([
      { id: 'n1', vector: [1, 0], text: 'Reset the router by holding the button', metadata: { page: 3 } },
      { id: 'n2', vector: [0, 1], text: 'Cleaning the filter monthly' },
    ]);
    writer.close();
    const byText = quiverJson<{ hits: { id: string; text: string; score: number }[] }>(
      'query',
      file,
      'notes',
      '--text',
      'how do I "reset" (the) router?',
    );
    expect(byText.status).toBe(0);
    expect(byText.document.hits.map((hit) => hit.id)).toEqual(['n1', 'n2']);
    expect(byText.document.hits[0]?.text).toBe('Reset the router by holding the button');
    const fused = quiverJson<{ hits: { id: string; score: number }[] }>(
      'query',
      file,
      'notes',
      '--text',
      'filter',
      '--vector',
      '[0, 1]',
      '--k',
      '1',
    );
    expect(fused.document.hits).toEqual([expect.objectContaining({ id: 'n2', score: 2 / 61 })]);
    expect(quiver('query', file, 'notes', '--text', 'router').stdout).toMatch(/n1 .*"Reset the router/);
  });

  it('exports with a filter and selected columns to a file that reads back', () => {
    const out = path('en.arrow');
    const exported = quiverJson(
      'export',
      db(),
      'docs',
      out,
      '--filter',
      '{"lang":"en","year":{"$gte":2020}}',
      '--columns',
      'id,vector,year',
      '--batch-size',
      '7',
    );
    expect(exported.status).toBe(0);
    const table = tableFromIPC(readFileSync(out));
    const expected = vectors.map((_, i) => i).filter((i) => i % 2 === 0 && 2000 + (i % 25) >= 2020);
    expect(exported.document).toMatchObject({ rows: expected.length, batches: Math.ceil(expected.length / 7) });
    expect(table.schema.fields.map((field) => field.name)).toEqual(['id', 'vector', 'year']);
    expect(table.getChild('id')?.toArray()).toEqual(expected.map((i) => `d${i}`));
    expect(table.getChild('vector')?.get(0)?.toArray()).toEqual(vectors[expected[0]!]);
    expect(readdirSync(directory.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const stream = quiver('export', db(), 'docs', path('all.arrows'));
    expect(stream.status).toBe(0);
    expect(tableFromIPC(readFileSync(path('all.arrows'))).numRows).toBe(300);
  });

  it('describes the database read-only, beside a writer', () => {
    const writer = open(db());
    try {
      const info = quiverJson<{ collections: Record<string, unknown>[]; files: { total: number } }>('info', db());
      expect(info.status).toBe(0);
      const docs = info.document.collections.find((collection) => collection['name'] === 'docs');
      expect(docs).toMatchObject({
        dim: 8,
        metric: 'l2',
        index: { type: 'hnsw', m: 8, efConstruction: 200, ef: 64 },
        count: 300,
        logLength: 0,
        snapshot: { file: 'docs/hnsw.600.bin', seq: 600 },
      });
      expect(info.document.files.total).toBeGreaterThan(0);
      expect(quiver('info', db()).stdout).toMatch(/docs: 300 records, dim 8, l2, hnsw m=8/);
      // compact needs the writer lock
      const locked = quiverJson('compact', db());
      expect(locked.status).toBe(1);
      expect(locked.document).toMatchObject({ error: { code: 'LOCKED' } });
    } finally {
      writer.close();
    }
    const compacted = quiverJson('compact', db());
    expect(compacted.status).toBe(0);
    expect(compacted.document['collections']).toHaveLength(4);
    expect(quiver('info', path('no-such.quiver')).status).toBe(1);
  });
});

describe('verify', () => {
  /** A fresh database with one hnsw and one flat collection, closed cleanly. */
  function build(name: string): string {
    const location = path(name);
    const database = open(location, { durability: 'normal' });
    const records = randomVectors(200, 4, 3).map((vector, i) => ({ id: `r${i}`, vector, metadata: { i } }));
    database.collection('graph', { dim: 4 }).upsert(records);
    database.collection('exact', { dim: 4, index: { type: 'flat' } }).upsert(records.slice(0, 20));
    database.collection('graph').delete(['r5']);
    database.close();
    return location;
  }

  it('passes a healthy database with exit 0', () => {
    const location = build('healthy.quiver');
    const ran = quiverJson<{ ok: boolean; findings: unknown[]; collections: unknown[] }>('verify', location);
    expect(ran.status).toBe(0);
    expect(ran.document).toMatchObject({ ok: true, findings: [] });
    expect(ran.document.collections).toEqual([
      { name: 'exact', records: 20 },
      { name: 'graph', records: 199 },
    ]);
    expect(quiver('verify', location).stdout).toMatch(/ok \(2 collections, 219 records checked\)/);
  });

  it('finds a truncated snapshot file (exit 1)', () => {
    const location = build('cut-snapshot.quiver');
    const snapshot = readdirSync(join(location, 'graph')).find((name) => name.endsWith('.bin'))!;
    truncateSync(join(location, 'graph', snapshot), 100);
    const ran = quiverJson<{ ok: boolean; findings: { check: string; collection: string; message: string }[] }>(
      'verify',
      location,
    );
    expect(ran.status).toBe(1);
    expect(ran.document.ok).toBe(false);
    expect(ran.document.findings).toEqual([
      expect.objectContaining({
        severity: 'damage',
        check: 'snapshot',
        collection: 'graph',
        message: expect.stringMatching(/damaged/),
      }),
    ]);
    expect(quiver('verify', location).stdout).toMatch(/DAMAGE {2}graph: \[snapshot\]/);
  });

  it('finds a record whose vector blob has the wrong length, and metadata that is not an object (exit 1)', () => {
    const location = build('bad-record.quiver');
    const sqlite = new Database(join(location, 'quiver.sqlite'));
    sqlite.prepare("UPDATE records SET vector = x'0000803f' WHERE id = 'r7'").run();
    sqlite
      .prepare(
        "UPDATE records SET metadata = '[1,2]' WHERE id = 'r8' AND collection_id = (SELECT id FROM collections WHERE name = 'exact')",
      )
      .run();
    sqlite.close();
    const ran = quiverJson<{ findings: { check: string; collection: string; message: string }[] }>('verify', location);
    expect(ran.status).toBe(1);
    const messages = ran.document.findings.map(
      (finding) => `${finding.collection} ${finding.check} ${finding.message}`,
    );
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^graph record record 'r7' .* has a vector of 4 bytes; dim 4 needs 16/),
        expect.stringMatching(/^exact record record 'r7' .* has a vector of 4 bytes; dim 4 needs 16/),
        expect.stringMatching(/^exact record record 'r8' .* metadata that is not a JSON object/),
      ]),
    );
  });

  it('checks an int8 collection’s float-vector file slot by slot against the records (exit 1 on a damaged slot)', () => {
    const location = path('int8-vectors.quiver');
    const database = open(location, { durability: 'normal' });
    const docs = database.collection('small', { dim: 8, metric: 'cosine', index: { type: 'hnsw', vectors: 'int8' } });
    docs.upsert(randomVectors(1500, 8, 41).map((vector, id) => ({ id, vector })));
    database.close();
    expect(quiverJson<{ ok: boolean }>('verify', location).document).toMatchObject({ ok: true, findings: [] });
    // info counts the file: a 64-byte header and 1,500 slots of 8 + 4·8 bytes.
    const info = quiverJson<{ collections: { snapshot: { vectorFileBytes: number } }[] }>('info', location);
    expect(info.document.collections[0]!.snapshot.vectorFileBytes).toBe(64 + 1500 * 40);
    expect(quiver('info', location).stdout).toMatch(/float vectors 58\.7 KiB/);
    const file = readdirSync(join(location, 'small')).find((name) => name.endsWith('.f32'))!;
    const bytes = readFileSync(join(location, 'small', file));
    // A float of label 1234's slot: 64-byte header, slots of 8 + 4·8 bytes (label, floats, CRC-32).
    bytes[64 + 1234 * 40 + 4 + 5]! ^= 0x01;
    writeFileSync(join(location, 'small', file), bytes);
    const ran = quiverJson<{ ok: boolean; findings: { check: string; message: string }[] }>('verify', location);
    expect(ran.status).toBe(1);
    expect(ran.document.findings).toEqual([
      expect.objectContaining({
        severity: 'damage',
        check: 'vectors',
        collection: 'small',
        message: `small/${file}: 1 of 1500 slots are damaged or differ from the records (labels 1234)`,
      }),
    ]);
  });

  it('reports a database that is not SQLite at all as damage (exit 1)', () => {
    const location = path('garbage.quiver');
    mkdirSync(location);
    writeFileSync(join(location, 'quiver.sqlite'), 'this is not a database'.repeat(100));
    const ran = quiverJson('verify', location);
    expect(ran.status).toBe(1);
    expect(ran.document).toMatchObject({ ok: false, findings: [expect.objectContaining({ check: 'sqlite' })] });
  });
});

describe('info on ivfpq', () => {
  it('reports the settings the training calibrated, and none before training', () => {
    const location = path('ivfpq.quiver');
    const db = open(location);
    const trained = db.collection('trained', { dim: 8, index: { type: 'ivfpq', nlist: 16, m: 2 } });
    // 39 × 256 vectors train the index (the PQ's 256 centroids per sub-space set the threshold).
    trained.upsert(randomVectors(10_000, 8, 31).map((vector, id) => ({ id, vector })));
    const calibration = trained.query({ vector: randomVectors(1, 8, 32)[0]!, k: 10, explain: true }).plan.calibration!;
    db.collection('untrained', { dim: 8, index: { type: 'ivfpq', nprobe: 4 } }).upsert([
      { id: 'a', vector: new Float32Array(8) },
    ]);
    db.close();
    const info = quiverJson<{ collections: Record<string, unknown>[] }>('info', location);
    expect(info.status).toBe(0);
    const byName = (name: string) => info.document.collections.find((collection) => collection['name'] === name);
    expect(byName('trained')).toMatchObject({
      index: { type: 'ivfpq', nlist: 16, m: 2, targetRecall: 0.95 },
      calibration: { ...calibration },
    });
    expect(byName('untrained')).toMatchObject({
      index: { type: 'ivfpq', nlist: 256, m: 1, nprobe: 4, targetRecall: 0.95 },
      calibration: null,
    });
    const human = quiver('info', location).stdout;
    expect(human).toMatch(
      new RegExp(
        `trained: 10,000 records, dim 8, l2, ivfpq nlist=16 m=2 targetRecall=0.95, calibrated nprobe=${calibration.nprobe} ` +
          `rerank=${calibration.rerank} at 9,784 vectors \\(expected recall@10 0\\.9\\d\\d on 200 held-back queries\\), ` +
          `rerank × \\(records ÷ 9,784\\)\\^${calibration.growth.toFixed(2)} beyond`,
      ),
    );
    expect(human).toMatch(
      /untrained: 1 records, dim 8, l2, ivfpq nlist=256 m=1 nprobe=4 targetRecall=0.95, not calibrated/,
    );
  });
});
