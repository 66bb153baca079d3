/**
 * agent/lifecycle.ts as tables: a peer's initial table complete at End-of-RIB or after the quiet
 * period, and the start-up verdict and readiness that follow, with a fake clock. Each row is a
 * start-up: events at given milliseconds, ticks every TICK_MS (as main.ts runs them) unless the
 * row stalls the loop, and a real RIB (the RIB tests' harness) told of each completion, as main.ts
 * does. The row states when the start-up verdict first turns and to what, and when the peer's
 * tables completed.
 */

import test from 'ava';
import { InitialTables, isReady, startupVerdict, TICK_MS, type StartupVerdict } from '../../agent/lifecycle.js';
import type { SessionEvent } from '../../agent/session/events.js';
import type { State } from '../../agent/session/fsm.js';
import type { FamilyName } from '../../agent/session/negotiate.js';
import { announce, down, endOfRib, established, harness, spec, withdraw } from '../rib/helpers.js';

const QUIET = 5000;
const RESTART = 30_000;
const tor = spec('10.0.1.1');
const grCap = { restartTime: 120, restarting: false, notification: false, families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: true }] };

type Step = readonly [at: number, what: 'up' | 'up-gr' | 'up-restarting' | 'update' | 'eor4' | 'eor6' | 'down' | 'down-gr' | 'stall-until'];

interface Row {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Families negotiated (default both). */
  readonly families?: readonly FamilyName[];
  /** The peer left over from a previous session (down with graceful restart) before the start. */
  readonly staleFromBefore?: boolean;
  readonly verdict: StartupVerdict;
  /** When the verdict first stops being 'waiting' (ms, at tick resolution). */
  readonly at: number;
  /** When each family was declared complete by quiet (absent: by End-of-RIB or never). */
  readonly quiet?: Readonly<Partial<Record<FamilyName, number>>>;
}

const ROWS: readonly Row[] = [
  { name: 'no GR, End-of-RIB early', steps: [[500, 'up'], [700, 'update'], [900, 'eor4'], [900, 'eor6']], verdict: 'converged', at: 1000 },
  { name: 'GR peer, End-of-RIB late but before the quiet time passes', steps: [[500, 'up-gr'], ...[1, 2, 3, 4, 5, 6, 7, 8].map((s): Step => [s * 1000, 'update']), [9000, 'eor4'], [9000, 'eor6']], verdict: 'converged', at: 9000 },
  { name: 'GR peer, End-of-RIB after a quiet gap: quiet wins, End-of-RIB is harmless', steps: [[500, 'up-gr'], [1000, 'update'], [7000, 'eor4'], [7000, 'eor6']], verdict: 'converged', at: 6000, quiet: { ipv4: 6000, ipv6: 6000 } },
  { name: 'End-of-RIB never, UPDATEs until 3 s', steps: [[500, 'up'], [1000, 'update'], [2000, 'update'], [3000, 'update']], verdict: 'converged', at: 8000, quiet: { ipv4: 8000, ipv6: 8000 } },
  { name: 'End-of-RIB never, no UPDATE at all', steps: [[500, 'up']], verdict: 'converged', at: 5500, quiet: { ipv4: 5500, ipv6: 5500 } },
  { name: 'End-of-RIB for IPv4 only: IPv6 by quiet', steps: [[500, 'up'], [1000, 'update'], [1200, 'eor4']], verdict: 'converged', at: 6000, quiet: { ipv6: 6000 } },
  { name: 'one family negotiated, no End-of-RIB', families: ['ipv4'], steps: [[0, 'up'], [250, 'update']], verdict: 'converged', at: 5250, quiet: { ipv4: 5250 } },
  { name: 'peer down during start, back later: the quiet period starts over', steps: [[500, 'up'], [1000, 'update'], [4000, 'down'], [6000, 'up'], [6500, 'update']], verdict: 'converged', at: 11500, quiet: { ipv4: 11500, ipv6: 11500 } },
  { name: 'peer down with GR during start, back later', steps: [[500, 'up-gr'], [4000, 'down-gr'], [6000, 'up-gr'], [7000, 'eor4'], [7000, 'eor6']], verdict: 'converged', at: 7000 },
  { name: 'restarting peer (R bit) silent for 20 s, then End-of-RIB: no quiet completion', steps: [[500, 'up-restarting'], [20_000, 'update'], [20_500, 'eor4'], [20_500, 'eor6']], verdict: 'converged', at: 20_500 },
  { name: 'restarting peer (R bit) that sends UPDATEs but no End-of-RIB: the usual quiet rule', steps: [[500, 'up-restarting'], [1000, 'update']], verdict: 'converged', at: 6000, quiet: { ipv4: 6000, ipv6: 6000 } },
  { name: 'restarting peer (R bit) that sends nothing at all: restart time passes first', steps: [[500, 'up-restarting']], verdict: 'restart-time-passed', at: RESTART },
  { name: 'peer never comes up: restart time passes', steps: [], verdict: 'restart-time-passed', at: RESTART },
  { name: 'peer up, then down for good: restart time passes', steps: [[500, 'up'], [1000, 'down']], verdict: 'restart-time-passed', at: RESTART },
  { name: 'event loop stalled for 6 s: not a quiet peer', steps: [[500, 'up'], [1000, 'update'], [2000, 'stall-until'], [8000, 'stall-until']], verdict: 'converged', at: 13000, quiet: { ipv4: 13000, ipv6: 13000 } },
  { name: 'stall, then quiet: the quiet period counts from the end of the stall', steps: [[500, 'up'], [1000, 'stall-until'], [7000, 'stall-until']], verdict: 'converged', at: 12000, quiet: { ipv4: 12000, ipv6: 12000 } },
  { name: 'GR restart of the peer before our start, no End-of-RIB: stale paths go after the quiet time', staleFromBefore: true, steps: [[500, 'up-gr'], [600, 'update']], verdict: 'converged', at: 5750, quiet: { ipv4: 5750, ipv6: 5750 } },
];

