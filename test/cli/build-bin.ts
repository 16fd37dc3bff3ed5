// Test helper: makes sure dist/cli.js (the package's bin) is built from the current sources, and
// runs it as a child process. Builds only the CLI entry (no clean), so dist/index.* stay untouched.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'dist', 'cli.js');

function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/cli.js when it is missing or older than any source file, with the config's own CLI settings. */
export async function ensureBin(): Promise<void> {
  const sources = Math.max(newestSource(join(ROOT, 'src')), statSync(join(ROOT, 'tsup.config.ts')).mtimeMs);
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= sources) return;
  const { build } = await import('tsup');
  const { cliConfig } = await import('../../tsup.config.js');
  await build({ ...cliConfig, config: false, silent: true });
}

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args` with a clean environment for the CLI (no TTY, so no progress bars). */
export function run(command: string, args: readonly string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Ran {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `node dist/cli.js args`. */
export function quiver(...args: string[]): Ran {
  return run(process.execPath, [BIN, ...args]);
}

/** `quiver args --json`, parsed. */
export function quiverJson<T = Record<string, unknown>>(
  ...args: string[]
): { status: number | null; document: T; stderr: string } {
  const ran = quiver(...args, '--json');
  let document: T;
  try {
    document = JSON.parse(ran.stdout) as T;
  } catch {
    throw new Error(
      `quiver ${args.join(' ')} --json printed no JSON (status ${ran.status}):\n${ran.stdout}\n${ran.stderr}`,
    );
  }
  return { status: ran.status, document, stderr: ran.stderr };
}
