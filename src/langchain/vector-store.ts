// QuiverVectorStore: a LangChain.js VectorStore over one QuiverDB collection. A document's page
// content is the record's `text`, its metadata the record's metadata, its id the record's id.
// Imports only the public types and QuiverError of the library, and @langchain/core (an optional
// peer dependency that apps without LangChain never load: this module is the `quiverdb/langchain`
// entry, not part of `quiverdb`).
import { randomUUID } from 'node:crypto';
import type { Callbacks } from '@langchain/core/callbacks/manager';
import { Document, type DocumentInterface } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { maximalMarginalRelevance } from '@langchain/core/utils/math';
import { type MaxMarginalRelevanceSearchOptions, VectorStore } from '@langchain/core/vectorstores';
import { QuiverError } from '../errors.js';
import type { Collection, CollectionOptions, Database, Filter, QueryHit, QuiverRecord } from '../types.js';

/** How {@link QuiverVectorStore.similaritySearch} and the retriever rank documents. */
export type QuiverSearchMode = 'vector' | 'hybrid';

/** Where a {@link QuiverVectorStore} keeps its documents. */
export interface QuiverVectorStoreConfig {
  /** An open database (`open()` from 'quiverdb'). The store never closes it: the app does. */
  db: Database;
  /** The collection that holds the documents (created on the first add when missing). */
  collectionName: string;
  /**
   * Settings for creating the collection on the first add. `dim` may be left out: it is then the
   * length of the first vector added. When the collection exists, these are checked against its
   * stored settings, as `db.collection(name, options)` does.
   */
  collectionOptions?: Omit<CollectionOptions, 'dim'> & { dim?: number };
  /**
   * 'vector' (default): rank by the embedding of the query. 'hybrid': fuse the embedding's ranking
   * with a full-text (BM25) ranking of the query's words; needs a collection created with `text`.
   */
  search?: QuiverSearchMode;
}

/** Options of {@link QuiverVectorStore.addVectors} and {@link QuiverVectorStore.addDocuments}. */
export interface QuiverAddOptions {
  /** One id per document; default: each document's `id`, else a new UUID. */
  ids?: string[];
}

/** What {@link QuiverVectorStore.delete} removes: the documents with these ids, or those matching a filter. */
export type QuiverDeleteParams = { ids: string[] } | { filter: Filter };

const DEFAULT_MMR_FETCH_K = 20;
const DEFAULT_MMR_LAMBDA = 0.5;

/**
 * A LangChain vector store kept in a QuiverDB collection: durable, searched by the collection's
 * index, filtered with QuiverDB's metadata filters. Search results carry the hit's `distance`
 * (smaller is closer, in the collection's metric), or with `search: 'hybrid'` the fused score
 * (larger is better).
 * @example
 * import { open } from 'quiverdb';
 * import { QuiverVectorStore } from 'quiverdb/langchain';
 * const db = open('./rag.quiver');
 * const store = new QuiverVectorStore(embeddings, { db, collectionName: 'docs', collectionOptions: { metric: 'cosine' } });
 * await store.addDocuments([{ pageContent: 'QuiverDB keeps vectors on disk', metadata: { source: 'readme' } }]);
 * const docs = await store.similaritySearch('where are vectors kept?', 4, { source: 'readme' });
 */
export class QuiverVectorStore extends VectorStore {
  declare FilterType: Filter;
  readonly #db: Database;
  readonly #name: string;
  readonly #options: QuiverVectorStoreConfig['collectionOptions'];
  readonly #search: QuiverSearchMode;
  #collection: Collection | undefined;

