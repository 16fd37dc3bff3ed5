// The replication suite (`npm run bench -- --suite replication`): changes/s through each stage of
// publish → JetStream stream → replica apply, beside the writer's own durable ingest rate, for
// upsert batches of 1, 100 and 10,000 records of 128-d with metadata; and commit-to-visible lag
// p50/p99 at a steady 1,000 changes/s with one NATS node and with a three-node cluster (R3 stream).
// Uses the public API (src/index.ts, src/replication/index.ts); writes replication.json and .md.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Database, open, type UpsertRecord } from '../../src/index.js';
import { type Publisher, publish } from '../../src/replication/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { loadAverages, type MachineInfo, machineInfo } from './machine.js';
import { now, percentile, secondsBetween } from './measure.js';
import { type NatsNode, startNatsCluster, startNatsServer } from './nats-server.js';
import type { BenchOptions } from './options.js';
import { createProgress, type Progress } from './progress.js';
import { suiteHeadline, table } from './report-markdown.js';

const DIM = 128;
const SEED = 4242;
/** The steady write rate of the lag measurement, in changes/s, as batches of LAG_BATCH every 10 ms. */
const LAG_RATE = 1_000;
const LAG_BATCH = 10;

export interface ThroughputFigures {
  batchSize: number;
  changes: number;
  /** The writer's upserts alone (durability 'full'), records/s. */
  writerPerSecond: number;
  /** publish(): the backlog onto the stream, changes/s. */
  publishPerSecond: number;
  /** A new replica applying the stream's backlog (durability 'full'), changes/s. */
  applyPerSecond: number;
  /** applyPerSecond / writerPerSecond. */
  applyToWriter: number;
}

export interface LagFigures {
  nodes: number;
  changes: number;
  seconds: number;
  /** Commit-to-visible (writer's upsert returned → replica.waitFor resolved), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * The writer's side of the same path: commit → the publisher in the writer process had the
   * stream's acknowledgement of the batch's last change (its progress callback), ms. The replica
   * can apply a change before the writer's event loop takes in its acknowledgement, so this can
   * exceed the total: a large value says the writer process was slow to publish or to listen.
   */
  ackedP50Ms: number;
  ackedP99Ms: number;
}

export interface ReplicationResults {
  suite: 'replication';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
  quick: boolean;
  throughput: ThroughputFigures[];
  lag: LagFigures[];
}

function records(vectors: Float32Array, from: number, count: number): UpsertRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `doc-${from + i}`,
    vector: vectors.subarray((from + i) * DIM, (from + i + 1) * DIM),
    metadata: { n: from + i, group: (from + i) % 16, title: `document ${from + i}` },
  }));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const REPLICA_CHILD = join(import.meta.dirname, 'replica-child.ts');

/** A replica in its own Node process (replica-child.ts), driven over IPC. */
interface ReplicaChild {
  send(message: object): void;
  /** The next message of this type from the child. */
  next<T>(type: string): Promise<T>;
  exited: Promise<void>;
}

