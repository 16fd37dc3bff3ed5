// The README's code blocks, extracted from README.md and run: if README code stops working, this fails.
//
// Convention. Every ```ts block of README.md runs as an ES module (types stripped by esbuild, never
// retyped here), in a fresh temporary directory that is the working directory, so './my.quiver'
// is a temporary database. Imports of 'quiverdb', 'quiverdb/worker', 'quiverdb/langchain' and
// 'quiverdb/replication' load src/; '@huggingface/transformers' loads a stand-in whose pipeline
// embeds deterministically by letter counts (no model is downloaded).
// A line `<!-- readme-test: NAME -->` right above a block names it, and BLOCKS[NAME] below gives:
//   before  — code run first in the same module: what the README's prose assumes (an open `db`,
//             a `docs` collection, a query vector `q`), declared only where the block does not;
//   after   — code run last in the same module: assertions on the block's variables (`expect`);
//   replace — literal substitutions in the block (the NATS server's address, on a free port here);
//   skip    — the reason a block cannot run (none is skipped today).
// A block without a marker runs as it is. An unknown name, or an entry no block uses, fails.
// `before`/`after` reach test objects through globalThis.readme (see ReadmeContext).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../helpers/nats-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODULES: Record<string, string> = {
  quiverdb: join(ROOT, 'src', 'index.ts'),
  'quiverdb/worker': join(ROOT, 'src', 'worker', 'index.ts'),
  'quiverdb/langchain': join(ROOT, 'src', 'langchain', 'index.ts'),
  'quiverdb/replication': join(ROOT, 'src', 'replication', 'index.ts'),
};

interface BlockSetup {
  before?: string;
  after?: string;
  replace?: Record<string, string>;
  skip?: string;
}

/** A deterministic stand-in for a sentence embedding of dim 384: letter counts, spread and normalised. */
function standInEmbedding(text: string): number[] {
  const vector = new Array<number>(384).fill(0.01);
  for (const char of text.toLowerCase()) vector[(char.codePointAt(0)! * 7) % 384]! += 1;
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Each word hashed into one of 64 buckets, normalised: LangChain embeddings without a model. */
class HashedWords extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.embed(text));
  }
  async embedQuery(text: string): Promise<number[]> {
    return this.embed(text);
  }
  embed(text: string): number[] {
    const vector = new Array<number>(64).fill(0);
    for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
      let hash = 0;
      for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
      vector[hash % 64]! += 1;
    }
    const length = Math.hypot(...vector) || 1;
    return vector.map((value) => value / length);
  }
}

/** What `before` and `after` code reach as globalThis.readme. */
const context = {
  expect,
  standInEmbedding,
  /** transformers.js's `pipeline(task, model)`: same call, same result shape, stand-in vectors. */
  pipeline: async (_task: string, _model: string) => async (texts: string[], _options: object) => ({
    tolist: () => texts.map(standInEmbedding),
  }),
  /** A cross-encoder stand-in: 1 for texts about milk when asked about groceries, else 0. */
  crossEncoder: async (query: string, texts: string[]) =>
    texts.map((text) => (text.toLowerCase().includes('milk') && query === 'groceries' ? 1 : 0)),
  langchainDocuments: () => [
    new Document({ pageContent: 'Hold the reset button for ten seconds.', metadata: { source: 'manual.pdf' } }),
    new Document({ pageContent: 'The warranty covers two years.', metadata: { source: 'terms.pdf' } }),
  ],
  embeddings: new HashedWords(),
  natsUrl: '',
};
type ReadmeContext = typeof context;
(globalThis as unknown as { readme: ReadmeContext }).readme = context;

/** The prelude that opens a database and gives the block `open`, `db` and helpers. */
const OPEN_DB = `import { open } from 'quiverdb';\nconst db = open('./my.quiver');\nconst { expect } = globalThis.readme;\n`;

