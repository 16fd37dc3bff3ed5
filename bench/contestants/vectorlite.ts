// vectorlite (hnswlib inside a SQLite virtual table) as an optional contestant: HNSW only, the same
// m and efConstruction as QuiverDB, through the project's better-sqlite3. The extension comes from
// bench/peers (peer-engines.ts). On disk: <directory>/vectorlite.sqlite and index.bin, the graph
// vectorlite writes when its connection closes and reads when a query first touches the table.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { AdoptInput, BuildInput, Contestant, ContestantDefinition, IndexConfig } from '../harness/contestant.js';
import { importPeer } from './peer-engines.js';

interface VectorliteModule {
  vectorlitePath(): string;
}

const INSERT_BATCH = 1000;

class VectorliteContestant implements Contestant {
  readonly name = 'vectorlite';
  readonly #extension: string;
  #db: Database.Database | undefined;
  #search: Database.Statement | undefined;
  #input: Omit<BuildInput, 'base' | 'onProgress'> | undefined;

  constructor(extension: string) {
    this.#extension = extension;
  }

  supports(config: IndexConfig): boolean {
    return config.type === 'hnsw';
  }

  #open(): Database.Database {
    const db = new Database(join(this.#input!.directory, 'vectorlite.sqlite'));
    db.loadExtension(this.#extension);
    return db;
  }

  async build(input: BuildInput): Promise<void> {
    const { base, count, dim, ...rest } = input;
    this.#input = { count, dim, ...rest };
    const config = input.config as Extract<IndexConfig, { type: 'hnsw' }>;
    const db = this.#open();
    const indexFile = join(input.directory, 'index.bin').replaceAll("'", "''");
    db.exec(
      `CREATE VIRTUAL TABLE vectors USING vectorlite(embedding float32[${dim}] ${input.metric}, ` +
        `hnsw(max_elements=${count}, ef_construction=${config.efConstruction}, M=${config.m}), '${indexFile}')`,
    );
    const insert = db.prepare('INSERT INTO vectors (rowid, embedding) VALUES (?, ?)');
    const insertRows = db.transaction((first: number, rows: number) => {
      for (let row = first; row < first + rows; row++) {
        const vector = base.subarray(row * dim, (row + 1) * dim);
        insert.run(row, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
      }
    });
    for (let first = 0; first < count; first += INSERT_BATCH) {
      const rows = Math.min(INSERT_BATCH, count - first);
      insertRows(first, rows);
      input.onProgress?.(first + rows);
    }
    this.#db = db;
    this.#prepare();
  }

  #prepare(): void {
    this.#search = this.#db!.prepare(
      'SELECT rowid FROM vectors WHERE knn_search(embedding, knn_param(?, ?, ?))',
    ).pluck();
  }

  search(vector: Float32Array, k: number, ef: number | undefined): ArrayLike<number> {
    const statement = this.#search;
    if (statement === undefined) throw new Error('vectorlite contestant: search before build or after close');
    const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    // knn_param wants INTEGER arguments; better-sqlite3 binds a number as REAL and a bigint as INTEGER.
    const rows = statement.all(blob, BigInt(k), BigInt(Math.max(ef ?? k, k))) as number[];
    return Int32Array.from(rows);
  }

  memoryEstimateBytes(): number | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.#search = undefined;
    this.#db?.close();
    this.#db = undefined;
  }

  adopt(input: AdoptInput): void {
    this.#input = { ...input };
  }

  async reopen(): Promise<void> {
    if (this.#input === undefined) throw new Error('vectorlite contestant: reopen before build');
    this.#db = this.#open();
    this.#prepare();
    // vectorlite reads its graph file when the table is first used: do it here, as part of opening.
    this.search(new Float32Array(this.#input.dim), 1, 1);
  }
}

/** vectorlite, when installed (bench/peers). */
export const vectorlite: ContestantDefinition = {
  name: 'vectorlite',
  description:
    'vectorlite (hnswlib in a SQLite virtual table), optional: install with `npm install --prefix bench/peers`',
  create: async () => {
    const module = await importPeer<VectorliteModule & { default?: VectorliteModule }>('vectorlite');
    const path = (module.vectorlitePath ?? module.default!.vectorlitePath)();
    return new VectorliteContestant(path);
  },
};
