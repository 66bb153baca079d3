/**
 * Routing policy and drain through the Rib (SPEC.md "Routing policy", "Drain"): what import rules
 * let into the Loc-RIB (and the FIB) with which attributes, what export rules and drain send to
 * each peer, the re-export when they change (only the difference, at once), and RFC 8326's
 * GRACEFUL_SHUTDOWN received.
 */

import test from 'ava';
import { GRACEFUL_SHUTDOWN } from '../../agent/bgp/community-text.js';
import { compilePolicy } from '../../agent/rib/policy-rules.js';
import { announce, established, harness, rule, spec } from './helpers.js';

const C10 = 64512 * 65536 + 10;
const tor = spec('10.0.1.1');
const ebgp = spec('10.0.9.1', { peerAs: 65001 });

test('import: a default route outside the pools is refused, unless an import rule accepts it (with its set)', (t) => {
  const h = harness();
  h.feed(established(tor));
  h.feed(announce(tor, ['0.0.0.0/0'], '10.0.1.1'));
  t.deepEqual(h.rib.best('0.0.0.0/0'), []);
  t.deepEqual(h.rib.peerCounts(tor.key), { received: 1, accepted: 0, advertised: 0 });

  const h2 = harness();
  h2.rib.setImportRules(compilePolicy([rule({ prefix: '0.0.0.0/0', exact: true }, 'accept', { localPref: 200, communities: ['64512:10'] })]));
  h2.feed(established(tor));
  h2.feed(announce(tor, ['0.0.0.0/0', '10.0.0.0/8', '192.168.1.0/26'], '10.0.1.1'));
  const best = h2.rib.best('0.0.0.0/0');
  t.is(best.length, 1);
  t.is(best[0].attributes.localPref, 200);
  t.deepEqual(best[0].attributes.communities, [C10]);
  t.deepEqual(h2.rib.best('10.0.0.0/8'), [], 'not exact: the pool rule decides');
  t.is(h2.rib.best('192.168.1.0/26')[0].attributes.localPref, undefined, 'no rule: as received');
  t.true(h2.sink.batches.flat().some((c) => c.prefix.len === 0 && c.best.length === 1), 'the default route goes to the FIB');
});

test('import: a reject rule refuses a prefix inside a pool; an own block stays refused whatever the rules say', (t) => {
  const h = harness();
  h.rib.setImportRules(compilePolicy([rule({ prefix: '192.168.2.0/24' }, 'reject'), rule({})]));
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(tor));
  h.feed(announce(tor, ['192.168.2.0/26', '192.168.3.0/26', '192.168.0.0/26'], '10.0.1.1'));
  t.deepEqual(h.rib.best('192.168.2.0/26'), []);
  t.is(h.rib.best('192.168.3.0/26').length, 1);
  t.is(h.rib.best('192.168.0.0/26')[0].peer, 'local');
  t.deepEqual(h.rib.peerCounts(tor.key), { received: 3, accepted: 1, advertised: 1 });
});

test('import: rules by community and by peer; setImportRules says a refresh is needed only when they changed', (t) => {
  const h = harness();
  const rules = compilePolicy([rule({ community: '64512:10', peer: { address: '10.0.1.1', interface: '', type: '' } }, 'accept', { localPref: 300 })]);
  t.true(h.rib.setImportRules(rules).refreshNeeded);
  t.false(h.rib.setImportRules(compilePolicy(JSON.parse(rules.text))).refreshNeeded);
  const other = spec('10.0.1.2');
  h.feed(established(tor), established(other));
  h.feed(announce(tor, ['192.168.1.0/26'], '10.0.1.1', { communities: [C10] }), announce(other, ['192.168.2.0/26'], '10.0.1.2', { communities: [C10] }));
  t.is(h.rib.best('192.168.1.0/26')[0].attributes.localPref, 300);
  t.is(h.rib.best('192.168.2.0/26')[0].attributes.localPref, undefined);
});

