/**
 * The health state of one anycast service (SPEC.md "Anycast services"), pure: counters of
 * consecutive passes and failures, and the state they decide. A service starts `down` (nothing
 * announced) and goes `up` after `rise` consecutive passes; it goes `down` again after `fall`
 * consecutive failures. A pass resets the failures, a failure the passes. `drained` (SPEC.md
 * "Drain") is announced as `up` is and follows the same health rules; nothing here sets it (the
 * drain is built elsewhere). Times are the injected clock's milliseconds.
 * Not here: running checks or timers (monitor.ts), routes (agent/rib/services.ts).
 */

export type ServiceState = 'up' | 'down' | 'drained';

export interface CheckResult {
  readonly ok: boolean;
  /** In words: `connected`, `HTTP 500`, `exit 1`, `timed out after 1 s`. */
  readonly detail: string;
  /** When the check ended (clock ms). */
  readonly at: number;
}

export interface Health {
  readonly state: ServiceState;
  /** When the state last changed (or the service was configured). */
  readonly since: number;
  readonly passes: number;
  readonly failures: number;
  readonly last: CheckResult | null;
}

export interface Thresholds {
  readonly rise: number;
  readonly fall: number;
}

/** A service just configured: down, no check yet. */
export function initialHealth(now: number): Health {
  return { state: 'down', since: now, passes: 0, failures: 0, last: null };
}

/** Whether the prefix is announced in this state. */
export function announced(state: ServiceState): boolean {
  return state !== 'down';
}

/** One check's result; `changed` when the state moved (announce or withdraw). */
export function step(h: Health, r: CheckResult, t: Thresholds): { readonly next: Health; readonly changed: boolean } {
  const passes = r.ok ? h.passes + 1 : 0;
  const failures = r.ok ? 0 : h.failures + 1;
  let state = h.state;
  if (state === 'down' && passes >= t.rise) state = 'up';
  else if (state !== 'down' && failures >= t.fall) state = 'down';
  const changed = state !== h.state;
  return { next: { state, since: changed ? r.at : h.since, passes, failures, last: r }, changed };
}
