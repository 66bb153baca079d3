/**
 * The daemon's stop (agent/daemon/shutdown.ts): everything closes in order, and the last timer, the
 * process.exit fallback 200 ms after the sessions' last bytes, runs on the daemon's injected clock
 * (issue 20). process.exit is stubbed for the test.
 */
import test from 'ava';

import { type Running, shutdown } from '../../agent/daemon/shutdown.js';
import { FakeClock } from '../helpers/fake-clock.js';

test.serial('the stop closes in order, then exits 200 ms later on the injected clock', async (t) => {
  const order: string[] = [];
  const clock = new FakeClock();
  const log = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => log };
  const running: Running = {
    log,
    clock,
    timers: [() => order.push('timers'), undefined],
    checker: { close: () => void order.push('checker') } as never,
    control: { close: async () => void order.push('control') } as never,
    metricsServer: null,
    rib: { close: () => void order.push('rib') } as never,
    fib: { close: async () => void order.push('fib') } as never,
    bfd: { close: async () => void order.push('bfd') } as never,
    manager: { close: async () => void order.push('sessions') } as never,
  };
  const exit = process.exit;
  const exits: (string | number | null | undefined)[] = [];
  process.exit = ((code?: string | number | null) => void exits.push(code)) as typeof process.exit;
  try {
    await shutdown('SIGTERM', running);
    t.deepEqual(order, ['timers', 'checker', 'control', 'rib', 'fib', 'bfd', 'sessions']);
    clock.advance(199);
    t.deepEqual(exits, []);
    clock.advance(1);
    t.deepEqual(exits, [0]);
  } finally {
    process.exit = exit;
  }
});
