/**
 * The FIB's pure parts, table-tested: desiredRoute (one row per SPEC.md case), the diff and the
 * kernel table under notifications, signatures (what the kernel reports reads equal to what we
 * asked for), and the device a peer is reached on.
 */
import test from 'ava';
import type { PathAttributes } from '../../agent/bgp/attributes.js';
import { parsePrefix } from '../../agent/bgp/prefix.js';
import { desiredRoute } from '../../netlink/fib/desired.js';
import { applyRouteEvent, diff, diffKey, kernelTable, type DesiredEntry } from '../../netlink/fib/diff.js';
import { applyAddress, applyLink, deviceFor, emptyInterfaces } from '../../netlink/fib/interfaces.js';
import { fibSignature, kernelRoute, routeToMessage } from '../../netlink/fib/kernel-route.js';
import type { FibContext, FibRoute, KernelRoute } from '../../netlink/fib/types.js';
import { alienLengths4, emptyState, entryFor, entryFor4, mayHaveAliens } from '../../netlink/fib/state.js';
import { RTN } from '../../netlink/rtnetlink/constants.js';
import { decodeRoute, encodeRoute, routeMessage } from '../../netlink/rtnetlink/route.js';
import type { RibChange, RibPath } from '../../agent/contracts/engines.js';

const attributes = {} as PathAttributes;
const path = (peer: string, nextHop: string, extra: Partial<RibPath> = {}): RibPath =>
  ({ peer, pathId: 0, nextHop, nextHopLinkLocal: '', peerAddress: peer, attributes, ...extra });
const change = (prefix: string, ...best: RibPath[]): RibChange => ({ prefix: parsePrefix(prefix), best, old: [] });

const ctx: FibContext = {
  tunnelDevice: 'tunl0',
  tunnelIfindex: 9,
  pools: [
    { prefix: parsePrefix('192.168.0.0/16'), ipipMode: 'CrossSubnet' },
    { prefix: parsePrefix('172.20.0.0/16'), ipipMode: 'Always' },
    { prefix: parsePrefix('172.21.0.0/16'), ipipMode: 'Never' },
  ],
  nodeSubnet4: parsePrefix('10.1.0.13/24'),
  deviceFor: (peer) => (peer === 'fd00:1::2' || peer.endsWith('%eth0') ? { name: 'eth0', ifindex: 3 }
    : peer.endsWith('%eth1') ? { name: 'eth1', ifindex: 4 } : null),
};
const noTunnel: FibContext = { ...ctx, tunnelIfindex: 0 };

const hop = (gateway: string, dev = '', ifindex = 0, onlink = false, peer = gateway) => ({ gateway, dev, ifindex, onlink, peer });

