/**
 * Golden cases in the shapes of other implementations' public test messages (ExaBGP's functional
 * test messages, OpenBGPD's regress inputs): the facts carry over, the bytes are our own, written
 * here by hand. Each case names its shape's source (README.md "Tests and benchmarks" lists where each shape came from) and
 * asserts the decoded structure, or the exact code/subcode/action of the RFC 7606 (RFC 4271 s6,
 * RFC 7607, RFC 6793) finding for a malformed one.
 */

import test from 'ava';
import {
  BgpError,
  contextWith,
  decodeMessage,
  endOfRibFamily,
  formatPrefix,
  mergeAs4,
  shutdownCommunication,
  type CodecContext,
  type ErrorAction,
  type Message,
  type Prefix,
  type UpdateMessage,
} from '../../agent/bgp/index.js';

/** A whole message from its type and body hex (spaces allowed): marker and length added. */
function msg(type: number, body: string): Uint8Array {
  const b = Buffer.from(body.replace(/\s+/g, ''), 'hex');
  const out = Buffer.alloc(19 + b.length, 0xff);
  out.writeUInt16BE(out.length, 16);
  out[18] = type;
  b.copy(out, 19);
  return Uint8Array.from(out);
}

/** An UPDATE with no withdrawn routes, the attributes hex and the NLRI hex. */
function upd(attrs: string, nlri = ''): Uint8Array {
  const a = attrs.replace(/\s+/g, '');
  const len = (a.length / 2).toString(16).padStart(4, '0');
  return msg(2, `0000 ${len} ${a} ${nlri}`);
}

const prefixes = (p: readonly Prefix[]): string[] => p.map(formatPrefix);

// ORIGIN IGP, AS_PATH sequence [64502] (4-octet), NEXT_HOP 10.12.57.3: the base of the attribute cases.
const BASE = '40010100 4002060201 0000fbf6 4003040a0c3903';
const BASE_2OCTET = '40010100 400204 0201fbf6 4003040a0c3903';

interface Good {
  readonly name: string;
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly ctx?: Partial<CodecContext>;
  check(t: import('ava').ExecutionContext, m: Message): void;
}

