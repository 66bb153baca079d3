/**
 * Anycast services in the RIB (agent/rib/services.ts): announced to every peer as locally
 * originated routes with our next hop and their communities, withdrawn and announced again, a
 * change of communities sent as such (the update group's export memo is keyed by Path, and a
 * service never changes a Path in place), nothing for the kernel, not refused by a pool change,
 * a peer's path for the same anycast prefix taking over when ours goes.
 */

import test from 'ava';
import { desiredRoute } from '../../netlink/fib/desired.js';
import type { FibContext } from '../../netlink/fib/types.js';
import { announce, established, harness, POOLS, spec } from './helpers.js';

const a = spec('10.0.1.1');
const b = spec('10.0.1.2');
const e = spec('10.0.9.1', { peerAs: 65001 });
const c = (as: number, v: number): number => ((as << 16) | v) >>> 0;
const dns = { name: 'dns', prefix: '10.255.0.53/32', communities: [c(64512, 53)] };

interface Row {
  readonly name: string;
  readonly peer: typeof a;
  /** What the peer must be sent for the service. */
  readonly want: Record<string, unknown>;
}

const rows: Row[] = [
  { name: 'iBGP', peer: a, want: { origin: 0, asPath: [], localPref: 100, communities: [c(64512, 53)], nextHop: '10.0.1.13' } },
  { name: 'eBGP', peer: e, want: { origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], communities: [c(64512, 53)], nextHop: '10.0.1.13' } },
];

for (const row of rows) {
  test(`services: announced to an ${row.name} peer with our next hop and its communities, then withdrawn`, (t) => {
    const h = harness();
    h.feed(established(row.peer));
    h.sink.clear();
    t.deepEqual(h.rib.setServiceRoutes([dns]), { announced: ['dns'], withdrawn: [] });
    h.feed();
    t.deepEqual(h.sink.sent(row.peer.key), ['+10.255.0.53/32']);
    t.deepEqual(h.sink.attrsSent(row.peer.key, '10.255.0.53/32'), row.want);
    t.is(h.rib.peerCounts(row.peer.key).advertised, 1);
    h.sink.clear();
    t.deepEqual(h.rib.setServiceRoutes([]), { announced: [], withdrawn: ['dns'] });
    h.feed();
    t.deepEqual(h.sink.sent(row.peer.key), ['-10.255.0.53/32']);
    t.is(h.rib.peerCounts(row.peer.key).advertised, 0);
  });
}

test('services: nothing for the kernel, and not among the routes agentctl shows', (t) => {
  const h = harness();
  h.rib.setServiceRoutes([dns]);
  h.feed();
  const change = h.sink.batches.flat().find((x) => x.prefix.afi === 1);
  t.is(change?.best[0].peer, 'service');
  t.deepEqual(desiredRoute(change!, {} as FibContext), { prefix: '10.255.0.53/32', route: null, problem: null }, 'no kernel route, and no problem either');
  t.deepEqual(h.rib.routes(), []);
});

test('services: new communities are sent as such to every member of the group, the same ones again after a sweep', (t) => {
  const h = harness();
  h.feed(established(a), established(b));
  h.rib.setServiceRoutes([dns]);
  h.feed();
  h.sink.clear();
  t.deepEqual(h.rib.setServiceRoutes([{ ...dns, communities: [c(64512, 54), c(65535, 65281)] }]), { announced: ['dns'], withdrawn: [] });
  h.feed();
  for (const p of [a, b]) t.deepEqual(h.sink.attrsSent(p.key, '10.255.0.53/32')?.communities, [c(64512, 54), c(65535, 65281)], p.key);
  h.rib.setServiceRoutes([]);
  h.feed();
  h.rib.collect();
  h.sink.clear();
  h.rib.setServiceRoutes([dns]);
  h.feed();
  for (const p of [a, b]) t.deepEqual(h.sink.attrsSent(p.key, '10.255.0.53/32')?.communities, [c(64512, 53)], p.key);
  h.sink.clear();
  t.deepEqual(h.rib.setServiceRoutes([dns]), { announced: [], withdrawn: [] }, 'the same set again: nothing');
  h.feed();
  t.deepEqual(h.sink.updates, []);
});

test('services: an IPv6 prefix goes with our IPv6 next hop; no community, no COMMUNITIES', (t) => {
  const h = harness();
  h.feed(established(a));
  h.sink.clear();
  h.rib.setServiceRoutes([{ name: 'dns6', prefix: 'fd00:53::1/128', communities: [] }]);
  h.feed();
  const sent = h.sink.attrsSent(a.key, 'fd00:53::1/128');
  t.is(sent?.communities, undefined);
  t.deepEqual(sent?.mpReach?.nextHops, ['fd00:1::13']);
});

test('services: a pool change keeps them; a peer path for the same prefix takes over when ours goes', (t) => {
  const h = harness();
  h.feed(established(a), established(e));
  const anycast = { name: 'lb', prefix: '192.168.200.0/24', communities: [] };
  h.rib.setServiceRoutes([anycast, dns]);
  h.feed(announce(e, ['192.168.200.0/24'], '10.0.9.1'));
  t.is(h.rib.best('192.168.200.0/24')[0].peer, 'service', 'ours wins: locally originated');
  h.rib.setPools(POOLS.slice(1)); // 192.168.0.0/16 gone: the peer's path is refused, ours stays
  h.feed();
  t.deepEqual(h.rib.best('192.168.200.0/24').map((p) => p.peer), ['service']);
  t.deepEqual(h.rib.best('10.255.0.53/32').map((p) => p.peer), ['service']);
  h.rib.setPools(POOLS);
  h.feed(announce(e, ['192.168.200.0/24'], '10.0.9.1'));
  h.sink.clear();
  h.rib.setServiceRoutes([dns]);
  h.feed();
  const change = h.sink.batches.flat().find((x) => x.prefix.afi === 1);
  t.deepEqual(change?.best.map((p) => p.peer), [e.key], 'the peer path is best now, for the kernel too');
  t.deepEqual(h.sink.sent(a.key), ['+192.168.200.0/24'], 'the iBGP peer gets the eBGP path instead of ours');
});
