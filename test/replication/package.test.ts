// The quiverdb/replication subpath of the published package: it loads from the build through
// require() and import, exporting exactly publish, openReplica and QuiverError, without loading
// the NATS client until a publisher or replica connects; its errors are instanceof quiverdb's QuiverError.
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

it("throws errors that are instanceof quiverdb's QuiverError under require() and import", () => {
  const script = `
    const { join } = require('node:path');
    const { mkdtempSync } = require('node:fs');
    const missing = join(mkdtempSync(join(require('node:os').tmpdir(), 'quiver-')), 'replica');
    const main = require('quiverdb');
    const replication = require('quiverdb/replication');
    Promise.all([import('quiverdb'), import('quiverdb/replication')]).then(async ([esm, esmReplication]) => {
      const errorOf = (f) => f().then(() => undefined, (error) => error);
      const bad = { servers: 'nats://127.0.0.1:1', stream: '' };
      const fromCjs = await errorOf(() => replication.openReplica(missing, bad));
      const fromEsm = await errorOf(() => esmReplication.openReplica(missing, bad));
      console.log([fromCjs instanceof main.QuiverError, fromCjs instanceof esm.QuiverError,
        fromEsm instanceof main.QuiverError, fromEsm instanceof esm.QuiverError,
        new Error('x') instanceof main.QuiverError, fromCjs.code, fromEsm.code,
        require('node:fs').existsSync(missing)].join(','));
    });`;
  expect(run(['-e', script])).toBe('true,true,true,true,false,INVALID_ARGUMENT,INVALID_ARGUMENT,false');
});
