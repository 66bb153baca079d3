/**
 * The BFD state machine of RFC 5880 section 6.8 as data, asynchronous mode only: `transition(data,
 * event)` returns the next data and the actions (send a Control packet, start or stop the transmit
 * and detection timers); the session (session.ts) carries them out and feeds back timer expiries
 * and decoded packets. No sockets, no clock.
 * - States AdminDown, Down, Init, Up; reception per section 6.8.6 (the checks that need the
 *   session: a zero Your Discriminator outside Down/AdminDown is discarded here, the rest of the
 *   discard rules are in packet.ts and engine.ts).
 * - Timers: transmit interval max(DesiredMinTx, RemoteMinRx) (section 6.8.7; jitter is added by
 *   the session); Detection Time = remote DetectMult x max(RequiredMinRx, remote DesiredMinTx)
 *   (section 6.8.4); DesiredMinTx at least 1 s while not Up (section 6.8.3).
 * - Poll/Final (section 6.8.3): a change of our intervals while Up starts a Poll Sequence; a larger
 *   DesiredMinTx or a smaller RequiredMinRx takes effect only once the Final arrives. A Poll from
 *   the peer is answered at once with a Final (section 6.8.7).
 * Not here: Demand mode, the Echo function, authentication (all optional, none implemented).
 */

import { Diag, type BfdState, type ControlPacket } from './packet.js';
import type { BfdErrorCode } from './errors.js';

/** What we want, in microseconds as on the wire. */
export interface BfdTimers {
  readonly desiredMinTx: number;
  readonly requiredMinRx: number;
  readonly detectMult: number;
}

/** Section 6.8.3: "not less than one second" while the session is not Up. */
export const SLOW_TX_US = 1_000_000;

export interface BfdData {
  readonly state: BfdState;
  /** bfd.LocalDiag: why the session last went down. */
  readonly diag: number;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly remoteState: BfdState;
  readonly remoteDiag: number;
  /** The C bit the peer sent last (RFC 5882 section 4.3). */
  readonly remoteCpi: boolean;
  readonly wanted: BfdTimers;
  /** bfd.DesiredMinTxInterval and bfd.RequiredMinRxInterval as we send them now. */
  readonly desiredMinTx: number;
  readonly requiredMinRx: number;
  /** The values the timers use: they lag the advertised ones during a Poll Sequence. */
  readonly txInForce: number;
  readonly rxInForce: number;
  readonly remoteMinRx: number;
  readonly remoteDesiredMinTx: number;
  readonly remoteDetectMult: number;
  readonly polling: boolean;
}

export type BfdEvent =
  | { readonly type: 'Start' }
  | { readonly type: 'Stop' }
  | { readonly type: 'Packet'; readonly packet: ControlPacket }
  | { readonly type: 'TxTimerExpires' }
  | { readonly type: 'DetectTimerExpires' }
  | { readonly type: 'Retune'; readonly wanted: BfdTimers };

export type BfdTimer = 'tx' | 'detect';

export type BfdAction =
  /** A Control packet built from the new data (controlFor); `final` answers a Poll. */
  | { readonly kind: 'send'; readonly final: boolean }
  | { readonly kind: 'startTimer'; readonly timer: BfdTimer; readonly us: number }
  | { readonly kind: 'stopTimer'; readonly timer: BfdTimer };

export interface BfdTransition {
  readonly data: BfdData;
  readonly actions: readonly BfdAction[];
  /** Set when a packet was discarded by a rule that needs the session's state. */
  readonly discarded?: BfdErrorCode;
}

export function initialBfd(localDiscr: number, wanted: BfdTimers): BfdData {
  const slow = Math.max(wanted.desiredMinTx, SLOW_TX_US);
  return {
    state: 'AdminDown', diag: Diag.NONE, localDiscr, remoteDiscr: 0, remoteState: 'Down', remoteDiag: 0, remoteCpi: false,
    wanted, desiredMinTx: slow, requiredMinRx: wanted.requiredMinRx, txInForce: slow, rxInForce: wanted.requiredMinRx,
    // Section 6.8.1: bfd.RemoteMinRxInterval starts at 1 (microsecond).
    remoteMinRx: 1, remoteDesiredMinTx: 0, remoteDetectMult: 0, polling: false,
  };
}

