/**
 * The policy matcher (agent/rib/policy-rules.ts) as a table: one row per condition, each with a
 * prefix, attributes and a peer that match and ones that do not; then the first-match order, the
 * candidate cut after a prefix-free rule, and what `set` does.
 */

import test from 'ava';
import type { PathAttributes } from '../../agent/bgp/attributes.js';
import { parsePrefix } from '../../agent/bgp/prefix.js';
import { applySet, candidates, compilePolicy, firstMatch, peerMatches, type PolicyPeer } from '../../agent/rib/policy-rules.js';
import type { PolicyMatch, PolicyRule } from '../../config/types.js';
import { rule } from './helpers.js';

const TOR: PolicyPeer = { address: '10.0.1.1', internal: true };
const EBGP: PolicyPeer = { address: '10.0.9.1', internal: false, interface: 'eth0' };
const PLAIN: PathAttributes = { origin: 0, asPath: [{ type: 'sequence', asns: [65001, 65002] }] };

interface Row {
  readonly name: string;
  readonly match: Partial<PolicyMatch>;
  /** [prefix, attributes, peer] that match, and ones that do not. */
  readonly yes: readonly [string, PathAttributes, PolicyPeer][];
  readonly no: readonly [string, PathAttributes, PolicyPeer][];
}

const rows: Row[] = [
  { name: 'no condition matches everything', match: {}, yes: [['0.0.0.0/0', {}, TOR], ['fd00::/64', PLAIN, EBGP]], no: [] },
  { name: 'prefix: itself or inside it', match: { prefix: '192.168.0.0/16' }, yes: [['192.168.0.0/16', {}, TOR], ['192.168.4.0/26', {}, TOR]], no: [['192.169.0.0/26', {}, TOR], ['192.0.0.0/8', {}, TOR], ['fd00::/64', {}, TOR]] },
  { name: 'prefix exact', match: { prefix: '0.0.0.0/0', exact: true }, yes: [['0.0.0.0/0', {}, TOR]], no: [['10.0.0.0/8', {}, TOR], ['::/0', {}, TOR]] },
  { name: 'prefix ge/le', match: { prefix: '10.0.0.0/8', ge: 16, le: 24 }, yes: [['10.1.0.0/16', {}, TOR], ['10.1.2.0/24', {}, TOR]], no: [['10.0.0.0/8', {}, TOR], ['10.1.2.0/25', {}, TOR], ['11.1.0.0/16', {}, TOR]] },
  { name: 'prefix le alone', match: { prefix: '10.0.0.0/8', le: 8 }, yes: [['10.0.0.0/8', {}, TOR]], no: [['10.0.0.0/9', {}, TOR]] },
  { name: 'IPv6 prefix ge', match: { prefix: 'fd00::/16', ge: 64 }, yes: [['fd00:1::/64', {}, TOR]], no: [['fd00::/48', {}, TOR], ['fe80::/64', {}, TOR]] },
  { name: 'pool', match: { pool: '192.168.0.0/16' }, yes: [['192.168.1.0/26', {}, TOR]], no: [['10.0.0.0/26', {}, TOR]] },
  { name: 'community', match: { community: '64512:10' }, yes: [['10.0.0.0/8', { communities: [1, 64512 * 65536 + 10] }, TOR]], no: [['10.0.0.0/8', { communities: [64512 * 65536 + 11] }, TOR], ['10.0.0.0/8', {}, TOR]] },
  { name: 'large community', match: { largeCommunity: '64512:1:2' }, yes: [['10.0.0.0/8', { largeCommunities: [{ global: 64512, local1: 1, local2: 2 }] }, TOR]], no: [['10.0.0.0/8', { largeCommunities: [{ global: 64512, local1: 2, local2: 1 }] }, TOR], ['10.0.0.0/8', {}, TOR]] },
  { name: 'asPathContains', match: { asPathContains: 65002 }, yes: [['10.0.0.0/8', PLAIN, TOR]], no: [['10.0.0.0/8', { asPath: [{ type: 'sequence', asns: [65001] }] }, TOR], ['10.0.0.0/8', {}, TOR]] },
  { name: 'peer address', match: { peer: { address: '10.0.1.1', interface: '', type: '' } }, yes: [['10.0.0.0/8', {}, TOR]], no: [['10.0.0.0/8', {}, EBGP]] },
  { name: 'peer interface', match: { peer: { address: '', interface: 'eth0', type: '' } }, yes: [['10.0.0.0/8', {}, EBGP]], no: [['10.0.0.0/8', {}, TOR]] },
  { name: 'peer type ibgp', match: { peer: { address: '', interface: '', type: 'ibgp' } }, yes: [['10.0.0.0/8', {}, TOR]], no: [['10.0.0.0/8', {}, EBGP]] },
  { name: 'peer type ebgp', match: { peer: { address: '', interface: '', type: 'ebgp' } }, yes: [['10.0.0.0/8', {}, EBGP]], no: [['10.0.0.0/8', {}, TOR]] },
  { name: 'every condition at once', match: { prefix: '10.0.0.0/8', ge: 24, community: '1:1', asPathContains: 65001, peer: { address: '', interface: '', type: 'ebgp' } },
    yes: [['10.9.9.0/24', { ...PLAIN, communities: [65537] }, EBGP]], no: [['10.9.9.0/24', { ...PLAIN, communities: [65537] }, TOR], ['10.9.9.0/24', PLAIN, EBGP], ['10.9.0.0/16', { ...PLAIN, communities: [65537] }, EBGP]] },
];

