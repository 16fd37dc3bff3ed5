// A publisher in a child process: opens the database DIR, publishes its changes in rounds of 50
// until it has published up to TARGET, prints 'done', exits. The crash test kills it between a
// round's acknowledgement and its cursor update (QUIVERDB_CRASH_AT=publish-after-ack:N).
// Usage: publisher-process.ts DIR SERVERS STREAM TARGET
import { open } from '../../src/index.js';
import { publish } from '../../src/replication/index.js';

const [directory, servers, stream, target] = process.argv.slice(2);
const db = open(directory!, { durability: 'normal' });
const publisher = await publish(db, { servers: servers!.split(','), stream: stream!, batch: 50 });
while (publisher.seq < Number(target)) await new Promise((resolve) => setTimeout(resolve, 10));
await publisher.stop();
db.close();
process.stdout.write('done\n');
process.exit(0);
