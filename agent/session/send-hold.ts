/**
 * The send hold timer of RFC 9687: a peer that stops reading (its TCP window stays closed while its
 * KEEPALIVEs still arrive) must not keep an Established session, and the bytes queued for it,
 * forever. "Progress" is what the TCP socket tells us: the timer runs while bytes we wrote (UPDATEs,
 * markers, KEEPALIVEs alike) wait in our socket buffer, and restarts each time a write reaches the
 * kernel; with nothing waiting it is stopped (an idle session is not a stalled one). When it
 * expires the session feeds SendHoldTimerExpires to the FSM (NOTIFICATION 8, Idle).
 * SendHoldTime (RFC 9687 section 4, changes to RFC 4271 section 10): configured seconds, or the
 * suggested default, the greater of 8 minutes and twice the negotiated hold time; 0 (configured,
 * or a negotiated hold time of 0, which RFC 9687 exempts) turns it off.
 * Not here: the FSM (fsm.ts), the timer itself (timers.ts), what is written (transmit.ts).
 */

/** RFC 9687: the suggested SendHoldTime is at least 8 minutes. */
export const SEND_HOLD_MIN_DEFAULT = 480;

/** The SendHoldTime for a session: `configured` null is the RFC's suggested default; 0 is off. */
export function sendHoldSeconds(configured: number | null, negotiatedHoldTime: number): number {
  if (negotiatedHoldTime === 0) return 0;
  return configured ?? Math.max(SEND_HOLD_MIN_DEFAULT, 2 * negotiatedHoldTime);
}

/** The session's named timer 'sendHold' (SessionTimers), seen from here. */
export interface SendHoldTimer {
  start(seconds: number): void;
  stop(): void;
  running(): boolean;
}

/** One named timer of a set of named timers (SessionTimers) as a SendHoldTimer. */
export function namedTimer<T extends string>(timers: { start(t: T, seconds: number): void; stop(t: T): void; running(t: T): boolean }, name: T): SendHoldTimer {
  return { start: (s) => timers.start(name, s), stop: () => timers.stop(name), running: () => timers.running(name) };
}

export class SendHold {
  /** Expiries since the session was created (agentctl status, metrics). */
  expiries = 0;
  private seconds = 0;
  /** Clock time (ms) when bytes last reached the kernel, or started waiting. */
  private since = 0;

  constructor(
    private readonly timer: SendHoldTimer,
    private readonly now: () => number,
  ) {}

  /** Watches a new Established connection with this SendHoldTime (0: not at all). */
  arm(seconds: number, waiting: number): void {
    this.seconds = seconds;
    this.since = this.now();
    this.timer.stop();
    if (seconds > 0 && waiting > 0) this.timer.start(seconds);
  }

  disarm(): void {
    this.seconds = 0;
    this.timer.stop();
  }

  get armed(): boolean {
    return this.seconds > 0;
  }

  /** A message was handed to the socket; `waiting` bytes are in our buffer now. */
  queued(waiting: number): void {
    if (this.seconds === 0 || waiting === 0 || this.timer.running()) return;
    // Nothing was waiting before: the stall, if it is one, starts now.
    this.since = this.now();
    this.timer.start(this.seconds);
  }

  /** A write reached the kernel: the peer's TCP took data. `waiting` bytes are still queued. */
  progressed(waiting: number): void {
    if (this.seconds === 0) return;
    this.since = this.now();
    if (waiting > 0) this.timer.start(this.seconds);
    else this.timer.stop();
  }

  /** The timer expired (the session feeds SendHoldTimerExpires): counted; the log line's words. */
  expired(waiting: number): string {
    this.expiries++;
    return `send hold timer expired: nothing could be written to the peer for ${this.stalledSeconds} s (${waiting} bytes waiting); closing the session`;
  }

  /** Seconds since anything we wrote last reached the kernel (for the log line). */
  get stalledSeconds(): number {
    return Math.round((this.now() - this.since) / 1000);
  }
}