const rows: Array<{ name: string; change: RibChange; ctx?: FibContext; route: FibRoute | null; problem?: string }> = [
  { name: 'own block: blackhole', change: change('192.168.0.0/26', path('local', '')),
    route: { family: 4, prefix: '192.168.0.0/26', kind: 'blackhole', nextHops: [] } },
  { name: 'CrossSubnet, next hop on our subnet: via, device from the kernel', change: change('192.168.1.0/26', path('10.1.0.2', '10.1.0.2')),
    route: { family: 4, prefix: '192.168.1.0/26', kind: 'unicast', nextHops: [hop('10.1.0.2')] } },
  { name: 'CrossSubnet, next hop elsewhere: IPIP onlink', change: change('192.168.2.0/26', path('10.1.0.2', '10.2.0.21')),
    route: { family: 4, prefix: '192.168.2.0/26', kind: 'unicast', nextHops: [hop('10.2.0.21', 'tunl0', 9, true, '10.1.0.2')] } },
  { name: 'Always: IPIP even on our subnet', change: change('172.20.1.0/26', path('10.1.0.2', '10.1.0.2')),
    route: { family: 4, prefix: '172.20.1.0/26', kind: 'unicast', nextHops: [hop('10.1.0.2', 'tunl0', 9, true)] } },
  { name: 'Never: plain via', change: change('172.21.1.0/26', path('10.1.0.2', '10.2.0.21')),
    route: { family: 4, prefix: '172.21.1.0/26', kind: 'unicast', nextHops: [hop('10.2.0.21', '', 0, false, '10.1.0.2')] } },
  { name: 'outside every pool: plain via', change: change('10.50.0.0/24', path('10.1.0.2', '10.2.0.21')),
    route: { family: 4, prefix: '10.50.0.0/24', kind: 'unicast', nextHops: [hop('10.2.0.21', '', 0, false, '10.1.0.2')] } },
  { name: 'ECMP: one route, next hops sorted, duplicates merged',
    change: change('192.168.3.0/26', path('b', '10.1.0.3'), path('a', '10.1.0.2'), path('c', '10.1.0.3')),
    route: { family: 4, prefix: '192.168.3.0/26', kind: 'unicast', nextHops: [hop('10.1.0.2', '', 0, false, 'a'), hop('10.1.0.3', '', 0, false, 'b')] } },
  { name: 'IPIP without the tunnel device: nothing, and why', change: change('172.20.1.0/26', path('10.1.0.2', '10.1.0.2')), ctx: noTunnel,
    route: null, problem: 'TUNNEL_DEVICE_MISSING' },
  { name: 'ECMP with one next hop needing the missing tunnel: the other, and why',
    change: change('192.168.4.0/26', path('a', '10.1.0.2'), path('b', '10.2.0.21')), ctx: noTunnel,
    route: { family: 4, prefix: '192.168.4.0/26', kind: 'unicast', nextHops: [hop('10.1.0.2', '', 0, false, 'a')] }, problem: 'TUNNEL_DEVICE_MISSING' },
  { name: 'IPv6 global next hop', change: change('fd00:100::/122', path('fd00:1::2', 'fd00:1::2')),
    route: { family: 6, prefix: 'fd00:100::/122', kind: 'unicast', nextHops: [hop('fd00:1::2')] } },
  { name: 'IPv6 link-local next hop: the device the peer is reached on',
    change: change('fd00:100::40/122', path('fd00:1::2', 'fe80::2')),
    route: { family: 6, prefix: 'fd00:100::40/122', kind: 'unicast', nextHops: [hop('fe80::2', 'eth0', 3, false, 'fd00:1::2')] } },
  { name: 'IPv6 with only the link-local next hop',
    change: change('fd00:100::80/122', path('fd00:1::2', '', { nextHopLinkLocal: 'fe80::2' })),
    route: { family: 6, prefix: 'fd00:100::80/122', kind: 'unicast', nextHops: [hop('fe80::2', 'eth0', 3, false, 'fd00:1::2')] } },
  { name: 'IPv6 link-local, peer on no known device', change: change('fd00:100::c0/122', path('fd00:9::2', 'fe80::2')),
    route: null, problem: 'NEXTHOP_DEVICE_UNKNOWN' },
  { name: 'RFC 8950: IPv4 via a link-local next hop, on the device of the peer, never IPIP',
    change: change('192.168.0.64/26', path('fe80::a%eth1', 'fe80::a')),
    route: { family: 4, prefix: '192.168.0.64/26', kind: 'unicast', nextHops: [hop('fe80::a', 'eth1', 4, false, 'fe80::a%eth1')] } },
  { name: 'RFC 8950: IPv4 via a global IPv6 next hop in an Always pool: no tunnel, device from the kernel',
    change: change('172.20.1.0/26', path('fd00:1::2', 'fd00:1::2')),
    route: { family: 4, prefix: '172.20.1.0/26', kind: 'unicast', nextHops: [hop('fd00:1::2')] } },
  { name: 'RFC 8950: global plus link-local: the global one', change: change('10.60.0.0/24', path('p', 'fd00:1::2', { nextHopLinkLocal: 'fe80::2' })),
    route: { family: 4, prefix: '10.60.0.0/24', kind: 'unicast', nextHops: [hop('fd00:1::2', '', 0, false, 'p')] } },
  { name: 'RFC 8950: `::` plus link-local (BIRD): the link-local one',
    change: change('10.60.0.0/24', path('fe80::a%eth1', '::', { nextHopLinkLocal: 'fe80::a' })),
    route: { family: 4, prefix: '10.60.0.0/24', kind: 'unicast', nextHops: [hop('fe80::a', 'eth1', 4, false, 'fe80::a%eth1')] } },
  { name: 'RFC 8950: `::` alone is no next hop', change: change('10.60.0.0/24', path('p', '::')), route: null, problem: 'NEXTHOP_MISSING' },
  { name: 'RFC 8950: link-local, peer on no known device', change: change('10.60.0.0/24', path('fe80::a%eth9', 'fe80::a')),
    route: null, problem: 'NEXTHOP_DEVICE_UNKNOWN' },
  { name: 'RFC 8950: two uplinks, one ECMP route, the same link-local address on both kept apart',
    change: change('192.168.5.0/26', path('fe80::1%eth1', 'fe80::1'), path('fe80::1%eth0', 'fe80::1')),
    route: { family: 4, prefix: '192.168.5.0/26', kind: 'unicast',
      nextHops: [hop('fe80::1', 'eth0', 3, false, 'fe80::1%eth0'), hop('fe80::1', 'eth1', 4, false, 'fe80::1%eth1')] } },
  { name: 'RFC 8950: IPv4 and IPv6 next hops mixed: one ECMP route',
    change: change('192.168.6.0/26', path('fe80::a%eth0', 'fe80::a'), path('a', '10.1.0.2')),
    route: { family: 4, prefix: '192.168.6.0/26', kind: 'unicast',
      nextHops: [hop('10.1.0.2', '', 0, false, 'a'), hop('fe80::a', 'eth0', 3, false, 'fe80::a%eth0')] } },
  { name: 'an IPv4 next hop for an IPv6 prefix (no RTA_VIA for IPv6 routes)', change: change('fd00:100::100/122', path('p', '10.1.0.2')),
    route: null, problem: 'NEXTHOP_FAMILY' },
  { name: 'a learned path without a next hop', change: change('10.60.0.0/24', path('p', '')), route: null, problem: 'NEXTHOP_MISSING' },
  { name: 'withdrawn', change: change('10.60.0.0/24'), route: null },
  { name: 'add-path identifiers do not change the key', change: { ...change('10.61.0.0/24', path('p', '10.1.0.2')), prefix: parsePrefix('10.61.0.0/24', 7) },
    route: { family: 4, prefix: '10.61.0.0/24', kind: 'unicast', nextHops: [hop('10.1.0.2', '', 0, false, 'p')] } },
];

