// `quiver export DB COLLECTION FILE`: the collection (or the records a filter keeps) as an Arrow
// IPC file or stream, written atomically, through a read-only open. Imports src/db.ts and the CLI's modules.
import { parseFilter } from '../filter/index.js';
import { open } from '../index.js';
import { formatBytes, formatCount, type Output } from './output.js';
import {
  asUsage,
  choiceOption,
  integerOption,
  jsonOption,
  type Options,
  type Parsed,
  parse,
  positionals,
  stringOption,
} from './usage.js';

export const EXPORT_HELP = `Usage: quiver export DB COLLECTION FILE [options]

Writes COLLECTION as an Arrow IPC stream (FILE ending in .arrows) or file (any other name):
columns id (Utf8), vector (FixedSizeList<Float32>), then one column per metadata key (typed when
its values share a type, else JSON text). The file is written to a temporary name, fsynced and
renamed, so FILE is never half-written. Opens the database read-only: safe beside a writer.

Options:
  --filter JSON       only records whose metadata matches the filter, e.g. '{"lang":"en"}'
  --columns A,B,...   the columns to write, in order (id, vector and metadata keys)
  --order ORDER       storage (default: the order records are stored in) or id (id order)
  --batch-size N      records per record batch (default 4096)
  --json              print the result as JSON
  -q, --quiet         no progress bar
  -h, --help          this help

Exit status: 0 ok, 1 the export failed, 2 bad usage (including a malformed filter).`;

const OPTIONS = {
  filter: { type: 'string' },
  columns: { type: 'string' },
  order: { type: 'string' },
  'batch-size': { type: 'string' },
} as const satisfies Options;

export function exportArguments(argv: readonly string[]): Parsed {
  return parse(argv, OPTIONS);
}

export async function runExport(parsed: Parsed, output: Output): Promise<number> {
  const [database, name, file] = positionals(parsed, ['DB', 'COLLECTION', 'FILE']) as [string, string, string];
  const filter = jsonOption(parsed, 'filter');
  if (filter !== undefined) asUsage(() => parseFilter(filter));
  const columns = stringOption(parsed, 'columns')
    ?.split(',')
    .map((column) => column.trim());
  const batchSize = integerOption(parsed, 'batch-size', 1, 1_000_000);
  const order = choiceOption(parsed, 'order', ['storage', 'id'] as const);
  const db = open(database, { readOnly: true, onWarning: output.warning });
  try {
    const collection = db.collection(name);
    const bar = output.progress('exporting', filter === undefined ? collection.count() : undefined);
    const started = performance.now();
    let result: Awaited<ReturnType<typeof collection.exportArrow>>;
    try {
      result = await collection.exportArrow(file, {
        ...(filter === undefined ? {} : { filter: filter as Record<string, unknown> }),
        ...(columns === undefined ? {} : { columns }),
        ...(batchSize === undefined ? {} : { batchSize }),
        ...(order === undefined ? {} : { order }),
        onProgress: ({ rows }) => bar.update(rows),
      });
    } finally {
      bar.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    output.result({ database: db.path, collection: name, ...result, seconds }, () => [
      `exported ${formatCount(result.rows)} records of '${name}' to ${result.path} ` +
        `(${result.batches} batches, ${formatBytes(result.bytes)}, ${seconds.toFixed(2)} s)`,
    ]);
    return 0;
  } finally {
    db.close();
  }
}