function event(what: Step[1], families: readonly FamilyName[]): SessionEvent | undefined {
  const gr = what === 'up-gr' ? { peerGracefulRestart: grCap } : what === 'up-restarting' ? { peerGracefulRestart: { ...grCap, restarting: true } } : {};
  switch (what) {
    case 'up':
    case 'up-gr':
    case 'up-restarting':
      return established(tor, { families: [...families], ...gr });
    case 'update':
      return announce(tor, ['192.168.1.0/26'], '10.0.1.1');
    case 'eor4':
      return endOfRib(tor, 'ipv4');
    case 'eor6':
      return endOfRib(tor, 'ipv6');
    case 'down':
      return down(tor);
    case 'down-gr':
      return down(tor, { restartTime: 120, families: [...families] });
    case 'stall-until':
      return undefined;
  }
}

function run(row: Row): { verdict: StartupVerdict; at: number; quiet: Partial<Record<FamilyName, number>>; staleLeft: boolean } {
  const h = harness();
  const families = row.families ?? ['ipv4', 'ipv6'];
  if (row.staleFromBefore === true) {
    // The previous session of this peer went down with graceful restart and left a stale path.
    h.feed(established(tor, { peerGracefulRestart: grCap }), announce(tor, ['192.168.2.0/26'], '10.0.1.1'), endOfRib(tor, 'ipv4'), endOfRib(tor, 'ipv6'));
    h.feed(down(tor, { restartTime: 120, families: [...families] }));
  }
  const tables = new InitialTables(QUIET, 45_000);
  let state: State = 'Active';
  const quiet: Partial<Record<FamilyName, number>> = {};
  const steps = [...row.steps];
  let stalledUntil = -1;
  for (let now = 0; now <= 60_000; now += TICK_MS) {
    for (let s = steps[0]; s !== undefined && s[0] <= now; s = steps[0]) {
      steps.shift();
      if (s[1] === 'stall-until') {
        stalledUntil = stalledUntil < 0 ? s[0] : -1;
        continue;
      }
      const e = event(s[1], families);
      if (e === undefined) continue;
      if (e.type === 'established') state = 'Established';
      if (e.type === 'down') state = 'Active';
      tables.observe(e, s[0]);
      h.feed(e);
    }
    if (stalledUntil >= 0) continue; // the loop is blocked: no tick runs
    for (const c of tables.due(now)) {
      quiet[c.family] = now;
      h.rib.tableComplete(c.peer, c.family);
      h.feed();
    }
    const verdict = startupVerdict({ now, startedAt: 0, restartTimeMs: RESTART, sessions: [{ state, enabled: true }], rib: h.rib.converged() });
    if (verdict !== 'waiting') return { verdict, at: now, quiet, staleLeft: h.rib.best('192.168.2.0/26').length > 0 };
  }
  return { verdict: 'waiting', at: -1, quiet, staleLeft: true };
}

for (const row of ROWS) {
  test(`start-up: ${row.name}`, (t) => {
    const r = run(row);
    t.is(r.verdict, row.verdict);
    t.is(r.at, row.at, 'when the verdict turned');
    t.deepEqual(r.quiet, row.quiet ?? {}, 'families completed by quiet, and when');
    if (row.staleFromBefore === true) t.false(r.staleLeft, 'the stale path of the previous session is gone');
  });
}

