/**
 * The services' state machine (agent/services/fsm.ts) as a table: each row a rise/fall pair and a
 * run of check results (P pass, F fail), with the state after each result and where it changed;
 * then the monitor (monitor.ts) on a fake clock with scripted checks: the cadence, the start
 * down, announce after rise and withdraw after fall, a reload that keeps or restarts a service,
 * a result that comes back for a service already removed.
 */

import test from 'ava';
import type { ServiceConfig } from '../../config/types.js';
import { initialHealth, ServiceMonitor, step, type Outcome, type ServiceState } from '../../agent/services/index.js';
import { silentLogger } from '../../agent/contracts/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

interface Row {
  readonly rise: number;
  readonly fall: number;
  /** P: a pass, F: a failure. */
  readonly results: string;
  /** The state after each result: u up, d down. */
  readonly states: string;
}

const rows: Row[] = [
  { rise: 2, fall: 2, results: 'PP', states: 'du' },
  { rise: 2, fall: 2, results: 'PFPP', states: 'dddu' },
  { rise: 1, fall: 1, results: 'PFPF', states: 'udud' },
  { rise: 2, fall: 2, results: 'PPFPFF', states: 'duuuud' },
  { rise: 3, fall: 2, results: 'FFFPPPFF', states: 'ddddduud' },
  { rise: 2, fall: 3, results: 'PPFFPFFF', states: 'duuuuuud' },
  { rise: 1, fall: 1, results: 'FFF', states: 'ddd' },
];

for (const row of rows) {
  test(`fsm: rise ${row.rise} fall ${row.fall}: ${row.results} -> ${row.states}`, (t) => {
    let h = initialHealth(0);
    t.is(h.state, 'down', 'starts down');
    let prev: ServiceState = 'down';
    [...row.results].forEach((r, i) => {
      const { next, changed } = step(h, { ok: r === 'P', detail: r, at: (i + 1) * 1000 }, row);
      const want = row.states[i] === 'u' ? 'up' : 'down';
      t.is(next.state, want, `after result ${i + 1}`);
      t.is(changed, want !== prev, `changed after result ${i + 1}`);
      t.is(next.since, changed ? (i + 1) * 1000 : h.since, `since after result ${i + 1}`);
      t.deepEqual(next.last, { ok: r === 'P', detail: r, at: (i + 1) * 1000 });
      prev = want;
      h = next;
    });
  });
}

test('fsm: drained follows health as up does', (t) => {
  const h = { ...initialHealth(0), state: 'drained' as const };
  t.is(step(h, { ok: true, detail: '', at: 1 }, { rise: 2, fall: 1 }).next.state, 'drained');
  t.is(step(h, { ok: false, detail: '', at: 1 }, { rise: 2, fall: 1 }).next.state, 'down');
});

// ---- the monitor --------------------------------------------------------------------------------

const svc = (over: Partial<ServiceConfig> = {}): ServiceConfig => ({
  name: 'dns', prefix: '10.255.0.53/32', check: { kind: 'tcp', address: '127.0.0.1', port: 53 },
  interval: 2, timeout: 1, rise: 2, fall: 2, communities: ['64512:53'], ...over,
});

/** A monitor whose checks answer what `answer` says for the service (by port), recording each call's time. */
function rig(answer: (port: number) => boolean) {
  const clock = new FakeClock(1_000_000);
  const calls: { at: number; port: number }[] = [];
  let changes = 0;
  const pending: (() => void)[] = [];
  const monitor = new ServiceMonitor({
    clock,
    log: silentLogger,
    onChange: () => void changes++,
    run: (check) => {
      const port = check.kind === 'tcp' ? check.port : 0;
      calls.push({ at: clock.now(), port });
      return new Promise<Outcome>((resolve) => pending.push(() => resolve({ ok: answer(port), detail: answer(port) ? 'connected' : 'ECONNREFUSED' })));
    },
  });
  /** Moves the clock; every check started meanwhile answers at once. */
  const advance = async (ms: number): Promise<void> => {
    for (let left = ms; left >= 0; left -= 1000) {
      clock.advance(Math.min(1000, left));
      for (const p of pending.splice(0)) p();
      await new Promise((r) => setImmediate(r));
      if (left < 1000) break;
    }
  };
  return { clock, calls, monitor, advance, changes: () => changes, pending };
}

