/**
 * RFC 8950 on the wire: the extended next hop capability (code 5), MP_REACH_NLRI for IPv4 unicast
 * with an IPv6 next hop in every encoding senders use (mpNextHop), the treat-as-withdraw of such a
 * next hop on a session that did not negotiate it, and packing IPv4 prefixes with an IPv6 next hop.
 * The UPDATEs of the encoding cases were captured (tcpdump, tshark) from BIRD 2.0.12 (global and
 * link-local sessions), FRR 8.4 unnumbered and GoBGP 3.10 unnumbered, each sending to a BIRD 2 with
 * `extended next hop on`, and are annotated field by field; the 16-byte global one is by hand.
 * test/e2e/extended-next-hop.test.ts runs the agent itself against BIRD 2.
 */

import test from 'ava';
import {
  CapabilityFault,
  contextWith,
  decodeCapability,
  decodeMessage,
  encodeCapability,
  formatPrefix,
  isTreatAsWithdraw,
  mpNextHop,
  NEXT_HOP_FAMILY_REASON,
  packUpdates,
  parsePrefix,
  UpdateSubcode,
  type UpdateMessage,
} from '../../agent/bgp/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** An UPDATE with no withdrawn routes and no body NLRI around the attributes hex. */
function upd(attrs: string): Uint8Array {
  const a = hex(attrs);
  const out = Buffer.alloc(19 + 4 + a.length, 0xff);
  out.writeUInt16BE(out.length, 16);
  out[18] = 2;
  out.writeUInt16BE(0, 19);
  out.writeUInt16BE(a.length, 21);
  Buffer.from(a).copy(out, 23);
  return Uint8Array.from(out);
}

/** MP_REACH_NLRI (flags 0x90: optional, extended length; code 14) around its value hex. */
function mpReach(value: string): string {
  const v = value.replace(/\s+/g, '');
  return `900e ${(v.length / 2).toString(16).padStart(4, '0')} ${v}`;
}

// ORIGIN IGP; AS_PATH one AS_SEQUENCE [65001] (4-octet).
const ORIGIN_ASPATH = '40010100 40020602010000fde9';
// NLRI: 192.168.10.0/26, 192.168.10.64/26.
const NLRI = '1ac0a80a00 1ac0a80a40';
const ENH = contextWith({ extendedNextHopIpv4: true });
const PLAIN = contextWith({});

test('the extended next hop capability: IPv4 unicast over IPv6 (BIRD 2, FRR 8 send exactly this)', (t) => {
  // Capability code 5, length 6: NLRI AFI 1, NLRI SAFI 1 (16 bits, RFC 8950 section 3), next-hop AFI 2.
  const value = hex('0001 0001 0002');
  const c = decodeCapability(5, value);
  t.deepEqual(c, { kind: 'extended-next-hop', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  const [code, bytes] = encodeCapability(c as Exclude<typeof c, CapabilityFault>);
  t.is(code, 5);
  t.deepEqual(bytes, value);
  // Two tuples (FRR with VPN configured adds <1, 128, 2>).
  t.deepEqual(decodeCapability(5, hex('0001 0001 0002 0001 0080 0002')), { kind: 'extended-next-hop', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }, { afi: 1, safi: 128, nextHopAfi: 2 }] });
});

test('an extended next hop capability that is not 6n bytes is a fault', (t) => {
  for (const v of ['', '0001 0001 00', '0001 0001 0002 00']) t.true(decodeCapability(5, hex(v)) instanceof CapabilityFault, v);
});

interface Case {
  readonly name: string;
  /** Where the bytes come from. */
  readonly source: string;
  /** The whole UPDATE, annotated. */
  readonly bytes: Uint8Array;
  readonly nextHops: readonly string[];
  readonly nextHop: string;
  readonly linkLocal: string;
  readonly nlri: readonly string[];
}

