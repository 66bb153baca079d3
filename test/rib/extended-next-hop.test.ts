/**
 * RFC 8950 in the RIB: IPv4 routes learned with an IPv6 next hop (every encoding senders use),
 * accepted only from a peer that negotiated extended next hop; our IPv4 blocks and next-hop-self
 * routes exported with our IPv6 address to such a peer (MP_REACH_NLRI AFI 1), as before to any
 * other; extended next hop in the update-group signature.
 */

import test from 'ava';
import { packUpdates } from '../../agent/bgp/pack.js';
import { formatPrefix, parsePrefix } from '../../agent/bgp/prefix.js';
import { decodeUpdate, type UpdateMessage } from '../../agent/bgp/update.js';
import type { PeerSpec, SessionEvent } from '../../agent/contracts/engines.js';
import { exportPath } from '../../agent/rib/export.js';
import { groupSignature } from '../../agent/rib/update-group.js';
import { established, harness, negotiated, NODE, spec } from './helpers.js';

const ENH = { extendedNextHop: { ipv4: true } };

/** An UPDATE of `peer` announcing 192.168.1.0/26 in MP_REACH_NLRI AFI 1 with `nextHops`. */
function announce4over6(peer: PeerSpec, nextHops: string[]): SessionEvent {
  const mpReach = { afi: 1, safi: 1, nextHops, nlri: [parsePrefix('192.168.1.0/26')] };
  const update: UpdateMessage = { type: 'update', withdrawn: [], nlri: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [peer.peerAs] }], mpReach } };
  return { type: 'update', peer, update };
}

const importRows: { name: string; enh: boolean; nextHops: string[]; want: [string, string] | null; via?: string }[] = [
  { name: 'BIRD / FRR global + link-local', enh: true, nextHops: ['fd00:9::1', 'fe80::1'], want: ['fd00:9::1', 'fe80::1'], via: 'fd00:9::1' },
  { name: '16-byte global', enh: true, nextHops: ['fd00:9::1'], want: ['fd00:9::1', ''], via: 'fd00:9::1' },
  { name: 'BIRD :: + link-local', enh: true, nextHops: ['::', 'fe80::1'], want: ['', 'fe80::1'], via: 'fe80::1' },
  { name: 'GoBGP link-local alone', enh: true, nextHops: ['fe80::1'], want: ['', 'fe80::1'], via: 'fe80::1' },
  { name: 'an IPv4 next hop in MP_REACH_NLRI needs no capability', enh: false, nextHops: ['10.0.9.1'], want: ['10.0.9.1', ''], via: '10.0.9.1' },
  { name: 'global IPv6 without the capability: refused', enh: false, nextHops: ['fd00:9::1'], want: null },
  { name: 'link-local alone without the capability: refused', enh: false, nextHops: ['fe80::1'], want: null },
];

for (const row of importRows) {
  test(`import: IPv4 route with next hop ${row.nextHops.join(' ')} (${row.name})`, (t) => {
    const h = harness();
    const e = spec('fd00:9::1', { peerAs: 65001 });
    h.feed(established(e, row.enh ? ENH : {}));
    h.feed(announce4over6(e, row.nextHops));
    const best = h.rib.best('192.168.1.0/26');
    if (row.want === null) {
      t.is(best.length, 0);
      t.is(h.rib.prefixCount('ipv4'), 0);
      return;
    }
    t.deepEqual(best.map((p) => [p.nextHop, p.nextHopLinkLocal]), [row.want]);
    t.deepEqual(h.rib.routes('ipv4').map((r) => r.nextHops.map((n) => n.via)), [[row.via]]);
  });
}

const exportRows: { name: string; peer: Partial<PeerSpec>; enh: boolean; node?: Partial<typeof NODE>; want: Record<string, unknown> }[] = [
  {
    name: 'iBGP with extended next hop: our node IPv6 address in MP_REACH_NLRI AFI 1',
    peer: {}, enh: true,
    want: { origin: 0, asPath: [], localPref: 100, mpReach: { afi: 1, safi: 1, nextHops: ['fd00:1::13'], nlri: [] } },
  },
  {
    name: 'eBGP with extended next hop: the session IPv6 local address wins',
    peer: { peerAs: 65001, localAddress: 'fd00:9::13' }, enh: true,
    want: { origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], mpReach: { afi: 1, safi: 1, nextHops: ['fd00:9::13'], nlri: [] } },
  },
  {
    name: 'extended next hop, an IPv4 local address: the node IPv6 address',
    peer: { peerAs: 65001, localAddress: '10.0.9.13' }, enh: true,
    want: { origin: 0, asPath: [{ type: 'sequence', asns: [64512] }], mpReach: { afi: 1, safi: 1, nextHops: ['fd00:1::13'], nlri: [] } },
  },
  {
    name: 'extended next hop but no IPv6 address at all: NEXT_HOP as today',
    peer: {}, enh: true, node: { ipv6: '' },
    want: { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.1.13' },
  },
  {
    name: 'without extended next hop: NEXT_HOP as today',
    peer: {}, enh: false,
    want: { origin: 0, asPath: [], localPref: 100, nextHop: '10.0.1.13' },
  },
];

