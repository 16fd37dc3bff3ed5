// A database: one directory holding quiver.sqlite. Owns the store handle and the open
// collections, creates and checks collections' settings, and closes everything once.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { backupDatabase } from './changes/backup.js';
import { ChangeFeed } from './changes/change-feed.js';
import { CollectionImpl } from './collection/collection.js';
import { type IndexEvents, SnapshotReplaced } from './collection/derived-index.js';
import { QuiverError, toQuiverError } from './errors.js';
import { indexExpressionsOf, parseFieldPath } from './filter/index.js';
import { indexKind } from './index/registry.js';
import { useNativePaths } from './native-loader.js';
import { defaultThreadCount } from './native/threads.js';
import { fastOpenOptions, isCollectionName } from './open-options.js';
import {
  collectionNameSchema,
  collectionOptionsSchema,
  openOptionsSchema,
  type ParsedCollectionOptions,
  parseOrThrow,
} from './schema.js';
import { acquireWriterLock, type WriterLock } from './storage/lock.js';
import { type CollectionRow, type IndexParams, Store } from './storage/store.js';
import { sameTextSettings, type TextSettings, textSettingsOf } from './text/settings.js';
import type {
  BackupResult,
  Change,
  ChangeConsumerInfo,
  ChangeFeedInfo,
  ChangeRetention,
  ChangesOptions,
  Collection,
  CollectionInfo,
  CollectionOptions,
  Database,
  EmbedFunction,
  Metadata,
  Metric,
  OpenOptions,
  QuiverWarning,
  WatchOptions,
} from './types.js';

/** Name of the SQLite file inside a database directory. */
export const SQLITE_FILE = 'quiver.sqlite';

const DEFAULT_SNAPSHOT_THRESHOLD = 10_000;
/** Read transactions a reader's call may start before it gives up on a writer that keeps replacing snapshots. */
const MAX_READ_ATTEMPTS = 10;

function emitWarning(warning: QuiverWarning): void {
  process.emitWarning(warning.message, { code: `QUIVERDB_${warning.code}` });
}

export class DatabaseImpl implements Database {
  readonly path: string;
  readonly readOnly: boolean;
  readonly events: IndexEvents;
  readonly snapshotThreshold: number;
  /** Native threads for large upsert batches and queryBatch (OpenOptions.threads). */
  readonly threads: number;
  #store: Store | undefined;
  #feed: ChangeFeed | undefined;
  #lock: WriterLock | undefined;
  #dataVersion = 0;
  /** True while refresh() catches the collections up: a nested assertOpen() must not start another. */
  #refreshing = false;
  readonly #collections = new Map<string, CollectionImpl>();
  /** Collections being opened by collectionAsync, by name. */
  readonly #opening = new Map<string, Promise<CollectionImpl>>();

