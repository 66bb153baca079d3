/**
 * Restarts without loss, the BGP side: the R and F bits of our OPEN follow the agent's restart
 * state (RFC 4724 section 3), a graceful stop lets a graceful-restart peer keep our routes (a soft
 * Administrative Reset with the N bit, no NOTIFICATION without it; RFC 4724 section 4.2, RFC 8538
 * sections 4 and 5), and Session.cease sends the Cease subcode asked for, inside a Hard Reset when
 * the N bit was exchanged. Pure tables first, then a real Session over loopback TCP against an
 * in-process peer that records every byte it receives.
 */

import test from 'ava';
import * as net from 'node:net';
import { CeaseSubcode, ErrorCode } from '../../agent/bgp/constants.js';
import { Framer } from '../../agent/bgp/framer.js';
import { decodeMessage, encodeMessage, KEEPALIVE, type Message } from '../../agent/bgp/message.js';
import type { OpenMessage } from '../../agent/bgp/open.js';
import { initialData, transition } from '../../agent/session/fsm.js';
import type { Negotiated, SessionEvent } from '../../agent/contracts/engines.js';
import { adminShutdown, ceaseNotify, describeNotify, gracefulRestartOnDown, gracefulStop } from '../../agent/session/inbound.js';
import { buildOpen, negotiate } from '../../agent/session/negotiate.js';
import { Session, type LocalRestartState } from '../../agent/session/session.js';
import { waitFor } from '../helpers/netns.js';
import { peerSpec } from './specs.js';
import { silentLogger } from '../../agent/contracts/log.js';

const LOCAL = { asn: 65001, routerId: '10.0.0.1', holdTime: 90, families: ['ipv4', 'ipv6'] as const };
const TEXT = 'maintenance';
const textBytes = (s: string): number[] => [s.length, ...Buffer.from(s)];

type PeerGr = 'none' | 'gr' | 'gr+n';

/** The peer's OPEN: without graceful restart, with it but no N bit (BIRD 2.0), or with N (FRR). */
function peerOpen(gr: PeerGr): OpenMessage {
  const open = buildOpen({ asn: 65002, routerId: '10.0.0.2', holdTime: 90, families: ['ipv4', 'ipv6'], ...(gr === 'none' ? {} : { gracefulRestart: { restartTime: 120, restarting: false, forwarding: false } }) });
  if (gr !== 'gr') return open;
  return { ...open, capabilities: open.capabilities.map((c) => (c.kind === 'graceful-restart' ? { ...c, notification: false } : c)) };
}

function negotiated(gr: PeerGr, localGr = true): Negotiated {
  const local = buildOpen({ ...LOCAL, ...(localGr ? { gracefulRestart: { restartTime: 120, restarting: false, forwarding: false } } : {}) });
  return negotiate(local, peerOpen(gr), true);
}

const plain = (n: { code: number; subcode: number; data?: Uint8Array } | null): unknown =>
  n === null ? null : { code: n.code, subcode: n.subcode, data: [...(n.data ?? [])] };

// ---- pure ----------------------------------------------------------------------------------

test('gracefulStop: soft Administrative Reset with the N bit, no NOTIFICATION without it, Administrative Shutdown without GR', (t) => {
  t.deepEqual(plain(gracefulStop(TEXT, negotiated('gr+n'))), { code: 6, subcode: 4, data: textBytes(TEXT) });
  t.is(gracefulStop(TEXT, negotiated('gr')), null);
  t.deepEqual(plain(gracefulStop(TEXT, negotiated('none'))), { code: 6, subcode: 2, data: textBytes(TEXT) });
  // We did not send the capability: the peer cannot keep our routes, so say why we go.
  t.deepEqual(plain(gracefulStop(TEXT, negotiated('gr+n', false))), { code: 6, subcode: 2, data: textBytes(TEXT) });
  t.deepEqual(plain(gracefulStop('', undefined)), { code: 6, subcode: 2, data: [] });
});

test('the graceful stop is one our own receiving side would keep routes for, and a plain stop is not', (t) => {
  for (const gr of ['gr', 'gr+n'] as const) {
    const n = negotiated(gr);
    const sent = gracefulStop(TEXT, n);
    const kept = gracefulRestartOnDown(n, { adminStop: false, ...(sent ? { received: sent } : {}) });
    t.deepEqual(kept?.families, ['ipv4', 'ipv6'], gr);
    t.is(gracefulRestartOnDown(n, { adminStop: false, received: adminShutdown(TEXT, n) }), null, gr);
  }
});

