/**
 * Import policy, one row per rule (and the accepted cases next to each refusal), plus the same
 * rules through the Rib: counters, the borrowed-address case and maxPrefixes (RFC 4486).
 */

import test from 'ava';
import type { PathAttributes } from '../../agent/bgp/attributes.js';
import { parsePrefix } from '../../agent/bgp/prefix.js';
import { covers, importContext, importVerdict, type ImportReason } from '../../agent/rib/policy.js';
import { announce, established, harness, spec, withdraw } from './helpers.js';

const ctx = importContext({
  pools: ['192.168.0.0/16', 'fd00:100::/48', '10.244.0.0/16'],
  blocks: ['192.168.0.0/26', 'fd00:100::/122'],
  routerId: '10.0.1.13',
  clusterId: '224.0.0.1',
  localAs: 64512,
});

const rows: { name: string; prefix: string; attrs?: PathAttributes; external?: boolean; want: ImportReason | null }[] = [
  { name: 'a block inside an enabled IPv4 pool', prefix: '192.168.0.64/26', want: null },
  { name: 'a block inside an enabled IPv6 pool', prefix: 'fd00:100::40/122', want: null },
  { name: 'outside every pool (IPv4)', prefix: '172.16.0.0/26', want: 'outside-pools' },
  { name: 'outside every pool (IPv6)', prefix: 'fd00:200::/122', want: 'outside-pools' },
  { name: 'wider than the pool it overlaps', prefix: '192.168.0.0/15', want: 'outside-pools' },
  { name: 'the pool itself', prefix: '192.168.0.0/16', want: null },
  { name: 'a default route', prefix: '0.0.0.0/0', want: 'outside-pools' },
  { name: 'one of our own blocks exactly (IPv4)', prefix: '192.168.0.0/26', want: 'own-block' },
  { name: 'one of our own blocks exactly (IPv6)', prefix: 'fd00:100::/122', want: 'own-block' },
  { name: 'a borrowed /32 inside our own block (calico#3246)', prefix: '192.168.0.7/32', want: null },
  { name: 'a borrowed /128 inside our own IPv6 block', prefix: 'fd00:100::7/128', want: null },
  { name: 'ORIGINATOR_ID is our router ID (RFC 4456 8)', prefix: '192.168.1.0/26', attrs: { originatorId: '10.0.1.13' }, want: 'originator-is-self' },
  { name: 'another ORIGINATOR_ID', prefix: '192.168.1.0/26', attrs: { originatorId: '10.0.1.14' }, want: null },
  { name: 'our cluster ID in CLUSTER_LIST (RFC 4456 8)', prefix: '192.168.1.0/26', attrs: { clusterList: ['224.0.0.9', '224.0.0.1'] }, want: 'cluster-loop' },
  { name: 'other cluster IDs only', prefix: '192.168.1.0/26', attrs: { clusterList: ['224.0.0.9'] }, want: null },
  {
    name: 'our AS in an eBGP AS_PATH',
    prefix: '192.168.1.0/26',
    external: true,
    attrs: { asPath: [{ type: 'sequence', asns: [65001, 64512, 65002] }] },
    want: 'as-path-loop',
  },
  { name: 'our AS in an eBGP AS_SET', prefix: '192.168.1.0/26', external: true, attrs: { asPath: [{ type: 'set', asns: [64512] }] }, want: 'as-path-loop' },
  { name: 'an eBGP AS_PATH without our AS', prefix: '192.168.1.0/26', external: true, attrs: { asPath: [{ type: 'sequence', asns: [65001] }] }, want: null },
  {
    name: 'our AS in an iBGP AS_PATH is not a loop check (iBGP paths carry no AS of ours)',
    prefix: '192.168.1.0/26',
    external: false,
    attrs: { asPath: [{ type: 'sequence', asns: [64512] }] },
    want: null,
  },
];

for (const row of rows) {
  test(`import policy: ${row.name}`, (t) => {
    t.is(importVerdict(parsePrefix(row.prefix), row.attrs ?? {}, row.external ?? false, ctx), row.want);
  });
}

test('import policy: a plain node (no cluster ID) does not check CLUSTER_LIST against an empty ID', (t) => {
  const plain = importContext({ pools: ['192.168.0.0/16'], blocks: [], routerId: '10.0.1.13', clusterId: '', localAs: 64512 });
  t.is(importVerdict(parsePrefix('192.168.1.0/26'), { clusterList: ['224.0.0.1'] }, false, plain), null);
});

test('import policy: covers at the byte and bit edges', (t) => {
  const p = parsePrefix;
  t.true(covers(p('10.0.0.0/8'), p('10.255.255.255/32')));
  t.false(covers(p('10.0.0.0/9'), p('10.128.0.0/9')));
  t.true(covers(p('0.0.0.0/0'), p('1.2.3.4/32')));
  t.true(covers(p('fd00::/9'), p('fd7f::/16')));
  t.false(covers(p('fd00::/9'), p('fd80::/16')));
  t.false(covers(p('10.0.0.0/8'), p('::/0')));
});

