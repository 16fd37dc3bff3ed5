// LangChain.js over QuiverDB: documents in, a retriever out, hybrid (vector + BM25) ranking, and
// the store reopened from disk. Runs offline: the embeddings are a small hashed bag of words
// standing in for a real model (swap in OpenAIEmbeddings, HuggingFaceTransformersEmbeddings, …).
//   npx tsx examples/langchain.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { open } from '../src/index.js';
import { QuiverVectorStore } from '../src/langchain/index.js';

/** Each word hashed into one of 64 buckets, the counts normalised: texts sharing words are near. */
class HashedWords extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.#embed(text));
  }
  async embedQuery(text: string): Promise<number[]> {
    return this.#embed(text);
  }
  #embed(text: string): number[] {
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

const directory = mkdtempSync(join(tmpdir(), 'quiver-langchain-'));
try {
  const db = open(directory);
  const store = await QuiverVectorStore.fromDocuments(
    [
      new Document({
        pageContent: 'Hold the power button for ten seconds to reset the device.',
        metadata: { source: 'manual.pdf', page: 3 },
      }),
      new Document({
        pageContent: 'The battery lasts two days; charge it with the USB-C cable.',
        metadata: { source: 'manual.pdf', page: 7 },
      }),
      new Document({
        pageContent: 'Our offices are closed on public holidays.',
        metadata: { source: 'faq.md', page: 1 },
      }),
    ],
    new HashedWords(),
    { db, collectionName: 'manual', collectionOptions: { metric: 'cosine', text: true }, search: 'hybrid' },
  );

  const retriever = store.asRetriever({ k: 1, filter: { source: 'manual.pdf' } });
  const [answer] = await retriever.invoke('how do I reset the device?');
  console.log(`retrieved: ${answer?.pageContent} (${answer?.metadata.source} p.${answer?.metadata.page})`);
  db.close();

  // Another run of the app: the documents are on disk.
  const again = open(directory);
  const reopened = await QuiverVectorStore.fromExistingCollection(new HashedWords(), {
    db: again,
    collectionName: 'manual',
  });
  const [[battery, distance]] = (await reopened.similaritySearchWithScore('battery charge', 1)) as [[Document, number]];
  console.log(`after reopening: ${battery.pageContent} (distance ${distance.toFixed(3)})`);
  again.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}
