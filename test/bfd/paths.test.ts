/**
 * BFD paths in the engine (agent/bfd/engine.ts): RFC 5883 multihop sessions (UDP 4784, received
 * TTL checked only against a configured minimum, the address pair checked) beside RFC 5881 single
 * hop ones, and single hop bound to an interface (RFC 5881 section 3: two sessions to the same
 * link-local address on two interfaces). Five sessions are brought Up by simulated peers on a fake
 * clock; every row's datagram must be discarded and counted under its code and leave all five Up;
 * the control rows show the same datagrams accepted when the path is right, so no row passes by
 * accident. Then the coupling's choice of path (coupling.ts multihopOf, bfdPeers) as a table.
 */

import test from 'ava';
import { bfdPeers, multihopOf, type BfdSpec } from '../../agent/bfd/coupling.js';
import { BfdEngine, type BfdPath, type BfdPeerConfig, type Received } from '../../agent/bfd/engine.js';
import { decodeControl, encodeControl, type ControlPacket } from '../../agent/bfd/packet.js';
import type { BfdChange } from '../../agent/bfd/session.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { peerSpec } from '../session/specs.js';

const T = { minRxMs: 100, minTxMs: 100, multiplier: 3 };
/** Multihop with a TTL floor and a local address; multihop without a check (BIRD 2 sends TTL 64). */
const M: BfdPeerConfig = { key: 'm', peer: '10.9.0.1', local: '10.0.0.11', family: 'ipv4', ...T, multihop: true, minTtl: 250 };
const M0: BfdPeerConfig = { key: 'm0', peer: '10.9.0.2', local: '', family: 'ipv4', ...T, multihop: true };
/** The same link-local neighbour on two interfaces, the second written as a scoped address. */
const L: BfdPeerConfig = { key: 'l', peer: 'fe80::1', local: '', family: 'ipv6', ...T, interface: 'eth0' };
const L1: BfdPeerConfig = { key: 'l1', peer: 'FE80::1%eth1', local: '', family: 'ipv6', ...T };
const S: BfdPeerConfig = { key: 's', peer: '10.0.0.1', local: '', family: 'ipv4', ...T };
const ALL = [M, M0, L, L1, S];

/** How each session's simulated peer reaches us: its address, our port, interface, TTL, our address. */
const ARRIVAL: Record<string, Omit<Received, 'data'>> = {
  m: { address: '10.9.0.1', multihop: true, ttl: 253, ifname: 'eth0', local: '10.0.0.11' },
  m0: { address: '10.9.0.2', multihop: true, ttl: 64, ifname: 'eth0', local: '10.0.0.11' },
  l: { address: 'fe80::1', ttl: 255, ifname: 'eth0', local: 'fe80::11' },
  l1: { address: 'fe80::1', ttl: 255, ifname: 'eth1', local: 'fe80::11' },
  s: { address: '10.0.0.1', ttl: 255, ifname: 'eth0', local: '10.0.0.11' },
};
const REMOTE: Record<string, number> = { m: 0x100, m0: 0x101, l: 0x102, l1: 0x103, s: 0x104 };
const BASE: ControlPacket = {
  version: 1, diag: 0, state: 'Up', poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false,
  detectMult: 3, myDiscr: 1, yourDiscr: 0, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0,
};

function setup(up = true) {
  const clock = new FakeClock(1_000_000);
  const sent = new Map<string, ControlPacket[]>();
  const opened = new Map<string, BfdPath>();
  const changes: BfdChange[] = [];
  let seed = 7;
  const engine = new BfdEngine({
    clock,
    random: () => ((seed = (seed * 16807) % 2147483647) / 2147483647),
    openTx: (p) => {
      opened.set(p.key, p);
      return { send: (b) => void (sent.get(p.key) ?? sent.set(p.key, []).get(p.key)!).push(decodeControl(b)), close: () => undefined };
    },
    onChange: (c) => changes.push(c),
  });
  engine.configure(ALL);
  const ours = (key: string) => sent.get(key)!.at(-1)!.myDiscr;
  const packet = (key: string, extra: Partial<ControlPacket> = {}) => encodeControl({ ...BASE, myDiscr: REMOTE[key], yourDiscr: ours(key), ...extra });
  const from = (key: string, state: ControlPacket['state'], extra: Partial<Received> = {}) =>
    engine.receive({ ...ARRIVAL[key], data: packet(key, { state }), ...extra });
  const state = (key: string) => engine.status().sessions.find((s) => s.key === key)?.state;
  if (up) for (const p of ALL) from(p.key, 'Init');
  return { clock, engine, changes, from, packet, state, opened, ours };
}