const good: Good[] = [
  {
    name: 'IPv4 UPDATE with two large communities and an empty AS_PATH (iBGP)',
    source: 'ExaBGP conf-largecommunity',
    bytes: upd('40010100 400200 400304c0000201 40050400000064 c02018 0000fc00 00000001 00000002 fa56ea00 00000003 00000004', '20c6336407'),
    check: (t, m) => {
      const u = m as UpdateMessage;
      t.deepEqual(u.attributes.asPath, []);
      t.is(u.attributes.nextHop, '192.0.2.1');
      t.is(u.attributes.localPref, 100);
      t.deepEqual(u.attributes.largeCommunities, [{ global: 64512, local1: 1, local2: 2 }, { global: 4200000000, local1: 3, local2: 4 }]);
      t.deepEqual(prefixes(u.nlri), ['198.51.100.7/32']);
      t.is(u.errors, undefined);
    },
  },
  {
    name: '2-octet AS session: AS_PATH of 2-byte ASNs',
    source: 'ExaBGP conf-no-asn4',
    bytes: upd('40010100 400204 0201fde9 4003040a00fffe 40050400000064', '180a0001'),
    ctx: { fourOctetAs: false },
    check: (t, m) => {
      const u = m as UpdateMessage;
      t.deepEqual(u.attributes.asPath, [{ type: 'sequence', asns: [65001] }]);
      t.is(u.attributes.nextHop, '10.0.255.254');
      t.deepEqual(prefixes(u.nlri), ['10.0.1.0/24']);
    },
  },
  {
    name: 'IPv4 NLRI with an IPv6 next hop in MP_REACH_NLRI (RFC 8950)',
    source: 'ExaBGP extended-nexthop',
    bytes: upd('800e19 0001 01 10 20010db8000000000000000000000001 00 18cb0071 40010100 400200 40050400000064'),
    check: (t, m) => {
      const r = (m as UpdateMessage).attributes.mpReach!;
      t.deepEqual([r.afi, r.safi, r.nextHops, prefixes(r.nlri)], [1, 1, ['2001:db8::1'], ['203.0.113.0/24']]);
    },
  },
  {
    name: 'IPv6 End-of-RIB whose MP_UNREACH_NLRI uses the extended length flag',
    source: 'ExaBGP extended-nexthop, conf-new-v6',
    bytes: upd('900f0003 000201'),
    check: (t, m) => t.deepEqual(endOfRibFamily(m as UpdateMessage), { afi: 2, safi: 1 }),
  },
  {
    name: 'End-of-RIB of a family we do not parse (IPv4 MPLS VPN) stays raw and is no IPv4 End-of-RIB',
    source: 'ExaBGP extended-nexthop',
    bytes: upd('900f0003 000180'),
    check: (t, m) => {
      const un = (m as UpdateMessage).attributes.mpUnreach!;
      t.deepEqual([un.afi, un.safi, un.withdrawn.length], [1, 128, 0]);
      t.truthy(un.raw);
      t.is(endOfRibFamily(m as UpdateMessage), undefined);
    },
  },
  {
    name: 'IPv6 MP_REACH_NLRI with a global next hop, three /128s and communities',
    source: 'ExaBGP conf-new-v6',
    bytes: upd(
      '40010100 400200 40050400000064 c00808 fde80001 fde8fde8 ' +
        '800e48 0002 01 10 20010db80000000000000000000000fe 00 80 20010db8000000010000000000000001 80 20010db8000000010000000000000002 80 20010db8000000020000000000000000',
    ),
    check: (t, m) => {
      const a = (m as UpdateMessage).attributes;
      t.deepEqual(a.communities, [0xfde80001, 0xfde8fde8]);
      t.deepEqual(a.mpReach!.nextHops, ['2001:db8::fe']);
      t.deepEqual(prefixes(a.mpReach!.nlri), ['2001:db8:0:1::1/128', '2001:db8:0:1::2/128', '2001:db8:0:2::/128']);
    },
  },
  {
    name: 'add-path IPv4 NLRI with a path identifier and an extended community',
    source: 'ExaBGP conf-addpath',
    bytes: upd(`${BASE} c01008 0002fc0000000001`, '0000002a 20c6336401'),
    ctx: { addPathIpv4: true },
    check: (t, m) => {
      const u = m as UpdateMessage;
      t.deepEqual(u.attributes.extendedCommunities, [0x0002fc0000000001n]);
      t.deepEqual(prefixes(u.nlri), ['198.51.100.1/32#42']);
    },
  },
  {
    name: 'unknown optional transitive attribute (OTC, code 35, not implemented) is passed on with Partial set',
    source: 'OpenBGPD integrationtests exabgp.attr (OTC row)',
    bytes: upd(`${BASE} c0230102`, '180a0c07'),
    check: (t, m) => {
      const u = m as UpdateMessage;
      t.deepEqual(u.attributes.unknown, [{ code: 35, flags: 0xe0, value: Uint8Array.of(2) }]);
      t.is(u.errors, undefined);
    },
  },
  {
    name: 'OPEN with AS_TRANS, 4-octet AS, FQDN-style and unknown capabilities',
    source: 'ExaBGP conf-unknowncap, conf-hostname',
    bytes: msg(1, '04 5ba0 00b4 0a000002 1d 021b 01040001 0001 0200 4104fa56ea01 4906 0368 6f73 7400 ab03 010203'),
    check: (t, m) => {
      const o = m as Extract<Message, { type: 'open' }>;
      t.is(o.myAs, 23456);
      t.deepEqual(o.capabilities, [
        { kind: 'multiprotocol', afi: 1, safi: 1 },
        { kind: 'route-refresh' },
        { kind: 'four-octet-as', asn: 4200000001 },
        { kind: 'unknown', code: 73, value: Uint8Array.of(3, 0x68, 0x6f, 0x73, 0x74, 0) },
        { kind: 'unknown', code: 0xab, value: Uint8Array.of(1, 2, 3) },
      ]);
    },
  },
  ...[0, 1, 2, 3].map((subtype): Good => ({
    name: `ROUTE-REFRESH subtype ${subtype} (RFC 7313: 0 request, 1 BoRR, 2 EoRR, others decode for the session to ignore)`,
    source: 'ExaBGP api-rr, OpenBGPD integrationtests',
    bytes: msg(5, `0002 0${subtype} 01`),
    check: (t, m) => t.deepEqual(m, { type: 'route-refresh', afi: 2, subtype, safi: 1 }),
  })),
  {
    name: 'NOTIFICATION Cease / Administrative Shutdown with an RFC 9003 communication',
    source: 'ExaBGP api-notification',
    bytes: msg(3, `0602 12 ${Buffer.from('maintenance window').toString('hex')}`),
    check: (t, m) => {
      const n = m as Extract<Message, { type: 'notification' }>;
      t.deepEqual([n.code, n.subcode, shutdownCommunication(n)], [6, 2, 'maintenance window']);
    },
  },
  {
    name: 'NOTIFICATION with free-text data under an unspecific subcode',
    source: 'ExaBGP unknown-message',
    bytes: msg(3, `0100 ${Buffer.from('no such message type').toString('hex')}`),
    check: (t, m) => {
      const n = m as Extract<Message, { type: 'notification' }>;
      t.deepEqual([n.code, n.subcode, Buffer.from(n.data).toString()], [1, 0, 'no such message type']);
    },
  },
  {
    name: 'AS4_PATH with a confederation segment from a 2-octet speaker: the segment is dropped, the rest merged (RFC 6793 s6)',
    source: 'OpenBGPD exabgp.as0 (AS4_PATH on an asn4-disabled session)',
    bytes: upd('40010100 4002080203 fbf75ba0fbf9 4003040a0c3904 c01114 0301 0000fde8 0203 0000fbf7 fa56ea01 0000fbf9', '180a0d04'),
    ctx: { fourOctetAs: false },
    check: (t, m) => {
      const u = m as UpdateMessage;
      t.deepEqual(u.attributes.as4Path, [{ type: 'sequence', asns: [64503, 4200000001, 64505] }]);
      t.deepEqual(mergeAs4(u.attributes, false).asPath, [{ type: 'sequence', asns: [64503, 4200000001, 64505] }]);
      t.is(u.errors, undefined);
    },
  },
  {
    name: '1000 communities in one COMMUNITIES attribute with the extended length flag',
    source: 'OpenBGPD integrationtests maxcomm',
    bytes: upd(`${BASE} d0080fa0 ${Array.from({ length: 1000 }, (_, i) => `fde8${i.toString(16).padStart(4, '0')}`).join('')}`, '180a0c09'),
    check: (t, m) => {
      const c = (m as UpdateMessage).attributes.communities!;
      t.deepEqual([c.length, c[0], c[999]], [1000, 0xfde80000, 0xfde803e7]);
    },
  },
  {
    name: 'UPDATE of 5003 bytes with extended messages (RFC 8654)',
    source: 'ExaBGP extended message capability',
    bytes: upd(BASE, '180a0c00'.repeat(1240)),
    ctx: { maxLength: 65535 },
    check: (t, m) => t.is((m as UpdateMessage).nlri.length, 1240),
  },
];