test('export: a pool rule sets communities, large communities and MED; prepend toward eBGP only, LOCAL_PREF toward iBGP only', (t) => {
  const h = harness();
  h.rib.setExport({ policy: compilePolicy([rule({ pool: '192.168.0.0/16' }, 'accept', { communities: ['64512:10'], largeCommunities: ['64512:1:2'], med: 10, prepend: 1, localPref: 50 })]), drained: false });
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(tor), established(ebgp));
  const lc = [{ global: 64512, local1: 1, local2: 2 }];
  t.deepEqual(h.sink.attrsSent(tor.key, '192.168.0.0/26'), { origin: 0, asPath: [], localPref: 50, communities: [C10], largeCommunities: lc, med: 10, nextHop: '10.0.1.13' });
  t.deepEqual(h.sink.attrsSent(ebgp.key, '192.168.0.0/26'), { origin: 0, asPath: [{ type: 'sequence', asns: [64512, 64512] }], communities: [C10], largeCommunities: lc, med: 10, nextHop: '10.0.1.13' });
});

test('export: a prefix rule makes one path export differently per prefix (the memo keys on the rule), and reject withholds', (t) => {
  const h = harness();
  h.rib.setExport({ policy: compilePolicy([rule({ prefix: '192.168.0.0/26', exact: true }, 'accept', { med: 5 }), rule({ prefix: '192.168.0.128/26' }, 'reject')]), drained: false });
  h.rib.setLocalBlocks(['192.168.0.0/26', '192.168.0.64/26', '192.168.0.128/26']);
  h.feed(established(tor));
  t.is(h.sink.attrsSent(tor.key, '192.168.0.0/26')?.med, 5);
  t.is(h.sink.attrsSent(tor.key, '192.168.0.64/26')?.med, undefined);
  t.deepEqual(h.sink.sent(tor.key).sort(), ['+192.168.0.0/26', '+192.168.0.64/26']);
});

test('export: a rule on a peer address gives that peer its own update group and its own attributes', (t) => {
  const h = harness();
  h.rib.setExport({ policy: compilePolicy([rule({ peer: { address: '10.0.1.1', interface: '', type: '' } }, 'accept', { communities: ['64512:10'] })]), drained: false });
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  const other = spec('10.0.1.2');
  h.feed(established(tor), established(other));
  t.deepEqual(h.sink.attrsSent(tor.key, '192.168.0.0/26')?.communities, [C10]);
  t.is(h.sink.attrsSent(other.key, '192.168.0.0/26')?.communities, undefined);
});

test('export: new rules after the feed send only what differs, at once: changed attributes, withdrawals, nothing else', (t) => {
  const h = harness();
  h.rib.setLocalBlocks(['192.168.0.0/26', '192.168.0.64/26', '192.168.0.128/26']);
  h.feed(established(tor), established(ebgp));
  h.sink.clear();
  t.true(h.rib.setExportRules(compilePolicy([rule({ prefix: '192.168.0.0/26', exact: true }, 'accept', { med: 7 }), rule({ prefix: '192.168.0.128/26' }, 'reject')])));
  h.feed();
  t.deepEqual(h.sink.sent(tor.key).sort(), ['+192.168.0.0/26', '-192.168.0.128/26']);
  t.is(h.sink.attrsSent(tor.key, '192.168.0.0/26')?.med, 7);
  t.deepEqual(h.sink.sent(ebgp.key).sort(), ['+192.168.0.0/26', '-192.168.0.128/26']);
  t.deepEqual(h.rib.peerCounts(tor.key).advertised, 2);
  h.sink.clear();
  t.false(h.rib.setExportRules(compilePolicy([rule({ prefix: '192.168.0.0/26', exact: true }, 'accept', { med: 7 }), rule({ prefix: '192.168.0.128/26' }, 'reject')])), 'the same rules: nothing');
  t.true(h.rib.setExportRules(compilePolicy([])));
  h.feed();
  t.deepEqual(h.sink.sent(tor.key).sort(), ['+192.168.0.0/26', '+192.168.0.128/26']);
  t.is(h.sink.attrsSent(tor.key, '192.168.0.0/26')?.med, undefined);
  t.is(h.rib.peerCounts(tor.key).advertised, 3);
});

