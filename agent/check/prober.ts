/**
 * The prober: sends ICMP echo requests of exact sizes with DF set over raw sockets and collects
 * what comes back, bounded in flight (`maxInFlight` unanswered at once) and in time (everything
 * ends at `timeoutMs`: what was not sent by then is `not-sent`, what is unanswered is `lost`).
 * A lost probe is sent again (`attempts`), so one dropped packet is not a failed next hop.
 * Replies are ours only when they carry this run's random identifier, a sequence number we sent
 * and that probe's random 8-byte token: every raw ICMP socket of the host receives every echo
 * reply, including those of other probers (ping, another `agentctl check` at the same time).
 * One timer sweeps deadlines every SWEEP_MS; the work per reply is a decode and a map lookup, so
 * a run never holds the event loop (the BGP sessions share it).
 * Not here: which targets and sizes (targets.ts) or what the results mean (checks.ts).
 */

import { CheckError } from './errors.js';
import { decodeIcmp, decodeIpv4, echoLengthFor, encodeEcho, type Family, type IcmpMessage } from './icmp.js';
import { type IcmpSocket, type OnDatagram, openIcmpSocket } from './raw.js';

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
  | { readonly kind: 'no-socket'; readonly code: string; readonly message: string };

export type SocketOpener = (family: Family, onDatagram: OnDatagram, onError: (err: Error) => void) => IcmpSocket;

export interface ProberOptions {
  readonly timeoutMs: number;
  /** Probes sent and not yet answered or given up, at most (default 512). */
  readonly maxInFlight?: number;
  /** Sends per probe while unanswered (default 2). */
  readonly attempts?: number;
  /** Tests substitute sockets; the real raw sockets by default. */
  readonly open?: SocketOpener;
}

const SWEEP_MS = 20;
const DEFAULT_IN_FLIGHT = 512;
const MAX_WAIT_MS = 1000;
/** Sequence numbers are 16 bits: one run sends at most this many packets. */
export const MAX_PACKETS = 60_000;

interface Pending {
  readonly index: number;
  readonly token: Buffer;
  sentAt: number;
  expires: number;
}

const now = (): number => performance.now();
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
  private readonly maxInFlight: number;
  private readonly waitMs: number;
  private readonly deadline: number;
  private seq = crypto().randomInt(0, 0x10000);
  private sending = 0;
  private timer: NodeJS.Timeout | undefined;
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
    this.deadline = now() + options.timeoutMs;
  }

  start(): void {
    const open = this.options.open ?? openIcmpSocket;
    for (const family of new Set(this.requests.map((r) => r.family))) {
      try {
        this.sockets.set(family, open(family, (d, source) => this.receive(family, d, source), () => undefined));
      } catch (err) {
        const e = err instanceof CheckError ? err : new CheckError('SOCKET_FAILED', String(err));
        this.requests.forEach((r, i) => {
          if (r.family === family) this.results[i] = { kind: 'no-socket', code: e.code, message: e.message };
        });
      }
    }
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.pump();
  }

  private pump(): void {
    while (!this.finished && this.pending.size + this.sending < this.maxInFlight && this.queue.length > 0) {
      if (now() >= this.deadline) break;
      const index = this.queue.shift() as number;
      if (this.results[index] !== undefined) continue;
      this.send(index);
    }
    this.finishIfDone();
  }

  private send(index: number): void {
    const request = this.requests[index];
    const socket = this.sockets.get(request.family) as IcmpSocket;
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    const token = crypto().randomBytes(8);
    const message = encodeEcho({ family: request.family, id: this.id, seq, token, length: echoLengthFor(request.family, request.packetBytes) });
    const entry: Pending = { index, token, sentAt: now(), expires: Number.POSITIVE_INFINITY };
    this.tries[index] += 1;
    this.sending += 1;
    const sent = (): void => {
      entry.sentAt = now();
      entry.expires = entry.sentAt + this.waitMs;
      this.pending.set(seq, entry);
    };
    const done = (errno: string | null): void => {
      this.sending -= 1;
      if (errno !== null) {
        this.pending.delete(seq);
        this.settle(index, { kind: 'send-error', errno });
      }
      this.pump();
    };
    try {
      socket.send(request.address, message, sent, done);
    } catch (err) {
      this.sending -= 1;
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
      this.settle(entry.index, { kind: 'answered', rttMs: Math.max(0, now() - entry.sentAt), attempts: this.tries[entry.index] });
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
    const t = now();
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
    if (this.pending.size === 0 && this.sending === 0 && this.queue.every((i) => this.results[i] !== undefined)) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    for (const socket of this.sockets.values()) socket.close();
    // Sent but given up after the deadline: lost; never sent: not-sent.
    this.resolve(this.results.map((r, i) => r ?? (this.tries[i] > 0 ? { kind: 'lost', attempts: this.tries[i] } : { kind: 'not-sent' })));
  }
}
