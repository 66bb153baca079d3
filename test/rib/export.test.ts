/**
 * Export policy and route reflection through the Rib, one test per rule: what each peer is sent,
 * with which attributes and next hop (RFC 4271 9.2, RFC 4456 sections 6 and 8, RFC 1997), and
 * add-path send (RFC 7911).
 */

import test from 'ava';
import { packUpdates } from '../../agent/bgp/pack.js';
import { formatPrefix } from '../../agent/bgp/prefix.js';
import { decodeUpdate } from '../../agent/bgp/update.js';
import { exportPath, NO_ADVERTISE, NO_EXPORT } from '../../agent/rib/export.js';
import { announce, established, harness, negotiated, NODE, spec, withdraw } from './helpers.js';

const RR = { ...NODE, clusterId: '224.0.0.1' };

test('own blocks: iBGP gets ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100 and our address as next hop', (t) => {
  const h = harness();
  const a = spec('10.0.1.1');
  h.rib.setLocalBlocks(['192.168.0.0/26', 'fd00:100::/122']);
  h.feed(established(a));
  t.deepEqual(h.sink.attrsSent(a.key, '192.168.0.0/26'), { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.1.13' });
  t.deepEqual(h.sink.attrsSent(a.key, 'fd00:100::/122'), {
    origin: 0,
    asPath: [],
    localPref: 100,
    mpReach: { afi: 2, safi: 1, nextHops: ['fd00:1::13'], nlri: [] },
  });
});

test('own blocks: eBGP gets our AS and no LOCAL_PREF; the session local address wins over the node address', (t) => {
  const h = harness();
  const e = spec('10.0.9.1', { peerAs: 65001, localAddress: '10.0.9.13', nextHopMode: 'Keep' });
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(e));
  t.deepEqual(h.sink.attrsSent(e.key, '192.168.0.0/26'), { origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], nextHop: '10.0.9.13' });
});

test('own blocks: no IPv6 address on the node means no IPv6 block is sent', (t) => {
  const h = harness({ node: { ...NODE, ipv6: '' } });
  const a = spec('10.0.1.1');
  h.rib.setLocalBlocks(['fd00:100::/122']);
  h.feed(established(a));
  t.deepEqual(h.sink.sent(a.key), []);
  t.deepEqual(h.sink.done.map((d) => d.family), ['ipv4', 'ipv6']);
});

test('plain node: iBGP split horizon (RFC 4271 9.2.1), but iBGP paths go to eBGP peers', (t) => {
  const h = harness();
  const a = spec('10.0.1.1');
  const b = spec('10.0.1.2');
  const e = spec('10.0.9.1', { peerAs: 65001 });
  h.feed(established(a), established(b), established(e));
  h.sink.clear();
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1', { localPref: 200, med: 7, originatorId: '10.0.1.50', clusterList: ['1.1.1.1'] }));
  t.deepEqual(h.sink.sent(b.key), []);
  t.deepEqual(h.sink.sent(a.key), [], 'never back to the peer it came from');
  t.deepEqual(h.sink.attrsSent(e.key, '192.168.1.0/26'), { origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], nextHop: '10.0.1.13' });
});

test('eBGP-learned paths go to iBGP with the next hop kept (Auto) and LOCAL_PREF 100; Self rewrites it', (t) => {
  const h = harness();
  const e = spec('10.0.9.1', { peerAs: 65001 });
  const a = spec('10.0.1.1');
  const s = spec('10.0.1.3', { nextHopMode: 'Self' });
  h.feed(established(e), established(a), established(s));
  h.feed(announce(e, ['192.168.1.0/26'], '10.0.9.1', { med: 5 }));
  const path = [{ type: 'sequence' as const, asns: [65001] }];
  t.deepEqual(h.sink.attrsSent(a.key, '192.168.1.0/26'), { origin: 0, asPath: path, med: 5, localPref: 100, nextHop: '10.0.9.1' });
  t.is(h.sink.attrsSent(s.key, '192.168.1.0/26')?.nextHop, '10.0.1.13');
});

test('eBGP to eBGP: AS prepended into the first sequence, MED dropped, next hop self', (t) => {
  const h = harness();
  const e1 = spec('10.0.9.1', { peerAs: 65001 });
  const e2 = spec('10.0.8.1', { peerAs: 65002 });
  h.feed(established(e1), established(e2));
  h.feed(announce(e1, ['192.168.1.0/26'], '10.0.9.1', { med: 5, asPath: [{ type: 'sequence', asns: [65001, 65100] }] }));
  t.deepEqual(h.sink.attrsSent(e2.key, '192.168.1.0/26'), { origin: 0, asPath: [{ type: 'sequence', asns: [64512, 65001, 65100] }], nextHop: '10.0.1.13' });
});

