/**
 * The session's pure helpers as tables: RFC 7606 treat-as-withdraw, the RFC 4724 / 8538 decision
 * on down, the RFC 4271 section 6.8 collision rule, the Cease of an administrative stop, socket
 * error words, outbound slicing, and the listener's address and TTL-floor rules.
 */

import test from 'ava';
import { parsePrefix, formatPrefix, type Prefix } from '../../agent/bgp/prefix.js';
import { decodeNotification, encodeNotification } from '../../agent/bgp/notification.js';
import type { UpdateMessage } from '../../agent/bgp/update.js';
import { adminShutdown, asWithdrawal, describeNotify, gracefulRestartOnDown } from '../../agent/session/inbound.js';
import { socketErrorWords } from '../../agent/session/socket-errors.js';
import { listenerMinTtl, plainAddress } from '../../agent/session/listener.js';
import { buildOpen, negotiate } from '../../agent/session/negotiate.js';
import { sliceOutbound } from '../../agent/session/transmit.js';
import type { Negotiated } from '../../agent/contracts/engines.js';

const p = (s: string): Prefix => parsePrefix(s);
const texts = (list: readonly Prefix[]): string[] => list.map(formatPrefix);

test('asWithdrawal: body NLRI, MP_REACH_NLRI and existing withdrawals all become withdrawals', (t) => {
  const u: UpdateMessage = {
    type: 'update',
    withdrawn: [p('10.0.0.0/24')],
    nlri: [p('10.1.0.0/24')],
    attributes: {
      origin: 0,
      nextHop: '10.9.9.9',
      mpReach: { afi: 2, safi: 1, nextHops: ['fd00::1'], nlri: [p('fd10::/64')] },
      mpUnreach: { afi: 2, safi: 1, withdrawn: [p('fd20::/64')] },
    },
  };
  const w = asWithdrawal(u);
  t.deepEqual(texts(w.withdrawn), ['10.0.0.0/24', '10.1.0.0/24']);
  t.deepEqual(w.nlri, []);
  t.deepEqual(Object.keys(w.attributes), ['mpUnreach']);
  t.deepEqual(texts(w.attributes.mpUnreach?.withdrawn ?? []), ['fd20::/64', 'fd10::/64']);
  t.is(w.errors, undefined);
});

test('asWithdrawal: an IPv4-only UPDATE keeps no attributes', (t) => {
  const w = asWithdrawal({ type: 'update', withdrawn: [], nlri: [p('10.1.0.0/24')], attributes: { origin: 0 } });
  t.deepEqual(w.attributes, {});
  t.deepEqual(texts(w.withdrawn), ['10.1.0.0/24']);
});

function negotiated(o: { local: boolean; peer: boolean; peerN?: boolean; families?: ('ipv4' | 'ipv6')[] }): Negotiated {
  const gr = { restartTime: 120, restarting: false, forwarding: false };
  const local = buildOpen({ asn: 65101, routerId: '10.0.0.1', holdTime: 90, families: ['ipv4', 'ipv6'], ...(o.local ? { gracefulRestart: gr } : {}) });
  const peerOpen = buildOpen({ asn: 65100, routerId: '10.0.0.2', holdTime: 90, families: o.families ?? ['ipv4', 'ipv6'], ...(o.peer ? { gracefulRestart: gr } : {}) });
  const peer = o.peerN === false
    ? { ...peerOpen, capabilities: peerOpen.capabilities.map((c) => (c.kind === 'graceful-restart' ? { ...c, notification: false } : c)) }
    : peerOpen;
  return negotiate(local, peer, true);
}

const HOLD = { code: 4, subcode: 0 };
const ADMIN = { code: 6, subcode: 2 };
const HARD = { code: 6, subcode: 9 };
const grRows: { title: string; n: Negotiated | undefined; end: Parameters<typeof gracefulRestartOnDown>[1]; keep: boolean }[] = [
  { title: 'TCP reset, both sent GR', n: negotiated({ local: true, peer: true }), end: { adminStop: false }, keep: true },
  { title: 'our administrative stop', n: negotiated({ local: true, peer: true }), end: { adminStop: true }, keep: false },
  { title: 'peer without GR', n: negotiated({ local: true, peer: false }), end: { adminStop: false }, keep: false },
  { title: 'we without GR', n: negotiated({ local: false, peer: true }), end: { adminStop: false }, keep: false },
  { title: 'hold timer expired, N bit both ways (RFC 8538)', n: negotiated({ local: true, peer: true }), end: { sent: HOLD, adminStop: false }, keep: true },
  { title: 'hold timer expired, peer without N bit', n: negotiated({ local: true, peer: true, peerN: false }), end: { sent: HOLD, adminStop: false }, keep: false },
  { title: 'Cease received, N bit', n: negotiated({ local: true, peer: true }), end: { received: ADMIN, adminStop: false }, keep: true },
  { title: 'Hard Reset received', n: negotiated({ local: true, peer: true }), end: { received: HARD, adminStop: false }, keep: false },
  { title: 'Hard Reset sent', n: negotiated({ local: true, peer: true }), end: { sent: HARD, adminStop: false }, keep: false },
  { title: 'never negotiated', n: undefined, end: { adminStop: false }, keep: false },
  // RFC 5882 section 4.3: C=1, BFD survives a control-plane restart, so its failure is a forwarding
  // failure: the routes go. C=0: BFD may have gone down with a restarting control plane: GR rules.
  { title: 'BFD down, peer C=1 (forwarding failed), GR negotiated', n: negotiated({ local: true, peer: true }), end: { adminStop: false, bfdDown: { controlPlaneIndependent: true } }, keep: false },
  { title: 'BFD down, peer C=0, GR negotiated', n: negotiated({ local: true, peer: true }), end: { adminStop: false, bfdDown: { controlPlaneIndependent: false } }, keep: true },
  { title: 'BFD down, peer C=0, peer without GR', n: negotiated({ local: true, peer: false }), end: { adminStop: false, bfdDown: { controlPlaneIndependent: false } }, keep: false },
  { title: 'BFD down, peer C=1, peer without GR', n: negotiated({ local: true, peer: false }), end: { adminStop: false, bfdDown: { controlPlaneIndependent: true } }, keep: false },
];

