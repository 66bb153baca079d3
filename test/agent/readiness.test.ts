/**
 * agent/daemon/readiness.ts as tables: a peer's initial table complete at End-of-RIB (a graceful-restart
 * peer: only then, or after the End-of-RIB wait), or by the rules for a peer without it (quiet,
 * steady churn, the cap), and the start-up verdict and readiness that follow, with a fake clock.
 * Each row is a start-up: events at given milliseconds, ticks every TICK_MS (as daemon.ts runs
 * them) unless the row stalls the loop, and a real RIB (the RIB tests' harness, its stale timer on
 * the same fake clock) fed the same events. The row states when the start-up verdict first turns
 * and to what, and when and why the peer's tables completed without End-of-RIB.
 */

import test from 'ava';
import { CAP_QUIET_FACTOR, InitialTables, isReady, startupVerdict, TICK_MS, type StartupVerdict } from '../../agent/daemon/readiness.js';
import type { SessionEvent, State } from '../../agent/contracts/engines.js';
import { announce, down, endOfRib, established, harness, spec, withdraw } from '../rib/helpers.js';
import type { FamilyName } from '../../agent/bgp/families.js';

const QUIET = 5000;
const RESTART = 30_000;
/** The End-of-RIB wait of a graceful-restart peer in these rows (360 s in the daemon). */
const EOR_WAIT = 45_000;
const tor = spec('10.0.1.1');
const grCap = { restartTime: 120, restarting: false, notification: false, families: [{ afi: 1, safi: 1, forwarding: true }, { afi: 2, safi: 1, forwarding: true }] };

type What = 'up' | 'up-gr' | 'up-gr-theirs-only' | 'up-restarting' | 'update' | 'eor4' | 'eor6' | 'down' | 'down-gr' | 'stall-until';
type Step = readonly [at: number, what: What];

/** `what` every `period` ms from `from` (inclusive) to `to` (exclusive). */
function every(from: number, to: number, period: number, what: What = 'update'): Step[] {
  const out: Step[] = [];
  for (let at = from; at < to; at += period) out.push([at, what]);
  return out;
}

interface Row {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Families negotiated (default both). */
  readonly families?: readonly FamilyName[];
  /** The peer left over from a previous session (down with graceful restart) before the start. */
  readonly staleFromBefore?: boolean;
  /** Our graceful-restart time (default RESTART). */
  readonly restartMs?: number;
  readonly verdict: StartupVerdict;
  /** When the verdict first stops being 'waiting' (ms, at tick resolution). */
  readonly at: number;
  /** Families completed without End-of-RIB: `${ms} ${by}` (absent: by End-of-RIB or never). */
  readonly ruled?: Readonly<Partial<Record<FamilyName, string>>>;
}

const both = (what: string): Partial<Record<FamilyName, string>> => ({ ipv4: what, ipv6: what });

