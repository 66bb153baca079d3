/**
 * RouteSocket: rack-agent's rtnetlink client. Owns two netlink sockets of the process's network
 * namespace: one for requests and dumps, one subscribed to route, link and address notifications.
 *
 * Requests are queued and sent several per datagram, with at most `window` unanswered, from a
 * libuv worker thread (the kernel does its work inside sendto, so the next datagram is prepared
 * while it runs; one datagram at a time keeps them in order). Only the
 * last message of a datagram asks for an ACK (NLM_F_ACK): the kernel processes a datagram's
 * messages in order and answers a failed one with an NLMSG_ERROR whatever its flags, so that ACK
 * settles every earlier message of the datagram that did not fail. This is how a burst is applied at
 * the kernel's pace instead of one round trip per route (BIRD's krt does one exchange per route).
 *
 * The monitor socket carries a kernel-side filter that drops the notifications our own requests
 * cause (they carry the request socket's port id): their outcome is known from the answers, and a
 * burst of our own changes can never overflow the monitor. What it delivers is everyone else's.
 * The kernel queues a notification before the ACK of a later request, so the monitor is drained
 * before answers are processed: whoever sees a request settle has seen every earlier change.
 *
 * Dumps run alone: queued like requests, started when nothing is in flight, and nothing else is
 * sent until NLMSG_DONE. A dump the kernel marks interrupted by concurrent changes
 * (NLM_F_DUMP_INTR) resolves with `interrupted: true`: the caller decides whether to repeat it.
 * On ENOBUFS (messages lost) every unanswered request fails with
 * ENOBUFS (its outcome is unknown) and onOverflow tells the owner to resynchronise by a dump.
 * Closing (close) fails everything unanswered or queued with EBADF at once, sends nothing more,
 * and resolves when the datagram in flight has come back from the worker thread and both sockets
 * are closed; answers arriving meanwhile are ignored.
 * Bulk work (the Fib's routes) names its requests by number instead (`submitBulk`): the owner's
 * BulkRequests builds each message when it is sent and hears its answer, so a queued or
 * unanswered request costs no object but its in-flight entry (issue 12: the objects of 4,608
 * unanswered requests outlived V8's young generation and were promoted, a million times over).
 * Not here: route semantics (netlink/fib).
 */
import { NetlinkChannel } from './channel.js';
import { NLMSG, NLM_F, RTNLGRP } from './constants.js';
import { dumpMessage, type DumpJob, type DumpResult } from './dump.js';
import { NetlinkError, type NetlinkOp } from './errors.js';
import {
  advance, emptyInFlight, find, type InFlight, type Pending as InFlightEntry, settle, settleThrough, track, unsettled,
} from './in-flight.js';
import { type BatchMessage, decodeError, encodeBatch, encodeMessage, type NlMessage, splitMessages } from './message.js';

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

export interface RouteSocketOptions {
  /** Most requests unanswered at once. */
  readonly window?: number;
  /** Most messages per datagram. */
  readonly batch?: number;
  readonly requestRcvbuf?: number;
  readonly monitorRcvbuf?: number;
  /** Multicast groups of the monitor socket; [] opens no monitor. */
  readonly groups?: readonly number[];
  /** Every message from the monitor socket, in kernel order. */
  readonly onEvent?: (msg: NlMessage) => void;
  /** Messages were lost (ENOBUFS) or could not be read: the owner must resynchronise. */
  readonly onOverflow?: (socket: 'request' | 'monitor', err: NetlinkError) => void;
  /** What submitBulk's numbers name. */
  readonly bulk?: BulkRequests;
}

export type { DumpResult };

export const MONITOR_GROUPS: readonly number[] = [
  RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE, RTNLGRP.LINK, RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV6_IFADDR,
];

/** A request, or the number of a bulk one. */
type Request = RouteRequest | number;
type Pending = InFlightEntry<Request>;

interface Batch {
  readonly datagram: Buffer;
  readonly sent: readonly Pending[];
}

type Job = Request | DumpJob;
const isDump = (job: Job): job is DumpJob => typeof job !== 'number' && (job as DumpJob).kind === 'dump';

export class RouteSocket {
  private readonly requests: NetlinkChannel;
  private readonly monitor: NetlinkChannel | null;
  private readonly window: number;
  private readonly batch: number;
  private readonly bulk: BulkRequests | undefined;
  private readonly requestDone = (p: Pending, err: NetlinkError | null): void => this.done(p.request, err);
  private queue: Job[] = [];
  private queueHead = 0;
  /** Sent and unanswered, in sequence order. */
  private readonly inflight: InFlight<Request> = emptyInFlight();
  private dumping: DumpJob | null = null;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private pumpScheduled = false;
  /** A datagram is being sent on the worker thread. */
  private sending = false;
  /** The next datagram, built while the current one is being sent. */
  private ready: Batch | null = null;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Datagrams sent, messages sent; for benchmarks and the snapshot. */
  readonly stats = { datagrams: 0, messages: 0, overflows: 0 };