  /**
   * @throws {QuiverError} INVALID_ARGUMENT when the config lacks a database or a collection name
   */
  constructor(embeddings: EmbeddingsInterface, config: QuiverVectorStoreConfig) {
    super(embeddings, config as unknown as Record<string, unknown>);
    if (config === null || typeof config !== 'object' || config.db === undefined) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        'QuiverVectorStore needs { db, collectionName }: db is an open() database',
      );
    }
    if (typeof config.collectionName !== 'string' || config.collectionName.length === 0) {
      throw new QuiverError('INVALID_ARGUMENT', 'QuiverVectorStore needs a collectionName (a non-empty string)');
    }
    if (config.search !== undefined && config.search !== 'vector' && config.search !== 'hybrid') {
      throw new QuiverError('INVALID_ARGUMENT', `search is '${String(config.search)}'; use 'vector' or 'hybrid'`);
    }
    this.#db = config.db;
    this.#name = config.collectionName;
    this.#options = config.collectionOptions;
    this.#search = config.search ?? 'vector';
  }

  /**
   * The store's kind, as LangChain names vector stores.
   * @example
   * store._vectorstoreType(); // 'quiverdb'
   */
  _vectorstoreType(): string {
    return 'quiverdb';
  }

  /**
   * The collection, or undefined while nothing was added to a collection that does not exist yet.
   * @example
   * store.collection?.count();
   */
  get collection(): Collection | undefined {
    if (this.#collection !== undefined) return this.#collection;
    const exists = this.#db.listCollections().some((info) => info.name === this.#name);
    if (!exists) return undefined;
    const stored = this.#db.collection(this.#name);
    // Configured settings are checked against the stored ones; a configured dim is optional.
    this.#collection =
      this.#options === undefined
        ? stored
        : this.#db.collection(this.#name, { ...this.#options, dim: this.#options.dim ?? stored.dim });
    return this.#collection;
  }

  /** The collection for vectors of `dim` numbers, created with the configured settings when missing. */
  #collectionFor(dim: number): Collection {
    const existing = this.collection;
    if (existing !== undefined) return existing;
    this.#collection = this.#db.collection(this.#name, { ...this.#options, dim: this.#options?.dim ?? dim });
    return this.#collection;
  }

  /**
   * Stores documents with vectors computed elsewhere, in one transaction. An id that exists is
   * replaced (adding the same ids twice leaves one copy). The documents are not modified.
   * @example
   * const ids = await store.addVectors([[0.1, 0.2]], [{ pageContent: 'hello', metadata: {} }], { ids: ['a'] });
   * @throws {QuiverError} INVALID_ARGUMENT (counts differ, bad ids), DIMENSION_MISMATCH, NOT_FINITE, INVALID_METADATA
   */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options?: QuiverAddOptions): Promise<string[]> {
    if (vectors.length !== documents.length) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `addVectors got ${vectors.length} vectors for ${documents.length} documents; give one vector per document`,
      );
    }
    const ids = options?.ids;
    if (ids !== undefined && ids.length !== documents.length) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `options.ids has ${ids.length} ids for ${documents.length} documents; give one id per document`,
      );
    }
    if (documents.length === 0) return [];
    const recordIds = documents.map((document, i) => ids?.[i] ?? document.id ?? randomUUID());
    const collection = this.#collectionFor(vectors[0]!.length);
    await collection.upsertAsync(
      documents.map((document, i) => ({
        id: recordIds[i]!,
        vector: vectors[i]!,
        text: document.pageContent,
        metadata: document.metadata,
      })),
    );
    return recordIds;
  }

  /**
   * Embeds the documents' page content with the store's embeddings and stores them (see
   * {@link QuiverVectorStore.addVectors}).
   * @example
   * await store.addDocuments([new Document({ pageContent: 'hello', metadata: { lang: 'en' } })], { ids: ['greeting'] });
   * @throws {QuiverError} as addVectors; an error of the embeddings passes through unchanged
   */
  async addDocuments(documents: DocumentInterface[], options?: QuiverAddOptions): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((document) => document.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * The k documents nearest to a vector, with their distances, best first; only documents whose
   * metadata matches `filter` when one is given. An empty store answers [].
   * @example
   * const [[doc, distance]] = await store.similaritySearchVectorWithScore(vector, 1, { lang: 'en' });
   * @throws {QuiverError} DIMENSION_MISMATCH, NOT_FINITE, INVALID_FILTER, INVALID_ARGUMENT (k)
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: Filter): Promise<[Document, number][]> {
    const collection = this.collection;
    if (collection === undefined) return [];
    const hits = collection.query({ vector: query, k, ...(filter === undefined ? {} : { filter }) });
    return hits.map((hit) => [toDocument(hit), hit.distance]);
  }

  /**
   * The k documents most relevant to a text, best first: by its embedding, or with `search:
   * 'hybrid'` by the fusion of its embedding's ranking and the full-text ranking of its words.
   * @example
   * const docs = await store.similaritySearch('how do I reset the device', 4);
   * @throws {QuiverError} as similaritySearchVectorWithScore; an error of the embeddings passes through
   */
  override async similaritySearch(
    query: string,
    k = 4,
    filter?: Filter,
    _callbacks?: Callbacks,
  ): Promise<DocumentInterface[]> {
    return (await this.similaritySearchWithScore(query, k, filter)).map(([document]) => document);
  }

  /**
   * As {@link QuiverVectorStore.similaritySearch}, with each document's distance (or fused score
   * with `search: 'hybrid'`).
   * @example
   * const [[doc, distance]] = await store.similaritySearchWithScore('reset the device', 1);
   * @throws {QuiverError} as similaritySearch
   */
  override async similaritySearchWithScore(
    query: string,
    k = 4,
    filter?: Filter,
    _callbacks?: Callbacks,
  ): Promise<[DocumentInterface, number][]> {
    const vector = await this.embeddings.embedQuery(query);
    if (this.#search === 'vector') return this.similaritySearchVectorWithScore(vector, k, filter);
    const collection = this.collection;
    if (collection === undefined) return [];
    const hits = collection.query({ vector, text: query, k, ...(filter === undefined ? {} : { filter }) });
    return hits.map((hit) => [toDocument(hit), hit.score ?? hit.distance]);
  }

  /**
   * Documents relevant to the query and different from each other: the `fetchK` nearest by
   * embedding, then `k` of them chosen by maximal marginal relevance (`lambda` 1: relevance only,
   * 0: diversity only; default 0.5).
   * @example
   * const varied = await store.maxMarginalRelevanceSearch('battery', { k: 4, fetchK: 20, lambda: 0.5 });
   * @throws {QuiverError} INVALID_ARGUMENT (lambda outside 0–1), and as similaritySearch
   */
  override async maxMarginalRelevanceSearch(
    query: string,
    options: MaxMarginalRelevanceSearchOptions<Filter>,
    _callbacks?: Callbacks,
  ): Promise<DocumentInterface[]> {
    const lambda = options.lambda ?? DEFAULT_MMR_LAMBDA;
    if (!(lambda >= 0 && lambda <= 1)) {
      throw new QuiverError('INVALID_ARGUMENT', `lambda is ${lambda}; it must be between 0 and 1`);
    }
    const vector = await this.embeddings.embedQuery(query);
    const collection = this.collection;
    if (collection === undefined) return [];
    const fetchK = Math.max(options.fetchK ?? DEFAULT_MMR_FETCH_K, options.k);
    const filter = options.filter;
    const hits = collection.query({
      vector,
      k: fetchK,
      includeVectors: true,
      ...(filter === undefined ? {} : { filter }),
    });
    const chosen = maximalMarginalRelevance(
      vector,
      hits.map((hit) => Array.from(hit.vector!)),
      lambda,
      options.k,
    );
    return chosen.map((i) => toDocument(hits[i]!));
  }

  /**
   * Removes the documents with the given ids (missing ids are ignored), or every document whose
   * metadata matches a filter.
   * @example
   * await store.delete({ ids: ['a', 'b'] });
   * await store.delete({ filter: { source: 'old.pdf' } });
   * @throws {QuiverError} INVALID_ARGUMENT (neither ids nor filter), INVALID_ID, INVALID_FILTER
   */
  override async delete(params?: QuiverDeleteParams): Promise<void> {
    if (params === undefined || typeof params !== 'object' || 'ids' in params === 'filter' in params) {
      throw new QuiverError('INVALID_ARGUMENT', 'delete() takes { ids: [...] } or { filter: {...} }, one of them');
    }
    const collection = this.collection;
    if (collection === undefined) return;
    if ('ids' in params) collection.delete(params.ids);
    else collection.delete({ filter: params.filter });
  }

  /**
   * The documents with these ids, in the order asked; ids that are not stored are left out.
   * @example
   * const [doc] = await store.getByIds(['a']);
   * @throws {QuiverError} INVALID_ID
   */
  async getByIds(ids: string[]): Promise<DocumentInterface[]> {
    const collection = this.collection;
    if (collection === undefined) return [];
    return collection.get(ids).map(toDocument);
  }

  /**
   * A store over `config`'s collection holding the given texts (embedded with `embeddings`).
   * @example
   * const store = await QuiverVectorStore.fromTexts(['hello', 'world'], [{ n: 1 }, { n: 2 }], embeddings, { db, collectionName: 'docs' });
   * @throws {QuiverError} as addDocuments
   */
  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    config: QuiverVectorStoreConfig,
  ): Promise<QuiverVectorStore> {
    const documents = texts.map(
      (pageContent, i) =>
        new Document({
          pageContent,
          metadata: { ...((Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown>) },
        }),
    );
    return QuiverVectorStore.fromDocuments(documents, embeddings, config);
  }

  /**
   * A store over `config`'s collection holding the given documents (embedded with `embeddings`).
   * @example
   * const store = await QuiverVectorStore.fromDocuments(docs, embeddings, { db, collectionName: 'docs' });
   * @throws {QuiverError} as addDocuments
   */
  static override async fromDocuments(
    documents: DocumentInterface[],
    embeddings: EmbeddingsInterface,
    config: QuiverVectorStoreConfig,
  ): Promise<QuiverVectorStore> {
    const store = new QuiverVectorStore(embeddings, config);
    await store.addDocuments(documents);
    return store;
  }

  /**
   * A store over a collection that already exists (e.g. filled in an earlier run).
   * @example
   * const store = await QuiverVectorStore.fromExistingCollection(embeddings, { db, collectionName: 'docs' });
   * @throws {QuiverError} NOT_FOUND when the collection does not exist; SETTINGS_MISMATCH
   */
  static async fromExistingCollection(
    embeddings: EmbeddingsInterface,
    config: QuiverVectorStoreConfig,
  ): Promise<QuiverVectorStore> {
    const store = new QuiverVectorStore(embeddings, config);
    if (store.collection === undefined) {
      throw new QuiverError(
        'NOT_FOUND',
        `collection '${config.collectionName}' does not exist; create it with QuiverVectorStore.fromDocuments or addDocuments`,
      );
    }
    return store;
  }
}

/** A LangChain document of a stored record or a hit (page content: its text, '' when it has none). */
function toDocument(record: QuiverRecord | QueryHit): Document {
  return new Document({ id: record.id, pageContent: record.text ?? '', metadata: record.metadata });
}
