/**
 * The receive path of an UPDATE (agent/session/receive.ts): which wire UPDATEs are End-of-RIB once
 * the session has applied RFC 7606 treat-as-withdraw and the RFC 6793 merge (RFC 4724 section 2:
 * only an UPDATE empty on the wire is one), what the RIB and the readiness tracker make of a
 * treat-as-withdraw UPDATE that ends up empty, and the RFC 9774 AS_SET count and single log line.
 */

import test from 'ava';
import { contextWith, decodeUpdate, endOfRibFamily, type CodecContext } from '../../agent/bgp/index.js';
import { InitialTables } from '../../agent/daemon/readiness.js';
import { receivedUpdate, UpdateIntake } from '../../agent/session/receive.js';
import { attr, AS_PATH_65100, cat, MANDATORY, NEXT_HOP, NLRI_ONE, ORIGIN_IGP, update } from '../bgp/build.js';
import { announce, down, endOfRib, established, harness, spec } from '../rib/helpers.js';

const FD00 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const mpUnreach6 = (prefixes: number[] = []): Uint8Array => attr(0x90, 15, [0, 2, 1, ...prefixes]);
const BAD_ORIGIN = attr(0x40, 1, [7]);

const rows: { name: string; bytes: Uint8Array; ctx?: Partial<CodecContext>; want: 'ipv4' | 'ipv6' | undefined }[] = [
  { name: 'the empty UPDATE (23 bytes): IPv4 End-of-RIB', bytes: update({}), want: 'ipv4' },
  { name: 'MP_UNREACH_NLRI IPv6 with no prefixes and nothing else: IPv6 End-of-RIB', bytes: update({ attrs: mpUnreach6() }), want: 'ipv6' },
  { name: 'a withdrawal', bytes: update({ withdrawn: NLRI_ONE }), want: undefined },
  { name: 'an announcement', bytes: update({ attrs: MANDATORY, nlri: NLRI_ONE }), want: undefined },
  { name: 'MP_UNREACH_NLRI IPv6 with a prefix', bytes: update({ attrs: mpUnreach6([64, 0xfd, 0, 0, 1, 0, 0, 0, 0]) }), want: undefined },
  { name: 'empty MP_UNREACH_NLRI with ORIGIN beside it', bytes: update({ attrs: cat(ORIGIN_IGP, mpUnreach6()) }), want: undefined },
  // RFC 7606 treat-as-withdraw leaves nothing: still not an End-of-RIB.
  { name: 'treat-as-withdraw (bad ORIGIN), no NLRI', bytes: update({ attrs: cat(BAD_ORIGIN, AS_PATH_65100, NEXT_HOP) }), want: undefined },
  { name: 'treat-as-withdraw (COMMUNITIES of 5 bytes) alone', bytes: update({ attrs: attr(0xc0, 8, [0, 0, 0, 1, 2]) }), want: undefined },
  { name: 'treat-as-withdraw with an empty MP_UNREACH_NLRI', bytes: update({ attrs: cat(mpUnreach6(), attr(0xc0, 8, [1])) }), want: undefined },
  { name: 'treat-as-withdraw, MP_REACH_NLRI of an unknown family', bytes: update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, attr(0x90, 14, [0, 25, 70, 4, 1, 2, 3, 4, 0]), attr(0xc0, 8, [1])) }), want: undefined },
  { name: 'treat-as-withdraw (AS_SET, RFC 9774), IPv6 in MP_REACH_NLRI', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [1, 1, 0, 0, 0xfe, 0x4c]), attr(0x90, 14, [0, 2, 1, 16, ...FD00, 0])) }), want: undefined },
  // RFC 6793: AS4_PATH alone on a 2-octet session is not stripped into an empty UPDATE.
  { name: 'AS4_PATH alone on a 2-octet session', bytes: update({ attrs: attr(0xc0, 17, [2, 1, 0xfa, 0x56, 0xea, 0x65]) }), ctx: { fourOctetAs: false }, want: undefined },
  { name: 'AS4_PATH alone from a 4-octet speaker (discarded)', bytes: update({ attrs: attr(0xc0, 17, [2, 1, 0xfa, 0x56, 0xea, 0x65]) }), want: undefined },
];

const NAME = { 1: 'ipv4', 2: 'ipv6' } as const;

for (const r of rows) {
  test(`End-of-RIB or not: ${r.name}`, (t) => {
    const ctx = contextWith(r.ctx ?? {});
    const u = receivedUpdate(decodeUpdate(r.bytes, ctx), ctx.fourOctetAs);
    const eor = endOfRibFamily(u);
    t.is(eor === undefined ? undefined : NAME[eor.afi as 1 | 2], r.want);
  });
}

const a = spec('10.0.1.1');
const EMPTY_WITHDRAW = update({ attrs: cat(BAD_ORIGIN, AS_PATH_65100, NEXT_HOP) });