for (const row of exportRows) {
  test(`export of our IPv4 block to an IPv6 peer: ${row.name}`, (t) => {
    const h = harness({ node: { ...NODE, ...row.node } });
    const a = spec('fd00:9::1', row.peer);
    h.rib.setLocalBlocks(['192.168.0.0/26']);
    h.feed(established(a, row.enh ? ENH : {}));
    t.deepEqual(h.sink.attrsSent(a.key, '192.168.0.0/26'), row.want);
  });
}

const path = (nextHop: string) => ({ peer: '10.0.9.1', nextHop, attributes: { origin: 0 as const, asPath: [] }, source: { external: true, client: false, bgpId: '10.0.9.1' } });
const keep = (enh: boolean) => ({ key: '10.0.1.1', internal: true, localAs: 64512, routeReflectorClient: false, nextHopMode: 'Keep' as const, localAddress: '', extendedNextHopIpv4: enh });

const keptRows: { name: string; nextHop: string; enh: boolean; want: { nextHop?: string; v6?: string } }[] = [
  { name: 'an IPv6 next hop kept toward an extended-next-hop peer', nextHop: 'fd00:9::1', enh: true, want: { v6: 'fd00:9::1' } },
  { name: 'an IPv6 next hop replaced by ours toward any other peer', nextHop: 'fd00:9::1', enh: false, want: { nextHop: '10.0.1.13' } },
  { name: 'an IPv4 next hop kept either way', nextHop: '10.0.9.1', enh: true, want: { nextHop: '10.0.9.1' } },
  { name: 'a link-local-only path (no global next hop) gets ours, IPv6 toward an extended-next-hop peer', nextHop: '', enh: true, want: { v6: 'fd00:1::13' } },
  { name: 'a link-local-only path gets ours, IPv4 toward any other peer', nextHop: '', enh: false, want: { nextHop: '10.0.1.13' } },
];

for (const row of keptRows) {
  test(`export, next hop Keep: ${row.name}`, (t) => {
    const out = exportPath(path(row.nextHop), keep(row.enh), NODE, 'ipv4');
    t.is(out?.nextHop, row.want.nextHop);
    t.deepEqual(out?.mpReach, row.want.v6 === undefined ? undefined : { afi: 1, safi: 1, nextHops: [row.want.v6], nlri: [] });
  });
}

test('update groups: extended next hop is part of the signature', (t) => {
  const a = spec('fd00:9::1');
  t.not(groupSignature(a, negotiated(a, ENH)), groupSignature(a, negotiated(a)));
  t.is(groupSignature(a, negotiated(a, ENH)), groupSignature(spec('fd00:9::2'), negotiated(spec('fd00:9::2'), ENH)));
  const h = harness();
  const b = spec('fd00:9::2');
  h.rib.setLocalBlocks(['192.168.0.0/26']);
  h.feed(established(a, ENH), established(b));
  t.deepEqual(h.sink.attrsSent(a.key, '192.168.0.0/26')?.mpReach?.nextHops, ['fd00:1::13']);
  t.is(h.sink.attrsSent(b.key, '192.168.0.0/26')?.nextHop, '10.0.1.13');
});

test('what goes to an extended-next-hop peer packs into MP_REACH_NLRI AFI 1 and decodes back', (t) => {
  const h = harness();
  const a = spec('fd00:9::1');
  const e = spec('10.0.9.1', { peerAs: 65001 });
  h.feed(established(a, ENH), established(e));
  h.rib.setLocalBlocks(['192.168.0.0/26', 'fd00:100::/122']);
  h.feed({ type: 'update', peer: e, update: { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.9.1' }, nlri: [parsePrefix('192.168.1.0/26')] } });
  const ctx = negotiated(a, ENH).encode;
  const seen: string[] = [];
  for (const { update } of h.sink.updates.filter((u) => u.peer === a.key)) {
    for (const msg of packUpdates(update, ctx)) {
      const u = decodeUpdate(msg, ctx);
      t.is(u.errors, undefined);
      for (const p of u.nlri) seen.push(`+${formatPrefix(p)} via ${u.attributes.nextHop}`);
      for (const p of u.attributes.mpReach?.nlri ?? []) seen.push(`+${formatPrefix(p)} afi ${u.attributes.mpReach?.afi} via ${u.attributes.mpReach?.nextHops.join(' ')}`);
    }
  }
  t.deepEqual(seen.sort(), [
    '+192.168.0.0/26 afi 1 via fd00:1::13',
    '+192.168.1.0/26 via 10.0.9.1', // iBGP, Auto: the eBGP next hop kept, an IPv4 one
    '+fd00:100::/122 afi 2 via fd00:1::13',
  ]);
});