  private constructor(private readonly options: RouteSocketOptions) {
    this.window = Math.max(1, options.window ?? 4096);
    this.batch = Math.max(1, Math.min(options.batch ?? 512, this.window));
    this.bulk = options.bulk;
    const groups = options.groups ?? MONITOR_GROUPS;
    this.monitor = groups.length === 0 ? null : NetlinkChannel.open({
      groups,
      rcvbuf: options.monitorRcvbuf ?? 8 * 1024 * 1024,
      onData: (buf) => this.onMonitorData(buf),
      onError: (err) => this.overflow('monitor', err),
    });
    try {
      this.requests = NetlinkChannel.open({
        rcvbuf: options.requestRcvbuf ?? 8 * 1024 * 1024,
        sndbuf: 4 * 1024 * 1024,
        onData: (buf) => this.onRequestData(buf),
        onError: (err) => this.onRequestError(err),
      });
      this.monitor?.ignorePort(this.requests.portId);
    } catch (err) {
      this.monitor?.close();
      throw err;
    }
  }

  static open(options: RouteSocketOptions = {}): RouteSocket {
    return new RouteSocket(options);
  }

  /** Requests queued or unanswered. */
  get pending(): number {
    return this.queue.length - this.queueHead + this.inflight.count + (this.dumping === null ? 0 : 1);
  }

  submit(request: RouteRequest): void {
    if (this.closed) {
      request.done(new NetlinkError(request.op, 'EBADF', 'route socket is closed'));
      return;
    }
    this.queue.push(request);
    this.schedulePump();
  }

  /** Queues bulk request n (options.bulk builds it and hears its answer). */
  submitBulk(n: number): void {
    if (this.bulk === undefined) throw new Error('RouteSocket.submitBulk without options.bulk');
    if (this.closed) {
      this.bulk.done(n, new NetlinkError(this.bulk.op(n), 'EBADF', 'route socket is closed'));
      return;
    }
    this.queue.push(n);
    this.schedulePump();
  }