test('route reflector: a client path goes to clients and non-clients with ORIGINATOR_ID and CLUSTER_LIST, next hop kept', (t) => {
  const h = harness({ node: RR });
  const c1 = spec('10.0.1.21', { routeReflectorClient: true });
  const c2 = spec('10.0.1.22', { routeReflectorClient: true });
  const n = spec('10.0.1.5');
  h.feed(established(c1, { peerId: '10.0.1.121' }), established(c2), established(n));
  h.feed(announce(c1, ['192.168.1.0/26'], '10.0.1.21'));
  const want = { origin: 0, asPath: [], localPref: 100, originatorId: '10.0.1.121', clusterList: ['224.0.0.1'], nextHop: '10.0.1.21' };
  t.deepEqual(h.sink.attrsSent(c2.key, '192.168.1.0/26'), want);
  t.deepEqual(h.sink.attrsSent(n.key, '192.168.1.0/26'), want);
  t.deepEqual(h.sink.sent(c1.key), []);
});

test('route reflector: a non-client path goes to clients only', (t) => {
  const h = harness({ node: RR });
  const c1 = spec('10.0.1.21', { routeReflectorClient: true });
  const n1 = spec('10.0.1.5');
  const n2 = spec('10.0.1.6');
  h.feed(established(c1), established(n1), established(n2));
  h.feed(announce(n1, ['192.168.1.0/26'], '10.0.1.5'));
  t.deepEqual(h.sink.sent(c1.key), ['+192.168.1.0/26']);
  t.deepEqual(h.sink.sent(n2.key), []);
});

test('route reflector: an existing ORIGINATOR_ID is kept and our cluster ID is prepended', (t) => {
  const h = harness({ node: RR });
  const c1 = spec('10.0.1.21', { routeReflectorClient: true });
  const n = spec('10.0.1.5');
  h.feed(established(c1), established(n));
  h.feed(announce(n, ['192.168.1.0/26'], '10.0.1.30', { originatorId: '10.0.1.30', clusterList: ['224.0.0.2'] }));
  const sent = h.sink.attrsSent(c1.key, '192.168.1.0/26');
  t.is(sent?.originatorId, '10.0.1.30');
  t.deepEqual(sent?.clusterList, ['224.0.0.1', '224.0.0.2']);
});

test('route reflector: a path carrying our own cluster ID is refused on import (RFC 4456 8)', (t) => {
  const h = harness({ node: RR });
  const n = spec('10.0.1.5');
  h.feed(established(n), announce(n, ['192.168.1.0/26'], '10.0.1.30', { clusterList: ['224.0.0.1'] }));
  t.is(h.rib.prefixCount(), 0);
});

test('RFC 1997: NO_ADVERTISE goes nowhere, NO_EXPORT not to eBGP', (t) => {
  const h = harness();
  const e1 = spec('10.0.9.1', { peerAs: 65001 });
  const e2 = spec('10.0.8.1', { peerAs: 65002 });
  const a = spec('10.0.1.1');
  h.feed(established(e1), established(e2), established(a));
  h.feed(announce(e1, ['192.168.1.0/26'], '10.0.9.1', { communities: [NO_EXPORT] }));
  h.feed(announce(e1, ['192.168.2.0/26'], '10.0.9.1', { communities: [NO_ADVERTISE] }));
  t.deepEqual(h.sink.sent(a.key), ['+192.168.1.0/26']);
  t.deepEqual(h.sink.sent(e2.key), []);
  t.is(h.rib.prefixCount(), 2, 'both are still used locally');
});

