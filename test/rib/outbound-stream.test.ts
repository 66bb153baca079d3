/**
 * The order of one peer's outbound stream as the RIB emits it (RibSink.outbound, OutboundItem):
 * the initial feed is each family's UPDATEs then its End-of-RIB (RFC 4724 section 2); a route
 * refresh is the family's whole export again, between BoRR and EoRR when enhanced route refresh
 * was negotiated (RFC 7313 section 4) and bare otherwise (RFC 2918); changes pending when the
 * refresh is asked for go out before its BoRR, and the refresh shows the table after them.
 * One table row per case; the stream is written as words (helpers.ts Recorder.wire).
 */

import test from 'ava';
import type { Negotiated, SessionEvent } from '../../agent/contracts/engines.js';
import { announce, established, harness, spec, withdraw } from './helpers.js';

/** The node's own blocks, and what the eBGP peer `e` announced before each case. */
const OWN = ['192.168.0.0/26', 'fd00:100::/122'];
const a = spec('10.0.1.1');
const e = spec('10.0.9.1', { peerAs: 65001 });
const refresh = (family: 'ipv4' | 'ipv6'): SessionEvent => ({ type: 'route-refresh', peer: a, family });

interface Row {
  readonly name: string;
  /** What `a` negotiated. */
  readonly session?: Partial<Negotiated>;
  readonly chunk?: number;
  /** Events of the case, handled in one tick (one flush), after `a`'s initial feed unless `fresh`. */
  readonly events: readonly SessionEvent[];
  /** The case starts with `a`'s established in the same tick (its initial feed is recorded). */
  readonly fresh?: boolean;
  readonly want: readonly string[];
}

const ERR = { enhancedRouteRefresh: true } as const;

const rows: readonly Row[] = [
  {
    name: 'initial feed: each family\'s UPDATEs, then its End-of-RIB',
    fresh: true,
    chunk: 1,
    events: [],
    want: ['+192.168.0.0/26', '+192.168.1.0/26', 'eor ipv4', '+fd00:100::/122', 'eor ipv6'],
  },
  {
    name: 'initial feed with enhanced route refresh: End-of-RIB, never BoRR/EoRR',
    fresh: true,
    session: ERR,
    events: [],
    want: ['+192.168.0.0/26', '+192.168.1.0/26', 'eor ipv4', '+fd00:100::/122', 'eor ipv6'],
  },
  {
    name: 'a refresh asked before the initial feed went out is answered by the feed',
    fresh: true,
    session: ERR,
    events: [refresh('ipv4')],
    want: ['+192.168.0.0/26', '+192.168.1.0/26', 'eor ipv4', '+fd00:100::/122', 'eor ipv6'],
  },
  {
    name: 'refresh with enhanced route refresh: BoRR, the routes, EoRR',
    session: ERR,
    events: [refresh('ipv4')],
    want: ['borr ipv4', '+192.168.0.0/26', '+192.168.1.0/26', 'eorr ipv4'],
  },
  {
    name: 'refresh with enhanced route refresh, several UPDATEs: all of them between BoRR and EoRR',
    session: ERR,
    chunk: 1,
    events: [refresh('ipv4')],
    want: ['borr ipv4', '+192.168.0.0/26', '+192.168.1.0/26', 'eorr ipv4'],
  },
  {
    name: 'refresh of IPv6 with enhanced route refresh',
    session: ERR,
    events: [refresh('ipv6')],
    want: ['borr ipv6', '+fd00:100::/122', 'eorr ipv6'],
  },
  {
    name: 'refresh without enhanced route refresh: just the routes (RFC 2918)',
    events: [refresh('ipv4')],
    want: ['+192.168.0.0/26', '+192.168.1.0/26'],
  },
  {
    name: 'refresh while changes are pending: the changes, then BoRR, the table after them, EoRR',
    session: ERR,
    events: [announce(e, ['192.168.2.0/26'], '10.0.9.1'), withdraw(e, ['192.168.1.0/26']), refresh('ipv4')],
    want: ['-192.168.1.0/26', '+192.168.2.0/26', 'borr ipv4', '+192.168.0.0/26', '+192.168.2.0/26', 'eorr ipv4'],
  },
  {
    name: 'refresh first, changes after it in the same tick: the same stream',
    session: ERR,
    events: [refresh('ipv4'), announce(e, ['192.168.2.0/26'], '10.0.9.1'), withdraw(e, ['192.168.1.0/26'])],
    want: ['-192.168.1.0/26', '+192.168.2.0/26', 'borr ipv4', '+192.168.0.0/26', '+192.168.2.0/26', 'eorr ipv4'],
  },
  {
    name: 'refresh while changes are pending, without enhanced route refresh',
    events: [announce(e, ['192.168.2.0/26'], '10.0.9.1'), refresh('ipv4')],
    want: ['+192.168.2.0/26', '+192.168.0.0/26', '+192.168.1.0/26', '+192.168.2.0/26'],
  },
  {
    name: 'two refreshes of one family in one tick: one re-advertisement',
    session: ERR,
    events: [refresh('ipv4'), refresh('ipv4')],
    want: ['borr ipv4', '+192.168.0.0/26', '+192.168.1.0/26', 'eorr ipv4'],
  },
  {
    name: 'refreshes of both families: each between its own BoRR and EoRR, in the order asked',
    session: ERR,
    events: [refresh('ipv6'), refresh('ipv4')],
    want: ['borr ipv6', '+fd00:100::/122', 'eorr ipv6', 'borr ipv4', '+192.168.0.0/26', '+192.168.1.0/26', 'eorr ipv4'],
  },
  {
    name: 'refresh of a family the session does not carry: nothing',
    session: { ...ERR, families: ['ipv4'] },
    events: [refresh('ipv6')],
    want: [],
  },
];

for (const row of rows) {
  test(`outbound stream: ${row.name}`, (t) => {
    const h = harness(row.chunk !== undefined ? { chunk: row.chunk } : {});
    h.rib.setLocalBlocks(OWN);
    h.feed(established(e), announce(e, ['192.168.1.0/26'], '10.0.9.1'));
    if (row.fresh === true) {
      h.sink.clear();
      h.feed(established(a, row.session ?? {}), ...row.events);
    } else {
      h.feed(established(a, row.session ?? {}));
      h.sink.clear();
      h.feed(...row.events);
    }
    t.deepEqual(h.sink.wire(a.key), row.want);
  });
}
