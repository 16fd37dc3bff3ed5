// Fault injection for the crash tests: a process started with QUIVERDB_CRASH_AT=<name>[:<n>]
// kills itself with SIGKILL the n-th time (default 1st) it reaches the named point, after writing
// "quiverdb crash point <name>:<n>" to stderr so that a test can tell the point was reached. Without
// the variable this is one comparison per call.
import { writeSync } from 'node:fs';

const setting = process.env['QUIVERDB_CRASH_AT'];
const [targetName, targetCount] = setting === undefined ? [undefined, 0] : parseSetting(setting);
let reached = 0;

function parseSetting(value: string): [string, number] {
  const [name, count] = value.split(':');
  return [name ?? '', count === undefined ? 1 : Number(count)];
}

/** What a process writes to stderr right before a crash point kills it. */
const CRASH_POINT_MARKER = 'quiverdb crash point';

/** Names of the points where a crash test may stop the process. */
export type CrashPoint =
  | 'upsert-before-commit'
  | 'upsert-after-commit'
  | 'vector-file-before-rename'
  | 'snapshot-before-rename'
  | 'snapshot-before-manifest'
  | 'snapshot-before-cleanup'
  | 'compact-mid-build'
  | 'snapshot-loaded'
  | 'publish-after-ack'
  | 'replica-before-commit';

/** Kills the process here when QUIVERDB_CRASH_AT names this point. */
export function crashPoint(name: CrashPoint): void {
  if (targetName !== name) return;
  reached++;
  if (reached !== targetCount) return;
  writeSync(2, `${CRASH_POINT_MARKER} ${name}:${reached}\n`);
  process.kill(process.pid, 'SIGKILL');
}
