/**
 * The FSM's timers over an injected Clock (agent/contracts/clock.ts): the real one or a FakeClock
 * that tests advance by hand. SessionTimers runs the FSM's named
 * timers: start replaces a running one, stop cancels, and ConnectRetry and Keepalive get the
 * RFC 4271 section 10 jitter (a random factor between 0.75 and 1.0) so peers do not synchronise.
 */

import type { Clock } from '../contracts/clock.js';

// Until every caller imports agent/contracts/clock.ts itself.
export { systemClock, type Clock } from '../contracts/clock.js';

/** A clock that only moves when told; timers fire in due order during advance(). */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: { at: number; fn: () => void } | undefined;
      for (const [id, p] of this.pending) {
        if (p.at <= end && (next === undefined || p.at < next.at)) {
          nextId = id;
          next = p;
        }
      }
      if (next === undefined || nextId === undefined) break;
      this.pending.delete(nextId);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

const JITTERED: ReadonlySet<string> = new Set(['connectRetry', 'keepalive']);

export class SessionTimers<T extends string> {
  private readonly handles = new Map<T, unknown>();

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (timer: T) => void,
    private readonly random: () => number = Math.random,
  ) {}

  start(timer: T, seconds: number): void {
    this.stop(timer);
    const factor = JITTERED.has(timer) ? 0.75 + 0.25 * this.random() : 1;
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(timer);
      this.onExpire(timer);
    }, seconds * 1000 * factor);
    this.handles.set(timer, handle);
  }

  stop(timer: T): void {
    const h = this.handles.get(timer);
    if (h !== undefined) this.clock.clearTimeout(h);
    this.handles.delete(timer);
  }

  running(timer: T): boolean {
    return this.handles.has(timer);
  }

  stopAll(): void {
    for (const t of [...this.handles.keys()]) this.stop(t);
  }
}