  /** One request as a promise (links, one-off routes); bulk work uses submit. */
  request(type: number, flags: number, op: NetlinkOp, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.submit({ type, flags, op, payload: () => payload, done: (err) => (err === null ? resolve() : reject(err)) });
    });
  }

  /** Runs a dump; onMessage sees every answer message in order (not NLMSG_DONE). */
  dump(type: number, payload: Buffer, onMessage: (msg: NlMessage) => void): Promise<DumpResult> {
    if (this.closed) return Promise.reject(new NetlinkError('dump', 'EBADF', 'route socket is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'dump', type, payload, onMessage, resolve, reject, seq: 0, interrupted: false, failed: null });
      this.schedulePump();
    });
  }

  /** Resolves when nothing is queued or unanswered. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Reads the monitor socket now (its events run before this returns). */
  drainMonitor(): void {
    this.monitor?.drain();
  }

  /** See the module comment; idempotent, never rejects. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    this.closing = Promise.all([this.requests.close(), this.monitor?.close()]).then(() => undefined);
    const err = new NetlinkError('close', 'EBADF', 'route socket closed');
    this.failInflight(err);
    const queued = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    for (const job of queued) {
      if (isDump(job)) job.reject(err);
      else this.done(job, err);
    }
    this.notifyIdle();
    return this.closing;
  }

  // ---- sending -------------------------------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  /**
   * Keeps the kernel busy: while one datagram is on the worker thread, the next is built and
   * waits in `ready`; it goes the moment the first returns.
   */
  private pump(): void {
    // Also while the queue never runs dry (a caller topping it up as answers come): sent jobs
    // must not stay referenced until the end of a million-route burst (issue 12).
    this.compactQueue();
    while (!this.closed && this.dumping === null) {
      if (this.ready !== null) {
        if (this.sending) return;
        this.sendReady(this.ready);
        continue;
      }
      if (this.queueHead >= this.queue.length) break;
      const head = this.queue[this.queueHead];
      if (isDump(head)) {
        // A dump starts when every request is sent and answered.
        if (this.sending || this.inflight.count > 0) return;
        this.queueHead++;
        this.startDump(head);
        return;
      }
      const room = this.window - this.inflight.count;
      if (room <= 0) return;
      this.ready = this.buildBatch(Math.min(room, this.batch));
    }
    this.compactQueue();
    this.notifyIdle();
  }

  /** The next datagram from the queue; its messages count as in flight from now. */
  private buildBatch(max: number): Batch | null {
    const messages: BatchMessage[] = [];
    const sent: Pending[] = [];
    const bulk = this.bulk;
    while (sent.length < max && this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead];
      if (isDump(job)) break;
      this.queueHead++;
      let payload: Buffer;
      try {
        payload = typeof job === 'number' ? (bulk as BulkRequests).payload(job) : job.payload();
      } catch (err) {
        this.done(job, err instanceof NetlinkError ? err : new NetlinkError('encode', 'EINVAL', String(err)));
        continue;
      }
      const seq = this.nextSeq();
      const type = typeof job === 'number' ? (bulk as BulkRequests).type(job) : job.type;
      const flags = typeof job === 'number' ? (bulk as BulkRequests).flags(job) : job.flags;
      messages.push({ type, flags: flags | NLM_F.REQUEST, seq, payload });
      sent.push({ request: job, seq, last: false, settled: false });
    }
    if (sent.length === 0) return null;
    sent[sent.length - 1].last = true;
    track(this.inflight, sent);
    return { datagram: encodeBatch(messages), sent };
  }

  private sendReady(batch: Batch): void {
    this.ready = null;
    const failed = (error: NetlinkError): void => {
      for (const p of batch.sent) settle(this.inflight, p, error, this.requestDone);
      advance(this.inflight);
    };
    try {
      this.sending = true;
      this.requests.sendAsync(batch.datagram, (err) => {
        this.sending = false;
        if (err !== null) failed(err);
        this.schedulePump();
      });
      this.stats.datagrams++;
      this.stats.messages += batch.sent.length;
    } catch (err) {
      this.sending = false;
      failed(err instanceof NetlinkError ? err : new NetlinkError('send', 'EIO', String(err)));
    }
  }

  private startDump(job: DumpJob): void {
    job.seq = this.nextSeq();
    this.dumping = job;
    try {
      this.requests.send(encodeMessage(job.type, NLM_F.REQUEST | NLM_F.DUMP, job.seq, job.payload));
    } catch (err) {
      this.dumping = null;
      job.reject(err instanceof NetlinkError ? err : new NetlinkError('dump', 'EIO', String(err)));
      this.schedulePump();
    }
  }

  private done(request: Request, err: NetlinkError | null): void {
    if (typeof request === 'number') (this.bulk as BulkRequests).done(request, err);
    else request.done(err);
  }

  private opOf(request: Request): NetlinkOp {
    return typeof request === 'number' ? (this.bulk as BulkRequests).op(request) : request.op;
  }

  private compactQueue(): void {
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private notifyIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- receiving -----------------------------------------------------------------------------

  private onMonitorData(buf: Buffer): void {
    if (this.closed) return; // between close() and the sockets' actual close
    let messages: NlMessage[];
    try {
      messages = splitMessages(buf);
    } catch (err) {
      this.overflow('monitor', err as NetlinkError);
      return;
    }
    for (const msg of messages) this.options.onEvent?.(msg);
  }

  private onRequestData(buf: Buffer): void {
    if (this.closed) return;
    // Notifications of what these answers settle were queued first: see them first.
    this.monitor?.drain();
    let messages: NlMessage[];
    try {
      messages = splitMessages(buf);
    } catch (err) {
      this.onRequestError(err as NetlinkError);
      return;
    }
    for (const msg of messages) {
      if (this.dumping !== null && msg.seq === this.dumping.seq) this.onDumpMessage(this.dumping, msg);
      else if (msg.type === NLMSG.ERROR) this.onAnswer(msg);
    }
    advance(this.inflight);
    this.schedulePump();
  }

  private onAnswer(msg: NlMessage): void {
    const pending = find(this.inflight, msg.seq);
    if (pending === undefined) return; // answer to a request already failed by an overflow
    let error: NetlinkError | null = null;
    try {
      const e = decodeError(msg);
      if (e.error !== 0) error = NetlinkError.fromKernel(this.opOf(pending.request), e.error, e.message || undefined);
    } catch (err) {
      error = err as NetlinkError;
    }
    if (pending.last) settleThrough(this.inflight, pending, error, this.requestDone);
    else settle(this.inflight, pending, error, this.requestDone);
  }

  private onDumpMessage(job: DumpJob, msg: NlMessage): void {
    const outcome = dumpMessage(job, msg);
    if (outcome === null) return;
    this.dumping = null;
    if (outcome instanceof NetlinkError) job.reject(outcome);
    else job.resolve(outcome);
  }

  private onRequestError(err: NetlinkError): void {
    if (this.closed) return;
    // Answers were lost: the outcome of every unanswered request is unknown.
    this.failInflight(err);
    this.overflow('request', err);
    this.schedulePump();
  }

  private failInflight(err: NetlinkError): void {
    this.ready = null; // its messages are failed below with the rest: it must not go out later
    for (const p of unsettled(this.inflight)) settle(this.inflight, p, err, this.requestDone);
    advance(this.inflight);
    if (this.dumping !== null) {
      const job = this.dumping;
      this.dumping = null;
      job.reject(new NetlinkError('dump', err.code, `dump lost: ${err.message}`, { cause: err }));
    }
  }

  private overflow(socket: 'request' | 'monitor', err: NetlinkError): void {
    if (this.closed) return;
    this.stats.overflows++;
    this.options.onOverflow?.(socket, err);
  }
}
