/**
 * A BFD engine alone, for the link-local lab (link-local.test.ts): run inside a namespace as
 * `node bfd-driver.js '<BfdPeerConfig[] as JSON>'`, it starts the agent's BFD worker through
 * BfdClient (agent/bfd/client.ts) with those sessions and prints NDJSON on stdout: `{"change":
 * BfdChange}` for each state change and `{"status": BfdEngineStatus}` every 100 ms. It is how a
 * test asks for `{ peer: 'fe80::1', interface: 'eth0' }` before BGP interface peers exist.
 * SIGTERM closes the client (AdminDown) and exits. Not here: BGP.
 */
import { BfdClient } from '../../agent/bfd/client.js';
import type { BfdPeerConfig } from '../../agent/bfd/engine.js';

const peers = JSON.parse(process.argv[2] ?? '[]') as BfdPeerConfig[];
const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const log = (level: string) => (message: string, meta?: Record<string, unknown>) => out({ log: level, message, meta });
const client = new BfdClient({ log: { info: log('info'), warn: log('warn'), error: log('error') }, statusIntervalMs: 100, onChange: (change) => out({ change }) });
client.configure(peers);
const timer = setInterval(() => out({ status: client.status() }), 100);
process.once('SIGTERM', () => {
  clearInterval(timer);
  void client.close().then(() => process.exit(0));
});