  constructor(path: string, options: OpenOptions = {}) {
    const parsed = fastOpenOptions(options) ?? parseOrThrow(openOptionsSchema, options, 'options');
    if (typeof path !== 'string' || path.length === 0) {
      throw new QuiverError('INVALID_ARGUMENT', 'open() needs the path of a database directory');
    }
    useNativePaths({ addonPath: parsed.addonPath, sqliteAddonPath: parsed.sqliteAddonPath });
    this.path = resolve(path);
    this.readOnly = parsed.readOnly === true;
    this.snapshotThreshold = parsed.snapshotThreshold ?? DEFAULT_SNAPSHOT_THRESHOLD;
    this.threads = parsed.threads ?? defaultThreadCount();
    this.events = { onWarning: options.onWarning ?? emitWarning, onProgress: options.onProgress ?? (() => {}) };
    prepareDirectory(this.path, this.readOnly);
    // The lock comes first, so that only the writer ever creates or migrates the schema.
    this.#lock = this.readOnly ? undefined : acquireWriterLock(this.path);
    try {
      this.#store = Store.open(join(this.path, SQLITE_FILE), {
        durability: parsed.durability ?? 'full',
        readOnly: this.readOnly,
      });
      this.#dataVersion = this.#store.dataVersion();
      this.#feed = new ChangeFeed(this.#store.changes, this.readOnly);
    } catch (error) {
      this.#lock?.release();
      throw error;
    }
  }

  get store(): Store {
    this.assertOpen();
    return this.#store!;
  }

  /**
   * Runs a call of a reader in one read transaction: its catch-up with the writer, its index search
   * and its record reads all see one committed state (one SQLite snapshot), whatever the writer
   * commits meanwhile. A snapshot file the writer replaced under the catch-up starts the call again
   * in a new transaction. The writer's calls run as they are.
   */
  read<T>(body: () => T): T {
    const store = this.#openStore();
    if (!this.readOnly || store.inTransaction) return body();
    for (let attempt = 1; ; attempt++) {
      try {
        return store.transaction(() => {
          store.lastSeq(); // the first read fixes the transaction's snapshot, before data_version is asked
          this.assertOpen();
          return body();
        });
      } catch (error) {
        if (!(error instanceof SnapshotReplaced)) throw error;
        if (attempt >= MAX_READ_ATTEMPTS) {
          throw new QuiverError(
            'IO_ERROR',
            `the writer replaced the index snapshot ${error.message} ${attempt} times while this reader loaded it; retry the call`,
            { cause: error },
          );
        }
      }
    }
  }

  /** The change feed (records the changes collections commit). */
  get feed(): ChangeFeed {
    this.#openStore();
    return this.#feed!;
  }

  assertOpen(): void {
    const store = this.#openStore();
    // A reader follows the writer: when another connection has committed, catch up first (not again
    // from inside a catch-up, which reads through the same store).
    if (this.readOnly && !this.#refreshing && store.dataVersion() !== this.#dataVersion) this.refresh();
  }

  refresh(): void {
    const store = this.#openStore();
    if (!this.readOnly) return;
    const version = store.dataVersion();
    this.#refreshing = true;
    try {
      for (const [name, collection] of this.#collections) {
        if (!collection.catchUp()) this.#collections.delete(name);
      }
    } finally {
      this.#refreshing = false;
    }
    // Only once every collection caught up: a catch-up that throws is tried again by the next call.
    this.#dataVersion = version;
  }

  #openStore(): Store {
    if (this.#store === undefined) {
      throw new QuiverError('CLOSED', `the database at ${this.path} was closed; open() it again`);
    }
    return this.#store;
  }

  compact(): void {
    const store = this.store;
    if (this.readOnly) throw new QuiverError('READ_ONLY', 'cannot compact: the database is read-only');
    for (const row of store.listCollections()) (this.collection(row.name) as CollectionImpl).compact();
    store.checkpoint();
    store.vacuum();
  }

  collection<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions,
  ): Collection<M, K>;
  collection(name: string, options?: CollectionOptions): Collection {
    return this.read(() => this.#collection(name, options));
  }

  #collection(name: string, options?: CollectionOptions): Collection {
    const store = this.store;
    if (!isCollectionName(name)) parseOrThrow(collectionNameSchema, name, 'collection name');
    const settings = options === undefined ? undefined : parseOrThrow(collectionOptionsSchema, options, 'options');
    const open = this.#collections.get(name);
    const stored = open === undefined ? store.findCollection(name) : undefined;
    const row: CollectionRow | undefined =
      open === undefined
        ? stored
        : {
            id: -1,
            name,
            dim: open.dim,
            metric: open.metric,
            index: open.index,
            createdAt: 0,
            indexedFields: [],
            textSettings: open.text,
          };
    if (row !== undefined) {
      if (settings !== undefined) checkSettings(row, settings);
      const collection = open ?? this.#remember(new CollectionImpl(this, row));
      this.#applyOptions(collection, settings);
      return collection;
    }
    if (settings === undefined) {
      throw new QuiverError(
        'NOT_FOUND',
        `collection '${name}' does not exist; create it with db.collection('${name}', { dim, metric })`,
      );
    }
    if (this.readOnly) {
      throw new QuiverError('READ_ONLY', `collection '${name}' does not exist and the database is read-only`);
    }
    // Defaults filled in and checked against dim by the kind (src/index/registry.ts).
    const index: IndexParams = indexKind(settings.index?.type ?? 'hnsw').paramsOf(settings.index, settings.dim);
    // The field paths are checked before anything is created.
    const fields = (settings.indexes ?? []).map((field, i) => indexedField(field, `options.indexes[${i}]`));
    const textSettings = settings.text === undefined ? undefined : textSettingsOf(settings.text);
    const metric = settings.metric ?? 'l2';
    const created = store.transaction(() => {
      const row = store.createCollection(name, settings.dim, metric, index);
      if (fields.length > 0) store.declareFieldIndexes(row.id, fields);
      this.feed.collectionChanged(name, 'create', {
        dim: settings.dim,
        metric,
        index,
        indexes: fields.map((field) => field.field),
        ...(textSettings === undefined ? {} : { text: textSettings }),
      });
      if (textSettings !== undefined) {
        store.textIndex(row.id).create(textSettings);
        store.setTextSettings(row.id, textSettings);
      }
      return row;
    });
    this.feed.committed();
    const collection = this.#remember(
      new CollectionImpl(this, { ...created, indexedFields: fields.map((field) => field.field), textSettings }),
    );
    this.#applyOptions(collection, settings);
    return collection;
  }

  /** The options of an open that act on the collection object: new field indexes, a text index, embed. */
  #applyOptions(collection: CollectionImpl, settings: ParsedCollectionOptions | undefined): void {
    if (settings === undefined) return;
    if (settings.indexes !== undefined) this.#declareIndexes(collection, settings.indexes);
    if (settings.text !== undefined && collection.text === undefined) {
      if (this.readOnly) {
        throw new QuiverError(
          'READ_ONLY',
          `cannot add a text index to '${collection.name}': the database is read-only`,
        );
      }
      const text = textSettingsOf(settings.text);
      // A change of its own (op 'index', settings.text), so that replicas build the same index.
      this.store.transaction(() => {
        this.feed.collectionChanged(collection.name, 'index', { text });
        collection.declareText(text);
      });
      this.feed.committed();
    }
    if (settings.embed !== undefined) {
      collection.setEmbed(settings.embed as EmbedFunction, settings.embedBatchSize, settings.embedConcurrency);
    }
  }

  collectionAsync<M extends object = Metadata, K extends Metric = Metric>(
    name: string,
    options?: CollectionOptions,
  ): Promise<Collection<M, K>>;
  async collectionAsync(name: string, options?: CollectionOptions): Promise<Collection> {
    const store = this.store;
    if (!isCollectionName(name)) parseOrThrow(collectionNameSchema, name, 'collection name');
    const settings = options === undefined ? undefined : parseOrThrow(collectionOptionsSchema, options, 'options');
    const row = this.#collections.has(name) ? undefined : store.findCollection(name);
    // Open already, or to be created (an empty index), or missing: nothing slow to do.
    if (row === undefined) return this.collection(name, options);
    if (settings !== undefined) checkSettings(row, settings);
    let opening = this.#opening.get(name);
    if (opening === undefined) {
      opening = this.#openAsync(row);
      this.#opening.set(name, opening);
      void opening.then(
        () => this.#opening.delete(name),
        () => this.#opening.delete(name),
      );
    }
    const collection = await opening;
    this.#applyOptions(collection, settings);
    return collection;
  }

  /** Opens a stored collection off the event loop, then keeps it unless the database moved on. */
  async #openAsync(row: CollectionRow): Promise<CollectionImpl> {
    const opened = await CollectionImpl.openAsync(this, row);
    if (this.#store === undefined) {
      opened.close();
      throw new QuiverError('CLOSED', `the database at ${this.path} was closed while '${row.name}' was being opened`);
    }
    // Opened synchronously meanwhile: that object is the collection; this one goes.
    const current = this.#collections.get(row.name);
    if (current !== undefined) {
      opened.close();
      return current;
    }
    return this.#remember(opened);
  }

  /** Adds SQLite indexes for metadata fields of an existing collection (never removes any). */
  #declareIndexes(collection: CollectionImpl, fields: readonly string[]): void {
    const wanted = fields.map((field, i) => indexedField(field, `options.indexes[${i}]`));
    const row = this.store.findCollection(collection.name)!;
    const missing = wanted.filter((field) => !row.indexedFields.includes(field.field));
    if (missing.length === 0) return;
    if (this.readOnly) {
      throw new QuiverError('READ_ONLY', `cannot add indexes to '${collection.name}': the database is read-only`);
    }
    this.store.transaction(() => {
      this.store.declareFieldIndexes(row.id, missing);
      this.feed.collectionChanged(collection.name, 'index', { indexes: missing.map((field) => field.field) });
    });
    this.feed.committed();
  }

  listCollections(): CollectionInfo[] {
    const store = this.store;
    return this.read(() =>
      store.listCollections().map((row) => ({
        name: row.name,
        dim: row.dim,
        metric: row.metric,
        index: row.index,
        indexes: [...row.indexedFields],
        ...(row.textSettings === undefined ? {} : { text: { ...row.textSettings } }),
        count: store.count(row.id),
      })),
    );
  }

  dropCollection(name: string): boolean {
    const store = this.store;
    if (!isCollectionName(name)) parseOrThrow(collectionNameSchema, name, 'collection name');
    if (this.readOnly) throw new QuiverError('READ_ONLY', `cannot drop '${name}': the database is read-only`);
    const row = store.findCollection(name);
    if (row === undefined) return false;
    store.transaction(() => {
      store.dropCollection(row.id);
      this.feed.collectionChanged(name, 'drop');
    });
    this.feed.committed();
    this.#collections.get(name)?.close();
    this.#collections.delete(name);
    CollectionImpl.removeFiles(this.path, name);
    return true;
  }

  changeSeq(): number {
    this.assertOpen();
    return this.feed.lastSeq();
  }

  changes(options?: ChangesOptions): Change[] {
    this.assertOpen();
    return this.feed.changes(options);
  }

  watch(options?: WatchOptions): AsyncIterableIterator<Change> {
    this.assertOpen();
    const feed = this.feed;
    // Each step checks that the database is still open, so a closed database ends the iteration with CLOSED.
    const inner = feed.watch(options);
    return {
      next: async () => {
        this.assertOpen();
        return inner.next();
      },
      return: async () => inner.return(undefined),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  registerConsumer(name: string, options: { after?: number } = {}): ChangeConsumerInfo {
    this.assertOpen();
    return this.feed.registerConsumer(name, options.after);
  }

  commitConsumer(name: string, seq: number): void {
    this.assertOpen();
    this.feed.commitConsumer(name, seq);
  }

  removeConsumer(name: string): boolean {
    this.assertOpen();
    return this.feed.removeConsumer(name);
  }

  listConsumers(): ChangeConsumerInfo[] {
    this.assertOpen();
    return this.feed.listConsumers();
  }

  setChangeRetention(retention: ChangeRetention): void {
    this.assertOpen();
    if (this.readOnly) throw new QuiverError('READ_ONLY', 'cannot set the change retention: the database is read-only');
    this.feed.setRetention(retention);
  }

  changeFeedInfo(): ChangeFeedInfo {
    this.assertOpen();
    return this.feed.info();
  }

  async backup(path: string): Promise<BackupResult> {
    const store = this.store;
    return backupDatabase(store, this.path, path);
  }

  close(): void {
    this.#close(true);
  }

  /**
   * Closes without snapshotting: for an owner whose in-memory indexes may hold changes a failed
   * transaction rolled back (a replica's apply). The next open replays the log or rebuilds.
   */
  closeWithoutSnapshot(): void {
    this.#close(false);
  }

  #close(snapshot: boolean): void {
    if (this.#store === undefined) return;
    try {
      // Snapshot what the log holds so the next open loads instead of replaying.
      if (snapshot) for (const collection of this.#collections.values()) collection.flush();
    } finally {
      for (const collection of this.#collections.values()) collection.close();
      this.#collections.clear();
      const store = this.#store;
      const lock = this.#lock;
      this.#store = undefined;
      this.#feed = undefined;
      this.#lock = undefined;
      // The lock goes whatever the store's close throws: a failed close never keeps the writer out.
      try {
        store.close();
      } finally {
        lock?.release();
      }
    }
  }

  #remember(collection: CollectionImpl): CollectionImpl {
    this.#collections.set(collection.name, collection);
    return collection;
  }
}

function prepareDirectory(path: string, readOnly: boolean): void {
  if (path.includes('\u0000')) {
    throw new QuiverError('INVALID_ARGUMENT', 'the database path holds a NUL character; pass a file-system path');
  }
  let isDirectory: boolean | undefined;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTDIR' || code === 'ENAMETOOLONG') {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        code === 'ENOTDIR'
          ? `${path} lies below a file, not a directory; pick a path inside a directory`
          : `${path} is too long a name for this file system; pick a shorter path`,
        { cause: error },
      );
    }
    if (code !== 'ENOENT') throw toQuiverError(error, `opening ${path}`);
    isDirectory = undefined;
  }
  if (isDirectory === false) {
    throw new QuiverError('INVALID_ARGUMENT', `${path} is a file; a QuiverDB database is a directory`);
  }
  const missing = `no database at ${path}; a read-only open needs an existing one`;
  if (isDirectory === undefined) {
    if (readOnly) throw new QuiverError('NOT_FOUND', missing);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw toQuiverError(error, `creating the database directory ${path}`);
    }
  } else if (readOnly && !existsSync(join(path, SQLITE_FILE))) {
    // An existing directory without quiver.sqlite holds no database.
    throw new QuiverError('NOT_FOUND', missing);
  }
}