/** Section 6.8.7: the interval between periodic packets, before jitter; 0: send none. */
export function txIntervalUs(d: BfdData): number {
  if (d.remoteMinRx === 0) return 0;
  return Math.max(d.txInForce, d.remoteMinRx);
}

/** Section 6.8.4, asynchronous mode. */
export function detectionTimeUs(d: BfdData): number {
  return d.remoteDetectMult * Math.max(d.rxInForce, d.remoteDesiredMinTx);
}

/**
 * The Detection Time the peer runs for us (section 6.8.4 from its side): our Detect Mult times
 * the interval we send at, the larger of our DesiredMinTx and its RequiredMinRx. How long the
 * AdminDown of section 6.8.16 is repeated before the session is torn down.
 */
export function peerDetectionTimeUs(d: BfdData): number {
  return d.wanted.detectMult * txIntervalUs(d);
}

/** The Control packet the data says to send (section 6.8.7). P and F are never both set. */
export function controlFor(d: BfdData, final: boolean): ControlPacket {
  return {
    version: 1, diag: d.diag, state: d.state, poll: d.polling && !final, final, cpi: false, auth: false, demand: false, multipoint: false,
    detectMult: d.wanted.detectMult, myDiscr: d.localDiscr, yourDiscr: d.remoteDiscr,
    desiredMinTx: d.desiredMinTx, requiredMinRx: d.requiredMinRx, requiredMinEchoRx: 0,
  };
}

function txTimer(d: BfdData): BfdAction {
  const us = txIntervalUs(d);
  return us === 0 ? { kind: 'stopTimer', timer: 'tx' } : { kind: 'startTimer', timer: 'tx', us };
}

/**
 * New advertised intervals (section 6.8.3). While Up a change starts a Poll Sequence, and the
 * timers keep the safer value until the Final: the smaller transmit interval, the larger receive one.
 */
function retime(d: BfdData, state: BfdState, wanted: BfdTimers): BfdData {
  const desiredMinTx = state === 'Up' ? wanted.desiredMinTx : Math.max(wanted.desiredMinTx, SLOW_TX_US);
  const requiredMinRx = wanted.requiredMinRx;
  const changed = desiredMinTx !== d.desiredMinTx || requiredMinRx !== d.requiredMinRx;
  if (state !== 'Up') return { ...d, state, wanted, desiredMinTx, requiredMinRx, txInForce: desiredMinTx, rxInForce: requiredMinRx, polling: false };
  if (!changed) return { ...d, state, wanted };
  return {
    ...d, state, wanted, desiredMinTx, requiredMinRx, polling: true,
    txInForce: Math.min(d.txInForce, desiredMinTx),
    rxInForce: Math.max(d.rxInForce, requiredMinRx),
  };
}

/** A state change: new timers, and a packet at once so the peer learns it without waiting. */
function enter(d: BfdData, state: BfdState, diag: number, extra: BfdAction[] = []): BfdTransition {
  const next = retime({ ...d, diag }, state, d.wanted);
  return { data: next, actions: [...extra, { kind: 'send', final: false }, txTimer(next)] };
}