for (const row of rows) {
  test(`desiredRoute: ${row.name}`, (t) => {
    const result = desiredRoute(row.change, row.ctx ?? ctx);
    t.deepEqual(result.route, row.route);
    t.is(result.problem?.code, row.problem);
    if (row.route !== null) t.is(result.prefix, row.route.prefix);
  });
}

const own = { table: 254, protocol: 201 };
const kr = (prefix: string, protocol: number, signature: string, metric = prefix.includes(':') ? 1024 : 0, table = 254): KernelRoute =>
  ({ family: prefix.includes(':') ? 6 : 4, prefix, metric, table, protocol, signature });
const want = (route: FibRoute): DesiredEntry => ({ route, signature: fibSignature(route) });
const viaRoute = (prefix: string, gateway: string): FibRoute =>
  ({ family: 4, prefix, kind: 'unicast', nextHops: [hop(gateway)] });

test('diffKey: add, replace, nothing, delete, restart keeps, conflicts', (t) => {
  const table = kernelTable([
    kr('10.0.0.0/26', 201, '10.1.0.2'),
    kr('10.0.1.0/26', 201, '10.1.0.2'),
    kr('10.0.2.0/26', 4, '10.1.0.9'),
    kr('10.0.3.0/26', 201, '10.1.0.2'),
    kr('10.0.3.0/26', 12, '10.1.0.9'),
    kr('10.0.4.0/26', 12, '10.1.0.9', 32),
    kr('10.0.5.0/26', 201, '10.1.0.2', 0, 100),
  ], own);
  const op = (key: string, route: FibRoute | undefined, mayDelete = true) => {
    const d = diffKey(table, key, route === undefined ? undefined : want(route), mayDelete);
    return `${d.op?.op ?? 'none'}${d.conflict === null ? '' : ' CONFLICT'}`;
  };
  t.is(op('10.0.0.0/26', viaRoute('10.0.0.0/26', '10.1.0.2')), 'none');
  t.is(op('10.0.1.0/26', viaRoute('10.0.1.0/26', '10.1.0.3')), 'replace');
  t.is(op('10.0.9.0/26', viaRoute('10.0.9.0/26', '10.1.0.3')), 'add');
  t.is(op('10.0.1.0/26', undefined), 'delete');
  t.is(op('10.0.1.0/26', undefined, false), 'none', 'restart: stale routes wait');
  t.is(op('10.0.2.0/26', viaRoute('10.0.2.0/26', '10.1.0.2')), 'none CONFLICT', 'an alien holds the slot');
  t.is(op('10.0.3.0/26', viaRoute('10.0.3.0/26', '10.1.0.2')), 'delete CONFLICT', 'ours and an alien: ours goes');
  t.is(op('10.0.2.0/26', undefined), 'none', 'an alien alone is never touched');
  t.is(op('10.0.4.0/26', viaRoute('10.0.4.0/26', '10.1.0.2')), 'add', 'an alien at another metric is no conflict');
  t.is(op('10.0.5.0/26', viaRoute('10.0.5.0/26', '10.1.0.2')), 'add', 'routes of other tables are not ours');
  const all = diff(table, new Map([['10.0.0.0/26', want(viaRoute('10.0.0.0/26', '10.1.0.3'))]]));
  t.deepEqual(all.ops.map((o) => `${o.op} ${o.key}`).sort(), ['delete 10.0.1.0/26', 'delete 10.0.3.0/26', 'replace 10.0.0.0/26']);
  const ours5 = kernelTable([kr('10.0.0.0/26', 201, '10.1.0.2', 5)], own);
  t.deepEqual(diff(ours5, new Map()).ops, [{ op: 'delete', key: '10.0.0.0/26|5', family: 4, prefix: '10.0.0.0/26', metric: 5 }],
    'a route of ours at another metric is stale');
});

