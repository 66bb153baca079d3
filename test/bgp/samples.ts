/**
 * Sample messages, one per message type, capability and attribute, shared by the round-trip,
 * framer and fuzz tests. Each is a valid message for the context it names.
 */

import {
  AFI,
  contextWith,
  DEFAULT_CONTEXT,
  parsePrefix,
  SAFI,
  shutdownData,
  type CodecContext,
  type Message,
  type PathAttributes,
} from '../../agent/bgp/index.js';

export interface Sample {
  readonly name: string;
  readonly message: Message;
  readonly ctx: CodecContext;
}

const base: PathAttributes = { origin: 0, asPath: [{ type: 'sequence', asns: [65100] }], nextHop: '10.0.1.1' };
const v4 = [parsePrefix('192.168.0.0/26'), parsePrefix('192.168.0.64/26'), parsePrefix('10.0.0.0/8'), parsePrefix('0.0.0.0/0')];
const v6 = [parsePrefix('fd00:1::/122'), parsePrefix('2001:db8::/32'), parsePrefix('::/0'), parsePrefix('fd00:1:2:3:4:5:6:7/128')];

const capabilities: { name: string; caps: Extract<Message, { type: 'open' }>['capabilities'] }[] = [
  { name: 'multiprotocol', caps: [{ kind: 'multiprotocol', afi: AFI.IPV4, safi: SAFI.UNICAST }, { kind: 'multiprotocol', afi: AFI.IPV6, safi: SAFI.UNICAST }] },
  { name: 'route-refresh', caps: [{ kind: 'route-refresh' }] },
  { name: 'enhanced-route-refresh', caps: [{ kind: 'enhanced-route-refresh' }] },
  { name: 'extended-message', caps: [{ kind: 'extended-message' }] },
  { name: 'four-octet-as', caps: [{ kind: 'four-octet-as', asn: 4200000101 }] },
  {
    name: 'graceful-restart',
    caps: [{ kind: 'graceful-restart', restarting: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: false }] }],
  },
  { name: 'graceful-restart (helper only)', caps: [{ kind: 'graceful-restart', restarting: false, notification: false, restartTime: 4095, families: [] }] },
  { name: 'add-path', caps: [{ kind: 'add-path', families: [{ afi: 1, safi: 1, mode: 'both' }, { afi: 2, safi: 1, mode: 'receive' }, { afi: 1, safi: 2, mode: 'send' }] }] },
  { name: 'unknown capability', caps: [{ kind: 'unknown', code: 73, value: Uint8Array.of(3, 0x72, 0x31, 0x6e, 0) }] },
];

