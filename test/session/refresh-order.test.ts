/**
 * The wire order of a peer's outbound stream (RFC 7313 section 4: BoRR, the UPDATEs, EoRR; RFC 4724
 * section 2: End-of-RIB after the initial feed). First the Transmitter against a connection that
 * is backpressured after every write, so the queue is drained in many turns: markers queued after
 * UPDATEs still go out after all of them. Then a real Session over loopback TCP whose stand-in RIB
 * answers a ROUTE-REFRESH the way the Rib does, on a later tick and with the markers in its stream:
 * the bytes on the wire must be BoRR, every UPDATE, EoRR, and nothing the session added itself
 * (the old session wrapped BoRR and EoRR around the route-refresh event, so its EoRR came before
 * the UPDATEs the RIB sent a tick later).
 */

import test from 'ava';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { contextWith, DEFAULT_CONTEXT } from '../../agent/bgp/context.js';
import { Framer } from '../../agent/bgp/framer.js';
import { decodeMessage, encodeMessage, KEEPALIVE, type Message } from '../../agent/bgp/message.js';
import { parsePrefix, type Prefix } from '../../agent/bgp/prefix.js';
import { endOfRibFamily } from '../../agent/bgp/update.js';
import type { Connection } from '../../agent/session/connection.js';
import type { OutboundItem, SessionEvent } from '../../agent/contracts/engines.js';
import { buildOpen } from '../../agent/session/negotiate.js';
import { Session } from '../../agent/session/session.js';
import { Transmitter } from '../../agent/session/transmit.js';
import { waitFor } from '../helpers/netns.js';
import { peerSpec } from './specs.js';
import { silentLogger } from '../../agent/contracts/log.js';

/** `count` IPv4 /26 prefixes from 10.64.0.0 on. */
function prefixes(count: number, from = 0): Prefix[] {
  return Array.from({ length: count }, (_, i) => ({ afi: 1, len: 26, addr: ((10 << 24) | (64 << 16)) + (from + i) * 64 }) as Prefix);
}

const ATTRS = { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.0.1' } as const;
const update = (p: readonly Prefix[]): OutboundItem => ({ kind: 'update', update: { announce: [{ attributes: ATTRS, prefixes: [...p] }] } });
const withdrawal = (p: readonly Prefix[]): OutboundItem => ({ kind: 'update', update: { withdraw: [...p] } });

/**
 * Messages as words: `borr ipv4`, `eorr ipv4`, `eor ipv4`, `rr ipv4` (a request), and runs of UPDATEs
 * as `+N` / `-N` (prefixes announced / withdrawn, summed over consecutive UPDATEs).
 */
function words(messages: readonly Message[]): string[] {
  const out: string[] = [];
  const family = (afi: number): string => (afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : `afi${afi}`);
  for (const m of messages) {
    if (m.type === 'route-refresh') out.push(`${['rr', 'borr', 'eorr'][m.subtype] ?? `subtype${m.subtype}`} ${family(m.afi)}`);
    if (m.type !== 'update') continue;
    const eor = endOfRibFamily(m);
    if (eor) {
      out.push(`eor ${family(eor.afi)}`);
      continue;
    }
    const n = m.nlri.length + (m.attributes.mpReach?.nlri.length ?? 0);
    const w = m.withdrawn.length + (m.attributes.mpUnreach?.withdrawn.length ?? 0);
    for (const [sign, count] of [['-', w], ['+', n]] as const) {
      if (count === 0) continue;
      const last = out.at(-1);
      if (last?.startsWith(sign) === true) out[out.length - 1] = `${sign}${Number(last.slice(1)) + count}`;
      else out.push(`${sign}${count}`);
    }
  }
  return out;
}

// ---- the Transmitter under backpressure --------------------------------------------------------

/**
 * A Connection stand-in: every write fills the socket past the high-water mark until the test
 * lets it drain, so the transmitter writes one item and then waits for 'drain'.
 */
class BlockingConn {
  readonly socket = new EventEmitter();
  cork(): void {}
  uncork(): void {}
  readonly written: Uint8Array[] = [];
  closed = false;
  /** Written since the last drain: the transmitter must be waiting for 'drain' now. */
  full = false;
  get writableLength(): number {
    return this.full ? Number.MAX_SAFE_INTEGER : 0;
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes);
    this.full = true;
    return true;
  }
  /** The socket drained: the transmitter carries on. */
  drain(): void {
    this.full = false;
    this.socket.emit('drain');
  }
}

interface TxRow {
  readonly name: string;
  /** Pushed in order; a number pushes nothing but lets the socket drain that many times first. */
  readonly steps: readonly (OutboundItem | number)[];
  readonly want: readonly string[];
}

