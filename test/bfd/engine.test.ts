/**
 * The BFD engine's receive path against bad input, as a table (RFC 5880 section 6.8.6, RFC 5881
 * section 5): two sessions are brought Up by simulated peers on a fake clock; every row's datagram
 * must be discarded and counted under its code, throw nothing, and leave both sessions Up (the
 * peers keep sending good packets throughout, so only a row that disturbed a session could bring
 * it down). A control row shows the good packet with TTL 255 is accepted, so the TTL row is not
 * passing by accident. Then the timers: detection after Detect Mult x interval on the fake clock.
 */

import test from 'ava';
import { BfdEngine, type BfdPeerConfig } from '../../agent/bfd/engine.js';
import { decodeControl, encodeControl, type ControlPacket } from '../../agent/bfd/packet.js';
import type { BfdChange } from '../../agent/bfd/session.js';
import { MALFORMED, UP } from './packet.test.js';
import { FakeClock } from '../helpers/fake-clock.js';

const A = '10.0.0.1';
const B = 'fd00::2';
const peers: BfdPeerConfig[] = [
  { key: A, peer: A, local: '', family: 'ipv4', minRxMs: 100, minTxMs: 100, multiplier: 3 },
  { key: B, peer: B, local: '', family: 'ipv6', minRxMs: 100, minTxMs: 100, multiplier: 3 },
];
const REMOTE: Record<string, number> = { [A]: 0x1000a, [B]: 0x1000b };

function setup() {
  const clock = new FakeClock(1_000_000);
  const sent = new Map<string, ControlPacket[]>();
  const changes: BfdChange[] = [];
  const closedAt = new Map<string, number>();
  let seed = 1;
  const engine = new BfdEngine({
    clock,
    random: () => ((seed = (seed * 16807) % 2147483647) / 2147483647),
    openTx: (p) => ({
      send: (b) => void (sent.get(p.peer) ?? sent.set(p.peer, []).get(p.peer)!).push(decodeControl(b)),
      close: () => void closedAt.set(p.peer, clock.now()),
    }),
    onChange: (c) => changes.push(c),
  });
  engine.configure(peers);
  const last = (peer: string) => sent.get(peer)!.at(-1)!;
  /** What the simulated peer sends: its state, our discriminator as it learnt it. */
  const from = (peer: string, state: ControlPacket['state'], extra: Partial<ControlPacket> = {}) =>
    engine.receive({ data: encodeControl({ ...UP, state, myDiscr: REMOTE[peer], yourDiscr: last(peer).myDiscr, ...extra }), address: peer, ttl: 255 });
  for (const p of [A, B]) from(p, 'Init');
  const state = (key: string) => engine.status().sessions.find((s) => s.key === key)?.state;
  return { clock, engine, changes, from, last, state, sent, closedAt };
}

test('both sessions come Up from the simulated peers', (t) => {
  const { state, last } = setup();
  t.is(state(A), 'Up');
  t.is(state(B), 'Up');
  t.is(last(A).yourDiscr, REMOTE[A]);
});

type Row = { name: string; code: string; datagram: (s: ReturnType<typeof setup>) => { data: Uint8Array; address: string; ttl: number } };
const good = (s: ReturnType<typeof setup>, peer: string, extra: Partial<ControlPacket> = {}) => encodeControl({ ...UP, myDiscr: REMOTE[peer], yourDiscr: s.last(peer).myDiscr, ...extra });
const ROWS: Row[] = [
  { name: 'TTL 254 (one hop away: GTSM)', code: 'TTL', datagram: (s) => ({ data: good(s, A, { state: 'Down' }), address: A, ttl: 254 }) },
  { name: 'TTL 1', code: 'TTL', datagram: (s) => ({ data: good(s, A, { state: 'Down' }), address: A, ttl: 1 }) },
  { name: 'no TTL from the kernel', code: 'TTL', datagram: (s) => ({ data: good(s, B, { state: 'Down' }), address: B, ttl: -1 }) },
  ...MALFORMED.map((m): Row => ({ name: m.name, code: m.code, datagram: () => ({ data: m.bytes, address: A, ttl: 255 }) })),
  { name: 'from an address without a session', code: 'UNKNOWN_PEER', datagram: () => ({ data: encodeControl({ ...UP, state: 'Down', yourDiscr: 0 }), address: '10.9.9.9', ttl: 255 }) },
  { name: 'Your Discriminator of no session', code: 'UNKNOWN_DISCRIMINATOR', datagram: (s) => ({ data: good(s, A, { state: 'Down', yourDiscr: (s.last(A).myDiscr ^ s.last(B).myDiscr) || 7 }), address: A, ttl: 255 }) },
  { name: "B's discriminator from A's address", code: 'ADDRESS_MISMATCH', datagram: (s) => ({ data: good(s, B, { state: 'Down' }), address: A, ttl: 255 }) },
  { name: 'Your Discriminator 0 in a packet saying Up', code: 'ZERO_YOUR_DISCRIMINATOR', datagram: (s) => ({ data: good(s, A, { state: 'Up', yourDiscr: 0 }), address: A, ttl: 255 }) },
  { name: '2 KiB of garbage', code: 'BAD_VERSION', datagram: () => ({ data: Buffer.alloc(2048, 0xff), address: B, ttl: 255 }) },
];