const ROWS: readonly Row[] = [
  { name: 'no GR, End-of-RIB early', steps: [[500, 'up'], [700, 'update'], [900, 'eor4'], [900, 'eor6']], verdict: 'converged', at: 1000 },
  { name: 'GR peer, End-of-RIB late', steps: [[500, 'up-gr'], ...every(1000, 9000, 1000), [9000, 'eor4'], [9000, 'eor6']], verdict: 'converged', at: 9000 },
  // Issue 19 item 4: a graceful-restart peer owes End-of-RIB, the quiet rule never completes it.
  { name: 'GR peer, End-of-RIB after a quiet gap: no quiet completion, End-of-RIB completes', steps: [[500, 'up-gr'], [1000, 'update'], [7000, 'eor4'], [7000, 'eor6']], verdict: 'converged', at: 7000 },
  { name: 'GR peer slow to send after our restart: silent 20 s, then its table and End-of-RIB', steps: [[500, 'up-gr'], [20_000, 'update'], [20_100, 'eor4'], [20_100, 'eor6']], verdict: 'converged', at: 20_250 },
  { name: 'GR peer that sends UPDATEs but never End-of-RIB: our restart time passes first', steps: [[500, 'up-gr'], [1000, 'update']], verdict: 'restart-time-passed', at: RESTART },
  { name: 'GR peer that never sends End-of-RIB: complete at the End-of-RIB wait', restartMs: 100_000, steps: [[500, 'up-gr'], [1000, 'update']], verdict: 'converged', at: 45_500, ruled: both('45500 end-of-rib-timeout') },
  { name: 'GR peer, End-of-RIB for IPv4 only: IPv6 waits', restartMs: 100_000, steps: [[500, 'up-gr'], [1000, 'update'], [1200, 'eor4']], verdict: 'converged', at: 45_500, ruled: { ipv6: '45500 end-of-rib-timeout' } },
  { name: 'GR capability from the peer only (ours off): no End-of-RIB owed, the rules without it', steps: [[500, 'up-gr-theirs-only'], [1000, 'update']], verdict: 'converged', at: 5500, ruled: both('5500 churn') },
  { name: 'End-of-RIB never, UPDATEs until 3 s: fewer than 2 a second', steps: [[500, 'up'], [1000, 'update'], [2000, 'update'], [3000, 'update']], verdict: 'converged', at: 5500, ruled: both('5500 churn') },
  { name: 'End-of-RIB never, no UPDATE at all', steps: [[500, 'up']], verdict: 'converged', at: 5500, ruled: both('5500 quiet') },
  { name: 'End-of-RIB for IPv4 only: IPv6 by quiet', steps: [[500, 'up'], [1000, 'update'], [1200, 'eor4']], verdict: 'converged', at: 5500, ruled: { ipv6: '5500 churn' } },
  { name: 'one family negotiated, no End-of-RIB', families: ['ipv4'], steps: [[0, 'up'], [250, 'update']], verdict: 'converged', at: 5000, ruled: { ipv4: '5000 churn' } },
  // Issue 19 item 5: a peer without End-of-RIB whose table never stops changing.
  { name: 'no GR, one UPDATE every 2 s forever: complete by churn', steps: [[500, 'up'], ...every(1000, 60_000, 2000)], verdict: 'converged', at: 5500, ruled: both('5500 churn') },
  { name: 'no GR, initial table streaming 50 UPDATEs a second for 20 s, then one every 2 s: complete 5 s after the burst', steps: [[500, 'up'], ...every(600, 20_600, 20), ...every(21_000, 60_000, 2000)], verdict: 'converged', at: 25_500, ruled: both('25500 churn') },
  { name: 'no GR, initial burst then a 3 s pause then the rest: one burst', steps: [[500, 'up'], ...every(600, 2600, 20), ...every(5600, 6600, 20)], verdict: 'converged', at: 11_500, ruled: both('11500 churn') },
  { name: 'no GR, 4 UPDATEs a second forever: the cap', restartMs: 100_000, steps: [[500, 'up'], ...every(600, 100_000, 250)], verdict: 'converged', at: 500 + CAP_QUIET_FACTOR * QUIET, ruled: both(`${500 + CAP_QUIET_FACTOR * QUIET} cap`) },
  { name: 'peer down during start, back later: the window starts over', steps: [[500, 'up'], [1000, 'update'], [4000, 'down'], [6000, 'up'], [6500, 'update']], verdict: 'converged', at: 11000, ruled: both('11000 churn') },
  { name: 'peer down with GR during start, back later', steps: [[500, 'up-gr'], [4000, 'down-gr'], [6000, 'up-gr'], [7000, 'eor4'], [7000, 'eor6']], verdict: 'converged', at: 7000 },
  { name: 'restarting peer (R bit) silent for 20 s, then End-of-RIB: no quiet completion', steps: [[500, 'up-restarting'], [20_000, 'update'], [20_500, 'eor4'], [20_500, 'eor6']], verdict: 'converged', at: 20_500 },
  { name: 'restarting peer (R bit) that sends UPDATEs but no End-of-RIB: it owes one', steps: [[500, 'up-restarting'], [1000, 'update']], verdict: 'restart-time-passed', at: RESTART },
  { name: 'restarting peer (R bit) that sends nothing at all: restart time passes first', steps: [[500, 'up-restarting']], verdict: 'restart-time-passed', at: RESTART },
  { name: 'peer never comes up: restart time passes', steps: [], verdict: 'restart-time-passed', at: RESTART },
  { name: 'peer up, then down for good: restart time passes', steps: [[500, 'up'], [1000, 'down']], verdict: 'restart-time-passed', at: RESTART },
  { name: 'event loop stalled for 6 s: not a quiet peer', steps: [[500, 'up'], [1000, 'update'], [2000, 'stall-until'], [8000, 'stall-until']], verdict: 'converged', at: 13000, ruled: both('13000 quiet') },
  { name: 'stall, then quiet: the quiet period counts from the end of the stall', steps: [[500, 'up'], [1000, 'stall-until'], [7000, 'stall-until']], verdict: 'converged', at: 12000, ruled: both('12000 quiet') },
  { name: 'GR restart of the peer before our start, End-of-RIB late: stale paths stay until it', staleFromBefore: true, steps: [[500, 'up-gr'], [600, 'update'], [20_000, 'eor4'], [20_000, 'eor6']], verdict: 'converged', at: 20_000 },
];

