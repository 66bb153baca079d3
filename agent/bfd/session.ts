/**
 * BfdSession: one BFD session (RFC 5880) with one peer: the FSM data (fsm.ts, the only decision
 * maker), its two timers on an injected Clock, and a `send` for encoded Control packets. Periodic
 * packets get the jitter of RFC 5880 section 6.8.7 (75-100% of the interval, 75-90% with a Detect
 * Mult of 1). Every state change is reported once through `onChange`, with the diagnostic, the
 * peer's state and its C bit (RFC 5882 section 4.3 needs it). Not here: sockets, demultiplexing by
 * discriminator or address (engine.ts).
 */

import type { BfdErrorCode } from './errors.js';
import { controlFor, detectionTimeUs, initialBfd, peerDetectionTimeUs, transition, txIntervalUs, type BfdAction, type BfdData, type BfdEvent, type BfdTimer, type BfdTimers } from './fsm.js';
import { diagName, encodeControl, type BfdState, type ControlPacket } from './packet.js';
import type { Clock } from '../contracts/clock.js';

/**
 * The longest a removed session sends AdminDown (RFC 5880 section 6.8.16 asks for a Detection
 * Time; engine.ts): 3 s covers 1 s x 3, and bounds the agent's stop whatever the peer's timers.
 * Here, beside stop(), so the main thread's close (client.ts) waits for it without loading the engine.
 */
export const ADMIN_DOWN_MAX_MS = 3000;

export interface BfdChange {
  readonly key: string;
  readonly peer: string;
  readonly from: BfdState;
  readonly to: BfdState;
  readonly diag: number;
  readonly diagText: string;
  readonly remoteState: BfdState;
  readonly remoteCpi: boolean;
  /** Epoch ms. */
  readonly at: number;
}

export interface BfdSessionStatus {
  readonly key: string;
  readonly peer: string;
  readonly state: BfdState;
  readonly diag: string;
  readonly remoteState: BfdState;
  readonly remoteDiag: string;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  readonly remoteCpi: boolean;
  readonly txIntervalMs: number;
  readonly detectTimeMs: number;
  readonly minRxMs: number;
  readonly minTxMs: number;
  readonly multiplier: number;
  readonly since: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly sendErrors: number;
  readonly upCount: number;
  readonly downCount: number;
}

export interface BfdSessionDeps {
  readonly clock: Clock;
  readonly random?: () => number;
  send(packet: Buffer): void;
  onChange(change: BfdChange): void;
}

export class BfdSession {
  private data: BfdData;
  private readonly handles = new Map<BfdTimer, unknown>();
  private readonly random: () => number;
  private since: number;
  private counts = { packetsIn: 0, packetsOut: 0, sendErrors: 0, upCount: 0, downCount: 0 };

  constructor(readonly key: string, readonly peer: string, localDiscr: number, wanted: BfdTimers, private readonly deps: BfdSessionDeps) {
    this.data = initialBfd(localDiscr, wanted);
    this.random = deps.random ?? Math.random;
    this.since = deps.clock.now();
  }

  get state(): BfdState {
    return this.data.state;
  }

  get localDiscr(): number {
    return this.data.localDiscr;
  }

  start(): void {
    this.feed({ type: 'Start' });
  }

  /**
   * AdminDown (diag 7), sent at once and then periodically until dispose() (RFC 5880 section
   * 6.8.16). Returns how long to keep sending, in ms: the Detection Time the peer runs for us
   * when the session was Up or Init (the peer may be holding its BGP to it), else 0.
   */
  stop(): number {
    const live = this.data.state === 'Up' || this.data.state === 'Init';
    const ms = peerDetectionTimeUs(this.data) / 1000;
    this.feed({ type: 'Stop' });
    return live ? ms : 0;
  }

  retune(wanted: BfdTimers): void {
    this.feed({ type: 'Retune', wanted });
  }

  /** A packet that passed the packet-level and demultiplexing checks; the code when discarded here. */
  receive(packet: ControlPacket): BfdErrorCode | undefined {
    this.counts.packetsIn++;
    return this.feed({ type: 'Packet', packet });
  }

  status(): BfdSessionStatus {
    const d = this.data;
    return {
      key: this.key, peer: this.peer, state: d.state, diag: diagName(d.diag), remoteState: d.remoteState, remoteDiag: diagName(d.remoteDiag),
      localDiscriminator: d.localDiscr, remoteDiscriminator: d.remoteDiscr, remoteCpi: d.remoteCpi,
      txIntervalMs: txIntervalUs(d) / 1000, detectTimeMs: detectionTimeUs(d) / 1000,
      minRxMs: d.wanted.requiredMinRx / 1000, minTxMs: d.wanted.desiredMinTx / 1000, multiplier: d.wanted.detectMult,
      since: this.since, ...this.counts,
    };
  }

  private feed(e: BfdEvent): BfdErrorCode | undefined {
    const from = this.data.state;
    const t = transition(this.data, e);
    this.data = t.data;
    if (from !== t.data.state) this.changed(from);
    for (const a of t.actions) this.execute(a);
    return t.discarded;
  }

  private changed(from: BfdState): void {
    const d = this.data;
    this.since = this.deps.clock.now();
    if (d.state === 'Up') this.counts.upCount++;
    if (from === 'Up') this.counts.downCount++;
    this.deps.onChange({ key: this.key, peer: this.peer, from, to: d.state, diag: d.diag, diagText: diagName(d.diag), remoteState: d.remoteState, remoteCpi: d.remoteCpi, at: this.since });
  }

  private execute(a: BfdAction): void {
    switch (a.kind) {
      case 'send':
        return this.transmit(a.final);
      case 'startTimer':
        return this.startTimer(a.timer, a.timer === 'tx' ? this.jitter(a.us) : a.us);
      case 'stopTimer':
        return this.stopTimer(a.timer);
    }
  }

  private transmit(final: boolean): void {
    try {
      this.deps.send(encodeControl(controlFor(this.data, final)));
      this.counts.packetsOut++;
    } catch {
      // A full socket buffer or an unreachable peer: the next period sends again (RFC 5880 6.8.7).
      this.counts.sendErrors++;
    }
  }

  /** RFC 5880 section 6.8.7: reduce each interval by a random 0-25% (10-25% with Detect Mult 1). */
  private jitter(us: number): number {
    const max = this.data.wanted.detectMult === 1 ? 0.9 : 1;
    return us * (0.75 + (max - 0.75) * this.random());
  }

  private startTimer(timer: BfdTimer, us: number): void {
    this.stopTimer(timer);
    this.handles.set(timer, this.deps.clock.setTimeout(() => {
      this.handles.delete(timer);
      this.feed(timer === 'tx' ? { type: 'TxTimerExpires' } : { type: 'DetectTimerExpires' });
    }, us / 1000));
  }

  private stopTimer(timer: BfdTimer): void {
    const h = this.handles.get(timer);
    if (h !== undefined) this.deps.clock.clearTimeout(h);
    this.handles.delete(timer);
  }

  /** Stops the timers, and with them the AdminDown packets (the engine closing). */
  dispose(): void {
    for (const t of [...this.handles.keys()]) this.stopTimer(t);
  }
}
