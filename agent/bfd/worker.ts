/**
 * The BFD worker: a worker_threads Worker that runs the BfdEngine on its own event loop, so that
 * the 100 ms x 3 timers of RFC 5880 keep time while the main thread digests a million prefixes or
 * collects garbage (its own V8 heap: the main thread's GC pauses do not stop it). It owns the
 * sockets: one receive socket per family and port, UDP 3784 for single hop (RFC 5881 section 4)
 * and 4784 for multihop (RFC 5883 section 5), opened when a session first needs it
 * (agent/bfd/udp.ts reports each datagram's TTL, interface and destination address), and one
 * transmit socket per session with a source port in 49152-65535 and TTL 255; a session bound to
 * an interface binds and sends with that scope (`fe80::1%eth0`: sin6_scope_id). Messages (protocol.ts): configuration in from the main thread, state changes and status
 * snapshots out. Not here: what BFD Down does to BGP (agent/main.ts and the session FSM).
 */

import { parentPort, workerData } from 'node:worker_threads';
import { UdpSocket } from './udp.js';
import { BfdEngine, type BfdPath, type TxSocket } from './engine.js';
import type { ToMain, ToWorker, WorkerOptions } from './protocol.js';
import { every, systemClock } from '../contracts/clock.js';

/** RFC 5881 section 4. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;

const port = parentPort;
if (port === null) throw new Error('agent/bfd/worker.js runs only as a worker thread');
const options = workerData as WorkerOptions;
const post = (m: ToMain): void => port.postMessage(m);
const log = (level: 'info' | 'warn' | 'error', message: string, meta: Record<string, unknown> = {}): void => post({ type: 'log', level, message, meta });

/** Receive sockets by family and port; null: it could not be opened (logged once). */
const receivers = new Map<string, UdpSocket | null>();

function ensureReceiver(family: 4 | 6, multihop: boolean): void {
  const udpPort = multihop ? options.multihopPort : options.port;
  const id = `${family} ${udpPort}`;
  if (receivers.has(id)) return;
  try {
    receivers.set(id, new UdpSocket({
      family, address: '', port: udpPort, ttl: 255,
      onMessage: (m) => engine.receive({ ...m, multihop }),
      onError: (err) => log('warn', `BFD receive socket: ${err.message}`, { family, port: udpPort }),
    }));
  } catch (err) {
    receivers.set(id, null);
    log('error', `cannot open the BFD receive socket on UDP ${udpPort}: ${(err as Error).message}`, { family });
  }
}

/** An address with the session's interface as its scope, for bind and sendto. */
const scoped = (address: string, iface: string): string => (iface !== '' && address.includes(':') ? `${address}%${iface}` : address);

function openTx(p: BfdPath): TxSocket {
  const family = p.family === 'ipv4' ? 4 : 6;
  ensureReceiver(family, p.multihop);
  const to = scoped(p.peer, p.interface);
  const dport = p.multihop ? options.multihopPort : options.port;
  const local = p.local === '' ? '' : scoped(p.local, p.interface);
  let last: unknown;
  // RFC 5881 section 4, RFC 5883 section 5: a source port in 49152-65535, not used by another session.
  for (let i = 0; i < 64; i++) {
    const sport = SOURCE_PORT_MIN + Math.floor(Math.random() * (SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1));
    for (const address of local === '' ? [''] : [local, '']) {
      try {
        const s = new UdpSocket({ family, address, port: sport, ttl: 255, onError: () => undefined });
        return { send: (packet) => s.send(packet, to, dport), close: () => s.close() };
      } catch (err) {
        last = err;
        const code = (err as { code?: string }).code;
        if (code === 'EADDRINUSE') break;
        if (code !== 'EADDRNOTAVAIL') throw err;
      }
    }
  }
  throw last instanceof Error ? last : new Error('no free BFD source port');
}

/** The worker is a composition root of its own: its engine and snapshots run on the system's time. */
const clock = systemClock;

const engine = new BfdEngine({
  clock,
  openTx,
  onChange: (change) => {
    post({ type: 'change', change });
    post({ type: 'status', status: engine.status() });
  },
});

let closing = false;
port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'configure':
      if (closing) return;
      engine.configure(m.peers);
      post({ type: 'status', status: engine.status() });
      return;
    case 'close':
      if (closing) return;
      closing = true;
      // AdminDown for a Detection Time (engine.ts, at most ADMIN_DOWN_MAX_MS); the receive sockets
      // stay open meanwhile, so the peers' packets are taken, not bounced.
      void engine.close().then(() => {
        for (const s of receivers.values()) s?.close();
        receivers.clear();
        stopSnapshots();
        post({ type: 'closed' });
        port.close();
      });
      return;
  }
});

// Unref'd: the listening parentPort holds the worker until 'close'.
const stopSnapshots = every(clock, options.statusIntervalMs, () => post({ type: 'status', status: engine.status() }));
post({ type: 'ready' });