test('every path comes Up, and openTx gets the path: multihop, interface from a scoped address, TTL floor', (t) => {
  const s = setup();
  for (const p of ALL) t.is(s.state(p.key), 'Up', p.key);
  t.like(s.opened.get('m'), { multihop: true, minTtl: 250, interface: '' });
  t.like(s.opened.get('m0'), { multihop: true, minTtl: 0 });
  t.like(s.opened.get('l'), { multihop: false, interface: 'eth0', peer: 'fe80::1', minTtl: 255 });
  t.like(s.opened.get('l1'), { multihop: false, interface: 'eth1', peer: 'fe80::1' });
  t.like(s.opened.get('s'), { multihop: false, interface: '' });
  const status = s.engine.status().sessions.find((x) => x.key === 'l1');
  t.like(status, { multihop: false, interface: 'eth1' });
});

type Row = { name: string; code: string; datagram: (s: ReturnType<typeof setup>) => Received };
const ROWS: Row[] = [
  { name: 'multihop below its minTtl (249 < 250)', code: 'TTL', datagram: (s) => ({ ...ARRIVAL.m, ttl: 249, data: s.packet('m', { state: 'Down' }) }) },
  { name: "a multihop session's packet on the single-hop port", code: 'HOP_MISMATCH', datagram: (s) => ({ ...ARRIVAL.m, multihop: false, ttl: 255, data: s.packet('m', { state: 'Down' }) }) },
  { name: "a single-hop session's packet on the multihop port", code: 'HOP_MISMATCH', datagram: (s) => ({ ...ARRIVAL.s, multihop: true, data: s.packet('s', { state: 'Down' }) }) },
  { name: 'single hop with TTL 254 (RFC 5881 GTSM)', code: 'TTL', datagram: (s) => ({ ...ARRIVAL.l, ttl: 254, data: s.packet('l', { state: 'Down' }) }) },
  { name: "eth0's session's discriminator arriving on eth1", code: 'INTERFACE_MISMATCH', datagram: (s) => ({ ...ARRIVAL.l, ifname: 'eth1', data: s.packet('l', { state: 'Down' }) }) },
  { name: 'multihop to another local address than configured', code: 'ADDRESS_MISMATCH', datagram: (s) => ({ ...ARRIVAL.m, local: '10.0.0.99', data: s.packet('m', { state: 'Down' }) }) },
  { name: 'Your Discriminator 0 from the link-local neighbour on a third interface', code: 'UNKNOWN_PEER', datagram: () => ({ ...ARRIVAL.l, ifname: 'eth2', data: encodeControl({ ...BASE, state: 'Down' }) }) },
  { name: 'Your Discriminator 0 from a multihop peer on the single-hop port', code: 'UNKNOWN_PEER', datagram: () => ({ ...ARRIVAL.m, multihop: false, ttl: 255, data: encodeControl({ ...BASE, state: 'Down' }) }) },
  { name: 'Your Discriminator 0 from a single-hop peer on the multihop port', code: 'UNKNOWN_PEER', datagram: () => ({ ...ARRIVAL.s, multihop: true, data: encodeControl({ ...BASE, state: 'Down' }) }) },
];

for (const row of ROWS) {
  test(`dropped and counted: ${row.name} -> ${row.code}`, (t) => {
    const s = setup();
    t.notThrows(() => s.engine.receive(row.datagram(s)));
    t.deepEqual(s.engine.status().drops, { [row.code]: 1 });
    for (let i = 0; i < 10; i++) {
      s.clock.advance(50);
      for (const p of ALL) s.from(p.key, 'Up');
    }
    for (const p of ALL) t.is(s.state(p.key), 'Up', p.key);
    t.deepEqual(s.changes.filter((c) => c.from === 'Up'), [], 'no session left Up');
  });
}

const ACCEPTED: { name: string; key: string; extra: Partial<Received> }[] = [
  { name: 'multihop at its minTtl (250)', key: 'm', extra: { ttl: 250 } },
  { name: 'multihop without a configured check, TTL 1', key: 'm0', extra: { ttl: 1 } },
  { name: 'multihop to its configured local address', key: 'm', extra: {} },
  { name: 'the link-local neighbour on its own interface', key: 'l1', extra: {} },
  { name: 'a session not bound to an interface, whatever the interface', key: 's', extra: { ifname: 'eth7' } },
];

for (const row of ACCEPTED) {
  test(`control: accepted, ${row.name} (a Down takes that session down, no other)`, (t) => {
    const s = setup();
    s.from(row.key, 'Down', row.extra);
    t.deepEqual(s.engine.status().drops, {});
    for (const p of ALL) t.is(s.state(p.key), p.key === row.key ? 'Down' : 'Up', p.key);
  });
}

