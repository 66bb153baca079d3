/**
 * Time, as every engine is given it (STYLE.md: time is injected). The one module whose code
 * touches setTimeout and Date.now for timers: sessions, the RIB, BFD, the FIB, the checker and its
 * prober, the control server and the daemon's stop take a Clock, and tests give them
 * test/helpers/fake-clock.ts instead. Not here: jittered FSM timers (agent/session/timers.ts), the
 * event loop's own setImmediate turns (not time), performance.now() as a CPU budget (digest
 * slices), agentctl's own timers (agent/cli: a short-lived program, see agentctl.ts).
 */

export interface Clock {
  /** Milliseconds; only differences are meaningful. */
  now(): number;
  /** Runs `fn` once after `ms`; the handle goes to clearTimeout. Never keeps the process alive. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * For a run that measures round trips and must end by itself (the prober, agent/check/prober.ts):
 * now() is performance.now() (monotonic, sub-millisecond: an RTT, not a date), and its timers keep
 * the process alive, so a run over sockets that do not hold the event loop still reaches its end.
 */
export const steadyClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock` (a backoff inside an async loop). */
export function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimeout(resolve, ms));
}

/**
 * Calls `fn` every `ms` until the returned function is called; the next period is armed after
 * `fn` returns, so a slow `fn` never overlaps itself.
 */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: unknown;
  let stopped = false;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      fn();
      if (!stopped) arm();
    }, ms);
  };
  arm();
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * `2026-11-21T17:38:47.123Z`, what Date's toISOString gives for years 0 to 9999, from the UTC
 * getters. toISOString itself makes V8 set up its time-zone cache from ICU's data the first time
 * it runs (about 0.9 MB of the node binary's pages at start, issue 21); the UTC getters do not.
 * The agent's log timestamps are these.
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const milli = d.getUTCMilliseconds();
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** `2026-11-21T17:38:47Z`: seconds are what an operator compares; milliseconds are noise. */
export function isoSeconds(ms: number): string {
  return `${isoTime(ms).slice(0, -5)}Z`;
}