const txRows: readonly TxRow[] = [
  {
    name: 'BoRR, an UPDATE of five slices, EoRR: EoRR after the last slice',
    steps: [{ kind: 'begin-refresh', family: 'ipv4' }, update(prefixes(5 * 2048)), { kind: 'end-refresh', family: 'ipv4' }],
    want: ['borr ipv4', '+10240', 'eorr ipv4'],
  },
  {
    name: 'the initial feed: UPDATEs of two pushes, then End-of-RIB',
    steps: [update(prefixes(3000)), update(prefixes(3000, 3000)), { kind: 'end-of-rib', family: 'ipv4' }],
    want: ['+6000', 'eor ipv4'],
  },
  {
    name: 'EoRR pushed while the transmitter waits for a drain in the middle of the UPDATEs',
    steps: [{ kind: 'begin-refresh', family: 'ipv4' }, update(prefixes(4 * 2048)), 2, { kind: 'end-refresh', family: 'ipv4' }],
    want: ['borr ipv4', '+8192', 'eorr ipv4'],
  },
  {
    name: 'withdrawals and announcements queued before a refresh stay ahead of its BoRR',
    steps: [withdrawal(prefixes(2, 9000)), update(prefixes(2500)), { kind: 'begin-refresh', family: 'ipv4' }, update(prefixes(2500)), { kind: 'end-refresh', family: 'ipv4' }],
    want: ['-2', '+2500', 'borr ipv4', '+2500', 'eorr ipv4'],
  },
  {
    name: 'two families, each between its own markers',
    steps: [{ kind: 'begin-refresh', family: 'ipv6' }, { kind: 'end-refresh', family: 'ipv6' }, { kind: 'begin-refresh', family: 'ipv4' }, update(prefixes(2049)), { kind: 'end-refresh', family: 'ipv4' }],
    want: ['borr ipv6', 'eorr ipv6', 'borr ipv4', '+2049', 'eorr ipv4'],
  },
];

for (const row of txRows) {
  test(`transmitter, backpressured after every write: ${row.name}`, async (t) => {
    const conn = new BlockingConn();
    const failed: unknown[] = [];
    const tx = new Transmitter({ sent: () => undefined, failed: (err) => failed.push(err) });
    tx.attach(conn as unknown as Connection, DEFAULT_CONTEXT);
    let drains = 0;
    const drainOnce = async (): Promise<void> => {
      // The transmitter writes on a later turn and then waits for 'drain'.
      await waitFor(() => conn.full || tx.backlog === 0, { timeoutMs: 5000, what: 'the transmitter to write' });
      if (!conn.full) return;
      drains++;
      conn.drain();
    };
    for (const step of row.steps) {
      if (typeof step === 'number') for (let i = 0; i < step; i++) await drainOnce();
      else tx.push(step);
    }
    while (tx.backlog > 0) await drainOnce();
    await waitFor(() => tx.backlog === 0, { timeoutMs: 5000, what: 'the queue to empty' });
    t.deepEqual(failed, []);
    t.deepEqual(words(conn.written.map((b) => decodeMessage(b))), row.want);
    t.true(drains >= row.want.length - 1, `the queue was drained in ${drains} turns, one write each`);
  });
}

// ---- a real Session over loopback ----------------------------------------------------------------

/** What the peer reads with: the session negotiates extended messages (RFC 8654) with it. */
const EXTENDED = contextWith({ maxLength: 65535, external: true });

/** A BGP speaker on 127.0.0.1: answers the OPEN with its own and a KEEPALIVE, records every message. */
class LoopPeer {
  readonly messages: Message[] = [];
  socket: net.Socket | undefined;
  private constructor(private readonly server: net.Server) {}