async function startReplicaChild(options: {
  path: string;
  servers: string[];
  stream: string;
  durability: 'normal' | 'full';
}): Promise<ReplicaChild> {
  const child: ChildProcess = fork(REPLICA_CHILD, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (message: unknown) => void>();
  const inbox = new Map<string, unknown[]>();
  child.on('message', (message: { type: string }) => {
    const resolve = waiting.get(message.type);
    if (resolve !== undefined) {
      waiting.delete(message.type);
      resolve(message);
    } else inbox.set(message.type, [...(inbox.get(message.type) ?? []), message]);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const next = <T>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const queued = inbox.get(type);
      if (queued !== undefined && queued.length > 0) {
        resolve(queued.shift() as T);
        return;
      }
      waiting.set(type, resolve as (message: unknown) => void);
      // 'exit' may come before the last 'message': give it a moment.
      void exited.then(() =>
        setTimeout(() => reject(new Error(`the replica process exited before sending '${type}'`)), 1_000),
      );
    });
  await next('open');
  return { send: (message) => child.send(message), next, exited };
}

/** Writer, then publisher, then a new replica (in its own process), each timed alone on the previous one's output. */
async function measureThroughput(
  nats: NatsNode,
  batchSize: number,
  changes: number,
  vectors: Float32Array,
  directory: string,
): Promise<ThroughputFigures> {
  const stream = `throughput-${batchSize}`;
  const db = open(join(directory, `${stream}-source`), { durability: 'full' });
  db.registerConsumer(`publish.${stream}`, { after: 0 }); // holds the log for the publisher started later
  const collection = db.collection('docs', { dim: DIM });
  let started = now();
  for (let from = 0; from < changes; from += batchSize) {
    collection.upsert(records(vectors, from, Math.min(batchSize, changes - from)));
  }
  const writerSeconds = secondsBetween(started, now());
  const last = db.changeSeq();
  started = now();
  const publisher: Publisher = await publish(db, { servers: nats.url, stream, batch: 10_000 });
  await until(() => publisher.seq >= last);
  const publishSeconds = secondsBetween(started, now());
  await publisher.stop();
  db.close();
  const replica = await startReplicaChild({
    path: join(directory, `${stream}-replica`),
    servers: [nats.url],
    stream,
    durability: 'full',
  });
  replica.send({ type: 'until', seq: last });
  const { seconds: applySeconds } = await replica.next<{ seconds: number }>('reached');
  await replica.exited;
  const writerPerSecond = changes / writerSeconds;
  const applyPerSecond = last / applySeconds;
  return {
    batchSize,
    changes,
    writerPerSecond,
    publishPerSecond: last / publishSeconds,
    applyPerSecond,
    applyToWriter: applyPerSecond / writerPerSecond,
  };
}

/** Writes LAG_RATE changes/s for `seconds` with the publisher and a replica following; lag per batch. */
async function measureLag(
  nodes: NatsNode[],
  seconds: number,
  vectors: Float32Array,
  directory: string,
): Promise<LagFigures> {
  const stream = `lag-${nodes.length}`;
  const servers = nodes.map((node) => node.url);
  const db: Database = open(join(directory, `${stream}-source`), { durability: 'normal' });
  // A flat index: hnsw inserts on both sides would measure the graph, not the path of a change (the
  // throughput table has hnsw).
  const collection = db.collection('docs', { dim: DIM, index: { type: 'flat' } });
  /** The epoch ms at which each acknowledged round's last seq was acknowledged. */
  const acknowledged: [number, number][] = [];
  const publisher = await publish(db, {
    servers,
    stream,
    replicas: nodes.length,
    onProgress: ({ seq }) => acknowledged.push([seq, performance.timeOrigin + performance.now()]),
  });
  const replica = await startReplicaChild({
    path: join(directory, `${stream}-replica`),
    servers,
    stream,
    durability: 'normal',
  });
  replica.send({ type: 'record' });
  await replica.next('recording');
  /** The epoch ms at which each batch's upsert returned, by its last seq. */
  const committed = new Map<number, number>();
  const batches = Math.round((LAG_RATE / LAG_BATCH) * seconds);
  const intervalMs = (1000 * LAG_BATCH) / LAG_RATE;
  const start = performance.now();
  for (let batch = 0; batch < batches; batch++) {
    // A steady schedule: batch b is due at start + b × interval, whatever the previous one cost.
    const due = start + batch * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    collection.upsert(records(vectors, (batch * LAG_BATCH) % (vectors.length / DIM - LAG_BATCH), LAG_BATCH));
    committed.set(db.changeSeq(), performance.timeOrigin + performance.now());
  }
  replica.send({ type: 'visible', seq: db.changeSeq() });
  const { times } = await replica.next<{ times: [number, number][] }>('visible');
  const elapsed = (performance.now() - start) / 1000;
  await replica.exited;
  await publisher.stop();
  db.close();
  const visibleAt = new Map(times);
  const lags = [...committed].map(([seq, at]) => visibleAt.get(seq)! - at);
  const sorted = Float64Array.from(lags).sort();
  // A round acknowledges every seq up to its last: a batch is acknowledged with the first round reaching it.
  // (Every batch was: the replica saw the last one, and stop() finished the round in flight.)
  let round = 0;
  const ackLags = [...committed].map(([seq, at]) => {
    while (round < acknowledged.length - 1 && acknowledged[round]![0] < seq) round++;
    return acknowledged[round]![1] - at;
  });
  const ackSorted = Float64Array.from(ackLags).sort();
  return {
    nodes: nodes.length,
    changes: batches * LAG_BATCH,
    seconds: elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? 0,
    ackedP50Ms: percentile(ackSorted, 50),
    ackedP99Ms: percentile(ackSorted, 99),
  };
}

export async function measureReplication(quick: boolean, progress: Progress): Promise<ReplicationResults> {
  const startedAt = new Date().toISOString();
  const startLoad = loadAverages();
  const steps = quick
    ? [
        { batchSize: 1, changes: 200 },
        { batchSize: 100, changes: 2_000 },
        { batchSize: 10_000, changes: 10_000 },
      ]
    : [
        { batchSize: 1, changes: 1_000 },
        { batchSize: 100, changes: 20_000 },
        { batchSize: 10_000, changes: 50_000 },
      ];
  const lagSeconds = quick ? 3 : 10;
  const vectors = generateSynthetic({
    n: Math.max(...steps.map((step) => step.changes)),
    dim: DIM,
    queries: 1,
    seed: SEED,
  }).base;
  const directory = mkdtempSync(join(tmpdir(), 'quiverdb-bench-replication-'));
  const throughput: ThroughputFigures[] = [];
  const lag: LagFigures[] = [];
  let nodes: NatsNode[] = [];
  try {
    nodes = [await startNatsServer()];
    for (const { batchSize, changes } of steps) {
      progress.log(`throughput: ${changes} changes in batches of ${batchSize}`);
      throughput.push(await measureThroughput(nodes[0]!, batchSize, changes, vectors, directory));
    }
    progress.log(`lag at ${LAG_RATE} changes/s for ${lagSeconds} s, one NATS node`);
    lag.push(await measureLag(nodes, lagSeconds, vectors, directory));
    await nodes[0]!.stop();
    nodes = await startNatsCluster(3);
    progress.log(`lag at ${LAG_RATE} changes/s for ${lagSeconds} s, three NATS nodes (R3 stream)`);
    lag.push(await measureLag(nodes, lagSeconds, vectors, directory));
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(directory, { recursive: true, force: true });
  }
  return {
    suite: 'replication',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: { start: startLoad, end: loadAverages() },
    quick,
    throughput,
    lag,
  };
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

export function renderReplicationMarkdown(results: ReplicationResults): string {
  return `${[
    '# QuiverDB replication benchmark',
    suiteHeadline(results),
    `${DIM}-d synthetic vectors with three metadata fields; hnsw with QuiverDB's defaults; everything on this machine ` +
      '(nats-server on 127.0.0.1; the writer and the publisher in one process, the replica in its own). Throughput: each stage ' +
      "timed alone on the previous stage's output — the writer's upserts (durability 'full'), publish() of that backlog, " +
      "then a new replica (durability 'full') applying the stream from its start.",
    '## Throughput',
    table(
      [
        'upsert batch',
        'changes',
        'writer, records/s',
        'publish, changes/s',
        'replica apply, changes/s',
        'apply / writer',
      ],
      results.throughput.map((row) => [
        count(row.batchSize),
        count(row.changes),
        count(row.writerPerSecond),
        count(row.publishPerSecond),
        count(row.applyPerSecond),
        `${(row.applyToWriter * 100).toFixed(0)}%`,
      ]),
    ),
    '## Commit-to-visible lag',
    `${LAG_RATE} changes/s as upserts of ${LAG_BATCH} records every ${(1000 * LAG_BATCH) / LAG_RATE} ms into a flat collection ` +
      "(durability 'normal' on both sides); lag is from the writer's upsert returning to the replica process seeing the batch's last seq applied (one clock: both on this machine). " +
      'The seconds column shows whether the writer kept the schedule (10 s of writes at the full size). ' +
      "The acknowledged columns are the writer's side: from the commit to the publisher (in the writer process) taking in " +
      "the stream's acknowledgement of the batch. The replica may apply a batch before that, so they can exceed the lag; " +
      'when they are close to it, the tail came from the writer process, else from delivery and apply in the replica.',
    table(
      ['NATS nodes', 'changes', 'seconds', 'p50 ms', 'p99 ms', 'max ms', 'acknowledged p50 ms', 'acknowledged p99 ms'],
      results.lag.map((row) => [
        row.nodes === 1 ? '1' : `${row.nodes} (R${row.nodes} stream)`,
        count(row.changes),
        row.seconds.toFixed(1),
        row.p50Ms.toFixed(1),
        row.p99Ms.toFixed(1),
        row.maxMs.toFixed(1),
        row.ackedP50Ms.toFixed(1),
        row.ackedP99Ms.toFixed(1),
      ]),
    ),
  ].join('\n\n')}\n`;
}

/** Runs the suite and writes `<out>/replication.json` and `<out>/replication.md`. */
export async function runReplication(
  options: Pick<BenchOptions, 'quick' | 'out' | 'quiet'>,
): Promise<{ results: ReplicationResults; outDir: string; files: string[] }> {
  const progress = createProgress({ bar: false, quiet: options.quiet });
  const results = await measureReplication(options.quick, progress);
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'replication.json'), join(outDir, 'replication.md')];
  writeFileSync(files[0]!, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files[1]!, renderReplicationMarkdown(results));
  progress.log(`results written to ${outDir}`);
  return { results, outDir, files };
}
