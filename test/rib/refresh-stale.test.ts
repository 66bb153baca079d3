/**
 * Enhanced route refresh, receiving side (RFC 7313 section 4), with a fake clock: at a peer's BoRR
 * its routes of the family are marked stale, re-advertised ones lose the mark, EoRR (or the 360 s
 * timer) purges the rest; a second BoRR restarts the refresh; an EoRR without BoRR and a GR peer's
 * BoRR before End-of-RIB are ignored; a session that goes down mid-refresh is the normal down.
 */

import test from 'ava';
import type { PeerGracefulRestart, PeerSpec, SessionEvent } from '../../agent/contracts/engines.js';
import type { RefreshReport } from '../../agent/rib/refresh-stale.js';
import { announce, down, endOfRib, established, harness, spec, withdraw } from './helpers.js';
import type { FamilyName } from '../../agent/bgp/families.js';

const a = spec('10.0.1.1');
const b = spec('10.0.1.2');
const marker = (peer: PeerSpec, m: 'begin' | 'end', family: FamilyName = 'ipv4'): SessionEvent => ({ type: 'refresh-marker', peer, family, marker: m });
const borr = (peer: PeerSpec, family: FamilyName = 'ipv4'): SessionEvent => marker(peer, 'begin', family);
const eorr = (peer: PeerSpec, family: FamilyName = 'ipv4'): SessionEvent => marker(peer, 'end', family);
const GR_CAP: PeerGracefulRestart = {
  restartTime: 120,
  restarting: false,
  notification: true,
  families: [
    { afi: 1, safi: 1, forwarding: true },
    { afi: 2, safi: 1, forwarding: true },
  ],
};
const P = ['192.168.1.0/26', '192.168.2.0/26', '192.168.3.0/26'];

/** Peers a and b Established with enhanced route refresh, a's table (P and one IPv6 prefix) in. */
function refreshing(o: { gr?: boolean } = {}) {
  const reports: { peer: string; r: RefreshReport }[] = [];
  const h = harness({ onRefresh: (peer, r) => reports.push({ peer, r }) });
  const opts = { enhancedRouteRefresh: true, ...(o.gr ? { peerGracefulRestart: GR_CAP } : {}) };
  h.feed(established(a, opts), established(b, opts), endOfRib(a), endOfRib(a, 'ipv6'), endOfRib(b), endOfRib(b, 'ipv6'));
  h.feed(announce(a, [...P, 'fd00:100::/122'], '10.0.1.1'), announce(b, ['192.168.9.0/26'], '10.0.1.2'));
  h.sink.clear();
  return { ...h, reports };
}

const table = (h: ReturnType<typeof refreshing>): string[] =>
  h.rib
    .routes()
    .map((r) => `${r.prefix}`)
    .sort();

interface Row {
  readonly title: string;
  /** Events after the table is in; `tick:N` advances the fake clock N seconds. */
  readonly steps: readonly (SessionEvent | `tick:${number}`)[];
  /** FIB changes, in order. */
  readonly changes: readonly string[];
  readonly prefixes: number;
}

