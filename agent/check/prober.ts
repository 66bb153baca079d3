/**
 * The prober: sends ICMP echo requests of exact sizes with DF set over raw sockets and collects
 * what comes back, bounded in flight (`maxInFlight` unanswered at once) and in time (everything
 * ends at `timeoutMs`: what was not sent by then is `not-sent`, what is unanswered is `lost`).
 * A lost probe is sent again (`attempts`), so one dropped packet is not a failed next hop.
 * Replies are ours only when they carry this run's random identifier, a sequence number we sent
 * and that probe's random 8-byte token: every raw ICMP socket of the host receives every echo
 * reply, including those of other probers (ping, another `agentctl check` at the same time).
 * One timer sweeps deadlines every SWEEP_MS on the run's clock (steadyClock unless a test injects
 * one: performance.now() for round trips, and a sweep that keeps the process alive until the
 * end); the work per reply is a decode and a map lookup, so a run never holds the event loop (the
 * BGP sessions share it).
 * A socket that fails under us (its 'error' event: raw-socket then closes it; or a send answered
 * by a socket-level errno, SOCKET_ERRNOS: EBADF, ENOTSOCK, ENETDOWN) says nothing about the next
 * hops: it is reopened (at most MAX_REOPENS times per family and run, each logged) and the probes
 * it held are sent again without counting an attempt. Past that, they are `socket-error`, never
 * `lost` (which would read as an unreachable next hop).
 * Not here: which targets and sizes (targets.ts) or what the results mean (checks.ts).
 */

import { type Clock, every, steadyClock } from '../contracts/clock.js';
import { CheckError } from './errors.js';
import { decodeIcmp, decodeIpv4, echoLengthFor, encodeEcho, type Family, type IcmpMessage } from './icmp.js';
import { errnoName, type IcmpSocket, type OnDatagram, openIcmpSocket } from './raw.js';

export interface ProbeRequest {
  readonly family: Family;
  /** The destination; an IPv6 link-local one carries its `%device`. */
  readonly address: string;
  /** Size of the IP packet, header included (the path MTU for a full-size probe). */
  readonly packetBytes: number;
}

export type ProbeResult =
  | { readonly kind: 'answered'; readonly rttMs: number; readonly attempts: number }
  | { readonly kind: 'lost'; readonly attempts: number }
  | { readonly kind: 'icmp-error'; readonly error: 'unreachable' | 'too-big' | 'time-exceeded'; readonly code: number; readonly mtu: number; readonly from: string }
  | { readonly kind: 'send-error'; readonly errno: string }
  | { readonly kind: 'not-sent' }
  /** The family's socket could not be opened (code NO_CAP_NET_RAW: no privilege). */
  | { readonly kind: 'no-socket'; readonly code: string; readonly message: string }
  /** The socket kept failing (reopened MAX_REOPENS times): not probed. */
  | { readonly kind: 'socket-error'; readonly errno: string; readonly reopens: number };

export type SocketOpener = (family: Family, onDatagram: OnDatagram, onError: (err: Error) => void) => IcmpSocket;

export interface ProberOptions {
  readonly timeoutMs: number;
  /** Probes sent and not yet answered or given up, at most (default 512). */
  readonly maxInFlight?: number;
  /** Sends per probe while unanswered (default 2). */
  readonly attempts?: number;
  /** Tests substitute sockets; the real raw sockets by default. */
  readonly open?: SocketOpener;
  /** Time for deadlines, round trips and the sweep; steadyClock by default (tests: a FakeClock). */
  readonly clock?: Clock;
  /** Where a failed socket and its reopening are logged (warn). */
  readonly log?: { warn(message: string, meta?: Record<string, unknown>): unknown };
}

/** Reopens of one family's socket per run, at most. */
export const MAX_REOPENS = 3;
/** Send errnos that say the socket failed, not that the destination did. */
const SOCKET_ERRNOS: ReadonlySet<string> = new Set(['EBADF', 'ENOTSOCK', 'ENETDOWN']);

const SWEEP_MS = 20;
const DEFAULT_IN_FLIGHT = 512;
const MAX_WAIT_MS = 1000;
/** Sequence numbers are 16 bits: one run sends at most this many packets. */
export const MAX_PACKETS = 60_000;

interface Pending {
  readonly index: number;
  readonly token: Buffer;
  /** The socket it went out on: a failure of that socket puts it back in the queue. */
  readonly socket: IcmpSocket;
  sentAt: number;
  expires: number;
}

/** A send handed to a socket and not yet completed (raw-socket queues sends until writable). */
interface Sending {
  readonly index: number;
  readonly socket: IcmpSocket;
  /** Completed, or abandoned with its failed socket: a late callback is ignored. */
  over: boolean;
}

/** node:crypto when the first probe runs, not at start-up (issue 12: about 1 MB of RSS). */
const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

