// A three-node JetStream cluster on loopback with an R3 stream: stopping one node (the stream's
// leader, the hardest case) stops neither publishing nor replication. Every server is stopped at the end.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { openReplica, publish } from '../../src/replication/index.js';
import { tempDirectory } from '../helpers/fixtures.js';
import { type NatsNode, startNatsCluster } from '../helpers/nats-server.js';
import { stateOf } from './state.js';

let nodes: NatsNode[] = [];
const directories: ReturnType<typeof tempDirectory>[] = [];
beforeAll(async () => {
  nodes = await startNatsCluster(3);
}, 30_000);
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  for (const made of directories) made.cleanup();
});

it('keeps publishing and replicating with one of three nodes stopped', async () => {
  const made = tempDirectory();
  directories.push(made);
  const servers = nodes.map((node) => node.url);
  const source = open(join(made.path, 'source'), { durability: 'normal' });
  const docs = source.collection('docs', { dim: 4 });
  const publisher = await publish(source, { servers, stream: 'r3', replicas: 3 });
  const replica = await openReplica(join(made.path, 'replica'), { servers, stream: 'r3' });
  try {
    const write = (from: number, count: number): number => {
      docs.upsert(Array.from({ length: count }, (_, i) => ({ id: `r${from + i}`, vector: [from + i, 1, 2, 3] })));
      return source.changeSeq();
    };
    expect(await replica.waitFor(write(0, 100), { timeoutMs: 20_000 })).toBe(true);
    // Stop the stream's leader.
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const connection = await connect({ servers });
    const info = await (await jetstreamManager(connection)).streams.info('r3');
    await connection.close();
    expect(info.config.num_replicas).toBe(3);
    const leader = nodes.find((node) => node.name === info.cluster?.leader);
    expect(leader).toBeDefined();
    // Stopped while rounds are in flight: the publisher publishes unacknowledged rounds again.
    const writes = (async () => {
      for (let round = 1; round <= 5; round++) {
        write(round * 100, 100);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await leader!.stop();
    await writes;
    const last = source.changeSeq();
    const reached = await replica.waitFor(last, { timeoutMs: 40_000 });
    expect(reached).toBe(true);
    // The replica can hold every change before the publisher hears its acknowledgements: a round
    // sent to the stopped leader is stored by the new one, and its acknowledgement times out (then
    // the round is published again and dropped as duplicates). Wait for the cursor, bounded.
    for (const deadline = Date.now() + 30_000; publisher.seq < last && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(publisher.seq).toBe(last);
    expect(stateOf(replica)).toEqual(stateOf(source));
  } finally {
    replica.close();
    await publisher.stop();
    source.close();
  }
}, 80_000);