const rows: Row[] = [
  {
    title: 'BoRR, two re-advertised, EoRR: only the third is withdrawn',
    steps: [borr(a), announce(a, P.slice(0, 2), '10.0.1.1'), eorr(a)],
    changes: ['192.168.3.0/26: -'],
    prefixes: 4,
  },
  {
    title: 'a re-advertisement with other attributes is a change, the unrefreshed one goes at EoRR',
    steps: [borr(a), announce(a, P.slice(0, 2), '10.0.1.9'), eorr(a)],
    changes: ['192.168.1.0/26: 10.0.1.1@10.0.1.9', '192.168.2.0/26: 10.0.1.1@10.0.1.9', '192.168.3.0/26: -'],
    prefixes: 4,
  },
  {
    title: 'nothing happens before EoRR: the stale routes stay in use',
    steps: [borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), 'tick:359'],
    changes: [],
    prefixes: 5,
  },
  {
    title: 'EoRR never comes: the stale routes are purged at 360 s',
    steps: [borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), 'tick:360'],
    changes: ['192.168.2.0/26: -', '192.168.3.0/26: -'],
    prefixes: 3,
  },
  {
    title: 'BoRR twice: the second marks again, so what only the first refresh saw goes at EoRR',
    steps: [borr(a), announce(a, P, '10.0.1.1'), borr(a), announce(a, P.slice(2), '10.0.1.1'), eorr(a)],
    changes: ['192.168.1.0/26: -', '192.168.2.0/26: -'],
    prefixes: 3,
  },
  {
    title: 'BoRR twice: the second restarts the timer',
    steps: [borr(a), 'tick:300', borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), 'tick:300'],
    changes: [],
    prefixes: 5,
  },
  {
    title: 'BoRR twice, then the restarted timer ends 360 s after the second',
    steps: [borr(a), 'tick:300', borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), 'tick:359', 'tick:1'],
    changes: ['192.168.2.0/26: -', '192.168.3.0/26: -'],
    prefixes: 3,
  },
  {
    title: 'an EoRR without BoRR is ignored',
    steps: [eorr(a)],
    changes: [],
    prefixes: 5,
  },
  {
    title: 'a second EoRR is ignored (the refresh is over)',
    steps: [borr(a), announce(a, P, '10.0.1.1'), eorr(a), eorr(a), 'tick:400'],
    changes: [],
    prefixes: 5,
  },
  {
    title: 'a withdrawal during the refresh is a withdrawal',
    steps: [borr(a), withdraw(a, P.slice(0, 1)), announce(a, P.slice(1), '10.0.1.1'), eorr(a)],
    changes: ['192.168.1.0/26: -'],
    prefixes: 4,
  },
  {
    title: 'one family: IPv6 and the other peer are untouched by an IPv4 refresh',
    steps: [borr(a), eorr(a)],
    changes: ['192.168.1.0/26: -', '192.168.2.0/26: -', '192.168.3.0/26: -'],
    prefixes: 2,
  },
  {
    title: 'an IPv6 refresh purges the IPv6 route only',
    steps: [borr(a, 'ipv6'), eorr(a, 'ipv6')],
    changes: ['fd00:100::/122: -'],
    prefixes: 4,
  },
  {
    title: 'a session down mid-refresh without graceful restart flushes as always; no timer left',
    steps: [borr(a), down(a), 'tick:400'],
    changes: ['192.168.1.0/26: -', '192.168.2.0/26: -', '192.168.3.0/26: -', 'fd00:100::/122: -'],
    prefixes: 1,
  },
];

for (const row of rows) {
  test(row.title, (t) => {
    const h = refreshing();
    for (const s of row.steps) {
      if (typeof s === 'string') {
        h.clock.advance(Number(s.slice(5)) * 1000);
        h.feed();
      } else h.feed(s);
    }
    t.deepEqual(h.sink.changeLines(), [...row.changes]);
    t.is(h.rib.prefixCount(), row.prefixes, table(h).join(' '));
  });
}

test('accepted counts follow the purge', (t) => {
  const h = refreshing();
  h.feed(borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), eorr(a));
  t.deepEqual(h.rib.peerCounts(a.key), { received: 2, accepted: 2, advertised: 0 });
  t.deepEqual(h.rib.peerCounts(b.key), { received: 1, accepted: 1, advertised: 0 });
});

test('the refresh is reported: begin, restarted, end with the count purged, timeout, ignored', (t) => {
  const h = refreshing();
  h.feed(borr(a), borr(a), announce(a, P.slice(0, 2), '10.0.1.1'), eorr(a), eorr(a), borr(a, 'ipv6'));
  h.clock.advance(360_000);
  h.feed();
  t.deepEqual(
    h.reports.map(({ peer, r }) => `${peer} ${r.what} ${r.family} ${'purged' in r ? r.purged : 'reason' in r ? r.reason : r.restarted ? 'restarted' : 'first'}`),
    [
      `${a.key} begin ipv4 first`,
      `${a.key} begin ipv4 restarted`,
      `${a.key} end ipv4 1`,
      `${a.key} ignored ipv4 EoRR without BoRR`,
      `${a.key} begin ipv6 first`,
      `${a.key} timeout ipv6 1`,
    ],
  );
});

