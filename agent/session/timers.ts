/**
 * The FSM's timers over an injected Clock (agent/contracts/clock.ts): the real one, or in tests
 * test/helpers/fake-clock.ts. SessionTimers runs the FSM's named
 * timers: start replaces a running one, stop cancels, and ConnectRetry and Keepalive get the
 * RFC 4271 section 10 jitter (a random factor between 0.75 and 1.0) so peers do not synchronise.
 */

import type { Clock } from '../contracts/clock.js';

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
