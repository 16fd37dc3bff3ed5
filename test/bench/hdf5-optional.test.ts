// h5wasm is an optional development dependency: without it, reading an HDF5 file is a clear
// INVALID_ARGUMENT saying how to install it (the module is made unresolvable with a mock here).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';

const folder = mkdtempSync(join(tmpdir(), 'quiverdb-hdf5-optional-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

// Reading the module's export throws what Node's loader throws for a package that is not installed.
vi.mock('h5wasm/node', () => ({
  get default(): never {
    throw Object.assign(new Error("Cannot find package 'h5wasm' imported from hdf5.ts"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  },
}));

it('says how to install h5wasm when an HDF5 file is given without it', async () => {
  const { readAnnBenchmarksHdf5 } = await import('../../bench/datasets/hdf5.js');
  const file = join(folder, 'tiny.hdf5');
  // A real HDF5 signature, so the reader gets as far as needing h5wasm.
  writeFileSync(file, Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]));
  await expect(readAnnBenchmarksHdf5(file)).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringContaining('npm install --no-save h5wasm'),
  });
});
