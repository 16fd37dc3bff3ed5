// The `quiver` command line: dispatches to one module per command and turns errors into exit
// statuses (0 ok, 1 damage or failure, 2 bad usage). Built to dist/cli.js, the package's bin.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiverError, toQuiverError } from '../errors.js';
import {
  BACKUP_HELP,
  backupArguments,
  RESTORE_HELP,
  restoreArguments,
  runBackup,
  runRestore,
} from './backup-command.js';
import { BENCH_HELP, findCheckout, runBench } from './bench-command.js';
import { COMPACT_HELP, compactArguments, runCompact } from './compact-command.js';
import { EXPORT_HELP, exportArguments, runExport } from './export-command.js';
import { IMPORT_HELP, importArguments, runImport } from './import-command.js';
import { INFO_HELP, infoArguments, runInfo } from './info-command.js';
import { createOutput, type Output } from './output.js';
import { QUERY_HELP, queryArguments, runQuery } from './query-command.js';
import {
  PUBLISH_HELP,
  publishArguments,
  REPLICATE_HELP,
  replicateArguments,
  runPublish,
  runReplicate,
} from './replication-command.js';
import { runUpdate, UPDATE_HELP, updateArguments } from './update-command.js';
import { type Parsed, UsageError } from './usage.js';
import { runVerify, VERIFY_HELP, verifyArguments } from './verify-command.js';

export const HELP = `Usage: quiver COMMAND [arguments] [options]

The QuiverDB command line. DB is a database directory (e.g. ./my.quiver).

Commands:
  import DB COLLECTION FILE   upsert vectors from .arrow/.arrows/.fvecs/.bvecs (creates what is missing)
  export DB COLLECTION FILE   write a collection to an Arrow IPC file (.arrow) or stream (.arrows)
  query DB COLLECTION         the k nearest records to --vector JSON or --like ID
  update DB COLLECTION        change records' metadata and/or text in place (--ids or --filter)
  info DB                     collections, counts, index settings, sizes, snapshot seq, log length
  verify DB                   check snapshots, the log and every record; exit 1 on damage
  compact DB                  rebuild indexes without deleted records and vacuum the SQLite file
  backup DB DEST              write a consistent copy of a live database into a new directory
  restore BACKUP DEST         copy a backup into a new directory and check that it opens
  publish DB                  publish the change log to a NATS JetStream stream (--servers, --stream)
  replicate DIR               run a read replica that follows such a stream (--servers, --stream)
  bench [options]             run the benchmark harness (needs a repository checkout)

Every command takes --help, and --json to print its result as one JSON document on stdout.
Exit status: 0 ok, 1 damage found (verify) or the command failed, 2 bad usage.
See docs/cli.md for examples.`;

interface Command {
  readonly help: string;
  readonly parse: (argv: readonly string[]) => Parsed;
  readonly run: (parsed: Parsed, output: Output) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  import: { help: IMPORT_HELP, parse: importArguments, run: runImport },
  export: { help: EXPORT_HELP, parse: exportArguments, run: runExport },
  query: { help: QUERY_HELP, parse: queryArguments, run: runQuery },
  update: { help: UPDATE_HELP, parse: updateArguments, run: runUpdate },
  info: { help: INFO_HELP, parse: infoArguments, run: runInfo },
  verify: { help: VERIFY_HELP, parse: verifyArguments, run: runVerify },
  compact: { help: COMPACT_HELP, parse: compactArguments, run: runCompact },
  backup: { help: BACKUP_HELP, parse: backupArguments, run: runBackup },
  restore: { help: RESTORE_HELP, parse: restoreArguments, run: runRestore },
  publish: { help: PUBLISH_HELP, parse: publishArguments, run: runPublish },
  replicate: { help: REPLICATE_HELP, parse: replicateArguments, run: runReplicate },
};

function version(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const file = join(directory, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'quiverdb') return pkg.version ?? 'unknown';
    }
    directory = dirname(directory);
  }
  return 'unknown';
}

/** Runs one `quiver` invocation; returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  if (name === undefined) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    process.stdout.write(`${topic === 'bench' ? BENCH_HELP : (command?.help ?? HELP)}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === 'bench') {
    // Without a checkout there is no harness to list its options: explain instead.
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h') && findCheckout() === undefined) {
      process.stdout.write(`${BENCH_HELP}\n`);
      return 0;
    }
    return runBench(rest);
  }
  const command = COMMANDS[name];
  try {
    if (command === undefined) throw new UsageError(`unknown command '${name}'`);
    const parsed = command.parse(rest);
    if (parsed.values['help'] === true) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    const output = createOutput({ json: parsed.values['json'] === true, quiet: parsed.values['quiet'] === true });
    return await command.run(parsed, output);
  } catch (error) {
    return fail(error, json, command === undefined ? undefined : name);
  }
}

function fail(thrown: unknown, json: boolean, command: string | undefined): number {
  // The CLI's boundary: anything but a usage error leaves as a QuiverError with its code.
  const error = thrown instanceof UsageError ? thrown : toQuiverError(thrown, `quiver ${command ?? ''}`.trim());
  const usage = error instanceof UsageError;
  const code = error instanceof QuiverError ? error.code : 'USAGE';
  const message = error.message;
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  const hint = usage ? `\nRun 'quiver ${command === undefined ? '' : `${command} `}--help' for usage.` : '';
  process.stderr.write(`quiver: ${usage ? '' : `${code}: `}${message}${hint}\n`);
  // A bug: the original error's stack helps the report.
  const cause = error.cause;
  if (error instanceof QuiverError && code === 'INTERNAL' && cause instanceof Error && cause.stack) {
    process.stderr.write(`${cause.stack}\n`);
  }
  return usage ? 2 : 1;
}

/** True when this module is the process's entry (the bin, a symlink to it, or tsx running the source). */
function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) process.exitCode = await main(process.argv.slice(2));
