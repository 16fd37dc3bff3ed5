// A process killed while loading a snapshot leaves no temporary graph copy in the OS temporary
// directory: the copy lives in the collection's own folder, and the next writable open removes it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { crashPointReached } from '../helpers/crash-point.js';
import { tempDirectory } from '../helpers/fixtures.js';

const READER = join(import.meta.dirname, 'damaged-reader.ts');

let directory: { path: string; cleanup: () => void } | undefined;
afterEach(() => directory?.cleanup());

/** Files of the OS temporary directory that name process `pid` (the old copies were quiverdb-<pid>-<n>.graph). */
const osTemporaries = (pid: number) => readdirSync(tmpdir()).filter((name) => name.includes(`-${pid}-`));

describe('a process killed while loading a snapshot', () => {
  it('leaves its graph copy only in the collection folder, and the next writable open removes it', () => {
    directory = tempDirectory('quiver-leak-');
    const db = open(directory.path);
    const c = db.collection('c', { dim: 4 });
    c.upsert(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, vector: [i, 1, 2, 3] })));
    db.close(); // writes the snapshot
    const files = () => readdirSync(join(directory!.path, 'c')).sort();
    const before = files();
    for (let run = 0; run < 2; run++) {
      const ran = spawnSync(process.execPath, ['--import', 'tsx', READER, directory.path, 'open'], {
        env: { ...process.env, QUIVERDB_CRASH_AT: 'snapshot-load-copied' },
        encoding: 'utf8',
      });
      expect(ran.signal, ran.stderr).toBe('SIGKILL');
      expect(crashPointReached(ran.stderr, 'snapshot-load-copied'), ran.stderr).toBe(true);
      expect(osTemporaries(ran.pid!)).toEqual([]);
    }
    const strays = files().filter((name) => !before.includes(name));
    expect(strays).toHaveLength(2);
    for (const name of strays) expect(name).toMatch(/^load\.\d+\.\d+\.graph\.tmp$/);
    // A reader does not clean up; the writer does, at its next open.
    open(directory.path, { readOnly: true }).close();
    expect(files()).toHaveLength(before.length + 2);
    const writer = open(directory.path);
    expect(writer.collection('c').count()).toBe(300);
    expect(files()).toEqual(before);
    writer.close();
  });
});