test('a treat-as-withdraw UPDATE left empty does not end the wait for the table (lifecycle)', (t) => {
  const tables = new InitialTables(5000);
  tables.observe(established(a), 0);
  const u = receivedUpdate(decodeUpdate(EMPTY_WITHDRAW), true);
  t.is(tables.observe({ type: 'update', peer: a, update: u }, 100), undefined);
  // The genuine End-of-RIB still completes the family.
  t.deepEqual(tables.observe(endOfRib(a), 200), { peer: a.key, family: 'ipv4', by: 'end-of-rib' });
});

test('a treat-as-withdraw UPDATE left empty does not purge a restarting peer\'s stale paths (RIB)', (t) => {
  const h = harness({ staleTime: 300 });
  h.feed(established(a), endOfRib(a), endOfRib(a, 'ipv6'));
  h.feed(announce(a, ['192.168.1.0/26', '192.168.2.0/26'], '10.0.1.1'));
  h.feed(down(a, { restartTime: 120, families: ['ipv4', 'ipv6'] }));
  h.feed(established(a, { peerGracefulRestart: { restartTime: 120, restarting: true, notification: true, families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: true }] } }));
  h.sink.clear();
  h.feed({ type: 'update', peer: a, update: receivedUpdate(decodeUpdate(EMPTY_WITHDRAW), true) });
  t.deepEqual(h.sink.changeLines(), [], 'the stale paths stay until the real End-of-RIB');
  t.is(h.rib.prefixCount('ipv4'), 2);
  h.feed(endOfRib(a));
  t.is(h.rib.prefixCount('ipv4'), 0);
});

// RFC 9774: the count goes up per UPDATE, the warning is written once per session.
const AS_SET_UPDATE = update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [2, 1, 0, 0, 0xfe, 0x4c, 1, 2, 0, 0, 0xfe, 0x4d, 0, 0, 0xfe, 0x4e]), NEXT_HOP), nlri: NLRI_ONE });

function memoryLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string): void => void lines.push({ level, message });
  return { lines, log: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
}

test('AS_SET (RFC 9774): every UPDATE withdrawn and counted, one warning per session', (t) => {
  const { lines, log } = memoryLogger();
  const intake = new UpdateIntake(log, a.key);
  intake.sessionUp();
  for (let i = 0; i < 3; i++) {
    const u = intake.take(decodeUpdate(AS_SET_UPDATE), true);
    t.deepEqual(u.nlri, []);
    t.deepEqual(u.withdrawn.map((p) => p.afi), [1]);
  }
  t.is(intake.asSetWithdrawn, 3);
  const warns = lines.filter((l) => l.level === 'warn');
  t.is(warns.length, 1);
  t.regex(warns[0].message, /AS_SET/);
  intake.sessionUp();
  intake.take(decodeUpdate(AS_SET_UPDATE), true);
  t.is(intake.asSetWithdrawn, 4, 'the count runs on across sessions');
  t.is(lines.filter((l) => l.level === 'warn').length, 2, 'a new session warns once again');
});

// RFC 8950: 192.168.0.0/26 in MP_REACH_NLRI AFI 1 with the 16-byte next hop fd00::1.
const V4_OVER_V6 = update({ attrs: cat(attr(0x90, 14, [0, 1, 1, 16, ...FD00, 0, ...NLRI_ONE]), ORIGIN_IGP, AS_PATH_65100) });

test('IPv6 next hop for IPv4 without extended next hop (RFC 8950): withdrawn, counted, one warning per session', (t) => {
  const { lines, log } = memoryLogger();
  const intake = new UpdateIntake(log, a.key);
  intake.sessionUp();
  for (let i = 0; i < 2; i++) {
    const u = intake.take(decodeUpdate(V4_OVER_V6, contextWith({})), true);
    t.is(u.attributes.mpReach, undefined);
    t.deepEqual(u.withdrawn.map((p) => [p.afi, p.len]), [[1, 26]]);
  }
  t.is(intake.nextHopFamilyWithdrawn, 2);
  t.is(intake.asSetWithdrawn, 0);
  const warns = lines.filter((l) => l.level === 'warn');
  t.is(warns.length, 1);
  t.regex(warns[0].message, /IPv6 next hop fd00::1 for IPv4 NLRI .*rack_agent_next_hop_family_withdrawn_total/);
  // With the capability negotiated, the same UPDATE is an announcement.
  const ok = intake.take(decodeUpdate(V4_OVER_V6, contextWith({ extendedNextHopIpv4: true })), true);
  t.deepEqual(ok.attributes.mpReach?.nextHops, ['fd00::1']);
  t.deepEqual(ok.withdrawn, []);
  t.is(intake.nextHopFamilyWithdrawn, 2);
});
