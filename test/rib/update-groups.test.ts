/**
 * Issue 21: update groups. Peers with the same outbound policy and encoding are one group: each
 * change is exported once and one SharedUpdate object is handed to every fed member (a reflector's
 * clients share it); a member never gets its own routes; when the best path of a prefix moves to a
 * member's own path while the exported attributes stay the same, that member alone gets the
 * withdrawal and the old source alone gets the announcement; peers that differ in policy (eBGP vs
 * iBGP) or in encoding (2-octet AS) are separate groups; advertised counts per member are the
 * group's less its own; members joining in one flush share one initial feed.
 */
import test from 'ava';
import { contextWith } from '../../agent/bgp/context.js';
import { announce, established, harness, NODE, spec, withdraw } from './helpers.js';
import { FEED_BATCH_FROM, feedSpacing } from '../../agent/rib/outbound.js';

const RR = { ...NODE, clusterId: '224.0.0.1' };
const client = (n: number) => spec(`10.0.1.${20 + n}`, { routeReflectorClient: true });

test('a reflector: one shared update per flush for all clients, none gets its own route back', (t) => {
  const h = harness({ node: RR });
  const cs = [1, 2, 3].map(client);
  h.feed(...cs.map((c) => established(c)));
  h.sink.clear();
  h.feed(...cs.map((c, i) => announce(c, [`192.168.${i + 1}.0/26`], c.address)));
  t.is(h.sink.shared.length, 1, 'one item for the flush');
  t.deepEqual(h.sink.shared[0].peers.sort(), cs.map((c) => c.key).sort(), 'handed to every client');
  for (const [i, c] of cs.entries()) {
    const others = cs.map((_, j) => `+192.168.${j + 1}.0/26`).filter((_, j) => j !== i);
    t.deepEqual(h.sink.sent(c.key).sort(), others.sort(), c.key);
    t.is(h.rib.peerCounts(c.key).advertised, 2, `${c.key}: advertised is the group's less its own`);
  }
  // A withdrawal goes to the others, not to the source (it never had the route).
  h.sink.clear();
  h.feed(withdraw(cs[0], ['192.168.1.0/26']));
  t.deepEqual(h.sink.sent(cs[0].key), []);
  t.deepEqual(h.sink.sent(cs[1].key), ['-192.168.1.0/26']);
  t.deepEqual(h.sink.sent(cs[2].key), ['-192.168.1.0/26']);
  t.is(h.rib.peerCounts(cs[1].key).advertised, 1);
  t.is(h.rib.peerCounts(cs[0].key).advertised, 2);
});

test('the best path moves to a member\'s own path with the same exported attributes: only the two sources hear of it', (t) => {
  // Two eBGP ToRs of one AS and a third eBGP peer: export prepends our AS and sets next hop self,
  // so the paths of both ToRs export to the same attributes.
  const e = (n: number) => spec(`10.0.9.${n}`, { internal: false, peerAs: 65001 });
  const [e1, e2, e3] = [1, 2, 3].map(e);
  const h = harness();
  h.feed(established(e1), established(e2), established(e3));
  h.feed(announce(e1, ['192.168.1.0/26'], e1.address));
  h.feed(announce(e2, ['192.168.1.0/26'], e2.address)); // e1 stays best (lower address), ECMP aside
  h.sink.clear();
  h.feed(withdraw(e1, ['192.168.1.0/26']));
  t.deepEqual(h.sink.sent(e1.key), ['+192.168.1.0/26'], 'e1 had nothing: it gets e2\'s path');
  t.deepEqual(h.sink.sent(e2.key), ['-192.168.1.0/26'], 'e2 held e1\'s path: now the best is its own');
  t.deepEqual(h.sink.sent(e3.key), [], 'e3 holds the same attributes already');
  t.is(h.rib.peerCounts(e1.key).advertised, 1);
  t.is(h.rib.peerCounts(e2.key).advertised, 0);
  t.is(h.rib.peerCounts(e3.key).advertised, 1);
});

