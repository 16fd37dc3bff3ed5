// Progress reporting on stderr: a cli-progress bar on a terminal, plain log lines otherwise
// (so CI logs stay readable), nothing at all when quiet. Imports cli-progress only.

import { Presets, SingleBar } from 'cli-progress';

/** What the runner tells about its progress. */
export interface Progress {
  /** Starts a phase of `total` work units (vectors inserted, queries run). */
  start(total: number): void;
  /** Moves to `done` units and names the current task. */
  update(done: number, task: string): void;
  /** A line worth keeping in the log (printed above the bar). */
  log(line: string): void;
  stop(): void;
}

/** Creates the progress reporter: a bar when `bar` and stderr is a TTY, log lines unless `quiet`. */
export function createProgress(options: { bar: boolean; quiet: boolean }): Progress {
  if (options.quiet) return { start() {}, update() {}, log() {}, stop() {} };
  if (!options.bar || !process.stderr.isTTY) {
    return {
      start() {},
      update() {},
      log(line) {
        process.stderr.write(`[bench] ${line}\n`);
      },
      stop() {},
    };
  }
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {percentage}% | ETA {eta_formatted} | {task}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 200,
    },
    Presets.shades_classic,
  );
  let running = false;
  let lastTask = '';
  return {
    start(total) {
      if (running) bar.stop();
      bar.start(Math.max(1, total), 0, { task: lastTask });
      running = true;
    },
    update(done, task) {
      lastTask = task;
      if (running) bar.update(done, { task });
    },
    log(line) {
      if (running) {
        // Clear the bar's line, print, and let the next update redraw it.
        process.stderr.write(`\r\x1b[K[bench] ${line}\n`);
        bar.render();
      } else process.stderr.write(`[bench] ${line}\n`);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
