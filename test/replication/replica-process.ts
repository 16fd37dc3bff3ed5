// A replica in a child process: opens the replica, reports 'ready', waits until it holds change
// TARGET, prints its state as one JSON line ('state …') and exits. The crash tests kill it on the way.
// Usage: replica-process.ts DIR SERVERS STREAM TARGET [BOOTSTRAP]
import { openReplica } from '../../src/replication/index.js';
import { stateOf } from './state.js';

const [directory, servers, stream, target, bootstrap] = process.argv.slice(2);
const replica = await openReplica(directory!, {
  servers: servers!.split(','),
  stream: stream!,
  maxBatch: 25,
  ...(bootstrap === undefined ? {} : { bootstrap }),
});
process.stdout.write(`ready ${replica.appliedSeq}\n`);
const reached = await replica.waitFor(Number(target), { timeoutMs: 60_000 });
if (!reached) {
  process.stderr.write(`replica reached only ${replica.appliedSeq} of ${target}\n`);
  process.exit(1);
}
process.stdout.write(`state ${JSON.stringify(stateOf(replica))}\n`);
replica.close();
process.exit(0);
