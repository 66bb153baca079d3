/**
 * A RouteSocket's requests as plain data and functions: the queue (requests, bulk request numbers
 * and dumps, in submission order), the sequence numbers, the next datagram built from the queue and
 * what settles its messages. Only the last message of a datagram asks for an ACK (NLM_F_ACK): the
 * kernel processes a datagram's messages in order and answers a failed one with an NLMSG_ERROR
 * whatever its flags, so that ACK settles every earlier message of the datagram that did not fail.
 *
 * Bulk work (the Fib's routes) names its requests by number (`submitBulk`): the owner's
 * BulkRequests builds each message when it is sent and hears its answer, so a queued or
 * unanswered request costs no object but its in-flight entry (issue 12: the objects of 4,608
 * unanswered requests outlived V8's young generation and were promoted, a million times over).
 * The dump in progress is here too: its answers are told from the requests' by sequence number.
 * Not here: the sockets, the pump that decides when to send and when a dump starts (route-socket.ts).
 */
import { NLMSG, NLM_F } from './constants.js';
import { type DumpJob, dumpLost, feedDump } from './dump.js';
import { NetlinkError, type NetlinkOp } from './errors.js';
import {
  advance, emptyInFlight, find, type InFlight, type Pending as InFlightEntry, settle, settleThrough, track, unsettled,
} from './in-flight.js';
import { type BatchMessage, decodeError, encodeBatch, type NlMessage } from './message.js';

export interface RouteRequest {
  readonly type: number;
  /** Beside NLM_F_REQUEST (added), e.g. NLM_F_CREATE | NLM_F_REPLACE. */
  readonly flags: number;
  readonly op: NetlinkOp;
  /** The message payload, built when the request is sent (so a long queue holds no buffers). */
  payload(): Buffer;
  /** Called once: null on success. */
  done(err: NetlinkError | null): void;
}

/** Requests named by a number (the owner's index for them), for `submitBulk`. */
export interface BulkRequests {
  /** The message of request n (type; flags beside NLM_F_REQUEST; payload), when it is sent. */
  type(n: number): number;
  flags(n: number): number;
  payload(n: number): Buffer;
  op(n: number): NetlinkOp;
  /** Called once per submitBulk: null on success. */
  done(n: number, err: NetlinkError | null): void;
}

/** A request, or the number of a bulk one. */
export type Request = RouteRequest | number;
export type Pending = InFlightEntry<Request>;
export type Job = Request | DumpJob;

export interface Batch {
  readonly datagram: Buffer;
  readonly sent: readonly Pending[];
}

export const isDump = (job: Job): job is DumpJob => typeof job !== 'number' && (job as DumpJob).kind === 'dump';

export interface RequestQueue {
  jobs: Job[];
  /** jobs[head] is the next to go; earlier entries are sent and dropped by compact. */
  head: number;
  /** Sent and unanswered, in sequence order. */
  readonly inflight: InFlight<Request>;
  seq: number;
  /** Started and not yet over; nothing else is sent meanwhile. */
  dumping: DumpJob | null;
  readonly bulk: BulkRequests | undefined;
  /** settle's callback, made once per queue. */
  readonly requestDone: (p: Pending, err: NetlinkError | null) => void;
}

export function emptyQueue(bulk: BulkRequests | undefined): RequestQueue {
  const q: RequestQueue = {
    jobs: [], head: 0, inflight: emptyInFlight(), seq: Math.floor(Math.random() * 0x7fffffff), dumping: null, bulk,
    requestDone: (p, err) => requestDone(q, p.request, err),
  };
  return q;
}

/** Requests queued or unanswered, and the dump in progress. */
export const pending = (q: RequestQueue): number => q.jobs.length - q.head + q.inflight.count + (q.dumping === null ? 0 : 1);

/** The next job to send, or undefined when the queue is empty (0 is a bulk request's number). */
export const peek = (q: RequestQueue): Job | undefined => (q.head < q.jobs.length ? q.jobs[q.head] : undefined);

export function nextSeq(q: RequestQueue): number {
  q.seq = (q.seq + 1) >>> 0;
  if (q.seq === 0) q.seq = 1;
  return q.seq;
}

