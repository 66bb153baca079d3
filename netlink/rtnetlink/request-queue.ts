/**
 * A RouteSocket's requests as plain data and functions: the queue (requests, bulk request numbers
 * and dumps, in submission order), the sequence numbers, the next datagram built from the queue and
 * what settles its messages. Only the last message of a datagram asks for an ACK (NLM_F_ACK): the
 * kernel processes a datagram's messages in order and answers a failed one with an NLMSG_ERROR
 * whatever its flags, so that ACK settles every earlier message of the datagram that did not fail.
 *
 * Bulk work (the Fib's routes) names its requests by number (`submitBulk`): the owner's
 * BulkRequests writes each payload into the datagram when it is sent and hears its answer, so a
 * queued or unanswered request costs no object (issue 12: the objects of 4,608 unanswered
 * requests outlived V8's young generation and were promoted, a million times over; issue 21: the
 * in-flight entries, message objects and per-route payload buffers that remained went too).
 * The dump in progress is here too: its answers are told from the requests' by sequence number.
 * Not here: the sockets, the pump that decides when to send and when a dump starts (route-socket.ts).
 */
import { NLMSG, NLMSG_HDRLEN, NLM_F } from './constants.js';
import { type DumpJob, dumpLost, feedDump } from './dump.js';
import { NetlinkError, type NetlinkOp } from './errors.js';
import {
  advance, emptyInFlight, find, type InFlight, isLast, markLastTracked, requestAt, settle, settleThrough, track, unsettled,
} from './in-flight.js';
import { dropJob, emptyRing, type JobRing, peekJob, pushJob, takeAll } from './job-ring.js';
import { align4, decodeError, type NlMessage, writeHeader } from './message.js';

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
  /**
   * Request n's payload written into `buf` at `at`: returns its length, and writes it only when
   * it fits (at + length <= buf.length); otherwise the caller grows buf and asks again.
   */
  write(n: number, buf: Buffer, at: number): number;
  op(n: number): NetlinkOp;
  /** Called once per submitBulk: null on success. */
  done(n: number, err: NetlinkError | null): void;
}

/** A request, or the number of a bulk one. */
export type Request = RouteRequest | number;
export type Job = Request | DumpJob;

/** A datagram and the requests it carries: `count` of them from sequence number `first`. */
export interface Batch {
  /** A view of the queue's scratch buffer, valid until the next buildBatch (the addon copies it). */
  readonly datagram: Buffer;
  readonly first: number;
  readonly count: number;
}

export const isDump = (job: Job): job is DumpJob => typeof job !== 'number' && (job as DumpJob).kind === 'dump';

export interface RequestQueue {
  /** Queued and not yet sent, in submission order. */
  readonly jobs: JobRing<RouteRequest | DumpJob>;
  /** Sent and unanswered, in sequence order. */
  readonly inflight: InFlight<Request>;
  seq: number;
  /** Started and not yet over; nothing else is sent meanwhile. */
  dumping: DumpJob | null;
  readonly bulk: BulkRequests | undefined;
  /** settle's callback, made once per queue. */
  readonly requestDone: (request: Request, err: NetlinkError | null) => void;
  /** Where datagrams are built (grown when a message does not fit; reused). */
  scratch: Buffer;
}

export function emptyQueue(bulk: BulkRequests | undefined): RequestQueue {
  const q: RequestQueue = {
    jobs: emptyRing(), inflight: emptyInFlight(), seq: Math.floor(Math.random() * 0x7fffffff), dumping: null, bulk,
    requestDone: (request, err) => requestDone(q, request, err),
    scratch: Buffer.alloc(64 * 1024),
  };
  return q;
}

/** Requests queued or unanswered, and the dump in progress. */
export const pending = (q: RequestQueue): number => q.jobs.length + q.inflight.count + (q.dumping === null ? 0 : 1);

/** Queues a job behind the others. */
export const submitJob = (q: RequestQueue, job: Job): void => pushJob(q.jobs, job);

/** The next job to send, or undefined when the queue is empty (0 is a bulk request's number). */
export const peek = (q: RequestQueue): Job | undefined => peekJob(q.jobs);

/** The job peek() gave is taken (sent, or started as the dump). */
export const taken = (q: RequestQueue): void => dropJob(q.jobs);

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