const attributes: { name: string; attrs: PathAttributes; ctx?: Partial<CodecContext> }[] = [
  { name: 'ORIGIN', attrs: { origin: 2 } },
  { name: 'AS_PATH 4-octet', attrs: { asPath: [{ type: 'sequence', asns: [4200000100, 65100] }, { type: 'sequence', asns: [1, 2, 3] }] } },
  { name: 'AS_PATH 2-octet', attrs: { asPath: [{ type: 'sequence', asns: [65100, 23456] }] }, ctx: { fourOctetAs: false } },
  // RFC 9774: AS_SET and AS_CONFED_SET decode as treat-as-withdraw (malformed.test.ts), not here.
  { name: 'AS_PATH confederation segments', attrs: { asPath: [{ type: 'confed-sequence', asns: [64512, 64513] }, { type: 'confed-sequence', asns: [64514] }, { type: 'sequence', asns: [65000] }] } },
  { name: 'AS_PATH empty', attrs: { asPath: [] } },
  { name: 'NEXT_HOP', attrs: { nextHop: '10.0.1.14' } },
  { name: 'MULTI_EXIT_DISC', attrs: { med: 0xffffffff } },
  { name: 'LOCAL_PREF', attrs: { localPref: 100 } },
  { name: 'ATOMIC_AGGREGATE', attrs: { atomicAggregate: true } },
  { name: 'AGGREGATOR 4-octet', attrs: { aggregator: { asn: 4200000100, address: '10.0.0.1' } } },
  { name: 'AGGREGATOR 2-octet', attrs: { aggregator: { asn: 23456, address: '10.0.0.1' } }, ctx: { fourOctetAs: false } },
  { name: 'COMMUNITIES', attrs: { communities: [0xfde80001, 0xffffff01] } },
  { name: 'ORIGINATOR_ID', attrs: { originatorId: '10.0.1.13' } },
  { name: 'CLUSTER_LIST', attrs: { clusterList: ['10.0.0.99', '1.1.1.1'] } },
  { name: 'MP_REACH_NLRI IPv6 global', attrs: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1'], nlri: v6 } } },
  { name: 'MP_REACH_NLRI IPv6 global + link-local', attrs: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1', 'fe80::1'], nlri: v6 } } },
  { name: 'MP_REACH_NLRI IPv4', attrs: { origin: 0, asPath: [], mpReach: { afi: 1, safi: 1, nextHops: ['10.0.1.1'], nlri: v4 } } },
  { name: 'MP_REACH_NLRI other family kept raw', attrs: { mpReach: { afi: 1, safi: 128, nextHops: [], nlri: [], raw: Uint8Array.of(0, 1, 128, 4, 1, 2, 3, 4, 0) } } },
  { name: 'MP_UNREACH_NLRI IPv6', attrs: { mpUnreach: { afi: 2, safi: 1, withdrawn: v6 } } },
  { name: 'EXTENDED_COMMUNITIES', attrs: { extendedCommunities: [0x0002fde800000064n, 0xffffffffffffffffn] } },
  { name: 'AS4_PATH', attrs: { as4Path: [{ type: 'sequence', asns: [4200000100] }] }, ctx: { fourOctetAs: false } },
  { name: 'AS4_AGGREGATOR', attrs: { as4Aggregator: { asn: 4200000100, address: '10.0.0.1' } }, ctx: { fourOctetAs: false } },
  { name: 'LARGE_COMMUNITY', attrs: { largeCommunities: [{ global: 4200000100, local1: 1, local2: 2 }] } },
  { name: 'unknown optional transitive (Partial set)', attrs: { unknown: [{ code: 99, flags: 0xe0, value: Uint8Array.of(1, 2, 3) }] } },
  { name: 'known attribute with Partial bit', attrs: { communities: [1], partial: [8] } },
  { name: 'long COMMUNITIES (extended length)', attrs: { communities: Array.from({ length: 100 }, (_, i) => i + 1) } },
];

export const samples: Sample[] = [
  { name: 'KEEPALIVE', message: { type: 'keepalive' }, ctx: DEFAULT_CONTEXT },
  {
    name: 'OPEN without capabilities',
    message: { type: 'open', version: 4, myAs: 65101, holdTime: 90, bgpId: '10.0.1.13', capabilities: [] },
    ctx: DEFAULT_CONTEXT,
  },
  ...capabilities.map((c) => ({
    name: `OPEN with ${c.name}`,
    message: { type: 'open' as const, version: 4, myAs: 23456, holdTime: 3, bgpId: '255.1.2.3', capabilities: c.caps },
    ctx: DEFAULT_CONTEXT,
  })),
  {
    name: 'OPEN with capabilities beyond 255 bytes (RFC 9072)',
    message: {
      type: 'open',
      version: 4,
      myAs: 65101,
      holdTime: 0,
      bgpId: '10.0.1.13',
      capabilities: Array.from({ length: 60 }, (_, i) => ({ kind: 'multiprotocol' as const, afi: 1, safi: i + 1 })),
    },
    ctx: DEFAULT_CONTEXT,
  },
  ...attributes.map((a) => ({
    name: `UPDATE with ${a.name}`,
    message: { type: 'update' as const, withdrawn: [], attributes: a.attrs, nlri: [] },
    ctx: contextWith(a.ctx ?? {}),
  })),
  {
    name: 'UPDATE announcing IPv4',
    message: { type: 'update', withdrawn: [], attributes: { ...base, med: 5, localPref: 200, communities: [1] }, nlri: v4 },
    ctx: DEFAULT_CONTEXT,
  },
  { name: 'UPDATE withdrawing IPv4', message: { type: 'update', withdrawn: v4, attributes: {}, nlri: [] }, ctx: DEFAULT_CONTEXT },
  {
    name: 'UPDATE with add-path IPv4',
    message: {
      type: 'update',
      withdrawn: [parsePrefix('10.1.0.0/16', 7)],
      attributes: base,
      nlri: [parsePrefix('192.168.0.0/26', 1), parsePrefix('192.168.0.0/26', 2), parsePrefix('192.168.0.64/26', 0xffffffff)],
    },
    ctx: contextWith({ addPathIpv4: true }),
  },
  {
    name: 'UPDATE with add-path IPv6',
    message: {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 0, asPath: [], mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1'], nlri: [parsePrefix('fd00:1::/122', 1), parsePrefix('fd00:1::/122', 2)] }, mpUnreach: { afi: 2, safi: 1, withdrawn: [parsePrefix('fd00:2::/122', 9)] } },
      nlri: [],
    },
    ctx: contextWith({ addPathIpv6: true }),
  },
  { name: 'End-of-RIB IPv4', message: { type: 'update', withdrawn: [], attributes: {}, nlri: [] }, ctx: DEFAULT_CONTEXT },
  { name: 'End-of-RIB IPv6', message: { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] }, ctx: DEFAULT_CONTEXT },
  { name: 'NOTIFICATION without data', message: { type: 'notification', code: 4, subcode: 0, data: new Uint8Array(0) }, ctx: DEFAULT_CONTEXT },
  { name: 'NOTIFICATION with shutdown communication', message: { type: 'notification', code: 6, subcode: 2, data: shutdownData('rack r1 maintenance, back at 18:00 ✓') }, ctx: DEFAULT_CONTEXT },
  { name: 'NOTIFICATION with data', message: { type: 'notification', code: 2, subcode: 1, data: Uint8Array.of(0, 4) }, ctx: DEFAULT_CONTEXT },
  { name: 'ROUTE-REFRESH', message: { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }, ctx: DEFAULT_CONTEXT },
  { name: 'ROUTE-REFRESH BoRR IPv6', message: { type: 'route-refresh', afi: 2, safi: 1, subtype: 1 }, ctx: DEFAULT_CONTEXT },
  { name: 'ROUTE-REFRESH EoRR', message: { type: 'route-refresh', afi: 1, safi: 1, subtype: 2 }, ctx: DEFAULT_CONTEXT },
];