/** Whole-message hex with `#` comments, as the fixtures write it. */
const wire = (text: string): Uint8Array => hex(text.split('\n').map((l) => l.replace(/#.*$/, '')).join(''));

const CASES: readonly Case[] = [
  {
    name: '16-byte global',
    source: 'by hand, in BIRD 2 layout (no capture: BIRD, FRR and GoBGP on a shared link add the link-local)',
    bytes: upd(`${mpReach(`0001 01 10 20010db8000000000000000000000002 00 ${NLRI}`)} ${ORIGIN_ASPATH}`),
    nextHops: ['2001:db8::2'], nextHop: '2001:db8::2', linkLocal: '', nlri: ['192.168.10.0/26', '192.168.10.64/26'],
  },
  {
    name: '32 bytes, global then link-local',
    source: 'captured: BIRD 2.0.12 over global addresses, `ipv4 { extended next hop on; }`',
    bytes: wire(`ffffffffffffffffffffffffffffffff 0052 02   # marker, length 82, UPDATE
      0000 003b                                    # no withdrawn routes; 59 bytes of attributes
      900e 002a                                    # MP_REACH_NLRI, optional, extended length, 42 bytes
      0001 01 20                                   # AFI 1 (IPv4), SAFI 1, next hop 32 bytes
      fd000091000000000000000000000001             # global fd00:91::1
      fe80000000000000000000000000000a             # link-local fe80::a
      00 1a c0a85a00                               # reserved; 192.168.90.0/26
      40010100                                     # ORIGIN IGP
      40020602010000fe42                           # AS_PATH sequence [65090]`),
    nextHops: ['fd00:91::1', 'fe80::a'], nextHop: 'fd00:91::1', linkLocal: 'fe80::a', nlri: ['192.168.90.0/26'],
  },
  {
    name: '32 bytes, :: then link-local',
    source: 'captured: BIRD 2.0.12 on a link-local session (`neighbor fe80::b as ...; interface "to-b";`)',
    bytes: wire(`ffffffffffffffffffffffffffffffff 0052 02   # marker, length 82, UPDATE
      0000 003b                                    # no withdrawn routes; 59 bytes of attributes
      900e 002a 0001 01 20                         # MP_REACH_NLRI, 42 bytes: AFI 1, SAFI 1, next hop 32 bytes
      00000000000000000000000000000000             # global :: (BIRD has no global address on the link)
      fe80000000000000000000000000000a             # link-local fe80::a
      00 1a c0a85a00                               # reserved; 192.168.90.0/26
      40010100 40020602010000fe42                  # ORIGIN IGP; AS_PATH [65090]`),
    nextHops: ['::', 'fe80::a'], nextHop: '', linkLocal: 'fe80::a', nlri: ['192.168.90.0/26'],
  },
  {
    name: '32 bytes, the link-local twice',
    source: 'captured: FRR 8.4 unnumbered (`neighbor to-b interface remote-as external`), to BIRD 2',
    bytes: wire(`ffffffffffffffffffffffffffffffff 005a 02   # marker, length 90, UPDATE
      0000 0043                                    # no withdrawn routes; 67 bytes of attributes
      900e 002a 0001 01 20                         # MP_REACH_NLRI, 42 bytes: AFI 1, SAFI 1, next hop 32 bytes
      fe80000000000000000000000000000a             # "global": the link-local again (no global address)
      fe80000000000000000000000000000a             # link-local fe80::a
      00 1a c0a85d00                               # reserved; 192.168.93.0/26
      40010100                                     # ORIGIN IGP
      5002 0006 02010000fe45                       # AS_PATH, extended length: [65093]
      80040400000000                               # MULTI_EXIT_DISC 0`),
    nextHops: ['fe80::a', 'fe80::a'], nextHop: '', linkLocal: 'fe80::a', nlri: ['192.168.93.0/26'],
  },
  {
    name: '16 bytes, the link-local alone',
    source: 'captured: GoBGP 3.10 unnumbered (`neighbor-interface = "to-b"`), to BIRD 2',
    bytes: wire(`ffffffffffffffffffffffffffffffff 0041 02   # marker, length 65, UPDATE
      0000 002a                                    # no withdrawn routes; 42 bytes of attributes
      40010102                                     # ORIGIN INCOMPLETE (GoBGP puts MP_REACH_NLRI last)
      40020602010000fe44                           # AS_PATH [65092]
      800e 1a 0001 01 10                           # MP_REACH_NLRI, one-byte length 26: AFI 1, SAFI 1, next hop 16 bytes
      fe80000000000000000000000000000a             # link-local fe80::a, alone
      00 1a c0a85c00                               # reserved; 192.168.92.0/26`),
    nextHops: ['fe80::a'], nextHop: '', linkLocal: 'fe80::a', nlri: ['192.168.92.0/26'],
  },
];

for (const c of CASES) {
  test(`IPv4 NLRI with an IPv6 next hop, ${c.name} (${c.source})`, (t) => {
    t.is(c.bytes.length, (c.bytes[16] << 8) | c.bytes[17], 'the annotated bytes are whole');
    const u = decodeMessage(c.bytes, ENH) as UpdateMessage;
    t.is(u.errors, undefined);
    const m = u.attributes.mpReach;
    t.truthy(m);
    t.is(m?.afi, 1);
    t.deepEqual(m?.nextHops, c.nextHops);
    t.deepEqual(m?.nlri.map(formatPrefix), c.nlri);
    t.deepEqual(mpNextHop(m!), { nextHop: c.nextHop, linkLocal: c.linkLocal });
    t.is(u.nlri.length, 0);
    t.is(u.attributes.nextHop, undefined);
  });

  test(`without the capability, ${c.name} is treat-as-withdraw (${c.source})`, (t) => {
    const u = decodeMessage(c.bytes, PLAIN) as UpdateMessage;
    t.true(isTreatAsWithdraw(u));
    t.deepEqual(u.errors?.map((e) => [e.reason, e.subcode, e.action]), [[NEXT_HOP_FAMILY_REASON, UpdateSubcode.INVALID_NEXT_HOP, 'withdraw']]);
    // The NLRI were located: the session can withdraw exactly them.
    t.deepEqual(u.attributes.mpReach?.nlri.map(formatPrefix), c.nlri);
  });
}

test('an IPv4 next hop in MP_REACH_NLRI for IPv4 needs no capability', (t) => {
  const u = decodeMessage(upd(`${mpReach(`0001 01 04 0a000002 00 ${NLRI}`)} ${ORIGIN_ASPATH}`), PLAIN) as UpdateMessage;
  t.is(u.errors, undefined);
  t.deepEqual(mpNextHop(u.attributes.mpReach!), { nextHop: '10.0.0.2', linkLocal: '' });
});

test('IPv6 NLRI read the same way: :: then link-local is the link-local alone', (t) => {
  const u = decodeMessage(upd(`${mpReach('0002 01 20 00000000000000000000000000000000 fe800000000000000000000000000002 00 40 20010db800010000')} ${ORIGIN_ASPATH}`), PLAIN) as UpdateMessage;
  t.is(u.errors, undefined);
  t.deepEqual(mpNextHop(u.attributes.mpReach!), { nextHop: '', linkLocal: 'fe80::2' });
});

test('packing: IPv4 prefixes with an IPv6 next hop go in MP_REACH_NLRI AFI 1, byte for byte', (t) => {
  const attributes = Object.freeze({
    origin: 0 as const,
    asPath: [{ type: 'sequence' as const, asns: [65001] }],
    mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::2'], nlri: [] },
  });
  const prefixes = ['192.168.10.0/26', '192.168.10.64/26'].map((p) => parsePrefix(p));
  const msgs = packUpdates({ announce: [{ attributes, prefixes }] }, ENH);
  t.is(msgs.length, 1);
  const expected = upd(`${mpReach(`0001 01 10 20010db8000000000000000000000002 00 ${NLRI}`)} ${ORIGIN_ASPATH}`);
  t.deepEqual(Buffer.from(msgs[0]).toString('hex'), Buffer.from(expected).toString('hex'));
  // Withdrawals stay in the body (RFC 8950 changes only the next hop).
  const w = decodeMessage(packUpdates({ withdraw: prefixes }, ENH)[0], ENH) as UpdateMessage;
  t.deepEqual(w.withdrawn.map(formatPrefix), ['192.168.10.0/26', '192.168.10.64/26']);
});

test('packing: many IPv4 prefixes with an IPv6 next hop fill messages and decode back', (t) => {
  const attributes = Object.freeze({ origin: 0 as const, asPath: [], mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::2', 'fe80::2'], nlri: [] } });
  const prefixes = Array.from({ length: 3000 }, (_, i) => ({ afi: 1 as const, len: 26, addr: (0x0a000000 + i * 64) >>> 0 }));
  const msgs = packUpdates({ announce: [{ attributes, prefixes }] }, ENH);
  t.true(msgs.length > 1);
  const got: string[] = [];
  for (const m of msgs) {
    t.true(m.length <= 4096);
    const u = decodeMessage(m, ENH) as UpdateMessage;
    t.is(u.errors, undefined);
    t.deepEqual(u.attributes.mpReach?.nextHops, ['2001:db8::2', 'fe80::2']);
    got.push(...u.attributes.mpReach!.nlri.map(formatPrefix));
  }
  t.deepEqual(got, prefixes.map(formatPrefix));
});