test('monitor: starts down, checks at once and every interval, announces after rise, withdraws after fall', async (t) => {
  let healthy = true;
  const r = rig(() => healthy);
  r.monitor.configure([svc()]);
  t.deepEqual(r.monitor.announced(), [], 'down before any check');
  t.is(r.monitor.status()[0].lastCheck, null);
  await r.advance(0);
  t.is(r.calls.length, 1, 'the first check at once');
  t.deepEqual(r.monitor.announced(), [], 'one pass of rise 2: still down');
  await r.advance(2000);
  t.deepEqual(r.calls.map((c) => c.at - 1_000_000), [0, 2000], 'the next after interval');
  t.deepEqual(r.monitor.announced(), [{ name: 'dns', prefix: '10.255.0.53/32', communities: [(64512 << 16 | 53) >>> 0] }]);
  t.is(r.monitor.status()[0].since, 1_002_000);
  t.like(r.monitor.status()[0], { state: 'up', lastCheck: { ok: true, detail: 'connected', at: 1_002_000 } });
  const before = r.changes();
  healthy = false;
  await r.advance(2000);
  t.is(r.monitor.status()[0].state, 'up', 'one failure of fall 2');
  await r.advance(2000);
  t.is(r.monitor.status()[0].state, 'down');
  t.deepEqual(r.monitor.announced(), []);
  t.is(r.changes(), before + 1, 'one change: the withdrawal');
  t.is(r.monitor.status()[0].since, 1_006_000, 'withdrawn within interval x fall of the break');
  r.monitor.close();
  await r.advance(10_000);
  t.is(r.calls.length, 4, 'no check after close');
});

test('monitor: a reload keeps the health of an unchanged service, restarts a changed one, drops a removed one', async (t) => {
  const r = rig(() => true);
  r.monitor.configure([svc(), svc({ name: 'web', prefix: '10.255.0.80/32', check: { kind: 'tcp', address: '127.0.0.1', port: 80 } })]);
  await r.advance(2000);
  t.deepEqual(r.monitor.announced().map((s) => s.name), ['dns', 'web']);
  const diff = r.monitor.configure([
    svc({ communities: ['64512:54'], interval: 3, timeout: 2 }),
    svc({ name: 'web', prefix: '10.255.0.81/32', check: { kind: 'tcp', address: '127.0.0.1', port: 80 } }),
    svc({ name: 'ntp', prefix: '10.255.0.123/32', check: { kind: 'tcp', address: '127.0.0.1', port: 123 } }),
  ]);
  t.deepEqual(diff, { added: ['ntp'], removed: [], changed: ['web'] });
  t.deepEqual(r.monitor.announced(), [{ name: 'dns', prefix: '10.255.0.53/32', communities: [(64512 << 16 | 54) >>> 0] }], 'dns stays up with its new community; web starts again, down');
  t.is(r.monitor.configure([svc()]).removed.length, 2);
  t.deepEqual(r.monitor.status().map((s) => s.name), ['dns']);
});

test('monitor: a result that comes back after its service was removed is dropped', async (t) => {
  const r = rig(() => true);
  r.monitor.configure([svc({ rise: 1 })]);
  r.clock.advance(0); // the check starts and hangs
  t.is(r.pending.length, 1);
  r.monitor.configure([]);
  const changes = r.changes();
  for (const p of r.pending.splice(0)) p();
  await new Promise((res) => setImmediate(res));
  t.deepEqual(r.monitor.announced(), []);
  t.is(r.changes(), changes, 'no change from a removed service');
});
