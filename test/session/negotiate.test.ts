/** Capability negotiation, one row per rule, with our OPEN built and the peer's varied. */

import test from 'ava';
import { AS_TRANS, decodeMessage, encodeMessage, type Capability, type OpenMessage } from '../../agent/bgp/index.js';
import { buildOpen, negotiate, type LocalOpenOptions } from '../../agent/session/negotiate.js';
import { localOpen } from '../../agent/session/local-open.js';
import { peerSpec } from './specs.js';

const LOCAL: LocalOpenOptions = {
  asn: 65101,
  routerId: '10.0.1.13',
  holdTime: 90,
  families: ['ipv4', 'ipv6'],
  addPath: { ipv4: 'both', ipv6: 'receive' },
  gracefulRestart: { restartTime: 120, restarting: false, forwarding: true },
};

const peer = (capabilities: Capability[], holdTime = 240): OpenMessage => ({ type: 'open', version: 4, myAs: 65100, holdTime, bgpId: '10.0.1.1', capabilities });
const mp = (afi: number): Capability => ({ kind: 'multiprotocol', afi, safi: 1 });
const enh = (tuples: { afi: number; safi: number; nextHopAfi: number }[]): Capability => ({ kind: 'extended-next-hop', tuples });

const rows: { name: string; peer: OpenMessage; local?: Partial<LocalOpenOptions>; check: Record<string, unknown> }[] = [
  { name: 'both families when both offer them', peer: peer([mp(1), mp(2)]), check: { families: ['ipv4', 'ipv6'] } },
  { name: 'no multiprotocol capability means IPv4 unicast (RFC 4760 8)', peer: peer([]), check: { families: ['ipv4'] } },
  { name: 'IPv6 only', peer: peer([mp(2)]), check: { families: ['ipv6'] } },
  { name: 'a family we do not offer is not used', peer: peer([mp(1), mp(2)]), local: { families: ['ipv4'] }, check: { families: ['ipv4'] } },
  { name: 'hold time: the smaller', peer: peer([], 30), check: { holdTime: 30, keepaliveTime: 10 } },
  { name: 'hold time 0', peer: peer([], 0), check: { holdTime: 0, keepaliveTime: 0 } },
  { name: '4-octet AS when both', peer: peer([{ kind: 'four-octet-as', asn: 4200000100 }]), check: { fourOctetAs: true, peerAs: 4200000100 } },
  { name: '2-octet peer', peer: peer([]), check: { fourOctetAs: false, peerAs: 65100, 'decode.fourOctetAs': false, 'encode.fourOctetAs': false } },
  { name: 'extended messages when both', peer: peer([{ kind: 'extended-message' }]), check: { extendedMessage: true, 'decode.maxLength': 65535 } },
  { name: 'no extended messages from the peer', peer: peer([]), check: { extendedMessage: false, 'encode.maxLength': 4096 } },
  { name: 'route refresh and enhanced route refresh', peer: peer([{ kind: 'route-refresh' }, { kind: 'enhanced-route-refresh' }]), check: { routeRefresh: true, enhancedRouteRefresh: true } },
  {
    name: 'add-path: we both, peer both (IPv4); we receive, peer both (IPv6)',
    peer: peer([mp(1), mp(2), { kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'both' }, { afi: 2, safi: 1, mode: 'both' }] }]),
    check: { 'addPathReceive.ipv4': true, 'addPathSend.ipv4': true, 'addPathReceive.ipv6': true, 'addPathSend.ipv6': false, 'decode.addPathIpv6': true, 'encode.addPathIpv6': false },
  },
  {
    name: 'add-path: peer only receives, so we only send',
    peer: peer([mp(1), { kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'receive' }] }]),
    check: { 'addPathReceive.ipv4': false, 'addPathSend.ipv4': true, 'decode.addPathIpv4': false, 'encode.addPathIpv4': true },
  },
  {
    name: 'add-path: both only send, so nobody does',
    peer: peer([mp(1), { kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'send' }] }]),
    local: { addPath: { ipv4: 'send' } },
    check: { 'addPathReceive.ipv4': false, 'addPathSend.ipv4': false },
  },
  {
    name: "the peer's graceful restart with its F bits",
    peer: peer([mp(1), { kind: 'graceful-restart', restarting: true, notification: false, restartTime: 90, families: [{ afi: 1, safi: 1, forwarding: true }] }]),
    check: { 'peerGracefulRestart.restarting': true, 'peerGracefulRestart.restartTime': 90, 'peerGracefulRestart.families': [{ afi: 1, safi: 1, forwarding: true }], localGracefulRestart: true },
  },
  { name: 'no graceful restart from the peer', peer: peer([]), local: { gracefulRestart: undefined }, check: { peerGracefulRestart: undefined, localGracefulRestart: false } },
  {
    name: 'extended next hop for IPv4 when both send <1, 1, 2> (RFC 8950 3)',
    peer: peer([mp(1), mp(2), enh([{ afi: 1, safi: 1, nextHopAfi: 2 }])]), local: { extendedNextHop: true },
    check: { 'extendedNextHop.ipv4': true, 'decode.extendedNextHopIpv4': true, 'encode.extendedNextHopIpv4': true },
  },
  { name: 'no extended next hop when only the peer sends it', peer: peer([mp(1), enh([{ afi: 1, safi: 1, nextHopAfi: 2 }])]), check: { 'extendedNextHop.ipv4': false, 'decode.extendedNextHopIpv4': false } },
  { name: 'no extended next hop when only we send it', peer: peer([mp(1), mp(2)]), local: { extendedNextHop: true }, check: { 'extendedNextHop.ipv4': false, 'decode.extendedNextHopIpv4': false } },
  {
    name: 'no extended next hop for IPv4 from a tuple of another family or next-hop AFI',
    peer: peer([mp(1), enh([{ afi: 1, safi: 128, nextHopAfi: 2 }, { afi: 2, safi: 1, nextHopAfi: 1 }])]), local: { extendedNextHop: true },
    check: { 'extendedNextHop.ipv4': false },
  },
];

