// `quiver update DB COLLECTION (--ids … | --filter JSON) (--metadata JSON | --text WORDS | --no-text)`:
// changes the metadata and/or text of existing records in place through Collection.update (vectors
// untouched). Opens the database with open(), the public entry.
import { parseFilter } from '../filter/index.js';
import { open } from '../index.js';
import type { UpdateChanges, UpdateSelection } from '../types.js';
import type { Output } from './output.js';
import {
  asUsage,
  jsonOption,
  type Options,
  type Parsed,
  parse,
  positionals,
  stringOption,
  UsageError,
} from './usage.js';

export const UPDATE_HELP = `Usage: quiver update DB COLLECTION (--ids ID,ID,… | --filter JSON) (--metadata JSON | --text WORDS | --no-text) [options]

Changes the metadata and/or text of existing records of COLLECTION in one transaction, leaving
their vectors (and the index) untouched. By default the --metadata keys are merged into each
record's metadata at the top level (a key given as null is removed); --replace makes --metadata
the whole new metadata. Ids that do not exist are skipped. Needs the writer lock.

Options:
  --ids LIST        comma-separated record ids, e.g. 'a,b,c'
  --filter JSON     every record whose metadata matches, e.g. '{"lang":"en"}'
  --metadata JSON   a JSON object, e.g. '{"reviewed":true,"draft":null}'
  --text WORDS      the records' new text
  --no-text         remove the records' text
  --replace         replace the metadata whole instead of merging keys
  --json            print the result as JSON
  -q, --quiet       no notes
  -h, --help        this help

Exit status: 0 ok (also when no record matched), 1 it failed, 2 bad usage.`;

const OPTIONS = {
  ids: { type: 'string' },
  filter: { type: 'string' },
  metadata: { type: 'string' },
  text: { type: 'string' },
  'no-text': { type: 'boolean' },
  replace: { type: 'boolean' },
} as const satisfies Options;

export function updateArguments(argv: readonly string[]): Parsed {
  return parse(argv, OPTIONS);
}

export async function runUpdate(parsed: Parsed, output: Output): Promise<number> {
  const [database, name] = positionals(parsed, ['DB', 'COLLECTION']) as [string, string];
  const ids = stringOption(parsed, 'ids');
  const filter = jsonOption(parsed, 'filter');
  if ((ids === undefined) === (filter === undefined)) throw new UsageError('give either --ids LIST or --filter JSON');
  if (filter !== undefined) asUsage(() => parseFilter(filter));
  const selection: UpdateSelection =
    ids === undefined ? { filter: filter as UpdateSelection & object } : { ids: ids.split(',').map((id) => id.trim()) };
  const metadata = jsonOption(parsed, 'metadata');
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new UsageError('--metadata takes a JSON object, e.g. {"reviewed":true}');
  }
  const text = stringOption(parsed, 'text');
  const noText = parsed.values['no-text'] === true;
  if (text !== undefined && noText) throw new UsageError('give --text WORDS or --no-text, not both');
  if (metadata === undefined && text === undefined && !noText) {
    throw new UsageError('give --metadata JSON, --text WORDS or --no-text');
  }
  if (parsed.values['replace'] === true && metadata === undefined) throw new UsageError('--replace needs --metadata');
  const changes: UpdateChanges = {};
  if (metadata !== undefined) changes.metadata = metadata as UpdateChanges['metadata'] & object;
  if (text !== undefined) changes.text = text;
  if (noText) changes.text = null;
  const db = open(database, { onWarning: output.warning });
  try {
    const collection = db.collection(name);
    const updated =
      parsed.values['replace'] === true
        ? collection.update(selection, changes, { merge: false })
        : collection.update(selection, changes);
    output.result({ collection: name, updated }, () => [`updated ${updated} records of ${name}`]);
    return 0;
  } finally {
    db.close();
  }
}
