/** Session timers on a fake clock: expiry, replacement, cancellation and RFC 4271 s10 jitter. */

import test from 'ava';
import { SessionTimers } from '../../agent/session/timers.js';
import { FakeClock } from '../helpers/fake-clock.js';

type T = 'connectRetry' | 'hold' | 'keepalive';

function setup(random = () => 0.5) {
  const clock = new FakeClock();
  const fired: [T, number][] = [];
  const timers = new SessionTimers<T>(clock, (t) => fired.push([t, clock.now()]), random);
  return { clock, fired, timers };
}

test('a hold timer fires once, exactly on time', (t) => {
  const { clock, fired, timers } = setup();
  timers.start('hold', 3);
  clock.advance(2999);
  t.deepEqual(fired, []);
  clock.advance(1);
  t.deepEqual(fired, [['hold', 3000]]);
  t.false(timers.running('hold'));
  clock.advance(10_000);
  t.is(fired.length, 1);
});

test('starting a running timer replaces it; stop cancels', (t) => {
  const { clock, fired, timers } = setup();
  timers.start('hold', 3);
  clock.advance(2000);
  timers.start('hold', 3);
  clock.advance(2000);
  t.deepEqual(fired, []);
  clock.advance(1000);
  t.deepEqual(fired, [['hold', 5000]]);
  timers.start('hold', 3);
  timers.stop('hold');
  clock.advance(10_000);
  t.is(fired.length, 1);
});

const jitter: { random: number; ms: number }[] = [
  { random: 0, ms: 3750 },
  { random: 0.5, ms: 4375 },
  { random: 0.999999, ms: 5000 },
];
for (const j of jitter) {
  test(`connect-retry jitter with random ${j.random}: ${j.ms} ms of 5 s`, (t) => {
    const { clock, fired, timers } = setup(() => j.random);
    timers.start('connectRetry', 5);
    clock.advance(j.ms - 1);
    t.deepEqual(fired, []);
    clock.advance(1);
    t.is(fired.length, 1);
  });
}

test('timers fire in due order and stopAll cancels everything', (t) => {
  const { clock, fired, timers } = setup(() => 1);
  timers.start('hold', 9);
  timers.start('keepalive', 3);
  clock.advance(9000);
  t.deepEqual(fired.map(([name]) => name), ['keepalive', 'hold']);
  timers.start('hold', 1);
  timers.start('connectRetry', 1);
  timers.stopAll();
  clock.advance(5000);
  t.is(fired.length, 2);
});