test('import policy through the Rib: refused paths count as received, not accepted, and never reach the FIB', (t) => {
  const h = harness();
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  const a = spec('10.0.1.1');
  h.feed(established(a));
  h.sink.clear();
  h.feed(announce(a, ['192.168.0.0/26', '192.168.0.7/32', '192.168.5.0/26', '172.16.0.0/24'], '10.0.1.1'));
  t.deepEqual(h.rib.peerCounts(a.key), { received: 4, accepted: 2, advertised: 1 }); // our block
  t.deepEqual(h.sink.changeLines().sort(), ['192.168.0.7/32: 10.0.1.1@10.0.1.1', '192.168.5.0/26: 10.0.1.1@10.0.1.1']);
  t.is(h.rib.best('192.168.0.0/26')[0].peer, 'local');
  // Withdrawing a refused prefix only drops the count.
  h.feed(withdraw(a, ['172.16.0.0/24']));
  t.deepEqual(h.rib.peerCounts(a.key), { received: 3, accepted: 2, advertised: 1 });
});

test('import policy through the Rib: a path that turns bad replaces the good one with nothing', (t) => {
  const h = harness();
  const a = spec('10.0.1.1');
  h.feed(established(a), announce(a, ['192.168.5.0/26'], '10.0.1.1'));
  h.sink.clear();
  h.feed(announce(a, ['192.168.5.0/26'], '10.0.1.1', { originatorId: '10.0.1.13' }));
  t.deepEqual(h.sink.changeLines(), ['192.168.5.0/26: -']);
  t.deepEqual(h.rib.peerCounts(a.key), { received: 1, accepted: 0, advertised: 0 });
});

test('maxPrefixes: one path over the limit drops the peer\'s routes and reports it once (RFC 4486 subcode 1)', (t) => {
  const h = harness();
  const a = spec('10.0.1.1', { maxPrefixes: 2 });
  const b = spec('10.0.1.2');
  h.feed(established(a), established(b), announce(b, ['192.168.9.0/26'], '10.0.1.2'));
  h.feed(announce(a, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.1.1'));
  t.deepEqual(h.sink.limits, []);
  h.sink.clear();
  h.feed(announce(a, ['192.168.3.0/26'], '10.0.1.1'));
  t.deepEqual(h.sink.limits, [{ peer: '10.0.1.1', limit: 2, count: 3 }]);
  t.is(h.rib.peerCounts(a.key).accepted, 0);
  t.is(h.rib.prefixCount(), 1);
  // Ignored until its next session.
  h.feed(announce(a, ['192.168.4.0/26'], '10.0.1.1'));
  t.is(h.rib.prefixCount(), 1);
  t.is(h.sink.limits.length, 1);
  h.feed(established(a), announce(a, ['192.168.4.0/26'], '10.0.1.1'));
  t.is(h.rib.prefixCount(), 2);
});

test('import policy through the Rib: an announcement without a next hop is refused', (t) => {
  const h = harness();
  const a = spec('10.0.1.1');
  h.feed(established(a));
  const ev = announce(a, ['192.168.5.0/26'], '10.0.1.1');
  if (ev.type !== 'update') return t.fail();
  const { nextHop: _n, ...attributes } = ev.update.attributes;
  h.feed({ ...ev, update: { ...ev.update, attributes } });
  t.deepEqual(h.rib.peerCounts(a.key), { received: 1, accepted: 0, advertised: 0 });
  t.is(h.rib.prefixCount(), 0);
});

test('setPools (reload): paths outside the new pools go; a new pool asks for a route refresh', (t) => {
  const h = harness();
  const a = spec('10.0.1.1');
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(a), announce(a, ['192.168.1.0/26', 'fd00:100::/122'], '10.0.1.1'));
  h.sink.clear();
  t.deepEqual(h.rib.setPools(['192.168.0.0/24']), { refreshNeeded: false });
  h.feed();
  t.deepEqual(h.sink.changeLines().sort(), ['192.168.1.0/26: -', 'fd00:100::/122: -']);
  t.deepEqual(h.rib.peerCounts(a.key), { received: 2, accepted: 0, advertised: 1 });
  t.is(h.rib.best('192.168.0.0/26')[0].peer, 'local', 'own blocks do not depend on pools');
  t.deepEqual(h.rib.setPools(['192.168.0.0/24', '10.244.0.0/16']), { refreshNeeded: true });
  t.throws(() => h.rib.setPools(['nonsense']), { code: 'RIB_BAD_PREFIX' } as never);
});
