/**
 * The requests a RouteSocket has sent and not yet seen answered, in sequence order (sequence
 * numbers are consecutive within it, so an answer finds its request by arithmetic, not a map).
 * Settling rules (see route-socket.ts): an error answers one message; the ACK of a datagram's last
 * message settles every earlier unanswered message of it as done. Plain data and functions.
 */
import type { NetlinkError } from './errors.js';

export interface Pending<R> {
  readonly request: R;
  readonly seq: number;
  /** This message carried NLM_F_ACK: its answer settles the datagram. */
  last: boolean;
  settled: boolean;
}

export interface InFlight<R> {
  readonly order: Pending<R>[];
  head: number;
  /** Unsettled entries. */
  count: number;
}

export const emptyInFlight = <R>(): InFlight<R> => ({ order: [], head: 0, count: 0 });

export function track<R>(f: InFlight<R>, sent: readonly Pending<R>[]): void {
  for (const p of sent) f.order.push(p);
  f.count += sent.length;
}

export function find<R>(f: InFlight<R>, seq: number): Pending<R> | undefined {
  if (f.head >= f.order.length) return undefined;
  const index = f.head + ((seq - f.order[f.head].seq) >>> 0);
  const p = index < f.order.length ? f.order[index] : undefined;
  return p !== undefined && p.seq === seq && !p.settled ? p : undefined;
}

/** Marks one settled and tells its owner; false when it already was. */
export function settle<R>(f: InFlight<R>, p: Pending<R>, err: NetlinkError | null, done: (p: Pending<R>, err: NetlinkError | null) => void): boolean {
  if (p.settled) return false;
  p.settled = true;
  f.count--;
  done(p, err);
  return true;
}

/** The answer to a datagram's last message: every earlier unanswered message of it succeeded. */
export function settleThrough<R>(f: InFlight<R>, last: Pending<R>, err: NetlinkError | null,
  done: (p: Pending<R>, err: NetlinkError | null) => void): void {
  for (let i = f.head; i < f.order.length; i++) {
    const p = f.order[i];
    if (p === last) break;
    settle(f, p, null, done);
  }
  settle(f, last, err, done);
}

/** Drops settled entries from the front (and compacts now and then). */
export function advance<R>(f: InFlight<R>): void {
  while (f.head < f.order.length && f.order[f.head].settled) f.head++;
  if (f.head === f.order.length) {
    f.order.length = 0;
    f.head = 0;
  } else if (f.head > 4096) {
    f.order.splice(0, f.head);
    f.head = 0;
  }
}

export function unsettled<R>(f: InFlight<R>): Pending<R>[] {
  return f.order.slice(f.head).filter((p) => !p.settled);
}
