// `quiver bench ...`: runs the recall/latency harness of a repository checkout (bench/run.ts through
// tsx). The harness is not part of the npm package (see docs/cli.md). Imports node built-ins only.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_HELP = `Usage: quiver bench [harness options]

Runs the benchmark harness (recall, QPS, latency, build rate) of a QuiverDB repository checkout:
the same as \`npm run bench -- [options]\` there. \`quiver bench --help\` lists the harness's
options when a checkout is found.

The harness is not in the npm package: it lives in the repository's bench/ folder with its data-set
readers and fixtures, and runs from TypeScript through tsx (a development dependency). From an
installed package, clone the repository, run npm install there, and use its quiver (or npm run bench).

Exit status: the harness's own (0 ok, 1 a run failed, 2 bad options); 1 when no checkout is found.`;

/** The repository root holding bench/run.ts and tsx, searched upwards from this file. */
export function findCheckout(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let directory = from;
  for (;;) {
    if (existsSync(join(directory, 'bench', 'run.ts')) && existsSync(join(directory, 'package.json'))) {
      // tsx is a development dependency: npm install in the checkout puts it in its node_modules.
      return existsSync(join(directory, 'node_modules', 'tsx', 'package.json')) ? directory : undefined;
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

export async function runBench(argv: readonly string[]): Promise<number> {
  const root = findCheckout();
  if (root === undefined) {
    process.stderr.write(
      'quiver: bench needs a QuiverDB repository checkout with its development dependencies installed ' +
        '(bench/ is not in the npm package); clone the repository, run npm install, then npx quiver bench there\n',
    );
    return 1;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), ...argv], {
    cwd: process.cwd(),
    stdio: 'inherit',
  });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`quiver: cannot start the harness: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + 1)));
  });
}