function pick(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

for (const row of rows) {
  test(`negotiate: ${row.name}`, (t) => {
    const n = negotiate(buildOpen({ ...LOCAL, ...row.local }), row.peer, false);
    for (const [path, want] of Object.entries(row.check)) t.deepEqual(pick(n, path), want, path);
  });
}

test('buildOpen: a 4-octet AS goes out as AS_TRANS plus the capability, and round-trips', (t) => {
  const open = buildOpen({ ...LOCAL, asn: 4200000101 });
  t.is(open.myAs, AS_TRANS);
  t.true(open.capabilities.some((c) => c.kind === 'four-octet-as' && c.asn === 4200000101));
  t.deepEqual(decodeMessage(encodeMessage(open)), open);
});

test('buildOpen: the R and F bits go out as asked (RFC 4724 3)', (t) => {
  const open = buildOpen({ ...LOCAL, gracefulRestart: { restartTime: 120, restarting: true, forwarding: true } });
  const gr = open.capabilities.find((c) => c.kind === 'graceful-restart');
  t.deepEqual(gr, {
    kind: 'graceful-restart',
    restarting: true,
    notification: true,
    restartTime: 120,
    families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: true }],
  });
});

for (const row of [
  { address: 'fd00:1::1', families: ['ipv4', 'ipv6'] as const, offered: true },
  { address: 'fd00:1::1', families: ['ipv6'] as const, offered: false },
  { address: '10.0.1.1', families: ['ipv4', 'ipv6'] as const, offered: false },
]) {
  test(`localOpen: extended next hop ${row.offered ? 'offered' : 'not offered'} to ${row.address} with ${row.families.join('+')} (RFC 8950 on IPv6 transports)`, (t) => {
    const open = localOpen(peerSpec({ address: row.address, localAs: 65101, peerAs: 65100, routerId: '10.0.1.13', families: [...row.families] }));
    const cap = open.capabilities.find((c) => c.kind === 'extended-next-hop');
    t.deepEqual(cap, row.offered ? { kind: 'extended-next-hop', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }] } : undefined);
    t.deepEqual(decodeMessage(encodeMessage(open)), open);
  });
}