test('drain (RFC 8326): own blocks get 65535:0, LOCAL_PREF 0 to iBGP and three more prepends to eBGP; learned paths untouched; undrain reverts', (t) => {
  const h = harness();
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(tor), established(ebgp));
  h.feed(announce(ebgp, ['192.168.5.0/26'], '10.0.9.1'));
  h.sink.clear();
  t.true(h.rib.setDrained(true));
  t.false(h.rib.setDrained(true));
  h.feed();
  t.deepEqual(h.sink.sent(tor.key), ['+192.168.0.0/26'], 'only our own route changes');
  t.deepEqual(h.sink.attrsSent(tor.key, '192.168.0.0/26'), { origin: 0, asPath: [], localPref: 0, communities: [GRACEFUL_SHUTDOWN], nextHop: '10.0.1.13' });
  t.deepEqual(h.sink.attrsSent(ebgp.key, '192.168.0.0/26'), { origin: 0, asPath: [{ type: 'sequence', asns: [64512, 64512, 64512, 64512] }], communities: [GRACEFUL_SHUTDOWN], nextHop: '10.0.1.13' });
  // A peer that comes up while drained is fed drained.
  const late = spec('10.0.1.3');
  h.feed(established(late));
  t.is(h.sink.attrsSent(late.key, '192.168.0.0/26')?.localPref, 0);
  h.sink.clear();
  t.true(h.rib.setDrained(false));
  h.feed();
  t.deepEqual(h.sink.attrsSent(tor.key, '192.168.0.0/26'), { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.1.13' });
  t.deepEqual(h.sink.attrsSent(ebgp.key, '192.168.0.0/26'), { origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], nextHop: '10.0.1.13' });
});

test('RFC 8326 received: a path with 65535:0 loses to one without it, whatever its LOCAL_PREF', (t) => {
  const h = harness();
  const other = spec('10.0.1.2');
  h.feed(established(tor), established(other));
  h.feed(announce(tor, ['192.168.1.0/26'], '10.0.1.1', { localPref: 500, communities: [GRACEFUL_SHUTDOWN] }), announce(other, ['192.168.1.0/26'], '10.0.1.2', { localPref: 50 }));
  t.deepEqual(h.rib.best('192.168.1.0/26').map((p) => p.peer), [other.key]);
  t.is(h.rib.routes('ipv4').find((r) => r.prefix === '192.168.1.0/26')?.decidedBy, 'graceful-shutdown');
});

test('route detail: each route carries its best path\'s AS path, communities, LOCAL_PREF, MED and the peers of its ECMP set', (t) => {
  const h = harness();
  h.rib.setImportRules(compilePolicy([rule({ prefix: '0.0.0.0/0', exact: true }, 'accept', { localPref: 200 })]));
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  const e2 = spec('10.0.9.2', { peerAs: 65001 });
  h.feed(established(ebgp), established(e2));
  const attrs = { asPath: [{ type: 'sequence' as const, asns: [65001, 65010] }], communities: [C10], largeCommunities: [{ global: 64512, local1: 1, local2: 2 }], med: 5 };
  h.feed(announce(ebgp, ['0.0.0.0/0'], '10.0.9.1', attrs), announce(e2, ['0.0.0.0/0'], '10.0.9.2', attrs));
  const routes = h.rib.routes('ipv4');
  const dflt = routes.find((r) => r.prefix === '0.0.0.0/0');
  t.like(dflt, { asPath: '65001 65010', communities: ['64512:10'], largeCommunities: ['64512:1:2'], localPref: 200, med: 5, peers: [ebgp.key, e2.key] });
  t.like(routes.find((r) => r.prefix === '192.168.0.0/26'), { asPath: '', communities: [], largeCommunities: [], localPref: 100, peers: ['local'] });
  t.is(routes.find((r) => r.prefix === '192.168.0.0/26')?.med, undefined);
});