test('ceaseNotify: RFC 8538 section 5 wraps subcodes 1-4 in a Hard Reset (code, subcode, data) only with the N bit', (t) => {
  const rows: [number, PeerGr, unknown][] = [
    [1, 'gr+n', { code: 6, subcode: 9, data: [6, 1] }],
    [1, 'gr', { code: 6, subcode: 1, data: [] }],
    [1, 'none', { code: 6, subcode: 1, data: [] }],
    [2, 'gr+n', { code: 6, subcode: 9, data: [6, 2, ...textBytes(TEXT)] }],
    [2, 'gr', { code: 6, subcode: 2, data: textBytes(TEXT) }],
    [3, 'gr+n', { code: 6, subcode: 9, data: [6, 3] }],
    [4, 'gr+n', { code: 6, subcode: 9, data: [6, 4, ...textBytes(TEXT)] }],
    [4, 'none', { code: 6, subcode: 4, data: textBytes(TEXT) }],
    [6, 'gr+n', { code: 6, subcode: 6, data: [] }],
    [8, 'gr+n', { code: 6, subcode: 8, data: [] }],
  ];
  for (const [subcode, gr, want] of rows) t.deepEqual(plain(ceaseNotify(subcode, TEXT, negotiated(gr))), want, `subcode ${subcode} ${gr}`);
  // RFC 4486 section 4: subcode 1 may carry AFI, SAFI and the bound, given as data.
  const data = Uint8Array.of(0, 1, 1, 0, 0, 0x03, 0xe8);
  t.deepEqual(plain(ceaseNotify(1, '', negotiated('gr'), data)), { code: 6, subcode: 1, data: [...data] });
  t.deepEqual(plain(ceaseNotify(1, '', negotiated('gr+n'), data)), { code: 6, subcode: 9, data: [6, 1, ...data] });
});

test('describeNotify spells out the NOTIFICATION inside a Hard Reset', (t) => {
  const words = describeNotify(ceaseNotify(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, TEXT, negotiated('gr+n')));
  t.regex(words, /Hard Reset/);
  t.regex(words, /Administrative Shutdown/);
  t.regex(words, /maintenance/);
  t.regex(describeNotify({ code: 6, subcode: 9, data: Uint8Array.of(6) }), /Hard Reset/);
});

test('FSM: ManualStop with notify null closes a connected session without a NOTIFICATION', (t) => {
  for (const state of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
    const d = { ...initialData(), state, adminDown: false };
    const tr = transition(d, { type: 'ManualStop', notify: null });
    t.is(tr.data.state, 'Idle');
    t.false(tr.actions.some((a) => a.kind === 'sendNotification'), state);
    t.true(tr.actions.some((a) => a.kind === 'drop'), state);
    t.true(tr.actions.some((a) => a.kind === 'sessionDown'), state);
  }
});

// ---- a real Session over loopback ------------------------------------------------------------

/** One connection the session made to the test peer: every message it sent, and whether it ended. */
interface Conn {
  readonly socket: net.Socket;
  readonly messages: Message[];
  ended: boolean;
}

/** A BGP speaker on 127.0.0.1 that answers every connection with `open` and a KEEPALIVE. */
class LoopPeer {
  readonly conns: Conn[] = [];
  private constructor(private readonly server: net.Server, public open: OpenMessage) {}

