/**
 * RouteSocket: rack-agent's rtnetlink client. Owns two netlink sockets of the process's network
 * namespace: one for requests and dumps, one subscribed to route, link and address notifications.
 *
 * Requests are queued and sent several per datagram, with at most `window` unanswered. Each
 * datagram goes, as soon as it is built, to the addon's send queue, which a worker thread sends
 * in order and back to back (channel.ts): the kernel does its work inside sendto, so it works
 * while the main thread decodes BGP (issue 21: one datagram per event-loop turn left it idle for
 * the first seconds of a million-route table). The window is sized for that: about 70 ms of
 * kernel work at this machine's ~220,000 routes/s, longer than most of the main thread's turns
 * during a table transfer, and bounded by the receive buffer a flood of refusals needs (sockets.ts).
 * One ACK per datagram settles it (request-queue.ts). This is how a burst is applied at the
 * kernel's pace instead of one round trip per route (BIRD's krt does one exchange per route).
 *
 * The monitor socket drops the notifications our own requests cause (sockets.ts). The kernel
 * queues a notification before the ACK of a later request, so the monitor is drained before
 * answers are processed: whoever sees a request settle has seen every earlier change.
 *
 * Dumps run alone: queued like requests, started when nothing is in flight, and nothing else is
 * sent until NLMSG_DONE. A dump the kernel marks interrupted by concurrent changes
 * (NLM_F_DUMP_INTR) resolves with `interrupted: true`: the caller decides whether to repeat it.
 * On ENOBUFS (messages lost) every unanswered request fails with
 * ENOBUFS (its outcome is unknown) and onOverflow tells the owner to resynchronise by a dump.
 * Closing (close) fails everything unanswered or queued with EBADF at once, sends nothing more
 * (the addon drops datagrams not yet sent), and resolves when both sockets are closed and every
 * send callback has run; answers arriving meanwhile are ignored.
 * Not here: the queue, the building of datagrams, what settles their messages and the dump in
 * progress, the request types and bulk requests (request-queue.ts); opening the sockets and the options (sockets.ts);
 * route semantics (netlink/fib). This is the module others import: it re-exports those types.
 */
import type { NetlinkChannel } from './channel.js';
import { NLM_F } from './constants.js';
import type { DumpJob, DumpResult } from './dump.js';
import { NetlinkError, type NetlinkOp } from './errors.js';
import { advance } from './in-flight.js';
import { encodeMessage, type NlMessage, splitMessages } from './message.js';
import {
  type Batch, buildBatch, type BulkRequests, emptyQueue, failInflight, failQueued, failSent, isDump, nextSeq,
  peek, pending, receive, type RequestQueue, type RouteRequest, submitJob, taken,
} from './request-queue.js';
import { DEFAULT_BATCH, DEFAULT_WINDOW, MONITOR_GROUPS, openSockets, type RouteSocketOptions } from './sockets.js';

export type { BulkRequests, DumpResult, RouteRequest, RouteSocketOptions };
export { DEFAULT_BATCH, DEFAULT_WINDOW, MONITOR_GROUPS };

export class RouteSocket {
  private readonly requests: NetlinkChannel;
  private readonly monitor: NetlinkChannel | null;
  private readonly window: number;
  private readonly batch: number;
  /** Queued jobs, sent and unanswered requests, sequence numbers. */
  private readonly queue: RequestQueue;
  private pumpScheduled = false;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Datagrams sent, messages sent; for benchmarks and the snapshot. */
  readonly stats = { datagrams: 0, messages: 0, overflows: 0 };

  /** The request socket's sendStats (channel.ts): the kernel's time on our requests, since open. */
  kernelTime(): { datagrams: number; seconds: number } {
    return this.requests.sendStats();
  }