function decides(r: PolicyRule, prefix: string, a: PathAttributes, peer: PolicyPeer): boolean {
  const policy = compilePolicy([r]);
  const cands = candidates(policy, a, (x) => peerMatches(x, peer));
  return firstMatch(cands, parsePrefix(prefix)) !== undefined;
}

for (const row of rows) {
  test(`policy match: ${row.name}`, (t) => {
    for (const [p, a, peer] of row.yes) t.true(decides(rule(row.match), p, a, peer), `${p} ${JSON.stringify(a)} ${peer.address}`);
    for (const [p, a, peer] of row.no) t.false(decides(rule(row.match), p, a, peer), `${p} ${JSON.stringify(a)} ${peer.address}`);
  });
}

test('policy: the first rule that matches decides, in order', (t) => {
  const policy = compilePolicy([rule({ prefix: '10.1.0.0/16' }, 'reject'), rule({ prefix: '10.0.0.0/8' }, 'accept', { localPref: 50 }), rule({}, 'reject')]);
  const cands = candidates(policy, {}, () => true);
  t.is(firstMatch(cands, parsePrefix('10.1.2.0/24'))?.index, 0);
  t.is(firstMatch(cands, parsePrefix('10.2.0.0/24'))?.index, 1);
  t.is(firstMatch(cands, parsePrefix('11.0.0.0/24'))?.index, 2);
  t.true(policy.byPrefix);
});

test('policy: candidates stop after a rule without a prefix condition, and skip rules whose attributes do not match', (t) => {
  const policy = compilePolicy([rule({ community: '1:1' }), rule({ prefix: '10.0.0.0/8' }), rule({}), rule({ prefix: '11.0.0.0/8' })]);
  t.deepEqual(candidates(policy, {}, () => true).map((r) => r.index), [1, 2]);
  t.deepEqual(candidates(policy, { communities: [65537] }, () => true).map((r) => r.index), [0]);
  t.deepEqual(candidates(compilePolicy([]), {}, () => true), []);
});

test('policy: a policy without prefix conditions decides without a prefix', (t) => {
  const policy = compilePolicy([rule({ community: '1:1' }, 'reject'), rule({})]);
  t.false(policy.byPrefix);
  t.is(firstMatch(candidates(policy, {}, () => true), undefined)?.index, 1);
});

test('policy set: LOCAL_PREF, MED, communities and large communities added once, prepend', (t) => {
  const [r] = compilePolicy([rule({}, 'accept', { localPref: 200, med: 10, communities: ['64512:10', '1:1'], largeCommunities: ['64512:1:2'], prepend: 2 })]).rules;
  const out = applySet({ origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], communities: [65537] }, r.set, { localPref: true, prependAsn: 64512 });
  t.deepEqual(out, {
    origin: 0,
    asPath: [{ type: 'sequence', asns: [64512, 64512, 64512] }],
    communities: [65537, 64512 * 65536 + 10],
    largeCommunities: [{ global: 64512, local1: 1, local2: 2 }],
    localPref: 200,
    med: 10,
  });
  const plain = applySet({ origin: 0 }, r.set, { localPref: false, prependAsn: 0 });
  t.is(plain.localPref, undefined, 'no LOCAL_PREF where it may not go');
  t.is(plain.asPath, undefined, 'no prepend without an AS');
});