test('applyRouteEvent: notifications keep the table, replace and ambiguity', (t) => {
  const table = kernelTable([], own);
  const apply = (r: KernelRoute, isNew: boolean, replace = false) => applyRouteEvent(table, r, isNew, replace, own);
  t.deepEqual(apply(kr('10.0.0.0/26', 201, 'a'), true), { key: '10.0.0.0/26', ambiguous: false });
  t.is(table.ours.get('10.0.0.0/26'), 'a');
  apply(kr('10.0.0.0/26', 4, 'x'), true, true); // someone replaced ours with a static route
  t.false(table.ours.has('10.0.0.0/26'));
  t.deepEqual(table.aliens.get('10.0.0.0/26'), ['4 x']);
  apply(kr('10.0.0.0/26', 4, 'x'), true); // the same again (a dump overlapping events): idempotent
  t.deepEqual(table.aliens.get('10.0.0.0/26'), ['4 x']);
  apply(kr('10.0.0.0/26', 201, 'b'), true);
  t.true(apply(kr('10.0.0.0/26', 12, 'y'), true, true)?.ambiguous, 'ours and an alien: which was replaced is unknown');
  apply(kr('10.0.0.0/26', 4, 'x'), false);
  apply(kr('10.0.0.0/26', 12, 'y'), false);
  t.false(table.aliens.has('10.0.0.0/26'));
  t.is(apply(kr('10.0.0.0/26', 201, 'b', 0, 255), true), null, 'other tables are not followed');
});

test('signatures: what the kernel reports equals what we asked for', (t) => {
  const cases: Array<[string, FibRoute, Partial<Parameters<typeof routeMessage>[0]>]> = [
    ['via: the kernel adds the device', viaRoute('10.0.0.0/26', '10.1.0.2'), { oif: 3 }],
    ['blackhole: the kernel adds lo', { family: 4, prefix: '10.0.0.0/26', kind: 'blackhole', nextHops: [] }, { oif: 1 }],
    ['IPv6 blackhole', { family: 6, prefix: 'fd00::/64', kind: 'blackhole', nextHops: [] }, { oif: 1 }],
  ];
  for (const [name, route, kernelAdds] of cases) {
    const sent = routeToMessage(route, own);
    const reported = decodeRoute(encodeRoute({ ...sent, ...kernelAdds }));
    t.is(kernelRoute(reported).signature, fibSignature(route), name);
  }
  const tunnel: FibRoute = { family: 4, prefix: '10.0.0.0/26', kind: 'unicast', nextHops: [hop('10.2.0.21', 'tunl0', 9, true)] };
  t.is(kernelRoute(decodeRoute(encodeRoute(routeToMessage(tunnel, own)))).signature, fibSignature(tunnel));
  const moved = routeMessage({ ...routeToMessage(tunnel, own), oif: 10 });
  t.not(kernelRoute(moved).signature, fibSignature(tunnel), 'an onlink route on another device differs');
  const ecmp: FibRoute = { family: 6, prefix: 'fd00::/64', kind: 'unicast', nextHops: [hop('fd00:1::2'), hop('fd00:1::3')] };
  const reversed = routeMessage({
    ...routeToMessage(ecmp, own),
    multipath: [{ gateway: 'fd00:1::3', ifindex: 3, flags: 0, weight: 1 }, { gateway: 'fd00:1::2', ifindex: 3, flags: 0, weight: 1 }],
  });
  t.is(kernelRoute(reversed).signature, fibSignature(ecmp), 'ECMP order does not matter');
  t.not(kernelRoute(routeMessage({ ...reversed, type: RTN.UNREACHABLE })).signature, fibSignature(ecmp));
});

