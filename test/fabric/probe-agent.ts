/**
 * The fabric lab's traffic prober, one process per probing node (run inside its namespace by
 * probes.ts): it answers probes on UDP port 7777 of the node's block addresses (the first address
 * of its IPv4 and its IPv6 block, on lo), and every `interval` ms sends one probe to each target
 * from the block address of the target's family, so each probe and its answer cross the fabric
 * between two blocks (node -> ToR -> spine -> ToR -> node when the racks differ).
 *
 *   probe-agent --bind 192.168.0.65,fd00:10:0:1::1 --targets 192.168.1.1,fd00:10:0:5::1 --interval 50
 *
 * Prints `R` once both sockets are bound, then one line per probe sent, `S <target> <seq> <ms>`,
 * and per answer received, `A <target> <seq> <ms>` (Date.now() milliseconds); the parent decides
 * what was lost. A send the kernel refuses (no route: ENETUNREACH, a blackhole: EINVAL) is still
 * a probe sent, and never answered. Plain data: 1 byte kind (1 probe, 2 answer), 4 bytes seq.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseArgs } from 'node:util';

const PORT = 7777;
const { values } = parseArgs({ options: { bind: { type: 'string' }, targets: { type: 'string' }, interval: { type: 'string', default: '50' } } });
const binds = (values.bind ?? '').split(',').filter(Boolean);
const targets = (values.targets ?? '').split(',').filter(Boolean);
const interval = Number(values.interval);
const out: string[] = [];
const say = (line: string): void => {
  out.push(line);
};
const flush = (): void => {
  if (out.length > 0) process.stdout.write(`${out.splice(0).join('\n')}\n`);
};

function open(address: string): Promise<Socket> {
  const v6 = address.includes(':');
  const s = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  s.on('message', (msg, rinfo) => {
    if (msg.length !== 5) return;
    if (msg[0] === 1) {
      msg[0] = 2;
      s.send(msg, rinfo.port, rinfo.address, () => undefined);
    } else if (msg[0] === 2) {
      say(`A ${rinfo.address} ${msg.readUInt32BE(1)} ${Date.now()}`);
    }
  });
  s.on('error', (err) => {
    process.stderr.write(`probe-agent ${address}: ${err.message}\n`);
  });
  return new Promise((resolve) => s.bind(PORT, address, () => resolve(s)));
}

async function main(): Promise<void> {
  const sockets = new Map<boolean, Socket>();
  for (const b of binds) sockets.set(b.includes(':'), await open(b));
  const seq = new Map<string, number>(targets.map((t) => [t, 0]));
  say('R');
  flush();
  setInterval(() => {
    for (const t of targets) {
      const s = sockets.get(t.includes(':'));
      if (s === undefined) continue;
      const n = (seq.get(t) ?? 0) + 1;
      seq.set(t, n);
      const msg = Buffer.alloc(5);
      msg[0] = 1;
      msg.writeUInt32BE(n, 1);
      say(`S ${t} ${n} ${Date.now()}`);
      s.send(msg, PORT, t, () => undefined);
    }
    flush();
  }, interval);
  // Answers between ticks go out at once too, so the parent's view lags by at most a tick.
  setInterval(flush, Math.max(10, Math.floor(interval / 2)));
}

main().catch((err: unknown) => {
  process.stderr.write(`probe-agent: ${(err as Error).message}\n`);
  process.exit(1);
});