/** Empties the queue: every job not sent fails with err. */
export function failQueued(q: RequestQueue, err: NetlinkError): void {
  for (const job of takeAll(q.jobs)) {
    if (isDump(job)) job.reject(err);
    else requestDone(q, job, err);
  }
}

/**
 * The next datagram from the queue (up to a dump), built in the queue's scratch buffer: each
 * message's header and payload written in place (a bulk request's by its owner), no object per
 * message. Its messages count as in flight from now; the last one asks for the ACK.
 */
export function buildBatch(q: RequestQueue, max: number): Batch | null {
  const bulk = q.bulk;
  let at = 0;
  let count = 0;
  let first = 0;
  let lastAt = 0;
  for (let job = peekJob(q.jobs); count < max && job !== undefined; job = peekJob(q.jobs)) {
    if (isDump(job)) break;
    dropJob(q.jobs);
    let len: number;
    try {
      len = writePayload(q, job, at + NLMSG_HDRLEN);
    } catch (err) {
      requestDone(q, job, err instanceof NetlinkError ? err : new NetlinkError('encode', 'EINVAL', String(err)));
      continue;
    }
    const seq = nextSeq(q);
    if (count === 0) first = seq;
    const type = typeof job === 'number' ? (bulk as BulkRequests).type(job) : job.type;
    const flags = typeof job === 'number' ? (bulk as BulkRequests).flags(job) : job.flags;
    const size = NLMSG_HDRLEN + align4(len);
    writeHeader(q.scratch, at, size, type, flags | NLM_F.REQUEST, seq);
    q.scratch.fill(0, at + NLMSG_HDRLEN + len, at + size);
    track(q.inflight, job, seq);
    lastAt = at;
    at += size;
    count++;
  }
  if (count === 0) return null;
  markLastTracked(q.inflight);
  // The last message asks for the ACK: its answer tells that every message before it was processed.
  q.scratch.writeUInt16LE(q.scratch.readUInt16LE(lastAt + 6) | NLM_F.ACK, lastAt + 6);
  return { datagram: q.scratch.subarray(0, at), first, count };
}

/** Writes job's payload at `at` of the scratch buffer, growing it first when it does not fit; returns its length. */
function writePayload(q: RequestQueue, job: Request, at: number): number {
  if (typeof job === 'number') {
    const bulk = q.bulk as BulkRequests;
    let len = bulk.write(job, q.scratch, at);
    if (at + len + 4 > q.scratch.length) {
      grow(q, at + len + 4);
      len = bulk.write(job, q.scratch, at);
    }
    return len;
  }
  const payload = job.payload();
  if (at + payload.length + 4 > q.scratch.length) grow(q, at + payload.length + 4);
  payload.copy(q.scratch, at);
  return payload.length;
}

function grow(q: RequestQueue, need: number): void {
  const bigger = Buffer.alloc(Math.max(need, q.scratch.length * 2));
  q.scratch.copy(bigger);
  q.scratch = bigger;
}

/**
 * A datagram that did not go out (its `count` messages from sequence number `first`): each of its
 * messages still unanswered fails with err.
 */
export function failSent(q: RequestQueue, first: number, count: number, err: NetlinkError): void {
  let seq = first;
  for (let n = 0; n < count; n++) {
    const at = find(q.inflight, seq);
    if (at >= 0) settle(q.inflight, at, err, q.requestDone);
    seq = (seq + 1) >>> 0;
    if (seq === 0) seq = 1; // as nextSeq
  }
  advance(q.inflight);
}

/** Fails every unanswered request with err, and the dump in progress. */
export function failInflight(q: RequestQueue, err: NetlinkError): void {
  for (const at of unsettled(q.inflight)) settle(q.inflight, at, err, q.requestDone);
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
  const at = find(q.inflight, msg.seq);
  if (at < 0) return; // answer to a request already failed by an overflow
  let error: NetlinkError | null = null;
  try {
    const e = decodeError(msg);
    if (e.error !== 0) error = NetlinkError.fromKernel(opOf(q, requestAt(q.inflight, at)), e.error, e.message || undefined);
  } catch (err) {
    error = err as NetlinkError;
  }
  if (isLast(q.inflight, at)) settleThrough(q.inflight, at, error, q.requestDone);
  else settle(q.inflight, at, error, q.requestDone);
}
