// How `quiver` talks: results on stdout (human lines or one JSON document with --json), progress
// and errors on stderr, a cli-progress bar only when stderr is a terminal. Imports cli-progress (on first use) only.
import type * as CliProgress from 'cli-progress';
import { requirePackage } from '../lazy-require.js';

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** The command's result: `human` lines normally, `document` as JSON with --json. */
  result(document: unknown, human: () => string[]): void;
  /** A side note on stderr (not with --json or --quiet). */
  note(line: string): void;
  /** Something QuiverDB repaired on its own (a rebuilt index), on stderr unless --quiet. */
  warning(warning: { message: string }): void;
  /** A progress bar over `total` units (a counter when the total is unknown); a no-op off a terminal. */
  progress(label: string, total: number | undefined): ProgressBar;
}

export interface ProgressBar {
  update(done: number): void;
  stop(): void;
}

const NO_BAR: ProgressBar = { update() {}, stop() {} };

export function createOutput(options: { json: boolean; quiet: boolean }): Output {
  const showProgress = !options.json && !options.quiet && process.stderr.isTTY === true;
  return {
    json: options.json,
    quiet: options.quiet,
    result(document, human) {
      if (options.json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      else for (const line of human()) process.stdout.write(`${line}\n`);
    },
    note(line) {
      if (!options.json && !options.quiet) process.stderr.write(`${line}\n`);
    },
    warning(warning) {
      if (!options.quiet) process.stderr.write(`quiver: warning: ${warning.message}\n`);
    },
    progress(label, total) {
      if (!showProgress) return NO_BAR;
      const known = total !== undefined && total > 0;
      // Loaded only when a bar is drawn (a terminal), not for every command.
      const { Presets, SingleBar } = requirePackage<typeof CliProgress>('cli-progress');
      const bar = new SingleBar(
        {
          stream: process.stderr,
          format: known
            ? `${label} {bar} {percentage}% | {value}/{total} | ETA {eta_formatted}`
            : `${label} {value} rows`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        Presets.shades_classic,
      );
      bar.start(known ? total : 0, 0);
      return {
        update(done) {
          bar.update(done);
        },
        stop() {
          bar.stop();
        },
      };
    },
  };
}

/** Bytes for people: 1.5 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A count for people: 100,000. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
