// Arrow exports carry every stored collection setting in the schema metadata, and readSettings
// reads back exactly what settingsMetadata wrote; older files carry fewer keys and still read.
import { afterAll, describe, expect, it } from 'vitest';
import { type ExportedSettings, readSettings, settingsMetadata } from '../../src/arrow/index.js';
import { open } from '../../src/index.js';
import { tempDirectory } from '../helpers/fixtures.js';

const directory = tempDirectory();
afterAll(() => directory.cleanup());

describe('settings in the schema metadata', () => {
  it('an export carries index, field indexes and text settings as the collection reports them', () => {
    const db = open(directory.path);
    try {
      const docs = db.collection('docs', {
        dim: 3,
        metric: 'ip',
        index: { type: 'hnsw', m: 12, efConstruction: 90, ef: 33 },
        indexes: ['lang'],
        text: { tokenizer: 'trigram' },
      });
      docs.upsert([{ id: 'a', vector: [1, 2, 3], text: 'hello', metadata: { lang: 'en' } }]);
      // Indexes declared on a later open are carried too.
      const reopened = db.collection('docs', { dim: 3, metric: 'ip', indexes: ['author.name'] });
      const metadata = reopened.toArrowTable().schema.metadata;
      expect(Object.fromEntries(metadata)).toEqual({
        'quiverdb.collection': 'docs',
        'quiverdb.dim': '3',
        'quiverdb.metric': 'ip',
        'quiverdb.index': '{"type":"hnsw","m":12,"efConstruction":90,"ef":33}',
        'quiverdb.indexes': '["lang","author.name"]',
        'quiverdb.text': '{"tokenizer":"trigram","removeDiacritics":true}',
      });
      const info = db.listCollections()[0]!;
      expect(readSettings(metadata, 'docs.arrow')).toEqual({
        dim: info.dim,
        metric: info.metric,
        index: info.index,
        indexes: info.indexes,
        text: info.text,
      });
      const flat = db.collection('flat', { dim: 2, index: { type: 'flat' } });
      expect(flat.toArrowTable().schema.metadata.has('quiverdb.text')).toBe(false);
    } finally {
      db.close();
    }
  });

  it.each<ExportedSettings>([
    { dim: 7, metric: 'l2', index: { type: 'flat' }, indexes: [], text: undefined },
    {
      dim: 64,
      metric: 'cosine',
      index: { type: 'ivfpq', nlist: 16, m: 8, nprobe: 3, rerank: 50, targetRecall: 0.9 },
      indexes: ['a.b', 'it\'s "odd"'],
      text: { tokenizer: 'unicode61', removeDiacritics: false },
    },
    { dim: 2, metric: 'ip', index: { type: 'ivfpq', nlist: 4, m: 2 }, indexes: ['x'], text: undefined },
  ])('reads back what it writes (%j)', (settings) => {
    const read = readSettings(new Map(settingsMetadata(settings)), 'f.arrow');
    const { text, ...rest } = settings;
    expect(read).toEqual({ ...rest, indexes: [...settings.indexes], ...(text === undefined ? {} : { text }) });
  });

  it('files without the keys (older exports, other tools) announce nothing, or only dim and metric', () => {
    expect(readSettings(new Map(), 'other.arrow')).toEqual({});
    expect(
      readSettings(
        new Map([
          ['quiverdb.dim', '384'],
          ['quiverdb.metric', 'cosine'],
        ]),
        'old.arrow',
      ),
    ).toEqual({ dim: 384, metric: 'cosine' });
  });

  it.each([
    ['quiverdb.dim', '0'],
    ['quiverdb.dim', '3.5'],
    ['quiverdb.index', 'not json'],
    ['quiverdb.index', '{"type":"flat","m":3}'],
    ['quiverdb.index', '{"type":"hnsw","m":16,"ef":64}'],
    ['quiverdb.index', '{"type":"ivfpq","nlist":4}'],
    ['quiverdb.index', '{"type":"ivfpq","nlist":4,"m":2,"extra":1}'],
    ['quiverdb.indexes', '["lang",""]'],
    ['quiverdb.text', '{"tokenizer":"porter"}'],
    ['quiverdb.text', '{"tokenizer":"porter","removeDiacritics":true,"x":1}'],
  ])('a malformed %s = %s is CORRUPT, naming the file and the key', (key, value) => {
    expect(() => readSettings(new Map([[key, value]]), 'x.arrow')).toThrow(
      expect.objectContaining({
        code: 'CORRUPT',
        message: expect.stringContaining(`x.arrow has schema metadata ${key}`),
      }),
    );
  });
});
