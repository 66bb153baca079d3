/**
 * The Rib as a whole: the change stream (coalesced per tick), update grouping and chunking, the
 * initial feed, route refresh, local blocks, peer down, queries. The order of each peer's outbound
 * stream (End-of-RIB, BoRR, EoRR) is outbound-stream.test.ts.
 */

import test from 'ava';
import { formatPrefix, parsePrefix } from '../../agent/bgp/prefix.js';
import type { UpdateMessage } from '../../agent/bgp/update.js';
import { announce, down, endOfRib, established, harness, spec, withdraw } from './helpers.js';

const a = spec('10.0.1.1');
const b = spec('10.0.1.2');
const e = spec('10.0.9.1', { peerAs: 65001 });

test('changes are coalesced per tick: announce then withdraw in one tick is no change at all', (t) => {
  const h = harness();
  h.feed(established(a), established(e));
  h.sink.clear();
  h.feed(announce(e, ['192.168.1.0/26'], '10.0.9.1'), withdraw(e, ['192.168.1.0/26']));
  t.deepEqual(h.sink.batches, []);
  t.deepEqual(h.sink.updates, []);
  t.is(h.rib.prefixCount(), 0);
});

test('one RibChange batch per tick with the old and the new best set', (t) => {
  const h = harness();
  h.feed(established(a), established(b));
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1'));
  h.sink.clear();
  h.feed(announce(b, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.1.2', { localPref: 200 }), announce(a, ['192.168.3.0/26'], '10.0.1.1'));
  t.is(h.sink.batches.length, 1);
  const byPrefix = new Map(h.sink.batches[0].map((c) => [formatPrefix(c.prefix), c]));
  t.deepEqual(byPrefix.get('192.168.1.0/26')?.old.map((p) => p.peer), ['10.0.1.1']);
  t.deepEqual(byPrefix.get('192.168.1.0/26')?.best.map((p) => p.peer), ['10.0.1.2']);
  t.deepEqual(byPrefix.get('192.168.2.0/26')?.old, []);
  t.is(byPrefix.size, 3);
});

test('ECMP: equal paths from two peers are one change with both, bounded by multipath', (t) => {
  for (const [multipath, want] of [[8, 2], [1, 1]] as const) {
    const h = harness({ multipath });
    h.feed(established(a), established(b));
    h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1'), announce(b, ['192.168.1.0/26'], '10.0.1.2'));
    const last = h.sink.batches.flat().at(-1);
    t.is(last?.best.length, want);
    t.is(last?.best[0].peer, '10.0.1.1', 'lower router ID first');
  }
});

test('updates are grouped by attribute set, withdrawals apart, one OutboundUpdate per peer per tick', (t) => {
  const h = harness();
  h.feed(established(e), established(a));
  h.feed(announce(e, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.9.1'), announce(e, ['192.168.9.0/26'], '10.0.9.1', { med: 1 }));
  h.sink.clear();
  h.feed(
    announce(e, ['192.168.3.0/26'], '10.0.9.1'),
    announce(e, ['192.168.4.0/26', '192.168.5.0/26'], '10.0.9.1', { med: 9 }),
    announce(e, ['192.168.6.0/26'], '10.0.9.1'),
    withdraw(e, ['192.168.9.0/26']),
  );
  const toA = h.sink.updates.filter((u) => u.peer === a.key);
  t.is(toA.length, 1);
  const u = toA[0].update;
  t.deepEqual(u.withdraw?.map(formatPrefix), ['192.168.9.0/26']);
  t.deepEqual(u.announce?.map((g) => g.prefixes.map(formatPrefix)).sort(), [['192.168.3.0/26', '192.168.6.0/26'], ['192.168.4.0/26', '192.168.5.0/26']]);
});

test('large outputs are cut into chunks', (t) => {
  const h = harness({ chunk: 2 });
  h.feed(established(e), established(a));
  h.sink.clear();
  h.feed(announce(e, ['192.168.1.0/26', '192.168.2.0/26', '192.168.3.0/26', '192.168.4.0/26', '192.168.5.0/26'], '10.0.9.1'));
  const toA = h.sink.updates.filter((u) => u.peer === a.key);
  t.deepEqual(toA.map((u) => (u.update.announce ?? []).reduce((n, g) => n + g.prefixes.length, 0)), [2, 2, 1]);
});

test('initial feed: everything exportable, one UPDATE per prefix with chunk 1, counted', (t) => {
  const h = harness({ chunk: 1 });
  h.rib.setLocalBlocks(['192.168.0.0/26', 'fd00:100::/122']);
  h.feed(established(e), announce(e, ['192.168.1.0/26', 'fd00:100::40/122'], '10.0.9.1'));
  h.sink.clear();
  h.feed(established(a));
  t.is(h.sink.updates.length, 4, 'one per prefix with chunk 1');
  t.deepEqual(h.sink.sent(a.key).sort(), ['+192.168.0.0/26', '+192.168.1.0/26', '+fd00:100::/122', '+fd00:100::40/122']);
  t.is(h.rib.peerCounts(a.key).advertised, 4);
});

test('route refresh re-sends one family and counts stay', (t) => {
  const h = harness();
  h.rib.setLocalBlocks(['192.168.0.0/26', 'fd00:100::/122']);
  h.feed(established(a));
  h.sink.clear();
  h.feed({ type: 'route-refresh', peer: a, family: 'ipv4' });
  t.deepEqual(h.sink.sent(a.key), ['+192.168.0.0/26']);
  t.is(h.rib.peerCounts(a.key).advertised, 2);
});

test('local blocks: reload-safe diff, a change only for what changed, blackhole routes', (t) => {
  const h = harness();
  t.deepEqual(h.rib.setLocalBlocks(['192.168.0.0/26', '192.168.0.64/26']), { added: ['192.168.0.0/26', '192.168.0.64/26'], removed: [] });
  h.feed();
  t.deepEqual(h.sink.changeLines().sort(), ['192.168.0.0/26: local@', '192.168.0.64/26: local@']);
  h.sink.clear();
  t.deepEqual(h.rib.setLocalBlocks(['192.168.0.64/26', '192.168.0.64/26']), { added: [], removed: ['192.168.0.0/26'] });
  h.feed();
  t.deepEqual(h.sink.changeLines(), ['192.168.0.0/26: -']);
  t.deepEqual(h.rib.routes('ipv4'), [{ prefix: '192.168.0.64/26', family: 'ipv4', kind: 'blackhole', nextHops: [], decidedBy: 'only-path', paths: 1,
    asPath: '', communities: [], largeCommunities: [], localPref: 100, peers: ['local'] }]);
  t.throws(() => h.rib.setLocalBlocks(['not a prefix']), { code: 'RIB_BAD_PREFIX' } as never);
  t.is(h.rib.prefixCount(), 1, 'a bad list changes nothing');
});

test('a learned path for a block that becomes ours is dropped (own blocks are never imported)', (t) => {
  const h = harness();
  h.feed(established(a), announce(a, ['192.168.0.0/26'], '10.0.1.1'));
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed();
  t.deepEqual(h.rib.best('192.168.0.0/26').map((p) => p.peer), ['local']);
  t.deepEqual(h.rib.peerCounts(a.key), { received: 1, accepted: 0, advertised: 1 });
});

test('peer down without graceful restart: its paths go, the next best takes over', (t) => {
  const h = harness();
  h.feed(established(a), established(b));
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1', { localPref: 200 }), announce(b, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.1.2'));
  h.sink.clear();
  h.feed(down(b));
  t.deepEqual(h.sink.changeLines(), ['192.168.2.0/26: -'], 'the best of 192.168.1.0/26 was a\'s all along');
  t.deepEqual(h.rib.peerCounts(b.key), { received: 0, accepted: 0, advertised: 0 });
  t.deepEqual(h.rib.best('192.168.1.0/26').map((p) => p.peer), ['10.0.1.1']);
});

test('routes(): next hops, the deciding step and the candidate count', (t) => {
  const h = harness();
  h.feed(established(a), established(b));
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1', { localPref: 200 }), announce(b, ['192.168.1.0/26'], '10.0.1.2'));
  t.deepEqual(h.rib.routes(), [
    { prefix: '192.168.1.0/26', family: 'ipv4', kind: 'unicast', nextHops: [{ via: '10.0.1.1', peer: '10.0.1.1' }], decidedBy: 'local-pref', paths: 2,
      asPath: '', communities: [], largeCommunities: [], localPref: 200, peers: ['10.0.1.1'] },
  ]);
});

test('IPv6: MP_REACH_NLRI with a link-local next hop; MP_UNREACH_NLRI withdraws', (t) => {
  const h = harness();
  h.feed(established(e));
  const mpReach = { afi: 2, safi: 1, nextHops: ['fd00:9::1', 'fe80::1'], nlri: [parsePrefix('fd00:100::40/122')] };
  const update: UpdateMessage = { type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], mpReach } };
  h.feed({ type: 'update', peer: e, update });
  const best = h.rib.best('fd00:100::40/122');
  t.deepEqual(best.map((p) => [p.nextHop, p.nextHopLinkLocal, p.peerAddress]), [['fd00:9::1', 'fe80::1', '10.0.9.1']]);
  h.feed(withdraw(e, ['fd00:100::40/122']));
  t.is(h.rib.prefixCount('ipv6'), 0);
});

