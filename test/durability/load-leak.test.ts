// A snapshot load reads the graph straight from the snapshot file: a process killed while or right
// after loading leaves no file behind, here or in the OS temporary directory. Graph copies an earlier
// QuiverDB left in the collection folder (load.<pid>.<n>.graph.tmp) go at the next writable open.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
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
  it('leaves no file behind, and the next writable open removes graph copies of earlier versions', () => {
    directory = tempDirectory('quiver-leak-');
    const db = open(directory.path);
    const c = db.collection('c', { dim: 4 });
    c.upsert(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, vector: [i, 1, 2, 3] })));
    db.close(); // writes the snapshot
    const files = () => readdirSync(join(directory!.path, 'c')).sort();
    const before = files();
    let deadPid = 0;
    for (let run = 0; run < 2; run++) {
      const ran = spawnSync(process.execPath, ['--import', 'tsx', READER, directory.path, 'open'], {
        env: { ...process.env, QUIVERDB_CRASH_AT: 'snapshot-loaded' },
        encoding: 'utf8',
      });
      expect(ran.signal, ran.stderr).toBe('SIGKILL');
      expect(crashPointReached(ran.stderr, 'snapshot-loaded'), ran.stderr).toBe(true);
      expect(osTemporaries(ran.pid!)).toEqual([]);
      deadPid = ran.pid!;
    }
    expect(files()).toEqual(before);
    // What an earlier QuiverDB, killed mid-load, left: a graph copy named by its (now dead) pid.
    const stray = `load.${deadPid}.1.graph.tmp`;
    writeFileSync(join(directory.path, 'c', stray), 'a graph copy');
    // A reader does not clean up; the writer does, at its next open.
    open(directory.path, { readOnly: true }).close();
    expect(files()).toEqual([...before, stray].sort());
    const writer = open(directory.path);
    expect(writer.collection('c').count()).toBe(300);
    expect(files()).toEqual(before);
    writer.close();
  });
});