export function probe(requests: readonly ProbeRequest[], options: ProberOptions): Promise<ProbeResult[]> {
  const attempts = options.attempts ?? 2;
  if (requests.length * attempts > MAX_PACKETS) {
    return Promise.reject(new CheckError('ICMP_BAD_SIZE', `${requests.length} probes exceed ${MAX_PACKETS / attempts} per run`));
  }
  return new Promise((resolve) => new Run(requests, options, attempts, resolve).start());
}

class Run {
  private readonly id = crypto().randomInt(1, 0x10000);
  private readonly results: (ProbeResult | undefined)[];
  private readonly tries: number[];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: number[];
  private readonly sockets = new Map<Family, IcmpSocket>();
  private readonly reopens = new Map<Family, number>();
  private readonly maxInFlight: number;
  private readonly waitMs: number;
  private readonly deadline: number;
  private seq = crypto().randomInt(0, 0x10000);
  private readonly sending = new Set<Sending>();
  private readonly clock: Clock;
  private stopSweep: (() => void) | undefined;
  private finished = false;

  constructor(
    private readonly requests: readonly ProbeRequest[],
    private readonly options: ProberOptions,
    private readonly attempts: number,
    private readonly resolve: (results: ProbeResult[]) => void,
  ) {
    this.results = requests.map(() => undefined);
    this.tries = requests.map(() => 0);
    this.queue = requests.map((_, i) => i);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_IN_FLIGHT);
    // Each attempt waits a share of the timeout, so a retry fits; never under 200 ms, and at most
    // 1 s: a connected next hop answers in well under a millisecond once its neighbour entry is
    // resolved (ARP and ND answer in milliseconds too), and dead next hops hold slots that long.
    this.waitMs = Math.min(MAX_WAIT_MS, Math.max(200, options.timeoutMs / (attempts + 1)));
    this.clock = options.clock ?? steadyClock;
    this.deadline = this.clock.now() + options.timeoutMs;
  }

  start(): void {
    for (const family of new Set(this.requests.map((r) => r.family))) {
      const e = this.open(family);
      if (e !== null) this.settleFamily(family, { kind: 'no-socket', code: e.code, message: e.message });
    }
    this.stopSweep = every(this.clock, SWEEP_MS, () => this.sweep());
    this.pump();
  }

  /** Opens the family's socket; the error when it cannot be. */
  private open(family: Family): CheckError | null {
    const open = this.options.open ?? openIcmpSocket;
    let socket: IcmpSocket | undefined;
    try {
      socket = open(family, (d, source) => this.receive(family, d, source), (err) => {
        if (socket !== undefined) this.socketFailed(family, socket, errnoName(err));
      });
      this.sockets.set(family, socket);
      return null;
    } catch (err) {
      this.sockets.delete(family);
      if (err instanceof CheckError) return err;
      // An opener that is not openIcmpSocket may throw raw-socket's own error (strerror text).
      const errno = errnoName(err);
      const v = family === 6 ? 'v6' : '';
      if (errno === 'EPERM' || errno === 'EACCES') return new CheckError('NO_CAP_NET_RAW', `no CAP_NET_RAW: cannot open a raw ICMP${v} socket (${errno})`, { cause: err });
      return new CheckError('SOCKET_FAILED', `cannot open a raw ICMP${v} socket: ${errno}`, { cause: err });
    }
  }

  /** Every unsettled probe of `family` gets `result`. */
  private settleFamily(family: Family, result: ProbeResult): void {
    this.requests.forEach((r, i) => {
      if (r.family === family) this.settle(i, result);
    });
  }

  /**
   * `socket` failed: what it had in flight goes back to the queue (the attempt does not count), and
   * the family gets a new socket, or, past MAX_REOPENS or when it cannot be opened, its probes
   * end as socket-error. A failure of a socket already replaced only requeues.
   */
  private socketFailed(family: Family, socket: IcmpSocket, errno: string): void {
    if (this.finished) return;
    for (const [seq, entry] of this.pending) {
      if (entry.socket !== socket) continue;
      this.pending.delete(seq);
      this.requeue(entry.index);
    }
    // Sends still queued in the failed socket never complete (raw-socket drops its queue on close).
    for (const op of this.sending) {
      if (op.socket !== socket) continue;
      op.over = true;
      this.sending.delete(op);
      this.requeue(op.index);
    }
    if (this.sockets.get(family) !== socket) return this.pump();
    socket.close();
    this.sockets.delete(family);
    const reopens = this.reopens.get(family) ?? 0;
    const again = reopens < MAX_REOPENS ? this.open(family) : new CheckError('SOCKET_FAILED', `gave up after ${reopens} reopens`);
    if (again === null) this.reopens.set(family, reopens + 1);
    this.options.log?.warn(`check: raw ICMP${family === 6 ? 'v6' : ''} socket failed (${errno}): ${again === null ? 'reopened' : `not reopened: ${again.message}`}`, { errno, reopens: reopens + (again === null ? 1 : 0) });
    if (again !== null) this.settleFamily(family, { kind: 'socket-error', errno, reopens });
    this.pump();
  }

  /** Back to the front of the queue, the attempt not counted. */
  private requeue(index: number): void {
    this.tries[index] = Math.max(0, this.tries[index] - 1);
    this.queue.unshift(index);
  }

  private pump(): void {
    while (!this.finished && this.pending.size + this.sending.size < this.maxInFlight && this.queue.length > 0) {
      if (this.clock.now() >= this.deadline) break;
      const index = this.queue.shift() as number;
      if (this.results[index] !== undefined) continue;
      this.send(index);
    }
    this.finishIfDone();
  }

  private send(index: number): void {
    const request = this.requests[index];
    const socket = this.sockets.get(request.family);
    if (socket === undefined) return void this.settle(index, { kind: 'socket-error', errno: 'ENOTSOCK', reopens: this.reopens.get(request.family) ?? 0 });
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    const token = crypto().randomBytes(8);
    const message = encodeEcho({ family: request.family, id: this.id, seq, token, length: echoLengthFor(request.family, request.packetBytes) });
    const entry: Pending = { index, token, socket, sentAt: this.clock.now(), expires: Number.POSITIVE_INFINITY };
    const op: Sending = { index, socket, over: false };
    this.tries[index] += 1;
    this.sending.add(op);
    const sent = (): void => {
      if (op.over) return;
      entry.sentAt = this.clock.now();
      entry.expires = entry.sentAt + this.waitMs;
      this.pending.set(seq, entry);
    };
    const done = (errno: string | null): void => {
      if (op.over) return;
      op.over = true;
      this.sending.delete(op);
      if (errno !== null) {
        this.pending.delete(seq);
        if (SOCKET_ERRNOS.has(errno) && this.results[index] === undefined) {
          this.requeue(index);
          return this.socketFailed(request.family, socket, errno);
        }
        this.settle(index, { kind: 'send-error', errno });
      }
      this.pump();
    };
    try {
      socket.send(request.address, message, sent, done);
    } catch (err) {
      op.over = true;
      this.sending.delete(op);
      this.settle(index, { kind: 'send-error', errno: err instanceof CheckError ? err.code : String(err) });
    }
  }

  private receive(family: Family, datagram: Buffer, source: string): void {
    if (this.finished) return;
    let message: IcmpMessage;
    try {
      // Raw IPv4 sockets deliver the IP header; raw ICMPv6 sockets deliver the message alone.
      message = family === 4 ? decodeIcmp(4, decodeIpv4(datagram).payload) : decodeIcmp(6, datagram);
    } catch (err) {
      if (err instanceof CheckError) return; // not an ICMP message we can read: not ours
      throw err;
    }
    if (message.kind === 'echo-reply') {
      if (message.id !== this.id) return;
      const entry = this.pending.get(message.seq);
      if (entry === undefined || !entry.token.equals(message.token)) return;
      this.pending.delete(message.seq);
      this.settle(entry.index, { kind: 'answered', rttMs: Math.max(0, this.clock.now() - entry.sentAt), attempts: this.tries[entry.index] });
    } else if (message.kind === 'unreachable' || message.kind === 'too-big' || message.kind === 'time-exceeded') {
      const q = message.quoted;
      if (q === null || q.id !== this.id) return;
      const entry = this.pending.get(q.seq);
      if (entry === undefined) return;
      this.pending.delete(q.seq);
      this.settle(entry.index, { kind: 'icmp-error', error: message.kind, code: message.code, mtu: message.mtu, from: source });
    } else {
      return;
    }
    this.pump();
  }

  private settle(index: number, result: ProbeResult): void {
    if (this.results[index] === undefined) this.results[index] = result;
  }

  private sweep(): void {
    const t = this.clock.now();
    for (const [seq, entry] of this.pending) {
      if (entry.expires > t) continue;
      this.pending.delete(seq);
      const tries = this.tries[entry.index];
      // Retries go last: every first attempt is sent before any second one.
      if (tries < this.attempts && t + this.waitMs / 2 < this.deadline) this.queue.push(entry.index);
      else this.settle(entry.index, { kind: 'lost', attempts: tries });
    }
    if (t >= this.deadline) {
      for (const entry of this.pending.values()) this.settle(entry.index, { kind: 'lost', attempts: this.tries[entry.index] });
      this.pending.clear();
      this.finish();
      return;
    }
    this.pump();
  }

  private finishIfDone(): void {
    if (this.pending.size === 0 && this.sending.size === 0 && this.queue.every((i) => this.results[i] !== undefined)) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopSweep?.();
    for (const socket of this.sockets.values()) socket.close();
    // Sent but given up after the deadline: lost; never sent: not-sent.
    this.resolve(this.results.map((r, i) => r ?? (this.tries[i] > 0 ? { kind: 'lost', attempts: this.tries[i] } : { kind: 'not-sent' })));
  }
}
