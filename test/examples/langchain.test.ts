// examples/langchain.ts (the README's LangChain.js example) run as a program: if it stops working,
// this fails.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

it('examples/langchain.ts retrieves the reset passage, then the battery passage after reopening', () => {
  const output = execFileSync(process.execPath, ['--import', 'tsx', 'examples/langchain.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(output.trim().split('\n')).toEqual([
    'retrieved: Hold the power button for ten seconds to reset the device. (manual.pdf p.3)',
    'after reopening: The battery lasts two days; charge it with the USB-C cable. (distance 0.622)',
  ]);
});