for (const row of ROWS) {
  test(`dropped and counted: ${row.name} -> ${row.code}`, (t) => {
    const s = setup();
    const before = s.engine.status().drops[row.code] ?? 0;
    t.notThrows(() => s.engine.receive(row.datagram(s)));
    t.is(s.engine.status().drops[row.code], before + 1);
    // The peers go on sending for more than a Detection Time: both sessions stay Up.
    for (let i = 0; i < 10; i++) {
      s.clock.advance(50);
      s.from(A, 'Up');
      s.from(B, 'Up');
    }
    t.is(s.state(A), 'Up');
    t.is(s.state(B), 'Up');
    t.deepEqual(s.changes.filter((c) => c.from === 'Up'), [], 'no session left Up');
  });
}

test('control: the TTL row\'s packet with TTL 255 is accepted (and takes the session down)', (t) => {
  const s = setup();
  s.engine.receive({ data: good(s, A, { state: 'Down' }), address: A, ttl: 255 });
  t.is(s.state(A), 'Down');
  t.is(s.state(B), 'Up');
  t.deepEqual(s.engine.status().drops, {});
});

test('silence: Down with diagnostic 1 after the Detection Time (3 x 100 ms), not before; the other session unaffected', (t) => {
  const s = setup();
  s.clock.advance(290);
  s.from(B, 'Up');
  t.is(s.state(A), 'Up');
  s.clock.advance(20);
  t.is(s.state(A), 'Down');
  t.like(s.changes.at(-1), { key: A, from: 'Up', to: 'Down', diag: 1, diagText: 'Control Detection Time Expired' });
  t.is(s.state(B), 'Up');
});

test('transmit: 75-100% of 100 ms once Up (RFC 5880 s6.8.7), discriminators unique, AdminDown (diag 7) when removed', (t) => {
  const s = setup();
  const n = (p: string) => s.engine.status().sessions.find((x) => x.key === p)!.packetsOut;
  const before = n(A);
  for (let i = 0; i < 20; i++) {
    s.clock.advance(50);
    s.from(A, 'Up', { final: true });
  }
  const sentUp = n(A) - before;
  t.true(sentUp >= 10 && sentUp <= 14, `${sentUp} packets in 1 s`);
  t.not(s.last(A).myDiscr, s.last(B).myDiscr);
  s.engine.configure([]);
  t.is(s.last(A).state, 'AdminDown');
  t.is(s.last(A).diag, 7);
  t.deepEqual(s.engine.status().sessions, []);
});

test('RFC 5880 s6.8.16: a removed Up session sends AdminDown for the peer\'s Detection Time (3 x 100 ms), several packets, then closes', (t) => {
  const s = setup();
  s.from(A, 'Up', { final: true });
  const start = s.clock.now();
  const times: number[] = [];
  const before = s.sent.get(A)!.length;
  s.engine.configure([peers[1]]);
  const count = () => s.sent.get(A)!.length - before;
  for (let i = 0; i < 40; i++) {
    if (count() > times.length) times.push(s.clock.now() - start);
    // The peer answers Down (it took our AdminDown): absorbed, not counted as a drop.
    if (i % 5 === 0 && i < 30) s.from(A, 'Down');
    if (i % 5 === 0) s.from(B, 'Up');
    s.clock.advance(10);
  }
  const adminDown = s.sent.get(A)!.slice(before);
  t.true(adminDown.every((p) => p.state === 'AdminDown' && p.diag === 7), 'every packet says AdminDown, diag 7');
  t.true(adminDown.length >= 3, `${adminDown.length} AdminDown packets`);
  t.true(times.at(-1)! >= 150, `spread over the detection time: ${times.join(', ')} ms`);
  t.is(s.closedAt.get(A)! - start, 300, 'the socket closes after the Detection Time, not before');
  t.false(s.closedAt.has(B));
  t.deepEqual(s.engine.status().drops, {});
  t.is(s.state(B), 'Up');
});

test('RFC 5880 s6.8.16: AdminDown is capped at 3 s (a 1 s x 10 peer) and close() resolves then; a session never Up closes at once', async (t) => {
  const s = setup();
  s.engine.configure([{ ...peers[0], minTxMs: 1000, minRxMs: 1000, multiplier: 10 }, { ...peers[1], key: 'other' }]);
  s.from(A, 'Up', { final: true });
  const start = s.clock.now();
  let done = false;
  const closed = s.engine.close().then(() => (done = true));
  t.is(s.closedAt.get(B), start, "B's new session never came Up: closed at once");
  s.clock.advance(2999);
  await Promise.resolve();
  t.false(done);
  t.false(s.closedAt.has(A));
  s.clock.advance(1);
  await closed;
  t.is(s.closedAt.get(A)! - start, 3000);
});
