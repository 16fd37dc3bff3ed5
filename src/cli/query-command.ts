// `quiver query DB COLLECTION`: the k nearest records to a vector given as JSON or to a stored
// record (--like ID), the best BM25 matches of a text (--text), or both fused, through a read-only open. Imports src/db.ts and the CLI's modules.
import { QuiverError } from '../errors.js';
import { parseFilter } from '../filter/index.js';
import { open } from '../index.js';
import type { QueryHit, QueryOptions } from '../types.js';
import type { Output } from './output.js';
import {
  asUsage,
  integerOption,
  jsonOption,
  type Options,
  type Parsed,
  parse,
  positionals,
  stringOption,
  UsageError,
} from './usage.js';

export const QUERY_HELP = `Usage: quiver query DB COLLECTION (--vector JSON | --like ID | --text WORDS) [options]

Prints the k nearest records of COLLECTION, best first: id, distance (score for cosine and ip),
metadata and text. With --text, the best full-text (BM25) matches; with --text and a vector, the
two fused (reciprocal rank fusion). Opens the database read-only: safe beside a writer.

Options:
  --vector JSON    the query vector, e.g. '[0.1, 0.2, 0.3]'
  --like ID        use the stored vector of record ID (the record itself is left out of the hits)
  --text WORDS     words to search for in the records' text (the collection needs a text index)
  --k N            number of neighbours (default 10)
  --ef N           HNSW search effort (default: the collection's)
  --filter JSON    only records whose metadata matches, e.g. '{"year":{"$gte":2020}}'
                   (needs filtered queries in the library; otherwise exits 2 saying so)
  --json           print the hits as JSON
  -h, --help       this help

Exit status: 0 ok (also when nothing matches), 1 it failed (no such record or collection),
2 bad usage.`;

const OPTIONS = {
  vector: { type: 'string' },
  like: { type: 'string' },
  k: { type: 'string' },
  ef: { type: 'string' },
  filter: { type: 'string' },
  text: { type: 'string' },
} as const satisfies Options;

export function queryArguments(argv: readonly string[]): Parsed {
  return parse(argv, OPTIONS);
}

export async function runQuery(parsed: Parsed, output: Output): Promise<number> {
  const [database, name] = positionals(parsed, ['DB', 'COLLECTION']) as [string, string];
  const vector = jsonOption(parsed, 'vector');
  const like = stringOption(parsed, 'like');
  const text = stringOption(parsed, 'text');
  if (vector !== undefined && like !== undefined) throw new UsageError('give either --vector JSON or --like ID');
  if (vector === undefined && like === undefined && text === undefined) {
    throw new UsageError('give --vector JSON or --like ID, --text WORDS, or a vector and --text');
  }
  if (vector !== undefined && (!Array.isArray(vector) || vector.some((value) => typeof value !== 'number'))) {
    throw new UsageError('--vector takes a JSON array of numbers, e.g. [0.1, 0.2, 0.3]');
  }
  const k = integerOption(parsed, 'k', 1, 10_000) ?? 10;
  const ef = integerOption(parsed, 'ef', 1, 10_000);
  const filter = jsonOption(parsed, 'filter');
  if (filter !== undefined) asUsage(() => parseFilter(filter));
  const db = open(database, { readOnly: true, onWarning: output.warning });
  try {
    const collection = db.collection(name);
    let query: Float32Array | number[] | undefined;
    if (like !== undefined) {
      const record = collection.get(like);
      if (record === undefined) throw new QuiverError('NOT_FOUND', `collection '${name}' has no record '${like}'`);
      query = record.vector;
    } else {
      query = vector as number[] | undefined;
    }
    const options = {
      ...(query === undefined ? {} : { vector: query }),
      ...(text === undefined ? {} : { text }),
      // One more, so that leaving out the record itself still gives k.
      k: like === undefined ? k : Math.min(k + 1, 10_000),
      ...(ef === undefined ? {} : { ef }),
      ...(filter === undefined ? {} : { filter }),
    } as QueryOptions;
    let hits: QueryHit[];
    try {
      hits = collection.query(options);
    } catch (error) {
      if (filter !== undefined && error instanceof QuiverError && /filter/.test(error.message)) {
        if (error.code === 'INVALID_ARGUMENT') {
          throw new UsageError('this QuiverDB does not filter queries yet; --filter works with quiver export for now');
        }
      }
      throw error;
    }
    if (like !== undefined) hits = hits.filter((hit) => hit.id !== like).slice(0, k);
    output.result({ collection: name, metric: collection.metric, hits }, () =>
      hits.length === 0
        ? ['no hits']
        : hits.map(
            (hit, rank) =>
              `${String(rank + 1).padStart(3)}  ${hit.id}  distance ${hit.distance.toPrecision(6)}` +
              `${hit.score === undefined ? '' : `  score ${hit.score.toPrecision(6)}`}  ${JSON.stringify(hit.metadata)}` +
              `${hit.text === undefined ? '' : `  ${JSON.stringify(hit.text.length > 200 ? `${hit.text.slice(0, 200)}…` : hit.text)}`}`,
          ),
    );
    return 0;
  } finally {
    db.close();
  }
}