test('RFC 5881 s3: Your Discriminator 0 finds the session by (interface, address): eth1 moves only its own', (t) => {
  const s = setup(false);
  s.engine.receive({ ...ARRIVAL.l1, data: encodeControl({ ...BASE, state: 'Down', myDiscr: 9 }) });
  t.is(s.state('l1'), 'Init');
  t.is(s.state('l'), 'Down');
  s.engine.receive({ ...ARRIVAL.m, data: encodeControl({ ...BASE, state: 'Down', myDiscr: 10 }) });
  t.is(s.state('m'), 'Init');
  t.is(s.state('m0'), 'Down');
  t.deepEqual(s.engine.status().drops, {});
});

test('a path change (single hop -> multihop, another interface) replaces the session; a minTtl change does not', (t) => {
  const s = setup();
  const before = s.ours('m');
  s.engine.configure(ALL.map((p) => (p.key === 'm' ? { ...p, minTtl: 200 } : p.key === 's' ? { ...p, multihop: true } : p.key === 'l' ? { ...p, interface: 'eth2' } : p)));
  t.is(s.state('m'), 'Up');
  t.is(s.engine.status().sessions.find((x) => x.key === 'm')?.localDiscriminator, before);
  s.engine.receive({ ...ARRIVAL.m, ttl: 220, data: s.packet('m') });
  t.deepEqual(s.engine.status().drops, {}, 'the new floor applies');
  t.is(s.state('s'), 'Down');
  t.like(s.opened.get('s'), { multihop: true });
  t.like(s.opened.get('l'), { interface: 'eth2' });
});

// ---- the coupling: which path a peer gets ----------------------------------------------------

const spec = ({ bfd, ...o }: Omit<Partial<BfdSpec>, 'bfd'> & { bfd?: Partial<BfdSpec['bfd']> } = {}): BfdSpec => {
  const base = peerSpec({ address: '10.0.0.1', localAs: 64512, peerAs: 64512, routerId: '10.0.0.11', ...o });
  return { ...base, ...o, bfd: { ...base.bfd, enabled: true, ...bfd } };
};
const CONNECTED = new Set(['10.0.0.1', 'fd00::1']);
const ctx = { connected: (a: string) => CONNECTED.has(a) };

const PATHS: { name: string; spec: BfdSpec; multihop: boolean }[] = [
  { name: 'auto, on a connected subnet', spec: spec(), multihop: false },
  { name: 'auto, connected, ttlSecurity 1 (one hop)', spec: spec({ ttlSecurity: 1 }), multihop: false },
  { name: 'auto, connected, ttlSecurity 2', spec: spec({ ttlSecurity: 2 }), multihop: true },
  { name: 'auto, on no connected subnet (a spine route reflector)', spec: spec({ address: '10.255.0.1' }), multihop: true },
  { name: 'auto, IPv6 on no connected subnet', spec: spec({ address: 'fd00:ff::1', family: 'ipv6' }), multihop: true },
  { name: 'on, connected (a BIRD iBGP ToR without direct)', spec: spec({ bfd: { multihop: 'on' } }), multihop: true },
  { name: 'off, not connected, ttlSecurity 5', spec: spec({ address: '10.255.0.1', ttlSecurity: 5, bfd: { multihop: 'off' } }), multihop: false },
  { name: 'auto, a link-local peer (never in a subnet list)', spec: spec({ address: 'fe80::1', family: 'ipv6' }), multihop: false },
  { name: 'auto, an interface peer', spec: spec({ address: 'fe80::1', family: 'ipv6', interface: 'eth0', ttlSecurity: 2 }), multihop: false },
  { name: 'auto, a scoped address', spec: spec({ address: 'fe80::1%eth0', family: 'ipv6' }), multihop: false },
];

for (const row of PATHS) {
  test(`path: ${row.name} -> ${row.multihop ? 'multihop' : 'single hop'}`, (t) => {
    t.is(multihopOf(row.spec, ctx), row.multihop);
  });
}

test('bfdPeers: an interface peer asks for { peer, interface }; multihop carries minTtl; a peer without BFD, or an interface peer whose neighbour is not known yet, asks for nothing', (t) => {
  const got = bfdPeers([
    spec({ key: 'eth0', address: 'fe80::1', family: 'ipv6', interface: 'eth0', bfd: { minTtl: 250 } }),
    spec({ key: 'rr', address: '10.255.0.1', bfd: { minTtl: 250 } }),
    spec({ key: 'tor', localAddress: '10.0.0.11' }),
    spec({ key: 'off', bfd: { enabled: false } }),
    spec({ key: 'eth1', address: '', family: 'ipv6', interface: 'eth1' }),
  ], ctx);
  t.deepEqual(got.map((p) => [p.key, p.peer, p.multihop, p.interface, p.minTtl]), [
    ['eth0', 'fe80::1', false, 'eth0', 0],
    ['rr', '10.255.0.1', true, '', 250],
    ['tor', '10.0.0.1', false, '', 0],
  ]);
  t.is(got[2].local, '10.0.0.11');
});