function receive(d: BfdData, p: ControlPacket): BfdTransition {
  // Section 6.8.6: Your Discriminator zero is acceptable only in a packet whose State is Down or
  // AdminDown, whatever our state: a peer that restarted its session (new discriminator, ours
  // forgotten) says Down so, and an Up session must go Down at once, not wait for detection.
  if (p.yourDiscr === 0 && p.state !== 'Down' && p.state !== 'AdminDown') return { data: d, actions: [], discarded: 'ZERO_YOUR_DISCRIMINATOR' };
  let n: BfdData = {
    ...d, remoteDiscr: p.myDiscr, remoteState: p.state, remoteDiag: p.diag, remoteCpi: p.cpi,
    remoteMinRx: p.requiredMinRx, remoteDesiredMinTx: p.desiredMinTx, remoteDetectMult: p.detectMult,
  };
  // The Final ends our Poll Sequence: the advertised values now rule the timers.
  if (p.final && n.polling) n = { ...n, polling: false, txInForce: n.desiredMinTx, rxInForce: n.requiredMinRx };
  if (d.state === 'AdminDown') return { data: n, actions: [] };
  const answer: BfdAction[] = p.poll ? [{ kind: 'send', final: true }] : [];
  const detect: BfdAction = { kind: 'startTimer', timer: 'detect', us: detectionTimeUs(n) };
  const to = nextState(d.state, p.state);
  if (to !== d.state) {
    const t = enter(n, to, to === 'Down' ? Diag.NEIGHBOR_DOWN : Diag.NONE, answer);
    return { data: t.data, actions: [...t.actions, { kind: 'startTimer', timer: 'detect', us: detectionTimeUs(t.data) }] };
  }
  const before = txIntervalUs(d);
  return { data: n, actions: [...answer, ...(txIntervalUs(n) !== before ? [txTimer(n)] : []), detect] };
}

/** Section 6.8.6, the state table: our state and the state the peer reports. */
const NEXT: Record<Exclude<BfdState, 'AdminDown'>, Record<BfdState, BfdState>> = {
  Down: { AdminDown: 'Down', Down: 'Init', Init: 'Up', Up: 'Down' },
  Init: { AdminDown: 'Down', Down: 'Init', Init: 'Up', Up: 'Up' },
  Up: { AdminDown: 'Down', Down: 'Down', Init: 'Up', Up: 'Up' },
};

function nextState(local: Exclude<BfdState, 'AdminDown'>, remote: BfdState): BfdState {
  return NEXT[local][remote];
}

export function transition(d: BfdData, e: BfdEvent): BfdTransition {
  switch (e.type) {
    case 'Start':
      if (d.state !== 'AdminDown') return { data: d, actions: [] };
      return enter({ ...d, remoteDiscr: 0 }, 'Down', Diag.NONE);
    case 'Stop': {
      // Section 6.8.16: AdminDown with diagnostic 7; the peer must not take it as a failure. The
      // packets go on at the interval in force (TxTimerExpires below), so that one lost packet
      // does not leave the peer to detect a failure; the session decides when to stop sending.
      if (d.state === 'AdminDown') return { data: d, actions: [] };
      const n: BfdData = { ...d, state: 'AdminDown', diag: Diag.ADMIN_DOWN, polling: false };
      return { data: n, actions: [{ kind: 'send', final: false }, txTimer(n), { kind: 'stopTimer', timer: 'detect' }] };
    }
    case 'Packet':
      return receive(d, e.packet);
    case 'TxTimerExpires':
      // In AdminDown the timer runs only after a Stop: the repeated AdminDown of section 6.8.16.
      return { data: d, actions: [{ kind: 'send', final: false }, txTimer(d)] };
    case 'DetectTimerExpires': {
      // Section 6.8.1: without a valid packet for a Detection Time the remote discriminator is forgotten.
      const forgotten = { ...d, remoteDiscr: 0, remoteMinRx: 1 };
      if (d.state === 'Init' || d.state === 'Up') return enter(forgotten, 'Down', Diag.DETECTION_TIME_EXPIRED);
      return { data: forgotten, actions: d.state === 'AdminDown' ? [] : [txTimer(forgotten)] };
    }
    case 'Retune': {
      const n = retime(d, d.state, e.wanted);
      if (d.state === 'AdminDown') return { data: n, actions: [] };
      const poll: BfdAction[] = n.polling && !d.polling ? [{ kind: 'send', final: false }] : [];
      return { data: n, actions: [...poll, txTimer(n), ...(d.state === 'Down' ? [] : [{ kind: 'startTimer' as const, timer: 'detect' as const, us: detectionTimeUs(n) }])] };
    }
  }
}
