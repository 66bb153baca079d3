/**
 * The decision process as a table: one row per step, where the winner is better at that step and
 * worse at every later one, checked in every insertion order (both argument orders for pairs).
 * Plus the MED cycle that makes pairwise comparison order-dependent, and the ECMP set.
 */

import test from 'ava';
import { addressRank, decide, STEPS, type Candidate, type StepName } from '../../agent/rib/decision.js';

interface C extends Candidate {
  readonly name: string;
}

const rank = (last: number): string => addressRank(Uint8Array.of(10, 0, 0, last));

function c(name: string, o: Partial<Candidate> = {}): C {
  return {
    name,
    local: false,
    gracefulShutdown: false,
    localPref: 100,
    asPathLength: 2,
    origin: 1,
    med: 50,
    neighborAs: 65001,
    external: false,
    routerId: 50,
    clusterListLength: 1,
    addressRank: rank(50),
    pathId: 5,
    ...o,
  };
}

/** Each row: `win` beats every other at `step` although they are better at every later step. */
const rows: { step: StepName; win: C; others: C[] }[] = [
  { step: 'local-origin', win: c('own', { local: true, gracefulShutdown: true, localPref: 0, asPathLength: 9 }), others: [c('learned', { localPref: 500, asPathLength: 0, origin: 0 })] },
  // RFC 8326 section 4: GRACEFUL_SHUTDOWN below every path without it, even one with LOCAL_PREF 0.
  { step: 'graceful-shutdown', win: c('no-gshut', { localPref: 0, asPathLength: 9, origin: 2 }), others: [c('gshut', { gracefulShutdown: true, localPref: 500, asPathLength: 0, origin: 0 })] },
  { step: 'local-pref', win: c('lp200', { localPref: 200, asPathLength: 5, origin: 2 }), others: [c('lp100', { asPathLength: 1, origin: 0, routerId: 1 })] },
  { step: 'as-path-length', win: c('short', { asPathLength: 1, origin: 2, med: 99 }), others: [c('long', { asPathLength: 3, origin: 0, med: 0 })] },
  { step: 'origin', win: c('igp', { origin: 0, med: 90, external: false }), others: [c('incomplete', { origin: 2, med: 0, external: true })] },
  { step: 'med', win: c('med10', { med: 10, external: false, routerId: 99 }), others: [c('med20', { med: 20, external: true, routerId: 1 })] },
  { step: 'ebgp-over-ibgp', win: c('ebgp', { external: true, routerId: 99 }), others: [c('ibgp', { external: false, routerId: 1 })] },
  {
    step: 'ebgp-over-ibgp',
    // RFC 4271 9.1.2.2 (c): MEDs of different neighbouring ASes are not compared.
    win: c('ebgp-high-med-other-as', { external: true, med: 900, neighborAs: 1 }),
    others: [c('ibgp-low-med', { external: false, med: 0, neighborAs: 2, routerId: 1 })],
  },
  { step: 'router-id', win: c('rid1', { routerId: 1, clusterListLength: 5, addressRank: rank(99) }), others: [c('rid2', { routerId: 2, clusterListLength: 0, addressRank: rank(1) })] },
  { step: 'cluster-list-length', win: c('cl0', { clusterListLength: 0, addressRank: rank(99) }), others: [c('cl2', { clusterListLength: 2, addressRank: rank(1) })] },
  { step: 'peer-address', win: c('addr1', { addressRank: rank(1), pathId: 9 }), others: [c('addr2', { addressRank: rank(2), pathId: 1 })] },
  { step: 'path-id', win: c('id1', { pathId: 1 }), others: [c('id2', { pathId: 2 })] },
  // Three candidates, each losing at a different step.
  {
    step: 'origin',
    win: c('winner', { origin: 0 }),
    others: [c('long', { asPathLength: 3, origin: 0 }), c('egp', { origin: 1, routerId: 1 })],
  },
];

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [xs.slice()];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

for (const row of rows) {
  const all = [row.win, ...row.others];
  test(`decision: ${row.step} (${row.win.name} over ${row.others.map((o) => o.name).join(', ')}) in every order`, (t) => {
    for (const order of permutations(all)) {
      const d = decide(order, 1);
      t.is(d.best[0].name, row.win.name, order.map((x) => x.name).join(','));
      t.is(d.decidedBy, row.step, order.map((x) => x.name).join(','));
      t.is(d.best.length, 1);
    }
  });
}

test('decision: every step has a row', (t) => {
  const covered = new Set(rows.map((r) => r.step));
  t.deepEqual(STEPS.filter((s) => !covered.has(s)), []);
});

test('decision: a single path is decided by only-path; none gives an empty set', (t) => {
  t.deepEqual(decide([c('x')]), { best: [c('x')], decidedBy: 'only-path' });
  t.deepEqual(decide([]), { best: [], decidedBy: 'only-path' });
});

test('decision: the MED cycle (x>y by router ID, y>z by router ID, z>x by MED) gives y in every order', (t) => {
  // Pairwise comparison is not transitive here; elimination by neighbouring AS is.
  const x = c('x', { neighborAs: 1, med: 10, routerId: 1 });
  const y = c('y', { neighborAs: 2, med: 0, routerId: 2 });
  const z = c('z', { neighborAs: 1, med: 5, routerId: 3 });
  for (const order of permutations([x, y, z])) {
    const d = decide(order, 1);
    t.is(d.best[0].name, 'y', order.map((p) => p.name).join(','));
    t.is(d.decidedBy, 'router-id');
  }
});

test('decision: paths equal down to the router ID form the ECMP set, ordered, bounded by multipath', (t) => {
  const a = c('a', { routerId: 3 });
  const b = c('b', { routerId: 1 });
  const d = c('d', { routerId: 2 });
  const worse = c('worse', { origin: 2, routerId: 0 });
  for (const order of permutations([a, b, d, worse])) {
    t.deepEqual(decide(order, 8).best.map((p) => p.name), ['b', 'd', 'a']);
    t.deepEqual(decide(order, 2).best.map((p) => p.name), ['b', 'd']);
    t.deepEqual(decide(order, 1).best.map((p) => p.name), ['b']);
    t.is(decide(order, 8).decidedBy, 'router-id');
  }
});

test('decision: eBGP and iBGP paths never share an ECMP set', (t) => {
  const e = c('e', { external: true, routerId: 9 });
  const i = c('i', { external: false, routerId: 1 });
  t.deepEqual(decide([i, e], 8).best.map((p) => p.name), ['e']);
});

test('decision: address ranks sort IPv4 (as ::ffff:a.b.c.d) before other IPv6 and numerically within a family', (t) => {
  const v4low = addressRank(Uint8Array.of(9, 255, 255, 255));
  const v4high = addressRank(Uint8Array.of(10, 0, 0, 1));
  const v6 = addressRank(new Uint8Array(16).fill(1));
  t.true(v4low < v4high);
  t.true(v4high < v6);
});