const BLOCKS: Record<string, BlockSetup> = {
  'using-it': {
    before: 'const { expect } = globalThis.readme;',
    after: `
      expect(hits.map((hit) => hit.id)).toEqual(['a', 'b']);
      expect(hits[0].distance).toBeCloseTo(0.004, 3);
      expect(hits[0].score).toBeCloseTo(0.996, 3);
      expect(hits[0].metadata).toEqual({ lang: 'en', year: 2024 });`,
  },
  'collection-options': {
    before: OPEN_DB,
    after: `
      expect(images.index).toEqual({ type: 'hnsw', m: 32, efConstruction: 400, ef: 128 });
      expect(small.index).toEqual({ type: 'flat' });
      db.close();`,
  },
  queries: {
    before: `${OPEN_DB}
      const docs = db.collection('docs', { dim: 3 });
      docs.upsert([{ id: 'a', vector: [1, 0, 0] }, { id: 'b', vector: [0, 1, 0] }]);
      const q = [1, 0.1, 0];`,
    after: `
      expect(hits.map((hit) => [hit.id, hit.vector])).toEqual([['a', undefined], ['b', undefined]]);
      db.close();`,
  },
  'off-the-event-loop': {
    before: `import { open } from 'quiverdb';
      const setup = open('./my.quiver');
      setup.collection('docs', { dim: 3 }).upsert([{ id: 'first', vector: [0, 0, 1] }]);
      setup.close();
      const records = Array.from({ length: 3000 }, (_, i) => ({ id: 'r' + i, vector: [i, 1, 0] }));
      const { expect } = globalThis.readme;`,
    after: `
      expect({ inserted, updated }).toEqual({ inserted: 3000, updated: 0 });
      expect(docs.count()).toBe(3001);
      expect(docs.query({ vector: [2999, 1, 0], k: 1 })[0]).toMatchObject({ id: 'r2999', distance: 0 });
      db.close();`,
  },
  'in-a-worker-thread': {
    before: 'const { expect } = globalThis.readme;',
    after: `
      expect(hits.map((hit) => hit.id)).toEqual(['a']);
      await expect(docs.count()).rejects.toMatchObject({ code: 'CLOSED' });`,
  },
  ivfpq: {
    before: `${OPEN_DB}const q = Array.from({ length: 768 }, (_, i) => Math.sin(i));`,
    after: `
      expect(hits).toEqual([]); // an empty collection
      big.upsert([{ id: 'only', vector: q }]);
      expect(big.query({ vector: q, k: 10, nprobe: 32, rerank: 200 }).map((hit) => hit.id)).toEqual(['only']);
      db.close();`,
  },
  int8: {
    before: `${OPEN_DB}const q = Array.from({ length: 768 }, (_, i) => Math.sin(i));`,
    after: `
      expect(close).toEqual([]); // an empty collection
      expect(embeddings.index).toEqual({ type: 'hnsw', m: 16, efConstruction: 200, ef: 64, vectors: 'int8', rerank: 20 });
      embeddings.upsert([{ id: 'only', vector: q }]);
      expect(embeddings.query({ vector: q, k: 10, rerank: 100 }).map((hit) => hit.id)).toEqual(['only']);
      db.close();`,
  },
  filters: {
    before: `${OPEN_DB}
      const docs = db.collection('docs', { dim: 2, indexes: ['lang', 'year'] });
      docs.upsert([
        { id: 'a', vector: [1, 0], metadata: { lang: 'en', year: 2021, draft: false, tags: ['a'] } },
        { id: 'b', vector: [0, 1], metadata: { lang: 'en', year: 2019, draft: false, tags: ['c'] } },
        { id: 'c', vector: [1, 1], metadata: { lang: 'de', year: 1999, draft: true, tags: ['b'] } },
        { id: 'd', vector: [2, 0], metadata: { lang: 'en', year: 2022, draft: true, review: { by: 'Ann' } } },
      ]);
      const q = [1, 0];`,
    after: `
      expect(recent.map((hit) => hit.id)).toEqual(['a', 'd']);
      expect(docs.count()).toBe(3); // 'c' (1999) deleted
      db.close();`,
  },
  'update-paging': {
    before: `${OPEN_DB}
      const records = [
        { id: 'a', vector: [1, 0, 0], metadata: { lang: 'en', year: 2019 } },
        { id: 'b', vector: [0, 1, 0], metadata: { lang: 'en', year: 2022 } },
        ...Array.from({ length: 60 }, (_, i) => ({
          id: 'c' + String(i).padStart(2, '0'),
          vector: [1, 1, i],
          metadata: { lang: 'en', year: 2000 + i },
        })),
      ];
      const logged = [];
      const seen = [];`,
    replace: {
      'console.log(phase, done, total)': 'logged.push(`${phase} ${done} ${total}`)',
      'console.log(record.id, record.metadata.year)': 'seen.push(`${record.id} ${record.metadata.year}`)',
    },
    after: `
      expect(logged).toEqual(['write 62 62', 'index 0 62', 'index 62 62']);
      expect(docs.get('c05').metadata).toEqual({ lang: 'en', year: 2005, reviewed: true });
      expect(docs.get('a').metadata).toEqual({ lang: 'de', year: 2021 });
      expect(third.map((record) => record.id)).toEqual(Array.from({ length: 20 }, (_, i) => 'c' + (39 + i)));
      expect(seen).toHaveLength(62);
      expect(seen[0]).toBe('a 2021');
      db.close();`,
  },
  'rag-text': {
    before: `${OPEN_DB}
      const { standInEmbedding } = globalThis.readme;
      const embedding1 = standInEmbedding('Hold the reset button for ten seconds.');
      const embedding2 = standInEmbedding('The warranty covers two years.');
      const question = standInEmbedding('how do I reset the device');`,
    after: `
      expect(hits.map((hit) => hit.id)).toEqual(['p1']);
      expect(hits[0].score).toBe(1);
      expect(plan.strategy).toBe('hybrid');
      expect(plan.fused[0]).toMatchObject({ id: 'p1', vectorRank: 1, textRank: 1 });
      expect(docs.query({ text: 'how do I reset the device', k: 10 }).map((hit) => hit.id)).toEqual(['p1', 'p2']);
      db.close();`,
  },
  'rag-embed': {
    before: OPEN_DB,
    after: `
      expect(found.map((hit) => hit.id).sort()).toEqual(['n1', 'n2']);
      expect(notes.get('n1').vector).toEqual(new Float32Array(globalThis.readme.standInEmbedding('Buy milk and eggs')));
      db.close();`,
  },
  'rag-rerank': {
    before: `${OPEN_DB}
      const { crossEncoder, pipeline } = globalThis.readme;
      const extractor = await pipeline('feature-extraction', 'Xenova/all-MiniLM-L6-v2');
      const embed = async (texts) => (await extractor(texts, { pooling: 'mean', normalize: true })).tolist();
      const notes = db.collection('notes', { dim: 384, metric: 'cosine', text: true, embed });
      await notes.upsertAsync([{ id: 'n1', text: 'Buy milk and eggs' }, { id: 'n2', text: 'Call the dentist' }]);`,
    after: `
      expect(best.map((hit) => [hit.id, hit.rerankScore])).toEqual([['n1', 1], ['n2', 0]]);
      db.close();`,
  },
  langchain: {
    before: `const { expect, embeddings } = globalThis.readme;
      const docs = globalThis.readme.langchainDocuments();`,
    after: `
      expect(passages.map((passage) => passage.pageContent)).toEqual(['Hold the reset button for ten seconds.']);
      db.close();`,
  },
  'change-feed': {
    before: `import { open } from 'quiverdb';\nconst { expect } = globalThis.readme;`,
    after: `
      expect(changeSeq).toBe(2);
      expect(db.changes({ consumer: 'search-sync' })).toEqual([]); // all handled
      db.close();`,
  },
  replication: {
    before: `import { open } from 'quiverdb';
      const { expect } = globalThis.readme;
      const db = open('./main.quiver');
      const docs = db.collection('docs', { dim: 3 });
      docs.upsert([{ id: 'a', vector: [1, 2, 3], metadata: { lang: 'en' } }]);
      await db.backup('./backups/main-1');`,
    replace: { 'nats://127.0.0.1:4222': 'NATS_URL' },
    after: `
      expect(db.changeSeq()).toBe(3); // create, a, b
      db.close();`,
  },
  errors: {
    before: `${OPEN_DB}const docs = db.collection('docs', { dim: 3 });`,
    after: `
      expect(docs.count()).toBe(0); // nothing was written
      db.close();`,
  },
};