test('equal attribute sets and equal path sets are one object; a collect forgets unused ones', (t) => {
  const h = harness();
  h.feed(established(a), established(b));
  const before = h.rib.interned();
  h.feed(announce(a, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.1.1', { med: 3 }), announce(b, ['192.168.3.0/26'], '10.0.1.2', { med: 3 }));
  t.is(h.rib.best('192.168.1.0/26')[0].attributes, h.rib.best('192.168.3.0/26')[0].attributes);
  t.is(h.rib.best('192.168.1.0/26'), h.rib.best('192.168.2.0/26'), 'one path set for both prefixes');
  t.deepEqual(h.rib.interned(), { attributeSets: before.attributeSets + 1, pathSets: before.pathSets + 2 });
  h.feed(withdraw(a, ['192.168.1.0/26', '192.168.2.0/26']), withdraw(b, ['192.168.3.0/26']));
  h.rib.collect();
  t.deepEqual(h.rib.interned(), before);
  h.feed(announce(a, ['10.99.0.0/24'], '10.0.1.1', { med: 4 }));
  t.deepEqual(h.rib.interned(), before, 'a refused UPDATE leaves nothing behind');
});

test('converged(): nothing pending; the initial tables are agent/daemon/readiness.ts\'s to wait for', (t) => {
  const h = harness();
  t.true(h.rib.converged());
  h.feed(established(a));
  t.true(h.rib.converged(), 'End-of-RIB is waited for by InitialTables (test/agent/readiness.test.ts)');
  h.rib.handle(announce(a, ['192.168.1.0/26'], '10.0.1.1'));
  t.false(h.rib.converged(), 'a pending flush');
  h.feed();
  t.true(h.rib.converged());
});

test('events for unknown or not established peers are ignored', (t) => {
  const h = harness();
  h.feed(announce(a, ['192.168.1.0/26'], '10.0.1.1'), { type: 'route-refresh', peer: a, family: 'ipv4' }, down(a));
  t.is(h.rib.prefixCount(), 0);
  t.deepEqual(h.sink.updates, []);
});

test('attributes the encoder refuses (a 300-AS segment) are still interned, never thrown', (t) => {
  const h = harness();
  h.feed(established(e), established(a));
  const asns = Array.from({ length: 300 }, (_, i) => 65001 + i);
  h.feed(announce(e, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.9.1', { asPath: [{ type: 'sequence', asns }] }));
  t.is(h.rib.prefixCount(), 2);
  t.is(h.rib.best('192.168.1.0/26')[0].attributes, h.rib.best('192.168.2.0/26')[0].attributes);
  t.is(h.rib.best('192.168.1.0/26')[0].asPathLength, 300);
});

test('events a sink callback causes during a flush wait until the flush is done', (t) => {
  const h = harness({ chunk: 1 });
  h.feed(established(e), established(a));
  const sink = h.sink;
  const orig = sink.outbound.bind(sink);
  let downSent = false;
  sink.outbound = (peer, item) => {
    orig(peer, item);
    if (peer === a.key && !downSent) {
      downSent = true;
      h.rib.handle(down(e)); // say the session to e failed while we were busy
      t.throws(() => h.rib.setLocalBlocks(['192.168.0.0/26']), { code: 'RIB_BUSY' } as never);
    }
  };
  h.feed(announce(e, ['192.168.1.0/26', '192.168.2.0/26', '192.168.3.0/26'], '10.0.9.1'));
  t.true(downSent);
  t.deepEqual(h.sink.sent(a.key), ['+192.168.1.0/26', '+192.168.2.0/26', '+192.168.3.0/26'], 'the flush finished as it began');
  t.is(h.rib.prefixCount(), 0, 'then the down was handled');
  h.sink.clear();
  h.feed();
  t.deepEqual(h.sink.sent(a.key).sort(), ['-192.168.1.0/26', '-192.168.2.0/26', '-192.168.3.0/26']);
  t.deepEqual(h.sink.changeLines().sort(), ['192.168.1.0/26: -', '192.168.2.0/26: -', '192.168.3.0/26: -']);
});
