// The replication suite's replica process: a read replica in its own Node process, as in production.
//   node --import tsx bench/harness/replica-child.ts '<JSON: { path, servers, stream, durability }>'
// Over IPC it answers { type: 'until', seq } with { type: 'reached', seq, seconds } (seconds from
// before openReplica); after { type: 'record' }, { type: 'visible', seq } with { type: 'visible',
// times } — the epoch ms at which each seq applied since became visible. Then it exits. Public API only.
import { openReplica, type Replica } from '../../src/replication/index.js';

interface ChildOptions {
  path: string;
  servers: string[];
  stream: string;
  durability: 'normal' | 'full';
}

type Request = { type: 'until'; seq: number } | { type: 'record' } | { type: 'visible'; seq: number };

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const epoch = (): number => performance.timeOrigin + performance.now();
const started = performance.now();
const replica: Replica = await openReplica(options.path, {
  servers: options.servers,
  stream: options.stream,
  durability: options.durability,
});
/** [seq, epoch ms]: the first time each applied seq was seen visible, while recording. */
const visible: [number, number][] = [];
let recording = false;
let recorded: Promise<void> = Promise.resolve();

async function record(): Promise<void> {
  let seen = replica.appliedSeq;
  while (recording) {
    // waitFor wakes after each applied transaction: every seq it brought became visible now.
    if (!(await replica.waitFor(seen + 1, { timeoutMs: 1_000 }))) continue;
    const at = epoch();
    const applied = replica.appliedSeq;
    for (let seq = seen + 1; seq <= applied; seq++) visible.push([seq, at]);
    seen = applied;
  }
}

/** Sends the last message, then leaves once it is out. */
function finish(message: object): void {
  process.send?.(message, () => process.disconnect());
}

process.on('message', (message: Request) => {
  void (async () => {
    if (message.type === 'until') {
      await replica.waitFor(message.seq, { timeoutMs: 600_000 });
      const seconds = (performance.now() - started) / 1000;
      replica.close();
      finish({ type: 'reached', seq: message.seq, seconds });
    } else if (message.type === 'record') {
      recording = true;
      recorded = record();
      process.send?.({ type: 'recording' });
    } else {
      await replica.waitFor(message.seq, { timeoutMs: 600_000 });
      while (visible.length > 0 && visible[visible.length - 1]![0] < message.seq) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      recording = false;
      await recorded;
      replica.close();
      finish({ type: 'visible', times: visible });
    }
  })().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
});
process.send?.({ type: 'open' });
