/**
 * A Clock (agent/contracts/clock.ts) that only moves when told: timers fire in due order during
 * advance(), so every timer of a session, the RIB, BFD or the FIB is a table test.
 */

import type { Clock } from '../../agent/contracts/clock.js';

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