interface ReadmeBlock {
  line: number;
  name: string | undefined;
  code: string;
}

/** The ```ts blocks of README.md with the marker line above each, if any. */
function readmeBlocks(): ReadmeBlock[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const marker = /^<!-- readme-test: ([\w-]+) -->$/.exec(lines[i - 1]?.trim() ?? '');
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md line ${i + 1}: a \`\`\`ts block is never closed`);
    blocks.push({ line: i + 1, name: marker?.[1], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Turns a block and its setup into a runnable module file in `directory`; returns its path. */
function moduleFor(block: ReadmeBlock, setup: BlockSetup, directory: string): string {
  let code = block.code;
  for (const [from, to] of Object.entries(setup.replace ?? {})) {
    if (!code.includes(from)) throw new Error(`README.md line ${block.line}: '${from}' is not in the block`);
    code = code.replaceAll(from, to === 'NATS_URL' ? context.natsUrl : to);
  }
  const source = `${setup.before ?? ''}\n${code}\n${setup.after ?? ''}\nexport {};\n`;
  const javascript = transformSync(source, { loader: 'ts', format: 'esm', target: 'node20' }).code;
  const transformers = join(directory, 'transformers-stand-in.mjs');
  writeFileSync(transformers, 'export const pipeline = (...args) => globalThis.readme.pipeline(...args);\n');
  const resolved = javascript.replace(/from\s+(['"])([^'"]+)\1/g, (whole, _quote: string, specifier: string) => {
    if (specifier in MODULES) return `from ${JSON.stringify(MODULES[specifier])}`;
    if (specifier === '@huggingface/transformers') return `from ${JSON.stringify(transformers)}`;
    throw new Error(`README.md line ${block.line}: no module for import '${specifier}' (${whole})`);
  });
  const file = join(directory, `readme-line-${block.line}.mjs`);
  writeFileSync(file, resolved);
  return file;
}

const blocks = readmeBlocks();
let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
afterAll(async () => {
  await nats?.stop();
});

it('every named block has an entry and every entry a block', () => {
  const named = blocks.map((block) => block.name).filter((name) => name !== undefined);
  expect(named.filter((name) => !(name in BLOCKS))).toEqual([]);
  expect(Object.keys(BLOCKS).filter((name) => !named.includes(name))).toEqual([]);
  expect(blocks.length).toBeGreaterThan(10);
});

describe('README.md ```ts blocks', () => {
  for (const block of blocks) {
    const setup = (block.name === undefined ? {} : BLOCKS[block.name]) ?? {};
    const title = `line ${block.line}${block.name === undefined ? '' : ` (${block.name})`}`;
    it.skipIf(setup.skip !== undefined)(
      title,
      async () => {
        if (Object.values(setup.replace ?? {}).includes('NATS_URL') && nats === undefined) {
          nats = await startNatsServer();
          context.natsUrl = nats.url;
        }
        const directory = mkdtempSync(join(tmpdir(), 'quiver-readme-'));
        const previous = process.cwd();
        try {
          process.chdir(directory);
          await import(pathToFileURL(moduleFor(block, setup, directory)).href);
        } finally {
          process.chdir(previous);
          rmSync(directory, { recursive: true, force: true });
        }
      },
      30_000,
    );
  }
});