test('peers differing in policy or encoding are separate groups; the same group shares the exported attribute object', (t) => {
  const h = harness({ node: RR });
  const c1 = client(1);
  const c2 = client(2);
  const old = client(3); // a 2-octet AS speaker: its encoding differs
  const ebgp = spec('10.0.9.1', { internal: false, peerAs: 65001 });
  h.feed(established(c1), established(c2), established(old, { fourOctetAs: false, encode: contextWith({ fourOctetAs: false }) }), established(ebgp));
  const src = client(4);
  h.feed(established(src));
  h.sink.clear();
  h.feed(announce(src, ['192.168.4.0/26'], src.address));
  // Every member is handed the item (the source's own part is skipped when its session writes it).
  const groups = h.sink.shared.map((s) => s.peers.sort().join(' ')).sort();
  t.deepEqual(groups, [ebgp.key, old.key, [c1.key, c2.key, src.key].sort().join(' ')].sort());
  t.is(h.sink.attrsSent(c1.key, '192.168.4.0/26'), h.sink.attrsSent(c2.key, '192.168.4.0/26'), 'one attribute object for the group');
  t.truthy(h.sink.attrsSent(ebgp.key, '192.168.4.0/26'));
});

test('clients coming up in one flush share one initial feed; a later one gets its own', (t) => {
  const h = harness({ node: RR });
  const src = client(9);
  h.feed(established(src), announce(src, ['192.168.9.0/26', '192.168.10.0/26'], src.address));
  h.sink.clear();
  const [a, b] = [1, 2].map(client);
  h.feed(established(a), established(b));
  const feeds = h.sink.shared.filter((s) => s.peers.includes(a.key));
  t.is(feeds.length, 1);
  t.deepEqual(feeds[0].peers.sort(), [a.key, b.key].sort(), 'one feed for both');
  t.deepEqual(h.sink.wire(a.key), ['+192.168.9.0/26', '+192.168.10.0/26', 'eor ipv4', 'eor ipv6']);
  t.deepEqual(h.sink.wire(src.key), [], 'the fed member is not fed again');
  h.sink.clear();
  const c = client(3);
  h.feed(established(c));
  t.deepEqual(h.sink.shared.map((s) => s.peers), [[c.key]]);
  t.deepEqual(h.sink.wire(c.key), ['+192.168.9.0/26', '+192.168.10.0/26', 'eor ipv4', 'eor ipv6']);
  t.is(h.rib.peerCounts(c.key).advertised, 2);
  t.is(h.rib.peerCounts(src.key).advertised, 0);
});

test('a large group is fed in batches: members joining within the feed spacing share the next feed', (t) => {
  const h = harness({ node: RR });
  const src = client(0);
  h.feed(established(src), announce(src, ['192.168.9.0/26'], src.address));
  // Grow the group past FEED_BATCH_FROM in one flush: one feed for all of them.
  const first = Array.from({ length: FEED_BATCH_FROM }, (_, i) => spec(`10.0.2.${i + 1}`, { routeReflectorClient: true }));
  h.feed(...first.map((c) => established(c)));
  // src was fed a moment ago (at time 0): the group, now large, waits for the spacing.
  t.true(first.every((c) => h.sink.wire(c.key).length === 0));
  h.clock.advance(feedSpacing(FEED_BATCH_FROM + 1));
  h.feed();
  t.true(first.every((c) => h.sink.wire(c.key).includes('eor ipv4')));
  t.is(h.sink.shared.filter((s) => s.peers.includes(first[0].key)).length, 1, 'one feed for the 64');
  const spacing = feedSpacing(FEED_BATCH_FROM + 3);
  t.true(spacing > 0);
  // Two more join, one flush each, inside the spacing: neither is fed yet.
  h.sink.clear();
  const [a, b] = [1, 2].map((i) => spec(`10.0.3.${i}`, { routeReflectorClient: true }));
  h.feed(established(a));
  h.feed(established(b));
  t.deepEqual(h.sink.wire(a.key), []);
  t.deepEqual(h.sink.wire(b.key), []);
  t.is(h.rib.peerCounts(a.key).advertised, 0);
  // A change meanwhile goes to the fed members only.
  h.feed(announce(src, ['192.168.10.0/26'], src.address));
  t.deepEqual(h.sink.wire(first[0].key), ['+192.168.10.0/26']);
  t.deepEqual(h.sink.wire(a.key), []);
  // When the spacing has passed, the timer asks for a flush: one feed, with everything, for both.
  h.clock.advance(spacing);
  h.feed();
  const feeds = h.sink.shared.filter((s) => s.peers.includes(a.key));
  t.is(feeds.length, 1);
  t.deepEqual(feeds[0].peers.sort(), [a.key, b.key].sort());
  t.deepEqual(h.sink.wire(a.key), ['+192.168.9.0/26', '+192.168.10.0/26', 'eor ipv4', 'eor ipv6']);
  t.is(h.rib.peerCounts(b.key).advertised, 2);
});
