/**
 * The requests a RouteSocket has sent and not yet seen answered, in sequence order. Sequence
 * numbers are consecutive within it (nextSeq in request-queue.ts skips 0, so a wrap is one
 * step), so an answer finds its request by arithmetic, not a map. An entry is a position:
 * the request (a bulk request is its number, a Smi) in one array, its two bits in another, and no
 * object per entry (issue 21: a million entries that waited for the kernel outlived V8's young
 * generation). Settling rules (see route-socket.ts): an error answers one message; the ACK of a
 * datagram's last message settles every earlier unanswered message of it as done.
 * Plain data and functions.
 */
import type { NetlinkError } from './errors.js';

/** This message carried NLM_F_ACK: its answer settles the datagram. */
const LAST = 1;
const SETTLED = 2;

export interface InFlight<R> {
  /** Per position: the request, and its bits (LAST, SETTLED). */
  readonly requests: R[];
  readonly bits: number[];
  /** Sequence number of the request at position 0. */
  firstSeq: number;
  /** Positions before head are settled and dropped at the next compaction. */
  head: number;
  /** Unsettled entries. */
  count: number;
}

export const emptyInFlight = <R>(): InFlight<R> => ({ requests: [], bits: [], firstSeq: 0, head: 0, count: 0 });

/** Steps from `from` to `seq` as nextSeq counts them (0 is never used). */
function stepsBetween(from: number, seq: number): number {
  const d = (seq - from) >>> 0;
  return seq < from && from !== 0 ? d - 1 : d;
}

/** `n` steps after `seq` as nextSeq counts them. */
const seqPlus = (seq: number, n: number): number => (seq + n > 0xffffffff ? seq + n - 0xffffffff : seq + n);

/**
 * One sent request with sequence number `seq`, the next after the last tracked one (a dump's
 * number comes between only when nothing is unsettled, and then the positions start afresh).
 */
export function track<R>(f: InFlight<R>, request: R, seq: number): void {
  if (f.count === 0) {
    f.requests.length = 0;
    f.bits.length = 0;
    f.head = 0;
  }
  if (f.requests.length === 0) f.firstSeq = seq;
  f.requests.push(request);
  f.bits.push(0);
  f.count++;
}

/** The last tracked request asked for the ACK: its answer settles its datagram. */
export function markLastTracked<R>(f: InFlight<R>): void {
  f.bits[f.bits.length - 1] |= LAST;
}

/** The position of the unsettled request with sequence number `seq`, or -1. */
export function find<R>(f: InFlight<R>, seq: number): number {
  if (f.head >= f.requests.length) return -1;
  const at = stepsBetween(f.firstSeq, seq);
  return at >= f.head && at < f.requests.length && (f.bits[at] & SETTLED) === 0 ? at : -1;
}

export const requestAt = <R>(f: InFlight<R>, at: number): R => f.requests[at];
export const isLast = <R>(f: InFlight<R>, at: number): boolean => (f.bits[at] & LAST) !== 0;

/** Marks one settled and tells its owner; false when it already was. */
export function settle<R>(f: InFlight<R>, at: number, err: NetlinkError | null, done: (request: R, err: NetlinkError | null) => void): boolean {
  if ((f.bits[at] & SETTLED) !== 0) return false;
  f.bits[at] |= SETTLED;
  f.count--;
  done(f.requests[at], err);
  return true;
}

/** The answer to a datagram's last message (at `last`): every earlier unanswered message of it succeeded. */
export function settleThrough<R>(f: InFlight<R>, last: number, err: NetlinkError | null, done: (request: R, err: NetlinkError | null) => void): void {
  for (let at = f.head; at < last; at++) settle(f, at, null, done);
  settle(f, last, err, done);
}

/** Drops settled entries from the front (and compacts now and then). */
export function advance<R>(f: InFlight<R>): void {
  const { requests, bits } = f;
  while (f.head < requests.length && (bits[f.head] & SETTLED) !== 0) f.head++;
  if (f.head === requests.length) {
    requests.length = 0;
    bits.length = 0;
    f.head = 0;
  } else if (f.head > 4096) {
    f.firstSeq = seqPlus(f.firstSeq, f.head);
    requests.splice(0, f.head);
    bits.splice(0, f.head);
    f.head = 0;
  }
}

/** Positions of the unsettled entries, in order. */
export function unsettled<R>(f: InFlight<R>): number[] {
  const out: number[] = [];
  for (let at = f.head; at < f.requests.length; at++) if ((f.bits[at] & SETTLED) === 0) out.push(at);
  return out;
}
