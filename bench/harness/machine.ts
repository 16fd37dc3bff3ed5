// What machine and software a run was made on, recorded in every result file so numbers can be
// compared honestly later. Node built-ins only; reads package.json files and asks git for the commit.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two folders above bench/harness). */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Packages whose versions shape the figures. */
const PACKAGES = ['hnswlib-node', 'better-sqlite3', 'apache-arrow', 'h5wasm', 'zod', 'tsx', 'typescript'];

/** The machine and software description stored in results.json. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: { platform: string; release: string; arch: string };
  node: string;
  v8: string;
  quiverdb: string;
  packages: Record<string, string>;
  git?: { commit: string; dirty: boolean };
}

function versionOf(folder: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function gitState(): { commit: string; dirty: boolean } | undefined {
  try {
    const options = { cwd: REPOSITORY_ROOT, encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as const };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { ...options, stdio: [...options.stdio] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      ...options,
      stdio: [...options.stdio],
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return undefined;
  }
}

/** Describes this machine, Node, the package versions and the git commit (when in a repository). */
export function machineInfo(): MachineInfo {
  const processors = cpus();
  const packages: Record<string, string> = {};
  for (const name of PACKAGES) {
    const version = versionOf(join(REPOSITORY_ROOT, 'node_modules', name));
    if (version) packages[name] = version;
  }
  const info: MachineInfo = {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryBytes: totalmem(),
    os: { platform: platform(), release: release(), arch: arch() },
    node: process.version,
    v8: process.versions.v8,
    quiverdb: versionOf(REPOSITORY_ROOT) ?? 'unknown',
    packages,
  };
  const git = gitState();
  if (git) info.git = git;
  return info;
}

/** The 1, 5 and 15-minute load averages, to two decimals. */
export function loadAverages(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}