test('deviceFor: zone, longest connected subnet, the only link-local holder', (t) => {
  const ifs = emptyInterfaces();
  for (const [index, name] of [[1, 'lo'], [3, 'eth0'], [4, 'eth1']] as const) {
    applyLink(ifs, { index, name, flags: 1, operstate: 6, kind: '', mtu: 1500 }, true);
  }
  const addr = (index: number, address: string, prefixLen: number): void =>
    applyAddress(ifs, { family: address.includes(':') ? 6 : 4, index, address, prefixLen, scope: 0, label: '' }, true);
  addr(3, '10.1.0.1', 16);
  addr(4, '10.1.2.1', 24);
  addr(3, 'fd00:1::1', 64);
  addr(1, '::1', 128);
  addr(1, 'fe80::1', 64);
  addr(3, 'fe80::3', 64);
  t.deepEqual(deviceFor(ifs, '10.1.2.9'), { name: 'eth1', ifindex: 4 }, 'the longest match');
  t.deepEqual(deviceFor(ifs, '10.1.7.9'), { name: 'eth0', ifindex: 3 });
  t.deepEqual(deviceFor(ifs, 'fd00:1::2'), { name: 'eth0', ifindex: 3 });
  t.deepEqual(deviceFor(ifs, 'fe80::2%eth1'), { name: 'eth1', ifindex: 4 });
  t.deepEqual(deviceFor(ifs, 'fe80::2%4'), { name: 'eth1', ifindex: 4 });
  t.deepEqual(deviceFor(ifs, 'fe80::2'), { name: 'eth0', ifindex: 3 }, 'the only non-loopback link-local holder');
  addr(4, 'fe80::4', 64);
  t.is(deviceFor(ifs, 'fe80::2'), null, 'two candidates: unknown');
  t.is(deviceFor(ifs, '192.0.2.1'), null);
  applyLink(ifs, { index: 4, name: 'eth1', flags: 0, operstate: 2, kind: '', mtu: 1500 }, false);
  t.deepEqual(deviceFor(ifs, '10.1.2.9'), { name: 'eth0', ifindex: 3 }, 'a deleted link takes its addresses');
});

test('alienLengths4: the IPv4 lengths at the default metric that other protocols hold; past 256 aliens, no filter', (t) => {
  const state = emptyState();
  const i26 = entryFor4(state, 0x0a000200, 26);
  const i24 = entryFor4(state, 0x0a000100, 24);
  const i6 = entryFor(state, 'fd00::/64');
  const rows: [string, string[], { i26: boolean; i24: boolean; i6: boolean }][] = [
    ['no aliens', [], { i26: false, i24: false, i6: true }],
    ['a connected /24', ['10.0.0.0/24'], { i26: false, i24: true, i6: true }],
    ['a /26 elsewhere: every /26 is looked up', ['10.9.9.0/26'], { i26: true, i24: false, i6: true }],
    ['another metric or IPv6 only', ['10.0.2.0/26|100', 'fd00:1::/64'], { i26: false, i24: false, i6: true }],
  ];
  for (const [name, keys, want] of rows) {
    state.aliens = new Map(keys.map((k) => [k, ['kernel x']]));
    const lengths = alienLengths4(state);
    t.deepEqual({ i26: mayHaveAliens(state, i26, lengths), i24: mayHaveAliens(state, i24, lengths), i6: mayHaveAliens(state, i6, lengths) }, want, name);
  }
  state.aliens = new Map(Array.from({ length: 257 }, (_, k) => [`10.${k >> 8}.${k & 255}.0/24`, ['kernel x']]));
  t.is(alienLengths4(state), null);
  t.true(mayHaveAliens(state, i26, null));
});