/** Tells a request's owner its outcome. */
export function requestDone(q: RequestQueue, request: Request, err: NetlinkError | null): void {
  if (typeof request === 'number') (q.bulk as BulkRequests).done(request, err);
  else request.done(err);
}

export function opOf(q: RequestQueue, request: Request): NetlinkOp {
  return typeof request === 'number' ? (q.bulk as BulkRequests).op(request) : request.op;
}

/** Drops sent jobs once they are most of the array (they must not stay referenced: issue 12). */
export function compact(q: RequestQueue): void {
  if (q.head > 4096 && q.head * 2 > q.jobs.length) {
    q.jobs = q.jobs.slice(q.head);
    q.head = 0;
  }
}

/** Empties the queue: every job not sent fails with err. */
export function failQueued(q: RequestQueue, err: NetlinkError): void {
  const jobs = q.jobs.slice(q.head);
  q.jobs = [];
  q.head = 0;
  for (const job of jobs) {
    if (isDump(job)) job.reject(err);
    else requestDone(q, job, err);
  }
}

/** The next datagram from the queue (up to a dump); its messages count as in flight from now. */
export function buildBatch(q: RequestQueue, max: number): Batch | null {
  const messages: BatchMessage[] = [];
  const sent: Pending[] = [];
  const bulk = q.bulk;
  while (sent.length < max && q.head < q.jobs.length) {
    const job = q.jobs[q.head];
    if (isDump(job)) break;
    q.head++;
    let payload: Buffer;
    try {
      payload = typeof job === 'number' ? (bulk as BulkRequests).payload(job) : job.payload();
    } catch (err) {
      requestDone(q, job, err instanceof NetlinkError ? err : new NetlinkError('encode', 'EINVAL', String(err)));
      continue;
    }
    const seq = nextSeq(q);
    const type = typeof job === 'number' ? (bulk as BulkRequests).type(job) : job.type;
    const flags = typeof job === 'number' ? (bulk as BulkRequests).flags(job) : job.flags;
    messages.push({ type, flags: flags | NLM_F.REQUEST, seq, payload });
    sent.push({ request: job, seq, last: false, settled: false });
  }
  if (sent.length === 0) return null;
  sent[sent.length - 1].last = true;
  track(q.inflight, sent);
  return { datagram: encodeBatch(messages), sent };
}

/**
 * A datagram that did not go out (its `count` messages from sequence number `first`): each of its
 * messages still unanswered fails with err.
 */
export function failSent(q: RequestQueue, first: number, count: number, err: NetlinkError): void {
  let seq = first;
  for (let n = 0; n < count; n++) {
    const p = find(q.inflight, seq);
    if (p !== undefined) settle(q.inflight, p, err, q.requestDone);
    seq = (seq + 1) >>> 0;
    if (seq === 0) seq = 1; // as nextSeq
  }
  advance(q.inflight);
}

/** Fails every unanswered request with err, and the dump in progress. */
export function failInflight(q: RequestQueue, err: NetlinkError): void {
  for (const p of unsettled(q.inflight)) settle(q.inflight, p, err, q.requestDone);
  advance(q.inflight);
  if (q.dumping !== null) {
    const job = q.dumping;
    q.dumping = null;
    dumpLost(job, err);
  }
}

/** One message from the request socket: the dump's, or an answer to a request. */
export function receive(q: RequestQueue, msg: NlMessage): void {
  if (q.dumping !== null && msg.seq === q.dumping.seq) {
    if (feedDump(q.dumping, msg)) q.dumping = null;
  } else if (msg.type === NLMSG.ERROR) answer(q, msg);
}

/** An NLMSG_ERROR answer (an ACK when its error is 0); settles what it answers. */
function answer(q: RequestQueue, msg: NlMessage): void {
  const pending = find(q.inflight, msg.seq);
  if (pending === undefined) return; // answer to a request already failed by an overflow
  let error: NetlinkError | null = null;
  try {
    const e = decodeError(msg);
    if (e.error !== 0) error = NetlinkError.fromKernel(opOf(q, pending.request), e.error, e.message || undefined);
  } catch (err) {
    error = err as NetlinkError;
  }
  if (pending.last) settleThrough(q.inflight, pending, error, q.requestDone);
  else settle(q.inflight, pending, error, q.requestDone);
}