  private constructor(private readonly options: RouteSocketOptions) {
    this.window = Math.max(1, options.window ?? DEFAULT_WINDOW);
    this.batch = Math.max(1, Math.min(options.batch ?? DEFAULT_BATCH, this.window));
    this.queue = emptyQueue(options.bulk);
    const sockets = openSockets(options, {
      onRequestData: (buf) => this.onRequestData(buf),
      onRequestError: (err) => this.onRequestError(err),
      onMonitorData: (buf) => this.onMonitorData(buf),
      onMonitorError: (err) => this.overflow('monitor', err),
    });
    this.requests = sockets.requests;
    this.monitor = sockets.monitor;
  }

  static open(options: RouteSocketOptions = {}): RouteSocket {
    return new RouteSocket(options);
  }

  /** Requests queued or unanswered. */
  get pending(): number {
    return pending(this.queue);
  }

  submit(request: RouteRequest): void {
    if (this.closed) {
      request.done(new NetlinkError(request.op, 'EBADF', 'route socket is closed'));
      return;
    }
    submitJob(this.queue, request);
    this.schedulePump();
  }

  /** Queues bulk request n (options.bulk builds it and hears its answer). */
  submitBulk(n: number): void {
    const bulk = this.queue.bulk;
    if (bulk === undefined) throw new Error('RouteSocket.submitBulk without options.bulk');
    if (this.closed) {
      bulk.done(n, new NetlinkError(bulk.op(n), 'EBADF', 'route socket is closed'));
      return;
    }
    submitJob(this.queue, n);
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
      submitJob(this.queue, { kind: 'dump', type, payload, onMessage, resolve, reject, seq: 0, interrupted: false, failed: null });
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
    failQueued(this.queue, err);
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

  /** Keeps the kernel busy: every datagram the window allows goes to the send queue at once. */
  private pump(): void {
    // A sent job leaves the ring at once (job-ring.ts), so nothing sent stays referenced even
    // while a caller tops the queue up as answers come (issue 12).
    while (!this.closed && this.queue.dumping === null) {
      const head = peek(this.queue);
      if (head === undefined) break;
      if (isDump(head)) {
        // A dump starts when every request is sent and answered (and no failed one is still queued
        // in the addon: failInflight settles those early, and the dump must not overtake them).
        if (this.queue.inflight.count > 0 || this.requests.sending > 0) return;
        taken(this.queue);
        this.startDump(head);
        return;
      }
      const room = this.window - this.queue.inflight.count;
      if (room <= 0) return;
      const batch = buildBatch(this.queue, Math.min(room, this.batch));
      if (batch !== null) this.send(batch);
    }
    this.notifyIdle();
  }

  private send(batch: Batch): void {
    // The callback holds two numbers, not the batch: a long burst reports its sends at its end.
    const { first, count } = batch;
    try {
      this.requests.sendAsync(batch.datagram, (err) => {
        if (err !== null) failSent(this.queue, first, count, err);
        this.schedulePump();
      });
      this.stats.datagrams++;
      this.stats.messages += count;
    } catch (err) {
      failSent(this.queue, first, count, err instanceof NetlinkError ? err : new NetlinkError('send', 'EIO', String(err)));
    }
  }

  private startDump(job: DumpJob): void {
    job.seq = nextSeq(this.queue);
    this.queue.dumping = job;
    try {
      this.requests.send(encodeMessage(job.type, NLM_F.REQUEST | NLM_F.DUMP, job.seq, job.payload));
    } catch (err) {
      this.queue.dumping = null;
      job.reject(err instanceof NetlinkError ? err : new NetlinkError('dump', 'EIO', String(err)));
      this.schedulePump();
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
    for (const msg of messages) receive(this.queue, msg);
    advance(this.queue.inflight);
    this.schedulePump();
  }

  private onRequestError(err: NetlinkError): void {
    if (this.closed) return;
    // Answers were lost: the outcome of every unanswered request is unknown.
    this.failInflight(err);
    this.overflow('request', err);
    this.schedulePump();
  }

  private failInflight(err: NetlinkError): void {
    failInflight(this.queue, err);
  }

  private overflow(socket: 'request' | 'monitor', err: NetlinkError): void {
    if (this.closed) return;
    this.stats.overflows++;
    this.options.onOverflow?.(socket, err);
  }
}
