/**
 * RFC 9687 send hold timer (agent/session/send-hold.ts) on a FakeClock through the real
 * SessionTimers: it runs only while our bytes wait in the socket, restarts when a write reaches the
 * kernel, stops when nothing waits, and expires after SendHoldTime of no progress. Plus the
 * SendHoldTime rule: configured, or the greater of 480 s and twice the negotiated hold time; 0 off.
 */

import test from 'ava';
import { SendHold, sendHoldSeconds } from '../../agent/session/send-hold.js';
import { SessionTimers } from '../../agent/session/timers.js';
import { FakeClock } from '../helpers/fake-clock.js';

const seconds: readonly [configured: number | null, hold: number, want: number][] = [
  [null, 90, 480],
  [null, 240, 480],
  [null, 300, 600],
  [null, 0, 0],
  [0, 90, 0],
  [20, 9, 20],
  [600, 0, 0],
];
for (const [configured, hold, want] of seconds) {
  test(`SendHoldTime: configured ${String(configured)}, negotiated hold time ${hold} -> ${want}`, (t) => {
    t.is(sendHoldSeconds(configured, hold), want);
  });
}

type Step = readonly ['arm', number, number] | readonly ['queued', number] | readonly ['progressed', number] | readonly ['advance', number] | readonly ['disarm'];

interface Row {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Clock times (ms) of the expiries. */
  readonly expired: readonly number[];
}

const rows: readonly Row[] = [
  { name: 'bytes wait and never reach the kernel: expires after SendHoldTime', steps: [['arm', 4, 0], ['queued', 100], ['advance', 10_000]], expired: [4000] },
  { name: 'nothing waiting: an idle session never expires', steps: [['arm', 4, 0], ['queued', 0], ['advance', 60_000]], expired: [] },
  { name: 'armed with bytes already waiting', steps: [['arm', 4, 500], ['advance', 4000]], expired: [4000] },
  { name: 'progress restarts the timer', steps: [['arm', 4, 0], ['queued', 100], ['advance', 3000], ['progressed', 50], ['advance', 3999]], expired: [] },
  { name: 'progress, then a stall: expires SendHoldTime after the last progress', steps: [['arm', 4, 0], ['queued', 100], ['advance', 3000], ['progressed', 50], ['advance', 5000]], expired: [7000] },
  { name: 'more writes while stalled do not restart it (KEEPALIVEs queued behind a full buffer)', steps: [['arm', 4, 0], ['queued', 100], ['advance', 2000], ['queued', 119], ['advance', 1000], ['queued', 138], ['advance', 1000]], expired: [4000] },
  { name: 'everything written: stopped', steps: [['arm', 4, 0], ['queued', 100], ['advance', 3000], ['progressed', 0], ['advance', 60_000]], expired: [] },
  { name: 'SendHoldTime 0: off', steps: [['arm', 0, 100], ['queued', 100], ['advance', 60_000]], expired: [] },
  { name: 'disarmed (session down): never expires', steps: [['arm', 4, 0], ['queued', 100], ['advance', 1000], ['disarm'], ['queued', 100], ['advance', 60_000]], expired: [] },
];

for (const row of rows) {
  test(`send hold timer: ${row.name}`, (t) => {
    const clock = new FakeClock();
    const expired: number[] = [];
    const stalled: number[] = [];
    let watch: SendHold | undefined;
    const timers = new SessionTimers<'sendHold'>(clock, () => {
      expired.push(clock.now());
      stalled.push(watch?.stalledSeconds ?? -1);
    });
    watch = new SendHold({ start: (s) => timers.start('sendHold', s), stop: () => timers.stop('sendHold'), running: () => timers.running('sendHold') }, () => clock.now());
    for (const step of row.steps) {
      if (step[0] === 'arm') watch.arm(step[1], step[2]);
      else if (step[0] === 'queued') watch.queued(step[1]);
      else if (step[0] === 'progressed') watch.progressed(step[1]);
      else if (step[0] === 'advance') clock.advance(step[1]);
      else watch.disarm();
    }
    t.deepEqual(expired, row.expired);
    t.deepEqual(stalled, row.expired.map(() => 4), 'the log line says how long nothing was written');
  });
}