for (const c of good) {
  test(`decodes: ${c.name} [${c.source}]`, (t) => {
    c.check(t, decodeMessage(c.bytes, contextWith(c.ctx ?? {})));
  });
}

interface Bad {
  readonly name: string;
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly ctx?: Partial<CodecContext>;
  /** Where RFC 7606 keeps the session: the finding in UpdateMessage.errors; 'reset' is thrown. */
  readonly code: number;
  readonly subcode: number;
  readonly action: ErrorAction;
}

// OpenBGPD's attribute regress sends each optional attribute with a 1-byte value.
const oneByte = (code: number): string => `c0${code.toString(16).padStart(2, '0')}0102`;

const bad: Bad[] = [
  { name: 'AGGREGATOR of 1 byte: attribute discard (RFC 7606 s7.7)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE} ${oneByte(7)}`, '180a0c01'), code: 3, subcode: 5, action: 'discard' },
  { name: 'COMMUNITIES of 1 byte: treat-as-withdraw (RFC 7606 s7.8)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE} ${oneByte(8)}`, '180a0c02'), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'EXTENDED_COMMUNITIES of 1 byte: treat-as-withdraw (RFC 7606 s7.14)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE} ${oneByte(16)}`, '180a0c03'), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'AS4_PATH from a 4-octet speaker: discarded (RFC 6793 s4.1)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE} ${oneByte(17)}`, '180a0c04'), code: 3, subcode: 9, action: 'discard' },
  { name: 'AS4_AGGREGATOR from a 4-octet speaker: discarded (RFC 6793 s4.1)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE} ${oneByte(18)}`, '180a0c05'), code: 3, subcode: 9, action: 'discard' },
  { name: 'LARGE_COMMUNITY of 1 byte: treat-as-withdraw (RFC 8092 s5)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE} ${oneByte(32)}`, '180a0c06'), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'AS4_PATH of 1 byte on a 2-octet session: discarded (RFC 6793 s6, RFC 7606 s7.2)', source: 'OpenBGPD exabgp.attr', bytes: upd(`${BASE_2OCTET} ${oneByte(17)}`, '180a0c04'), ctx: { fourOctetAs: false }, code: 3, subcode: 11, action: 'discard' },
  { name: 'empty AS4_PATH on a 2-octet session: malformed, discarded (RFC 6793 s6: under 6 bytes)', source: 'OpenBGPD exabgp.attr (AS4_PATH row)', bytes: upd(`${BASE_2OCTET} c01100`, '180a0c04'), ctx: { fourOctetAs: false }, code: 3, subcode: 11, action: 'discard' },
  { name: 'AS 0 in AS_PATH: treat-as-withdraw (RFC 7607 s2)', source: 'OpenBGPD exabgp.as0', bytes: upd('40010100 40020e0203 0000fbf6 00000000 0000fbf9 4003040a0c3903', '180a0c02'), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AGGREGATOR with AS 0: attribute discard (RFC 7607 s2)', source: 'OpenBGPD exabgp.as0', bytes: upd(`${BASE} c00708 00000000 7f000001`, '180a0c03'), code: 3, subcode: 9, action: 'discard' },
  {
    name: 'AS4_PATH with AS 0 on a 2-octet session: discarded (RFC 7607 s2, RFC 6793 s6)',
    source: 'OpenBGPD exabgp.as0',
    bytes: upd('40010100 4002080203 fbf75ba0fbf9 4003040a0c3904 c0110e0203 0000fbf7 00000000 0000fbf9', '180a0d02'),
    ctx: { fourOctetAs: false },
    code: 3, subcode: 11, action: 'discard',
  },
  {
    name: 'AS4_AGGREGATOR with AS 0 on a 2-octet session: discarded (RFC 7607 s2)',
    source: 'OpenBGPD exabgp.as0',
    bytes: upd(`${BASE_2OCTET} c00706 5ba0 7f000001 c01208 00000000 7f000001`, '180a0d03'),
    ctx: { fourOctetAs: false },
    code: 3, subcode: 9, action: 'discard',
  },
  { name: 'unknown message type 255: Bad Message Type (RFC 4271 s6.1)', source: 'ExaBGP unknown-message', bytes: msg(255, ''), code: 1, subcode: 3, action: 'reset' },
  { name: 'UPDATE of 5003 bytes without extended messages: Bad Message Length (RFC 8654 s4)', source: 'ExaBGP extended message capability', bytes: upd(BASE, '180a0c00'.repeat(1240)), code: 1, subcode: 2, action: 'reset' },
  { name: 'ROUTE-REFRESH of 24 bytes: Invalid Message Length (RFC 7313 s5)', source: 'ExaBGP api-rr', bytes: msg(5, '0001000100'), code: 7, subcode: 1, action: 'reset' },
];

for (const c of bad) {
  test(`rejects: ${c.name} [${c.source}]`, (t) => {
    const ctx = contextWith(c.ctx ?? {});
    let found: BgpError | undefined;
    try {
      const m = decodeMessage(c.bytes, ctx);
      t.is(m.type, 'update');
      const errors = (m as UpdateMessage).errors ?? [];
      t.is(errors.length, 1, errors.map((e) => e.reason).join(', '));
      found = errors[0];
    } catch (err) {
      if (!(err instanceof BgpError)) throw err;
      found = err;
    }
    t.deepEqual({ code: found?.code, subcode: found?.subcode, action: found?.action }, { code: c.code, subcode: c.subcode, action: c.action });
  });
}
