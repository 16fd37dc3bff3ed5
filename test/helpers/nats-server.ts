// Test helper: the benchmark harness's nats-server launcher (JetStream on 127.0.0.1, free ports,
// temporary storage, every server killed on process exit).
export {
  ensureNatsServer,
  freePort,
  type NatsNode,
  startNatsCluster,
  startNatsServer,
} from '../../bench/harness/nats-server.js';
