// Shared pieces of the micro-benchmarks: the machine line, a Markdown table of ops/s, mean and p99
// per tinybench task, timed rounds, and the shape of a data set. Imports tinybench's types and the
// harness's machine description.

import { loadavg } from 'node:os';
import type { Metric } from '../../src/metric.js';
import type { Bench } from 'tinybench';
import { machineInfo } from '../harness/machine.js';
import { formatBytes } from '../harness/report-markdown.js';

/** A data set a micro-benchmark searches: base rows and query rows of `dim` floats each, flattened. */
export interface MicroDataSet {
  readonly name: string;
  readonly metric: Metric;
  readonly dim: number;
  readonly base: Float32Array;
  readonly queries: Float32Array;
}

/** One line naming the machine, the software and the load average (1, 5, 15 minutes) right now. */
export function machineLine(): string {
  const machine = machineInfo();
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  const commit = machine.git ? `; quiverdb at ${machine.git.commit.slice(0, 12)}${machine.git.dirty ? '+' : ''}` : '';
  return (
    `machine: ${machine.cpuModel} (${machine.cores} cores), ${formatBytes(machine.memoryBytes)} RAM, ` +
    `${machine.os.platform} ${machine.os.release} ${machine.os.arch}, Node ${machine.node}${commit}; load average ${load}`
  );
}

/** Formats a latency in milliseconds with 3 significant digits, switching to µs below 1 ms. */
function latency(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) return '–';
  return milliseconds >= 1 ? `${milliseconds.toPrecision(3)} ms` : `${(milliseconds * 1000).toPrecision(3)} µs`;
}

/** Formats ops/s: whole numbers, with two decimals below 10 (slow ops such as 1,000-record batches). */
function operationsPerSecond(value: number): string {
  return value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en-US');
}

/**
 * Prints a bench's results as a Markdown table (task, ops/s, mean, p99, samples, ±rme) under its
 * name and the machine line. `note` explains what one operation is, in its units.
 */
export function printBenchTable(bench: Bench, note: string): void {
  const lines = [
    `### ${bench.name ?? 'micro-benchmark'}`,
    '',
    machineLine(),
    '',
    note,
    '',
    '| task | ops/s | mean | p99 | samples | ± |',
    '|---|---|---|---|---|---|',
  ];
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') {
      const reason = result.state === 'errored' ? `error: ${result.error.message}` : result.state;
      lines.push(`| ${task.name} | – | – | – | – | ${reason} |`);
      continue;
    }
    lines.push(
      `| ${task.name} | ${operationsPerSecond(result.throughput.mean)} | ${latency(result.latency.mean)} | ` +
        `${latency(result.latency.p99)} | ${result.latency.samplesCount} | ±${result.latency.rme.toFixed(1)}% |`,
    );
  }
  console.log(`${lines.join('\n')}\n`);
}

/**
 * Repeats `pass` (which runs `queryCount` queries) until `roundMs` milliseconds have gone by;
 * returns the queries run and the milliseconds they took.
 */
export function timedRound(pass: () => void, queryCount: number, roundMs: number): { queries: number; ms: number } {
  let queries = 0;
  const start = performance.now();
  let ms = 0;
  while (ms < roundMs) {
    pass();
    queries += queryCount;
    ms = performance.now() - start;
  }
  return { queries, ms };
}