test('due() reports a family once, and a peer it does not know never', (t) => {
  const tables = new InitialTables(QUIET);
  tables.observe(established(tor, { families: ['ipv4'] }), 0);
  t.deepEqual(tables.due(QUIET - TICK_MS), []);
  t.deepEqual(tables.waiting(tor.key), ['ipv4']);
  t.deepEqual(tables.due(QUIET), [{ peer: tor.key, family: 'ipv4' }]);
  t.deepEqual(tables.due(QUIET + TICK_MS), []);
  t.deepEqual(tables.waiting(tor.key), []);
  tables.observe(announce(tor, ['192.168.1.0/26'], '10.0.1.1'), QUIET + 2 * TICK_MS);
  t.deepEqual(tables.due(2 * QUIET + 3 * TICK_MS), [], 'an UPDATE after completion changes nothing');
  t.deepEqual(tables.waiting('10.9.9.9'), []);
});

test('observe() names the family an End-of-RIB completes, once', (t) => {
  const tables = new InitialTables(QUIET);
  t.is(tables.observe(endOfRib(tor, 'ipv4'), 0), undefined, 'a peer not up yet');
  tables.observe(established(tor, { families: ['ipv4', 'ipv6'] }), 0);
  t.is(tables.observe(announce(tor, ['192.168.1.0/26'], '10.0.1.1'), 10), undefined);
  t.deepEqual(tables.observe(endOfRib(tor, 'ipv6'), 20), { peer: tor.key, family: 'ipv6' });
  t.is(tables.observe(endOfRib(tor, 'ipv6'), 30), undefined, 'a second End-of-RIB');
  t.deepEqual(tables.waiting(tor.key), ['ipv4']);
});

test('withdrawals count as UPDATEs: the quiet period waits for them', (t) => {
  const tables = new InitialTables(QUIET);
  tables.observe(established(tor, { families: ['ipv4'] }), 0);
  for (let now = TICK_MS; now < QUIET; now += TICK_MS) t.deepEqual(tables.due(now), []);
  tables.observe(withdraw(tor, ['192.168.1.0/26']), QUIET - 1);
  t.deepEqual(tables.due(QUIET), []);
  for (let now = QUIET + TICK_MS; now < 2 * QUIET - 1; now += TICK_MS) t.deepEqual(tables.due(now), []);
  t.deepEqual(tables.due(2 * QUIET), [{ peer: tor.key, family: 'ipv4' }]);
});

test('a restarting peer that never sends End-of-RIB completes after the restarting bound', (t) => {
  const tables = new InitialTables(QUIET, 60_000);
  tables.observe(established(tor, { families: ['ipv4'], peerGracefulRestart: { ...grCap, restarting: true } }), 0);
  for (let now = TICK_MS; now < 60_000; now += TICK_MS) if (tables.due(now).length > 0) return t.fail(`completed at ${now} ms`);
  t.deepEqual(tables.due(60_000), [{ peer: tor.key, family: 'ipv4' }]);
});

test('setQuietTime applies from the next tick', (t) => {
  const tables = new InitialTables(QUIET);
  tables.observe(established(tor, { families: ['ipv4'] }), 0);
  t.deepEqual(tables.due(1000), []);
  tables.setQuietTime(1000);
  t.deepEqual(tables.due(1250), [{ peer: tor.key, family: 'ipv4' }]);
});

const READY: readonly { name: string; sessions: { state: State; enabled: boolean }[]; rib: boolean; fib: boolean; ready: boolean }[] = [
  { name: 'all up, RIB converged, kernel in sync', sessions: [{ state: 'Established', enabled: true }], rib: true, fib: true, ready: true },
  { name: 'kernel not in sync', sessions: [{ state: 'Established', enabled: true }], rib: true, fib: false, ready: false },
  { name: 'RIB not converged', sessions: [{ state: 'Established', enabled: true }], rib: false, fib: true, ready: false },
  { name: 'one enabled peer not up', sessions: [{ state: 'Established', enabled: true }, { state: 'Active', enabled: true }], rib: true, fib: true, ready: false },
  { name: 'a disabled peer does not count', sessions: [{ state: 'Established', enabled: true }, { state: 'Idle', enabled: false }], rib: true, fib: true, ready: true },
  { name: 'no peers at all', sessions: [], rib: true, fib: true, ready: true },
];

for (const row of READY) {
  test(`ready: ${row.name}`, (t) => {
    t.is(isReady(row.sessions, row.rib, row.fib), row.ready);
  });
}