for (const r of grRows) {
  test(`gracefulRestartOnDown: ${r.title}`, (t) => {
    const got = gracefulRestartOnDown(r.n, r.end);
    if (r.keep) t.deepEqual(got, { restartTime: 120, families: ['ipv4', 'ipv6'] });
    else t.is(got, null);
  });
}

test('gracefulRestartOnDown: only families both negotiated', (t) => {
  t.deepEqual(gracefulRestartOnDown(negotiated({ local: true, peer: true, families: ['ipv4'] }), { adminStop: false })?.families, ['ipv4']);
});

test('adminShutdown: plain Cease without the N bit, Hard Reset around it with', (t) => {
  const plain = adminShutdown('maintenance', negotiated({ local: true, peer: true, peerN: false }));
  t.deepEqual([plain.code, plain.subcode], [6, 2]);
  t.is(describeNotify(plain), 'Cease / Administrative Shutdown: "maintenance"');
  const hard = adminShutdown('maintenance', negotiated({ local: true, peer: true }));
  // RFC 8538 section 3: the Hard Reset carries the encapsulated code, subcode and data.
  t.deepEqual([hard.code, hard.subcode, hard.data?.[0], hard.data?.[1]], [6, 9, 6, 2]);
  const wire = decodeNotification(encodeNotification({ code: hard.code, subcode: hard.subcode, data: hard.data ?? new Uint8Array(0) }));
  t.is(describeNotify(wire), 'Cease / Hard Reset (Cease / Administrative Shutdown: "maintenance")');
  t.deepEqual([...adminShutdown('', undefined).data ?? []], []);
});

test('socketErrorWords', (t) => {
  const err = (code: string): Error => Object.assign(new Error(`connect ${code} 10.0.0.2:179`), { code });
  t.is(socketErrorWords(err('ECONNREFUSED')), 'Socket: Connection refused');
  t.is(socketErrorWords(err('EHOSTUNREACH')), 'Socket: No route to host');
  t.is(socketErrorWords(err('EWHATEVER')), 'Socket: connect EWHATEVER 10.0.0.2:179');
  t.is(socketErrorWords('odd'), 'Socket: odd');
});

test('sliceOutbound keeps order and attributes, at most `size` prefixes a slice', (t) => {
  const many = Array.from({ length: 5 }, (_, i) => p(`10.0.${i}.0/24`));
  const attrs = { origin: 0 as const, nextHop: '10.9.9.9' };
  const slices = sliceOutbound({ withdraw: many.slice(0, 3), announce: [{ attributes: attrs, prefixes: many }] }, 2);
  t.deepEqual(slices.map((s) => [texts(s.withdraw ?? []), texts(s.announce?.[0]?.prefixes ?? [])]), [
    [['10.0.0.0/24', '10.0.1.0/24'], []],
    [['10.0.2.0/24'], []],
    [[], ['10.0.0.0/24', '10.0.1.0/24']],
    [[], ['10.0.2.0/24', '10.0.3.0/24']],
    [[], ['10.0.4.0/24']],
  ]);
  t.true(slices.slice(2).every((s) => s.announce?.[0]?.attributes === attrs));
  t.deepEqual(sliceOutbound({}), []);
});

test('listener: IPv4-mapped addresses and the GTSM floor', (t) => {
  t.is(plainAddress('::ffff:10.0.0.1'), '10.0.0.1');
  t.is(plainAddress('fd00::1'), 'fd00::1');
  t.is(plainAddress('::ffff:zz'), '::ffff:zz');
  const peer = (ttlSecurity: number) => ({ address: '10.0.0.1', md5Key: '', ttlSecurity });
  t.is(listenerMinTtl([]), 0);
  t.is(listenerMinTtl([peer(1), peer(0)]), 0, 'one peer without GTSM: no floor on the shared socket');
  t.is(listenerMinTtl([peer(1), peer(1)]), 255);
  t.is(listenerMinTtl([peer(1), peer(3)]), 253, 'the most hops decide');
});