test('RFC 7313 section 4: a graceful-restart peer\'s BoRR before its End-of-RIB is ignored', (t) => {
  const reports: RefreshReport[] = [];
  const h = harness({ onRefresh: (_p, r) => reports.push(r) });
  h.feed(established(a, { enhancedRouteRefresh: true, peerGracefulRestart: GR_CAP }), announce(a, P, '10.0.1.1'));
  h.feed(borr(a), eorr(a));
  t.is(h.rib.prefixCount(), 3, 'nothing purged');
  t.deepEqual(
    reports.map((r) => `${r.what} ${'reason' in r ? r.reason : ''}`),
    ['ignored BoRR before End-of-RIB', 'ignored EoRR without BoRR'],
  );
  h.feed(endOfRib(a), borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), eorr(a));
  t.is(h.rib.prefixCount(), 1, 'after End-of-RIB the refresh works');
});

test('graceful restart mid-refresh: the marked routes become GR-stale, the refresh timer is gone, End-of-RIB decides', (t) => {
  const h = refreshing({ gr: true });
  h.feed(borr(a), announce(a, P.slice(0, 1), '10.0.1.1'));
  h.feed(down(a, { restartTime: 600, families: ['ipv4', 'ipv6'] }));
  t.is(h.rib.prefixCount(), 5, 'everything kept over the restart');
  t.true(h.rib.best(P[1])[0].stale, 'a refresh-marked route is graceful-restart stale now');
  t.false(h.rib.best(P[1])[0].refreshStale, 'and no longer refresh-stale');
  h.clock.advance(400_000);
  h.feed();
  t.deepEqual(h.sink.changeLines(), [], 'the refresh timer does not fire after the session went down');
  h.feed(established(a, { enhancedRouteRefresh: true, peerGracefulRestart: { ...GR_CAP, restarting: true } }));
  h.feed(announce(a, P.slice(1, 2), '10.0.1.1'), endOfRib(a));
  t.deepEqual(h.sink.changeLines(), ['192.168.1.0/26: -', '192.168.3.0/26: -'], 'End-of-RIB removes what was not re-learned');
  t.is(h.rib.prefixCount(), 3);
});

test('a graceful-restart stale route is not purged by a refresh of another family', (t) => {
  // The GR mark belongs to the previous session, the refresh mark to the current one: an IPv4
  // refresh after the IPv4 End-of-RIB leaves the IPv6 GR-stale route for the IPv6 End-of-RIB.
  const h = refreshing({ gr: true });
  h.feed(down(a, { restartTime: 600, families: ['ipv4', 'ipv6'] }));
  h.feed(established(a, { enhancedRouteRefresh: true, peerGracefulRestart: { ...GR_CAP, restarting: true } }));
  h.feed(announce(a, P, '10.0.1.1'), endOfRib(a), borr(a), announce(a, P.slice(0, 1), '10.0.1.1'), eorr(a));
  t.deepEqual(h.sink.changeLines(), ['192.168.2.0/26: -', '192.168.3.0/26: -']);
  t.true(h.rib.best('fd00:100::/122')[0].stale, 'the IPv6 route is still graceful-restart stale');
  h.feed(endOfRib(a, 'ipv6'));
  t.is(h.rib.prefixCount('ipv6'), 0);
});

test('a new session without a down ends the refresh: its timer never fires', (t) => {
  const h = refreshing();
  h.feed(borr(a), established(a, { enhancedRouteRefresh: true }), announce(a, P, '10.0.1.1'));
  h.sink.clear();
  h.clock.advance(400_000);
  h.feed();
  t.deepEqual(h.sink.changeLines(), []);
  t.is(h.rib.prefixCount('ipv4'), 4);
});