  static async listen(open: OpenMessage): Promise<LoopPeer> {
    const server = net.createServer();
    const peer = new LoopPeer(server, open);
    server.on('connection', (socket) => peer.adopt(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private adopt(socket: net.Socket): void {
    const conn: Conn = { socket, messages: [], ended: false };
    this.conns.push(conn);
    const framer = new Framer();
    framer.allowExtendedMessages(true);
    socket.on('data', (chunk: Buffer) => {
      for (const bytes of framer.push(chunk)) {
        const m = decodeMessage(bytes);
        conn.messages.push(m);
        if (m.type === 'open') socket.write(Buffer.concat([encodeMessage(this.open), KEEPALIVE]));
      }
    });
    socket.on('end', () => {
      conn.ended = true;
      socket.end();
    });
    socket.on('error', () => undefined);
  }

  close(): void {
    for (const c of this.conns) c.socket.destroy();
    this.server.close();
  }
}

interface Rig {
  readonly peer: LoopPeer;
  session: Session;
  readonly events: SessionEvent[];
  state: LocalRestartState;
}

async function rig(gr: PeerGr, state: LocalRestartState = { restarting: false, forwarding: false }): Promise<Rig> {
  const peer = await LoopPeer.listen(peerOpen(gr));
  const events: SessionEvent[] = [];
  const r: Rig = { peer, session: undefined as unknown as Session, events, state };
  const spec = peerSpec({ address: '127.0.0.1', port: peer.port, localAs: 65001, peerAs: 65002, routerId: '10.0.0.1' });
  r.session = new Session(spec, {
    log: silentLogger,
    onEvent: (e) => events.push(e),
    readPassword: () => '',
    listenPort: 0,
    connectRetrySeconds: 1,
    localRestartState: () => r.state,
  });
  return r;
}

async function established(r: Rig, count = 1): Promise<void> {
  await waitFor(() => r.events.filter((e) => e.type === 'established').length >= count, { timeoutMs: 10_000, what: 'the session to be Established' });
}

/** Waits until the connection ended and returns the NOTIFICATIONs it carried. */
async function closed(c: Conn): Promise<Message[]> {
  await waitFor(() => c.ended, { timeoutMs: 10_000, what: 'the connection to end' });
  return c.messages.filter((m) => m.type === 'notification');
}

function grCapability(m: Message | undefined): unknown {
  if (m?.type !== 'open') return undefined;
  const c = m.capabilities.find((x) => x.kind === 'graceful-restart');
  return c?.kind === 'graceful-restart' ? { restarting: c.restarting, forwarding: c.families.map((f) => f.forwarding) } : undefined;
}

test.serial('the OPEN carries R and F as the restart state says at the time it is sent', async (t) => {
  const r = await rig('gr', { restarting: true, forwarding: true });
  try {
    r.session.start();
    await established(r);
    t.deepEqual(grCapability(r.peer.conns[0].messages[0]), { restarting: true, forwarding: [true, true] });
    // Converged: sessions opened from now on say so.
    r.state = { restarting: false, forwarding: false };
    r.session.stop();
    await closed(r.peer.conns[0]);
    r.session.start();
    await established(r, 2);
    t.deepEqual(grCapability(r.peer.conns[1].messages[0]), { restarting: false, forwarding: [false, false] });
    t.is(r.session.state, 'Established');
  } finally {
    r.session.stop();
    r.peer.close();
  }
});

const stopRows: { title: string; gr: PeerGr; graceful: boolean; want: unknown[] }[] = [
  { title: 'graceful stop, peer with the N bit: soft Administrative Reset with the text', gr: 'gr+n', graceful: true, want: [{ code: 6, subcode: 4, data: textBytes(TEXT) }] },
  { title: 'graceful stop, peer with GR but no N bit: the connection closes without a NOTIFICATION', gr: 'gr', graceful: true, want: [] },
  { title: 'graceful stop, peer without GR: Administrative Shutdown', gr: 'none', graceful: true, want: [{ code: 6, subcode: 2, data: textBytes(TEXT) }] },
  { title: 'plain stop, peer with the N bit: Hard Reset around the Administrative Shutdown', gr: 'gr+n', graceful: false, want: [{ code: 6, subcode: 9, data: [6, 2, ...textBytes(TEXT)] }] },
  { title: 'plain stop, peer with GR but no N bit: Administrative Shutdown', gr: 'gr', graceful: false, want: [{ code: 6, subcode: 2, data: textBytes(TEXT) }] },
];

for (const row of stopRows) {
  test.serial(`Session.stop: ${row.title}`, async (t) => {
    const r = await rig(row.gr);
    try {
      r.session.start();
      await established(r);
      r.session.stop(TEXT, { graceful: row.graceful });
      const notes = await closed(r.peer.conns[0]);
      t.deepEqual(notes.map((m) => plain(m as { code: number; subcode: number; data: Uint8Array })), row.want);
      t.is(r.session.state, 'Idle');
      t.true(r.events.some((e) => e.type === 'down'));
    } finally {
      r.session.stop();
      r.peer.close();
    }
  });
}

const ceaseRows: { gr: PeerGr; want: unknown }[] = [
  { gr: 'gr+n', want: { code: ErrorCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: [6, 1] } },
  { gr: 'gr', want: { code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data: [] } },
];

for (const row of ceaseRows) {
  test.serial(`Session.cease(1): Maximum Number of Prefixes Reached (${row.gr})`, async (t) => {
    const r = await rig(row.gr);
    try {
      r.session.start();
      await established(r);
      r.session.cease(CeaseSubcode.MAX_PREFIXES, 'maximum number of prefixes reached (10)');
      const notes = await closed(r.peer.conns[0]);
      t.deepEqual(notes.map((m) => plain(m as { code: number; subcode: number; data: Uint8Array })), [row.want]);
      const status = r.session.status();
      t.is(status.state, 'Idle');
      t.false(status.enabled);
      t.regex(status.lastError, /Maximum Number of Prefixes Reached/);
      // Down without graceful restart: the RIB flushes the peer's routes.
      const down = r.events.find((e) => e.type === 'down');
      t.is(down?.type === 'down' ? down.gracefulRestart : 'missing', null);
    } finally {
      r.session.stop();
      r.peer.close();
    }
  });
}