test('export: a rule on a peer address added after the feed moves that peer to a group of its own; only it is sent the change', (t) => {
  const h = harness();
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  const other = spec('10.0.1.2');
  h.feed(established(tor), established(other));
  h.sink.clear();
  const byPeer = compilePolicy([rule({ peer: { address: '10.0.1.1', interface: '', type: '' } }, 'accept', { communities: ['64512:10'] })]);
  h.rib.setExportRules(byPeer);
  h.feed();
  t.deepEqual(h.sink.sent(tor.key), ['+192.168.0.0/26']);
  t.deepEqual(h.sink.attrsSent(tor.key, '192.168.0.0/26')?.communities, [C10]);
  t.deepEqual(h.sink.sent(other.key), [], 'the other member holds what it held');
  // A change after the move reaches both, each with its own attributes.
  h.sink.clear();
  h.rib.setLocalBlocks(['192.168.0.0/26', '192.168.0.64/26']);
  h.feed();
  t.deepEqual(h.sink.attrsSent(tor.key, '192.168.0.64/26')?.communities, [C10]);
  t.is(h.sink.attrsSent(other.key, '192.168.0.64/26')?.communities, undefined);
  t.is(h.rib.peerCounts(tor.key).advertised, 2);
  t.is(h.rib.peerCounts(other.key).advertised, 2);
  // And back: the rule goes, the peer rejoins the common group and loses the community.
  h.sink.clear();
  h.rib.setExportRules(compilePolicy([]));
  h.feed();
  t.deepEqual(h.sink.sent(tor.key).sort(), ['+192.168.0.0/26', '+192.168.0.64/26']);
  t.is(h.sink.attrsSent(tor.key, '192.168.0.0/26')?.communities, undefined);
  t.deepEqual(h.sink.sent(other.key), []);
});

test('export with add-path send: drain re-sends every member of the ECMP set that changes, under its own identifier', (t) => {
  const h = harness();
  const rr = spec('10.0.9.9', { peerAs: 65009 });
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(rr, { addPathSend: { ipv4: true, ipv6: false } }));
  const first = h.sink.updates.flatMap((u) => u.update.announce ?? []).flatMap((g) => g.prefixes).find((p) => p.len === 26);
  h.sink.clear();
  h.rib.setDrained(true);
  h.feed();
  const again = h.sink.updates.flatMap((u) => u.update.announce ?? []);
  t.deepEqual(again.map((g) => g.prefixes.map((p) => p.pathId)), [[first?.pathId]], 'one route, the same add-path identifier');
  t.deepEqual(again[0].attributes.communities, [GRACEFUL_SHUTDOWN]);
  t.deepEqual(again[0].attributes.asPath, [{ type: 'sequence', asns: [64512, 64512, 64512, 64512] }]);
});

test('setPools: a path outside the new pools that an import rule accepted stays; one the pool rule accepted goes', (t) => {
  const h = harness();
  h.rib.setImportRules(compilePolicy([rule({ prefix: '192.168.1.0/24' }, 'accept', { med: 3 })]));
  h.feed(established(tor));
  h.feed(announce(tor, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.1.1'));
  h.rib.setPools(['10.244.0.0/16']);
  h.feed();
  t.is(h.rib.best('192.168.1.0/26').length, 1, 'accepted by the rule');
  t.deepEqual(h.rib.best('192.168.2.0/26'), [], 'accepted by the old pool only');
  t.deepEqual(h.rib.peerCounts(tor.key), { received: 2, accepted: 1, advertised: 0 });
});
