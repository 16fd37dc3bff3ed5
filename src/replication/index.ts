// quiverdb/replication: the publisher of a database's change feed to NATS JetStream and the read
// replicas that follow it. The NATS client (@nats-io/transport-node, @nats-io/jetstream) is an
// optional peer dependency, loaded only when a publisher or replica connects.
export { type ErrorCode, QuiverError } from '../errors.js';
export { type PublishOptions, type Publisher, publish } from './publisher.js';
export { openReplica, type Replica, type ReplicaLag, type ReplicaOptions } from './replica.js';
export type { StreamOptions, StreamTls } from './nats.js';