  static async listen(): Promise<LoopPeer> {
    const server = net.createServer();
    const peer = new LoopPeer(server);
    // buildOpen offers route refresh and enhanced route refresh (RFC 7313), as FRR does.
    const open = encodeMessage(buildOpen({ asn: 65002, routerId: '10.0.0.2', holdTime: 90, families: ['ipv4'] }));
    server.on('connection', (socket) => {
      peer.socket = socket;
      const framer = new Framer();
      framer.allowExtendedMessages(true);
      socket.on('data', (chunk: Buffer) => {
        for (const bytes of framer.push(chunk)) {
          const m = decodeMessage(bytes, EXTENDED);
          if (m.type !== 'keepalive') peer.messages.push(m);
          if (m.type === 'open') socket.write(Buffer.concat([open, KEEPALIVE]));
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }
}

const OWN = prefixes(3 * 2048 + 7);
const OWN_BLOCK = parsePrefix('192.168.0.0/26');

interface SessionRow {
  readonly name: string;
  /** Whether the stand-in RIB puts BoRR/EoRR around its answer (as the Rib does with ERR). */
  readonly enhanced: boolean;
  readonly want: readonly string[];
}

const sessionRows: readonly SessionRow[] = [
  { name: 'enhanced route refresh: BoRR, every UPDATE, EoRR', enhanced: true, want: ['borr ipv4', `+${OWN.length + 1}`, 'eorr ipv4'] },
  { name: 'plain route refresh: the UPDATEs, no marker from the session', enhanced: false, want: [`+${OWN.length + 1}`] },
];

for (const row of sessionRows) {
  test.serial(`session: a ROUTE-REFRESH answered a tick later goes out in the RIB's order (${row.name})`, async (t) => {
    const peer = await LoopPeer.listen();
    const events: SessionEvent[] = [];
    const spec = peerSpec({ address: '127.0.0.1', port: peer.port, localAs: 65001, peerAs: 65002, routerId: '10.0.0.1', families: ['ipv4'] });
    let session: Session | undefined;
    /** What the Rib does on its flush: the routes in slices, End-of-RIB or BoRR/EoRR around them. */
    const answer = (first: OutboundItem | null, last: OutboundItem | null): void => {
      setImmediate(() => {
        if (first) session?.send(first);
        session?.send(update(OWN));
        session?.send(update([OWN_BLOCK]));
        if (last) session?.send(last);
      });
    };
    session = new Session(spec, {
      log: silentLogger,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'established') answer(null, { kind: 'end-of-rib', family: 'ipv4' });
        if (e.type === 'route-refresh') {
          if (row.enhanced) answer({ kind: 'begin-refresh', family: 'ipv4' }, { kind: 'end-refresh', family: 'ipv4' });
          else answer(null, null);
        }
      },
      readPassword: () => '',
      listenPort: 0,
      connectRetrySeconds: 1,
    });
    try {
      session.start();
      await waitFor(() => words(peer.messages).includes('eor ipv4'), { timeoutMs: 10_000, what: 'the initial feed and End-of-RIB' });
      t.deepEqual(words(peer.messages.slice(1)), [`+${OWN.length + 1}`, 'eor ipv4'], 'initial feed: the UPDATEs, then End-of-RIB');
      t.true(session.negotiated?.enhancedRouteRefresh, 'both sides offered enhanced route refresh');
      const mark = peer.messages.length;
      peer.socket?.write(encodeMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }));
      const count = (): number => words(peer.messages.slice(mark)).reduce((n, w) => n + (w.startsWith('+') ? Number(w.slice(1)) : 0), 0);
      await waitFor(() => count() >= OWN.length + 1 && (!row.enhanced || words(peer.messages.slice(mark)).includes('eorr ipv4')), { timeoutMs: 10_000, what: 'the answer to the refresh' });
      t.true(events.some((e) => e.type === 'route-refresh'));
      t.deepEqual(words(peer.messages.slice(mark)), row.want);
    } finally {
      session.stop();
      peer.close();
    }
  });
}

// ---- the peer's markers (RFC 7313 section 4, receiving side) ---------------------------------------

test.serial('session: a peer\'s BoRR and EoRR become refresh-marker events; markers of another family or subtype do not', async (t) => {
  const peer = await LoopPeer.listen();
  const events: SessionEvent[] = [];
  const spec = peerSpec({ address: '127.0.0.1', port: peer.port, localAs: 65001, peerAs: 65002, routerId: '10.0.0.1', families: ['ipv4'] });
  const session = new Session(spec, {
    log: silentLogger,
    onEvent: (e) => void events.push(e),
    readPassword: () => '',
    listenPort: 0,
    connectRetrySeconds: 1,
  });
  try {
    session.start();
    await waitFor(() => events.some((e) => e.type === 'established'), { timeoutMs: 10_000, what: 'Established' });
    t.true(session.negotiated?.enhancedRouteRefresh, 'both sides offered enhanced route refresh');
    const rr = (afi: number, subtype: number): Buffer => Buffer.from(encodeMessage({ type: 'route-refresh', afi, safi: 1, subtype }));
    // BoRR, EoRR for IPv4; a BoRR for IPv6 (not the session's); subtype 3 (RFC 7313 section 5:
    // ignored); then a plain request, last, so its event says everything before it was read.
    peer.socket?.write(Buffer.concat([rr(1, 1), rr(1, 2), rr(2, 1), rr(1, 3), rr(1, 0)]));
    await waitFor(() => events.some((e) => e.type === 'route-refresh'), { timeoutMs: 10_000, what: 'the request after the markers' });
    const seen = events.filter((e) => e.type === 'refresh-marker' || e.type === 'route-refresh').map((e) => (e.type === 'refresh-marker' ? `${e.marker} ${e.family}` : `request ${e.family}`));
    t.deepEqual(seen, ['begin ipv4', 'end ipv4', 'request ipv4']);
    t.is(session.state, 'Established', 'no marker ends the session');
  } finally {
    session.stop();
    peer.close();
  }
});