/** A declared field: its normalised dotted path and the SQL expressions its indexes are built on. */
function indexedField(field: string, where: string): { field: string; value: string; type: string } {
  const path = parseFieldPath(field, where);
  return { field: path.join('.'), ...indexExpressionsOf(path, { metadataColumn: 'metadata' }) };
}

/** Throws SETTINGS_MISMATCH when `options` ask for something other than what is stored. */
function checkSettings(row: CollectionRow, options: ParsedCollectionOptions): void {
  const differences: string[] = [];
  if (options.dim !== row.dim) differences.push(`dim ${options.dim} (stored: ${row.dim})`);
  // Only what the caller wrote is compared: a default is no request (reopening a cosine
  // collection with { dim } alone is the app's usual create call, not a mismatch).
  if (options.metric !== undefined && options.metric !== row.metric) {
    differences.push(`metric '${options.metric}' (stored: '${row.metric}')`);
  }
  const index = options.index;
  if (index !== undefined) {
    if (index.type !== row.index.type) {
      differences.push(`index '${index.type}' (stored: '${row.index.type}')`);
    } else {
      const stored = row.index as unknown as Readonly<Record<string, unknown>>;
      const kind = indexKind(row.index);
      for (const key of kind.settingKeys) {
        const value = (index as Readonly<Record<string, unknown>>)[key];
        const storedValue = stored[key] ?? kind.settingDefaults?.[key];
        if (value !== undefined && value !== storedValue) differences.push(`${key} ${value} (stored: ${storedValue})`);
      }
    }
  }
  if (options.text !== undefined && row.textSettings !== undefined) {
    const asked: TextSettings = textSettingsOf(options.text);
    if (!sameTextSettings(asked, row.textSettings)) {
      differences.push(`text ${JSON.stringify(asked)} (stored: ${JSON.stringify(row.textSettings)})`);
    }
  }
  if (differences.length > 0) {
    throw new QuiverError(
      'SETTINGS_MISMATCH',
      `collection '${row.name}' exists with other settings: asked for ${differences.join(', ')}. ` +
        `Open it without options to use the stored settings, or drop it first to change them.`,
    );
  }
}