function event(what: What, families: readonly FamilyName[]): SessionEvent | undefined {
  const gr = what === 'up-gr' ? { peerGracefulRestart: grCap } : what === 'up-gr-theirs-only' ? { peerGracefulRestart: grCap, localGracefulRestart: false } : what === 'up-restarting' ? { peerGracefulRestart: { ...grCap, restarting: true } } : {};
  switch (what) {
    case 'up':
    case 'up-gr':
    case 'up-gr-theirs-only':
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

function run(row: Row): { verdict: StartupVerdict; at: number; ruled: Partial<Record<FamilyName, string>>; staleLeft: boolean } {
  const h = harness({ staleTime: EOR_WAIT / 1000 });
  const families = row.families ?? ['ipv4', 'ipv6'];
  if (row.staleFromBefore === true) {
    // The previous session of this peer went down with graceful restart and left a stale path.
    h.feed(established(tor, { peerGracefulRestart: grCap }), announce(tor, ['192.168.2.0/26'], '10.0.1.1'), endOfRib(tor, 'ipv4'), endOfRib(tor, 'ipv6'));
    h.feed(down(tor, { restartTime: 120, families: [...families] }));
  }
  const tables = new InitialTables(QUIET, EOR_WAIT);
  let state: State = 'Active';
  const ruled: Partial<Record<FamilyName, string>> = {};
  const steps = [...row.steps];
  let stalledUntil = -1;
  for (let now = 0; now <= 120_000; now += TICK_MS) {
    h.clock.advance(now - h.clock.now());
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
    for (const c of tables.due(now)) ruled[c.family] = `${now} ${c.by}`;
    const settled = tables.complete() && h.rib.converged();
    const verdict = startupVerdict({ now, startedAt: 0, restartTimeMs: row.restartMs ?? RESTART, sessions: [{ state, enabled: true }], rib: settled });
    if (verdict !== 'waiting') return { verdict, at: now, ruled, staleLeft: h.rib.best('192.168.2.0/26').length > 0 };
  }
  return { verdict: 'waiting', at: -1, ruled, staleLeft: true };
}

for (const row of ROWS) {
  test(`start-up: ${row.name}`, (t) => {
    const r = run(row);
    t.is(r.verdict, row.verdict);
    t.is(r.at, row.at, 'when the verdict turned');
    t.deepEqual(r.ruled, row.ruled ?? {}, 'families completed without End-of-RIB, when and why');
    if (row.staleFromBefore === true) t.false(r.staleLeft, 'the stale path of the previous session is gone');
  });
}

test('due() reports a family once, and a peer it does not know never', (t) => {
  const tables = new InitialTables(QUIET);
  tables.observe(established(tor, { families: ['ipv4'] }), 0);
  t.deepEqual(tables.due(QUIET - TICK_MS), []);
  t.deepEqual(tables.waiting(tor.key), ['ipv4']);
  t.deepEqual(tables.due(QUIET), [{ peer: tor.key, family: 'ipv4', by: 'quiet' }]);
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
  t.deepEqual(tables.observe(endOfRib(tor, 'ipv6'), 20), { peer: tor.key, family: 'ipv6', by: 'end-of-rib' });
  t.is(tables.observe(endOfRib(tor, 'ipv6'), 30), undefined, 'a second End-of-RIB');
  t.deepEqual(tables.waiting(tor.key), ['ipv4']);
});

test('complete(): every established peer, every family; a peer that went down no longer counts', (t) => {
  const other = spec('10.0.2.1');
  const tables = new InitialTables(QUIET);
  t.true(tables.complete(), 'no peer');
  tables.observe(established(tor, { families: ['ipv4', 'ipv6'], peerGracefulRestart: grCap }), 0);
  tables.observe(established(other, { families: ['ipv4'], peerGracefulRestart: grCap }), 0);
  t.false(tables.complete());
  tables.observe(endOfRib(tor, 'ipv4'), 10);
  tables.observe(endOfRib(tor, 'ipv6'), 10);
  t.false(tables.complete(), 'the other peer still owes End-of-RIB');
  tables.observe(down(other), 20);
  t.true(tables.complete());
});

test('withdrawals count as UPDATEs: a stream of them is not the end of the burst', (t) => {
  const tables = new InitialTables(QUIET);
  tables.observe(established(tor, { families: ['ipv4'] }), 0);
  for (let now = TICK_MS; now <= 20_000; now += TICK_MS) {
    tables.observe(withdraw(tor, ['192.168.1.0/26']), now - 1);
    t.deepEqual(tables.due(now), [], `complete at ${now} ms while 4 withdrawals a second stream`);
  }
  let done = -1;
  for (let now = 20_000 + TICK_MS; now <= 20_000 + QUIET && done < 0; now += TICK_MS) if (tables.due(now).length > 0) done = now;
  t.true(done > 20_000, 'complete within the quiet time once they stop');
});

test('a graceful-restart peer never completes before the End-of-RIB wait, whatever it sends or not', (t) => {
  for (const restarting of [false, true]) {
    for (const sends of [false, true]) {
      const tables = new InitialTables(QUIET, 60_000);
      tables.observe(established(tor, { families: ['ipv4'], peerGracefulRestart: { ...grCap, restarting } }), 0);
      for (let now = TICK_MS; now < 60_000; now += TICK_MS) {
        if (sends && now % 2000 === 0) tables.observe(announce(tor, ['192.168.1.0/26'], '10.0.1.1'), now);
        if (tables.due(now).length > 0) return t.fail(`restarting ${restarting}, sends ${sends}: completed at ${now} ms`);
      }
      t.deepEqual(tables.due(60_000), [{ peer: tor.key, family: 'ipv4', by: 'end-of-rib-timeout' }]);
    }
  }
});

test('setQuietTime applies from the next tick', (t) => {
  const tables = new InitialTables(QUIET);
  tables.observe(established(tor, { families: ['ipv4'] }), 0);
  t.deepEqual(tables.due(1000), []);
  tables.setQuietTime(1000);
  t.deepEqual(tables.due(1250), [{ peer: tor.key, family: 'ipv4', by: 'quiet' }]);
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