test('a withdrawal is sent only to peers that were sent the route, and counts follow', (t) => {
  const h = harness();
  const e = spec('10.0.9.1', { peerAs: 65001 });
  const a = spec('10.0.1.1');
  h.feed(established(e), established(a), announce(e, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.9.1'));
  t.is(h.rib.peerCounts(a.key).advertised, 2);
  t.is(h.rib.peerCounts(e.key).advertised, 0);
  h.sink.clear();
  h.feed(withdraw(e, ['192.168.1.0/26']));
  t.deepEqual(h.sink.sent(a.key), ['-192.168.1.0/26']);
  t.deepEqual(h.sink.sent(e.key), []);
  t.is(h.rib.peerCounts(a.key).advertised, 1);
});

test('when the best path moves to the peer itself, the route is withdrawn from it', (t) => {
  const h = harness();
  const e1 = spec('10.0.9.1', { peerAs: 65001 });
  const e2 = spec('10.0.8.1', { peerAs: 65002 });
  h.feed(established(e1), established(e2));
  h.feed(announce(e1, ['192.168.1.0/26'], '10.0.9.1', { asPath: [{ type: 'sequence', asns: [65001, 65003] }] }));
  t.deepEqual(h.sink.sent(e2.key), ['+192.168.1.0/26']);
  h.sink.clear();
  h.feed(announce(e2, ['192.168.1.0/26'], '10.0.8.1'));
  t.deepEqual(h.sink.sent(e2.key), ['-192.168.1.0/26']);
  t.deepEqual(h.sink.sent(e1.key), ['+192.168.1.0/26']);
});

test('add-path send: every ECMP member under its own path id; losing one withdraws that id', (t) => {
  const h = harness();
  const a = spec('10.0.9.1', { peerAs: 65001 });
  const b = spec('10.0.9.2', { peerAs: 65001 });
  const r = spec('10.0.1.1');
  h.feed(established(a), established(b), established(r, { addPathSend: { ipv4: true, ipv6: false } }));
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.9.1'), announce(b, ['192.168.1.0/26'], '10.0.9.2'));
  const sent = h.sink.updates.filter((u) => u.peer === r.key).flatMap((u) => u.update.announce ?? []);
  const ids = sent.flatMap((g) => g.prefixes.map((p) => p.pathId));
  t.is(new Set(ids).size, 2);
  t.deepEqual(sent.map((g) => g.attributes.nextHop).sort(), ['10.0.9.1', '10.0.9.2']);
  h.sink.clear();
  h.feed(withdraw(b, ['192.168.1.0/26']));
  const w = h.sink.updates.filter((u) => u.peer === r.key).flatMap((u) => u.update.withdraw ?? []);
  const idOfB = sent.find((g) => g.attributes.nextHop === '10.0.9.2')?.prefixes[0].pathId;
  t.deepEqual(w.map((p) => [formatPrefix({ ...p, pathId: undefined }), p.pathId]), [['192.168.1.0/26', idOfB]]);
  t.is(h.rib.peerCounts(r.key).advertised, 1);
});

test('add-path receive: paths of one peer are kept per path id and withdrawn per path id', (t) => {
  const h = harness();
  const a = spec('10.0.1.1');
  h.feed(established(a, { addPathReceive: { ipv4: true, ipv6: false } }));
  const p1 = { afi: 1 as const, len: 26, addr: 0xc0a80100, pathId: 1 };
  const p2 = { ...p1, pathId: 2 };
  h.feed(announce(a, [p1], '10.0.1.31', { originatorId: '10.0.1.31' }), announce(a, [p2], '10.0.1.32', { originatorId: '10.0.1.32' }));
  t.is(h.rib.peerCounts(a.key).accepted, 2);
  t.deepEqual(h.rib.best('192.168.1.0/26').map((p) => p.nextHop), ['10.0.1.31', '10.0.1.32'], 'ECMP, lower ORIGINATOR_ID first');
  h.feed(withdraw(a, [p1]));
  t.deepEqual(h.rib.best('192.168.1.0/26').map((p) => p.nextHop), ['10.0.1.32']);
});

test('what the Rib emits packs into UPDATEs that decode to the same routes (IPv4, IPv6, add-path)', (t) => {
  const h = harness();
  const e = spec('10.0.9.1', { peerAs: 65001 });
  const r = spec('10.0.1.1');
  const addPath = { addPathSend: { ipv4: true, ipv6: true } };
  h.feed(established(e), established(r, addPath));
  h.rib.setLocalBlocks(['192.168.0.0/26', 'fd00:100::/122']);
  h.feed(announce(e, ['192.168.1.0/26', '192.168.2.0/26', 'fd00:100::40/122'], '10.0.9.1', { communities: [65001 << 16 | 7] }));
  h.feed(withdraw(e, ['192.168.2.0/26']));
  const ctx = negotiated(r, addPath).encode;
  const seen: string[] = [];
  for (const { update } of h.sink.updates.filter((u) => u.peer === r.key)) {
    for (const msg of packUpdates(update, ctx)) {
      const u = decodeUpdate(msg, ctx);
      t.is(u.errors, undefined);
      for (const p of u.withdrawn) seen.push(`-${formatPrefix(p)}`);
      for (const p of u.nlri) seen.push(`+${formatPrefix(p)} via ${u.attributes.nextHop}`);
      for (const p of u.attributes.mpReach?.nlri ?? []) seen.push(`+${formatPrefix(p)} via ${u.attributes.mpReach?.nextHops.join(' ')}`);
      for (const p of u.attributes.mpUnreach?.withdrawn ?? []) seen.push(`-${formatPrefix(p)}`);
    }
  }
  const ids = new Map(seen.map((s) => [s.replace(/#\d+/, ''), s]));
  t.deepEqual([...ids.keys()].sort(), [
    '+192.168.0.0/26 via 10.0.1.13',
    '+192.168.1.0/26 via 10.0.9.1',
    '+192.168.2.0/26 via 10.0.9.1',
    '+fd00:100::/122 via fd00:1::13',
    '+fd00:100::40/122 via ::ffff:a00:901', // kept for iBGP, as the helper sent it (::ffff:10.0.9.1)
    '-192.168.2.0/26',
  ]);
  t.true(seen.every((s) => /#\d+/.test(s)), 'every NLRI carries a path id');
});

test('a kept next hop of the other family (RFC 8950) is replaced by ours', (t) => {
  const path = { peer: '10.0.9.1', nextHop: 'fd00:9::1', attributes: { origin: 0 as const, asPath: [] }, source: { external: true, client: false, bgpId: '10.0.9.1' } };
  const to = { key: '10.0.1.1', internal: true, localAs: 64512, routeReflectorClient: false, nextHopMode: 'Keep' as const, localAddress: '' };
  t.is(exportPath(path, to, NODE, 'ipv4')?.nextHop, '10.0.1.13');
  t.is(exportPath({ ...path, nextHop: '10.0.9.1' }, to, NODE, 'ipv4')?.nextHop, '10.0.9.1');
});

test('toward an interface peer (BGP unnumbered) our next hop is `::` plus our link-local address, IPv4 too with RFC 8950', (t) => {
  const own = { peer: 'local', nextHop: '', attributes: { origin: 0 as const, asPath: [] }, source: { external: false, client: false, bgpId: '10.0.1.13' } };
  const to = { key: 'eth0', internal: false, localAs: 64512, routeReflectorClient: false, nextHopMode: 'Auto' as const, localAddress: 'fe80::13' };
  t.deepEqual(exportPath(own, to, NODE, 'ipv6')?.mpReach, { afi: 2, safi: 1, nextHops: ['::', 'fe80::13'], nlri: [] });
  t.deepEqual(exportPath(own, { ...to, extendedNextHopIpv4: true }, NODE, 'ipv4')?.mpReach, { afi: 1, safi: 1, nextHops: ['::', 'fe80::13'], nlri: [] });
  t.is(exportPath(own, to, NODE, 'ipv4')?.nextHop, '10.0.1.13', 'without the capability: the node\'s IPv4 address in NEXT_HOP');
  t.deepEqual(exportPath(own, { ...to, localAddress: 'fd00:1::13' }, NODE, 'ipv6')?.mpReach?.nextHops, ['fd00:1::13'], 'a global address alone');
});

test('RFC 9774: a path with AS_SET or AS_CONFED_SET is sent to nobody', (t) => {
  const base = { peer: '10.0.9.1', nextHop: '10.0.9.1', source: { external: true, client: false, bgpId: '10.0.9.1' } };
  const ibgp = { key: '10.0.1.1', internal: true, localAs: 64512, routeReflectorClient: false, nextHopMode: 'Auto' as const, localAddress: '' };
  const ebgp = { ...ibgp, key: '10.0.8.1', internal: false };
  for (const type of ['set', 'confed-set'] as const) {
    const path = { ...base, attributes: { origin: 0 as const, asPath: [{ type: 'sequence' as const, asns: [65001] }, { type, asns: [65002, 65003] }] } };
    t.is(exportPath(path, ibgp, NODE, 'ipv4'), null, `${type} to iBGP`);
    t.is(exportPath(path, ebgp, NODE, 'ipv4'), null, `${type} to eBGP`);
  }
  // The same path without the set goes out: the rule is the set, nothing else.
  const plain = { ...base, attributes: { origin: 0 as const, asPath: [{ type: 'sequence' as const, asns: [65001] }] } };
  t.deepEqual(exportPath(plain, ebgp, NODE, 'ipv4')?.asPath, [{ type: 'sequence', asns: [64512, 65001] }]);
});
