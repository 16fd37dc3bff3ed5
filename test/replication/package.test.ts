// The quiverdb/replication subpath of the published package: it loads from the build through
// require() and import, exporting exactly publish, openReplica and QuiverError, without loading
// the NATS client until a publisher or replica connects.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

it('loads through require() and import by package name', () => {
  expect(run(['-e', "console.log(Object.keys(require('quiverdb/replication')).sort().join(','))"])).toBe(
    'QuiverError,openReplica,publish',
  );
  expect(
    run([
      '--input-type=module',
      '-e',
      "import * as r from 'quiverdb/replication'; console.log(Object.keys(r).sort().join(','))",
    ]),
  ).toBe('QuiverError,openReplica,publish');
});

it('does not load the NATS client until a publisher or replica connects', () => {
  // The client's packages are CommonJS: require.cache lists them once loaded (the control line proves it).
  const loadedBy = (code: string) =>
    run(['-e', `${code}; console.log(Object.keys(require.cache).some((file) => file.includes('@nats-io')))`]);
  expect(loadedBy("require('@nats-io/transport-node')")).toBe('true');
  expect(loadedBy("require('quiverdb/replication')")).toBe('false');
});
