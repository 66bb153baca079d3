/**
 * Session: one BGP peer - the FSM data (fsm.ts, RFC 4271 section 8, the only decision maker), the
 * named timers (timers.ts), the TCP side (transport.ts: connect, accept, collision, digest loop)
 * and the outbound queue (transmit.ts). Every FSM action is carried out in `execute`, the one
 * place; every state change is logged there with describeTransition. Messages are decoded here and
 * become FSM events: OPEN checks (RFC 4271 section 6.2) and negotiation; an UPDATE passes
 * receive.ts (RFC 7606 treat-as-withdraw, RFC 9774, the RFC 6793 AS4 merge) before delivery;
 * ROUTE-REFRESH requests become a `route-refresh` event (RFC 2918), a peer's BoRR/EoRR a
 * `refresh-marker` event (RFC 7313 section 4). What goes out is the RIB's stream (`send`, OutboundItem),
 * encoded and written in the order given: the RIB answers a refresh later, on its flush, with BoRR
 * and EoRR in the stream when it wants them (RFC 7313 section 4); the session adds none.
 * Keepalives come from timers and go straight to the socket. RFC 4724 / 8538 decide whether
 * `down` keeps the peer's routes. Restarts (RFC 4724 section 3): the R and F bits of every OPEN come from
 * `localRestartState`, read when it is sent; `stop(text, {graceful: true})` ends the session so the
 * peer keeps our routes; `cease(subcode)` sends any Cease subcode (RFC 4486). The OPEN on a second
 * connection is decoded and checked here too (one checkOpen), then the transport says which
 * connection wins the collision and the FSM's OpenCollisionDump switches. A new connection while
 * Established is refused at once when the peer did not negotiate graceful restart; with it, the
 * new connection's acceptable OPEN is the peer's restart (RFC 4724 section 4.2), fed to the FSM as
 * TcpConnectionWhileEstablished and then handled as the OPEN of the new session. Deciding on the
 * OPEN, not on the connect, keeps a connection that ends without one (a superseded connect, a
 * scanner) and a NOTIFICATION still queued on the old connection from resetting a good session.
 * Not here: the RIB, adj-RIB-out, maximum-prefix counting, the listener.
 */

import type * as net from 'node:net';
import { ErrorCode } from '../bgp/constants.js';
import { DEFAULT_CONTEXT } from '../bgp/context.js';
import { BgpError } from '../bgp/errors.js';
import { KEEPALIVE, decodeMessage, type Message } from '../bgp/message.js';
import { notificationFor } from '../bgp/notification.js';
import { checkOpen, encodeOpen, type OpenMessage } from '../bgp/open.js';
import { RefreshSubtype, type RouteRefreshMessage } from '../bgp/route-refresh.js';
import type { UpdateMessage } from '../bgp/update.js';
import type { OutboundItem } from '../rib/types.js';
import type { Inbound } from './connection.js';
import type { MessageCounts, SessionEvent, SessionStatus } from './events.js';
import { DEFAULT_FSM_CONFIG, describeTransition, initialData, keepaliveSeconds, transition, type Action, type FsmData, type FsmEvent, type Notify, type State, type Timer, type Which } from './fsm.js';
import { collisionDump } from './collision.js';
import { adminShutdown, capabilityNames, ceaseNotify, describeNotify, familyName, gracefulRestartOnDown, gracefulStop, type SessionEnd } from './inbound.js';
import type { Logger } from './logger.js';
import { buildOpen, negotiate, type FamilyName, type Negotiated } from './negotiate.js';
import type { PeerSpec } from './peer.js';
import { SendHold, sendHoldSeconds } from './send-hold.js';
import { SessionTimers, systemClock, type Clock } from './timers.js';
import { UpdateIntake } from './receive.js';
import { Transmitter } from './transmit.js';
import { notificationBytes, Transport } from './transport.js';

export interface StateChange {
  readonly key: string;
  readonly from: State;
  readonly to: State;
  readonly reason: string;
}

/** Our side of graceful restart as the OPEN announces it (RFC 4724 section 3). */
export interface LocalRestartState {
  /** R bit: we restarted and are re-learning routes. */
  readonly restarting: boolean;
  /** F bit (every family): our forwarding state survived the restart. */
  readonly forwarding: boolean;
}

export interface SessionDeps {
  readonly clock?: Clock;
  readonly log: Logger;
  onEvent(e: SessionEvent): void;
  /** Returns the TCP MD5 key stored in a password file; throws when it cannot. */
  readPassword(path: string): string;
  readonly listenPort: number;
  /** Every state change, for tests and drivers (the log line is written anyway). */
  onStateChange?(change: StateChange): void;
  /** Default 5 s as Calico's BIRD; shorter in tests. */
  readonly connectRetrySeconds?: number;
  /** Idle-hold backoff after errors; default 5 s doubling to 30 s. */
  readonly idleHoldSeconds?: { readonly min: number; readonly max: number };
  /** Longest stretch of inbound digesting per event loop turn; default 10 ms. */
  readonly digestBudgetMs?: number;
  /** Read whenever an OPEN goes out; absent: R and F clear. */
  localRestartState?(): LocalRestartState;
}

export interface StopOptions {
  /** Let graceful-restart peers keep our routes (see gracefulStop in inbound.ts). */
  readonly graceful?: boolean;
}

type Delivery =
  | { readonly kind: 'update'; readonly update: UpdateMessage }
  | { readonly kind: 'refresh'; readonly family: FamilyName }
  | { readonly kind: 'marker'; readonly family: FamilyName; readonly marker: 'begin' | 'end' };

const MARKERS: Record<number, 'begin' | 'end'> = { [RefreshSubtype.BEGIN]: 'begin', [RefreshSubtype.END]: 'end' };

const TIMER_EVENT: Record<Timer, FsmEvent> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
  errorForget: { type: 'ErrorForgetTimerExpires' },
  sendHold: { type: 'SendHoldTimerExpires' },
};
const COUNT_KEY: Record<number, keyof MessageCounts> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' };
const ERROR_EVENT: Record<number, 'BgpHeaderErr' | 'BgpOpenMsgErr' | 'UpdateMsgErr'> = { 1: 'BgpHeaderErr', 2: 'BgpOpenMsgErr', 3: 'UpdateMsgErr' };

const zeroCounts = (): Record<keyof MessageCounts, number> => ({ open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 });

export class Session {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers: SessionTimers<Timer>;
  /** The OPEN sent last: negotiation reads its capabilities. */
  private localOpen: OpenMessage;
  private readonly transmitter: Transmitter;
  private readonly transport: Transport;
  private fsm: FsmData;
  private current: Negotiated | undefined;
  private lastError = '';
  private since: number;
  private end: { sent?: Notify; received?: Notify; bfdDown?: { controlPlaneIndependent: boolean } } = {};
  private adminStop = false;
  private readonly countsIn = zeroCounts();
  private readonly countsOut = zeroCounts();
  private readonly events: [FsmEvent, Delivery | undefined][] = [];
  private feeding = false;
  private currentSpec: PeerSpec;
  /** RFC 9687 (send-hold.ts), armed while Established. */
  private readonly sendHold: SendHold;
  private sendHoldExpired = 0;
  private readonly intake: UpdateIntake;

  constructor(spec: PeerSpec, private readonly deps: SessionDeps) {
    this.currentSpec = spec;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log;
    this.intake = new UpdateIntake(deps.log, spec.key);
    this.since = this.clock.now();
    this.timers = new SessionTimers<Timer>(this.clock, (t) => this.onTimer(t));
    this.sendHold = new SendHold({
      start: (s) => this.timers.start('sendHold', s),
      stop: () => this.timers.stop('sendHold'),
      running: () => this.timers.running('sendHold'),
    }, () => this.clock.now());
    this.fsm = initialData({
      ...DEFAULT_FSM_CONFIG,
      passive: spec.passive,
      holdTime: spec.holdTime,
      keepaliveTime: spec.keepaliveTime,
      connectRetryTime: deps.connectRetrySeconds ?? DEFAULT_FSM_CONFIG.connectRetryTime,
      idleHoldMin: deps.idleHoldSeconds?.min ?? DEFAULT_FSM_CONFIG.idleHoldMin,
      idleHoldMax: deps.idleHoldSeconds?.max ?? DEFAULT_FSM_CONFIG.idleHoldMax,
      bfdStrict: spec.bfd.strict,
    });
    this.localOpen = this.buildLocalOpen();
    this.transport = new Transport(spec, {
      state: () => this.fsm.state,
      inbound: (item, which) => this.inbound(item, which),
      connected: () => this.feed({ type: 'TcpConnectionConfirmed' }),
      connectFailed: (words) => {
        if (this.fsm.state !== 'Connect') return;
        this.lastError = words;
        this.feed({ type: 'TcpConnectionFails' });
      },
      secondWhileEstablished: () => this.secondWhileEstablished(),
      counted: (direction, type) => this.count(direction === 'in' ? this.countsIn : this.countsOut, type),
    }, this.clock, this.log, (path) => deps.readPassword(path), () => this.nextOpen(), deps.digestBudgetMs);
    this.transmitter = new Transmitter({
      sent: (type) => this.count(this.countsOut, type),
      failed: (err) => this.log.error(`could not encode an outbound message: ${String(err)}`),
    });
  }

  get key(): string {
    return this.spec.key;
  }

  get state(): State {
    return this.fsm.state;
  }

  /** What OPEN negotiation gave, from OpenConfirm until the session goes down. */
  get negotiated(): Negotiated | undefined {
    return this.current;
  }

  start(): void {
    this.adminStop = false;
    this.log.debug('session start', { listenPort: this.deps.listenPort, passive: this.spec.passive });
    this.feed({ type: 'ManualStart' });
  }

  /**
   * Administrative stop: Cease / Administrative Shutdown with the RFC 9003 text (as a Hard Reset
   * when the N bit was exchanged), then Idle until start(). `graceful` (the agent stopping to
   * restart) ends the session so that a graceful-restart peer keeps our routes: a soft
   * Administrative Reset with the N bit, no NOTIFICATION at all without it (inbound.ts gracefulStop).
   */
  stop(communication = '', options: StopOptions = {}): void {
    this.adminStop = true;
    if (options.graceful !== true) return this.feed({ type: 'ManualStop', notify: adminShutdown(communication, this.current) });
    const notify = gracefulStop(communication, this.current);
    if (notify === null && this.fsm.state === 'Established') {
      this.lastError = 'Closed for a graceful restart';
      this.log.info('closing the connection without a NOTIFICATION: the peer keeps our routes (graceful restart, RFC 4724)', { peer: this.spec.key });
    }
    this.feed({ type: 'ManualStop', notify });
  }

  /**
   * Ends the session with a Cease of `subcode` (RFC 4486), e.g. 1 when the peer sent more prefixes
   * than allowed; a Hard Reset around it when the N bit was exchanged (RFC 8538 section 5). The
   * communication goes into the NOTIFICATION for subcodes 2 and 4 (RFC 9003), into the log for
   * others. The session stays Idle until start(), as after stop().
   */
  cease(subcode: number, communication = ''): void {
    this.adminStop = true;
    if (communication !== '') this.log.info(`ceasing the session: ${communication}`, { peer: this.spec.key, subcode });
    this.feed({ type: 'ManualStop', notify: ceaseNotify(subcode, communication, this.current) });
  }

  /**
   * The peer's BFD session went down (RFC 5882 section 4.3): the session goes down at once, without
   * a NOTIFICATION; with `bfd.strict` it connects again only after bfdUp(), otherwise after the
   * idle hold (fsm.ts bfdDown). The routes are kept as graceful-restart stale only when GR was
   * negotiated and the peer's BFD did not set the C bit (inbound.ts gracefulRestartOnDown).
   */
  bfdDown(reason: string, controlPlaneIndependent: boolean): void {
    this.lastError = reason;
    this.end.bfdDown = { controlPlaneIndependent };
    this.log.warn(`${reason}: taking the BGP session down`, { peer: this.spec.key, state: this.fsm.state, controlPlaneIndependent });
    this.feed({ type: 'BfdDown' });
  }

  /** BFD is Up again (or no longer configured): the session may connect. */
  bfdUp(): void {
    if (this.fsm.bfdHold) this.log.info('BFD up: the BGP session may connect again', { peer: this.spec.key });
    this.feed({ type: 'BfdUp' });
  }

  get heldByBfd(): boolean {
    return this.fsm.bfdHold;
  }

  /** An incoming connection from this peer's address, handed over by the listener. */
  accept(socket: net.Socket): void {
    this.transport.accept(socket);
  }

  /** Queues the next item of the RIB's stream for the peer; false when not Established. */
  send(item: OutboundItem): boolean {
    if (this.fsm.state !== 'Established' || !this.transmitter.attached) return false;
    this.transmitter.push(item);
    return true;
  }

  status(): SessionStatus {
    const n = this.current;
    return {
      key: this.spec.key,
      address: this.spec.address,
      family: this.spec.family,
      type: this.spec.type,
      peerAs: this.spec.peerAs,
      state: this.fsm.state,
      since: this.since,
      lastError: this.lastError,
      enabled: !this.fsm.adminDown,
      messagesIn: { ...this.countsIn },
      messagesOut: { ...this.countsOut },
      capabilities: n && this.fsm.state === 'Established' ? capabilityNames(n) : [],
      holdTime: n ? n.holdTime : this.spec.holdTime,
      keepaliveTime: n ? (n.holdTime === 0 ? 0 : keepaliveSeconds(this.fsm.config, n.holdTime)) : this.spec.keepaliveTime,
      maxPrefixes: this.spec.maxPrefixes,
      sendHoldExpired: this.sendHoldExpired,
      asSetWithdrawn: this.intake.asSetWithdrawn,
    };
  }

  get spec(): PeerSpec {
    return this.currentSpec;
  }

  /**
   * Takes over a spec that differs only in fields the running session does not depend on
   * (manager.ts RELABEL_ONLY: `type`, `passive`, `bfd`, `sendHoldTime`); the connection, if any,
   * stays up. A new `passive` or `bfd.strict` applies from the next connection attempt or BFD Down.
   */
  relabel(spec: PeerSpec): void {
    if (spec.key !== this.currentSpec.key) throw new Error(`relabel: ${spec.key} is not ${this.currentSpec.key}`);
    this.currentSpec = spec;
    const wasStrict = this.fsm.config.bfdStrict;
    this.fsm = { ...this.fsm, config: { ...this.fsm.config, passive: spec.passive, bfdStrict: spec.bfd.strict } };
    // BFD switched off (nothing will say Up any more) or no longer strict: nothing holds the session.
    if (this.fsm.bfdHold && (!spec.bfd.enabled || (wasStrict && !spec.bfd.strict))) this.bfdUp();
  }

  // ---- the FSM and its actions ------------------------------------------------------------

  /** Events are processed one at a time, also when a handler calls back into the session. */
  private feed(event: FsmEvent, delivery?: Delivery): void {
    this.events.push([event, delivery]);
    if (this.feeding) return;
    this.feeding = true;
    try {
      for (let e = this.events.shift(); e; e = this.events.shift()) this.step(e[0], e[1]);
    } finally {
      this.feeding = false;
    }
  }

  private step(event: FsmEvent, delivery: Delivery | undefined): void {
    const from = this.fsm.state;
    const t = transition(this.fsm, event);
    this.fsm = t.data;
    const line = describeTransition(from, t);
    if (line) this.stateChanged(from, t.data.state, t.reason, line);
    for (const action of t.actions) this.execute(action, from, delivery);
  }

  private stateChanged(from: State, to: State, reason: string, line: string): void {
    this.since = this.clock.now();
    this.log.info(line, { peer: this.spec.key, ...(this.lastError && to === 'Idle' ? { lastError: this.lastError } : {}) });
    this.deps.onStateChange?.({ key: this.spec.key, from, to, reason });
  }

  private execute(a: Action, from: State, delivery: Delivery | undefined): void {
    switch (a.kind) {
      case 'connect':
        return this.transport.dial();
      case 'drop':
        return this.transport.drop();
      case 'switchConnection':
        // What the old connection negotiated is gone; the new one negotiates with its OPEN.
        this.current = undefined;
        return this.transport.switchToSecond(a.notify);
      case 'refuseConnection':
        return this.transport.dropSecond(a.notify);
      case 'sendOpen':
        return this.transport.write(this.nextOpen());
      case 'sendKeepalive':
        return this.transport.write(KEEPALIVE);
      case 'sendNotification':
        return this.sendNotification(a.notify);
      case 'startTimer':
        return this.timers.start(a.timer, a.seconds);
      case 'stopTimer':
        return this.timers.stop(a.timer);
      case 'established':
        return this.established();
      case 'sessionDown':
        return this.down(from);
      case 'deliver':
        return this.deliver(delivery);
    }
  }

  private sendNotification(n: Notify): void {
    this.transport.write(notificationBytes(n));
    this.end.sent = n;
    const words = describeNotify(n);
    this.lastError = n.code === ErrorCode.HOLD_TIMER_EXPIRED ? 'Hold timer expired' : n.code === ErrorCode.SEND_HOLD_TIMER_EXPIRED ? 'Send hold timer expired' : `Sent: ${words}`;
    if (this.adminStop) this.log.info(`sent NOTIFICATION: ${words}`);
    else this.log.warn(`sent NOTIFICATION: ${words}`);
  }

  private established(): void {
    const n = this.current;
    const conn = this.transport.connection;
    if (!conn || !n) return;
    this.end = {};
    this.lastError = '';
    this.transmitter.attach(conn, n.encode);
    conn.onSend = (what, waiting) => (what === 'queued' ? this.sendHold.queued(waiting) : this.sendHold.progressed(waiting));
    this.sendHold.arm(sendHoldSeconds(this.spec.sendHoldTime, n.holdTime), conn.writableLength);
    this.intake.sessionUp();
    this.emit({ type: 'established', peer: this.spec, negotiated: n });
  }

  private down(from: State): void {
    this.transmitter.clear();
    this.sendHold.disarm();
    if (from === 'Established') {
      const end: SessionEnd = { ...this.end, adminStop: this.adminStop && this.end.bfdDown === undefined };
      const gracefulRestart = gracefulRestartOnDown(this.current, end);
      this.emit({ type: 'down', peer: this.spec, reason: this.lastError || 'session closed', gracefulRestart });
    }
    this.current = undefined;
    this.end = {};
  }

  private deliver(d: Delivery | undefined): void {
    if (d?.kind === 'update') {
      this.emit({ type: 'update', peer: this.spec, update: d.update });
    } else if (d?.kind === 'refresh') {
      // The answer (BoRR, the routes, EoRR: RFC 7313 section 4) comes back through send(), later.
      this.emit({ type: 'route-refresh', peer: this.spec, family: d.family });
    } else if (d?.kind === 'marker') {
      this.emit({ type: 'refresh-marker', peer: this.spec, family: d.family, marker: d.marker });
    }
  }

  private emit(e: SessionEvent): void {
    try {
      this.deps.onEvent(e);
    } catch (err) {
      this.log.error(`session event handler failed on '${e.type}': ${String(err)}`, { peer: this.spec.key });
    }
  }

  private onTimer(timer: Timer): void {
    // Messages the digest loop has not reached yet prove the peer alive: a backlog on our side
    // must never expire its hold timer. They restart the timer once digested.
    if (timer === 'hold' && (this.transport.connection?.pending ?? 0) > 0) {
      this.timers.start('hold', 1);
      return;
    }
    if (timer === 'sendHold') {
      // RFC 9687 section 3: log it; the NOTIFICATION is tried, though it will hardly get out.
      this.sendHoldExpired++;
      const waiting = this.transport.connection?.writableLength ?? 0;
      this.log.warn(`send hold timer expired: nothing could be written to the peer for ${this.sendHold.stalledSeconds} s (${waiting} bytes waiting); closing the session`, { peer: this.spec.key, waiting });
    }
    this.feed(TIMER_EVENT[timer]);
  }

  /** RFC 4724 section 3: R and F as the agent's restart state says right now. */
  private buildLocalOpen(): OpenMessage {
    const spec = this.spec;
    const state = this.deps.localRestartState?.() ?? { restarting: false, forwarding: false };
    return buildOpen({
      asn: spec.localAs,
      routerId: spec.routerId,
      holdTime: spec.holdTime,
      families: spec.families,
      ...(spec.gracefulRestart.enabled ? { gracefulRestart: { restartTime: spec.gracefulRestart.restartTime, ...state } } : {}),
    });
  }

  /** The bytes of a fresh OPEN, remembered for negotiation. */
  private nextOpen(): Uint8Array {
    this.localOpen = this.buildLocalOpen();
    return encodeOpen(this.localOpen);
  }

  private count(counts: Record<keyof MessageCounts, number>, type: number): void {
    const key = COUNT_KEY[type];
    if (key) counts[key]++;
  }

  // ---- two connections ----------------------------------------------------------------------

  /**
   * A new connection while Established. Without the peer's graceful-restart capability RFC 4271
   * section 6.8 closes it at once; with it, it waits for its OPEN (secondOpenWhileEstablished).
   */
  private secondWhileEstablished(): void {
    if (this.current?.peerGracefulRestart !== undefined) {
      this.log.info('a new connection from the peer while Established: its OPEN decides whether the peer restarted (RFC 4724 section 4.2)', { peer: this.spec.key });
      return;
    }
    this.log.info('refusing a new connection from the peer: the session is Established and the peer did not negotiate graceful restart', { peer: this.spec.key });
    this.feed({ type: 'TcpConnectionWhileEstablished', gracefulRestart: false });
  }

  /**
   * RFC 4724 section 4.2: the peer negotiated graceful restart and a new connection of its carries
   * an acceptable OPEN while the old one looks Established: the old TCP session is gone (its FIN or
   * RST never reached us). The FSM closes the old connection and keeps the new one in OpenSent;
   * the OPEN is then that session's.
   */
  private secondOpenWhileEstablished(open: OpenMessage): void {
    const err = checkOpen(open, { peerAs: this.spec.peerAs, localId: this.spec.routerId, internal: this.spec.internal });
    if (err) {
      this.log.warn(`unacceptable OPEN on a new connection while Established: ${err.message}`, { peer: this.spec.key, reason: err.reason });
      return this.transport.dropSecond(notificationFor(err));
    }
    this.lastError = 'Peer restarted: new connection while Established';
    this.log.info('an OPEN on a new connection from the peer while Established: taken as its restart, the old connection is closed (graceful restart, RFC 4724 section 4.2)', { peer: this.spec.key });
    this.feed({ type: 'TcpConnectionWhileEstablished', gracefulRestart: true });
    this.handleOpen(open, 'main');
  }

  /** The session's connection ended before Established while a second one exists: carry on with that. */
  private fallBack(): boolean {
    if (!this.transport.canFallBack) return false;
    this.feed({ type: 'OpenCollisionDump', dump: 'main' });
    return true;
  }

  /** Before the collision is resolved the second connection carries only the peer's OPEN. */
  private secondInbound(item: Inbound): void {
    if (!(item instanceof Uint8Array)) return this.transport.dropSecond();
    this.count(this.countsIn, item[18]);
    let msg: Message;
    try {
      msg = decodeMessage(item, DEFAULT_CONTEXT);
    } catch (err) {
      this.log.warn(`malformed message on the second connection: ${String(err)}`, { peer: this.spec.key });
      return this.transport.dropSecond(err instanceof BgpError ? notificationFor(err) : undefined);
    }
    if (msg.type !== 'open') return this.transport.dropSecond();
    if (this.fsm.state === 'Established') return this.secondOpenWhileEstablished(msg);
    this.handleOpen(msg, 'second');
  }

  // ---- inbound -----------------------------------------------------------------------------

  private inbound(item: Inbound, which: Which): void {
    if (which === 'second') return this.secondInbound(item);
    if (!(item instanceof Uint8Array)) {
      if (item.kind === 'closed') {
        if (this.fallBack()) return;
        this.lastError = item.reason;
        return this.feed({ type: 'TcpConnectionFails' });
      }
      return this.decodeFailed(item.error);
    }
    this.count(this.countsIn, item[18]);
    let msg: Message;
    try {
      msg = decodeMessage(item, this.current?.decode ?? DEFAULT_CONTEXT);
    } catch (err) {
      return this.decodeFailed(err);
    }
    switch (msg.type) {
      case 'open':
        return this.handleOpen(msg, 'main');
      case 'keepalive':
        return this.feed({ type: 'KeepAliveMsg' });
      case 'update':
        return this.handleUpdate(msg);
      case 'route-refresh':
        return this.handleRefresh(msg);
      case 'notification': {
        const words = describeNotify(msg);
        this.lastError = `Received: ${words}`;
        this.end.received = { code: msg.code, subcode: msg.subcode };
        this.log.warn(`received NOTIFICATION: ${words}`, { peer: this.spec.key });
        // The peer resolved a collision against this connection: carry on with the other one.
        if (this.fallBack()) return;
        if (msg.code === ErrorCode.OPEN_MESSAGE && msg.subcode === 1) return this.feed({ type: 'NotifMsgVerErr' });
        return this.feed({ type: 'NotifMsg', code: msg.code, subcode: msg.subcode });
      }
    }
  }

  private decodeFailed(err: unknown): void {
    if (!(err instanceof BgpError)) {
      this.log.error(`internal error decoding a message: ${String(err)}`, { peer: this.spec.key });
      this.lastError = 'Internal error';
      return this.feed({ type: 'TcpConnectionFails' });
    }
    this.log.warn(`malformed message from peer: ${err.message}`, { peer: this.spec.key, reason: err.reason, code: err.code, subcode: err.subcode });
    this.feed({ type: ERROR_EVENT[err.code] ?? 'UpdateMsgErr', notify: notificationFor(err) });
  }

  /** An OPEN on the session's connection or on a second one (RFC 4271 sections 6.2 and 6.8). */
  private handleOpen(open: OpenMessage, which: Which): void {
    if (which === 'main' && this.fsm.state !== 'OpenSent') return this.feed({ type: 'BgpOpen', holdTime: open.holdTime });
    const err = checkOpen(open, { peerAs: this.spec.peerAs, localId: this.spec.routerId, internal: this.spec.internal });
    if (err) {
      this.log.warn(`unacceptable OPEN${which === 'second' ? ' on the second connection' : ''}: ${err.message}`, { peer: this.spec.key, reason: err.reason });
      if (which === 'second') return this.transport.dropSecond(notificationFor(err));
      return this.feed({ type: 'BgpOpenMsgErr', notify: notificationFor(err) });
    }
    const pair = this.transport.pair;
    if (pair) {
      // RFC 6286 section 2.3: the peer's AS is the configured one, which checkOpen matched.
      const dump = collisionDump({ id: this.spec.routerId, asn: this.spec.localAs }, { id: open.bgpId, asn: this.spec.peerAs }, pair.main, pair.second);
      this.log.info(`connection collision with ${open.bgpId}: keeping the ${dump === 'main' ? pair.second : pair.main}going connection`);
      this.feed({ type: 'OpenCollisionDump', dump });
      // The OPEN of the connection that lost is not the session's; the winner's is, from OpenSent.
      if (dump === which) return;
    } else if (which === 'second') return;
    this.current = negotiate(this.localOpen, open, !this.spec.internal);
    this.transport.connection?.allowExtendedMessages(this.current.extendedMessage);
    this.feed({ type: 'BgpOpen', holdTime: open.holdTime });
  }

  private handleUpdate(u: UpdateMessage): void {
    const n = this.current;
    if (this.fsm.state !== 'Established' || !n) return this.feed({ type: 'UpdateMsg' });
    this.feed({ type: 'UpdateMsg' }, { kind: 'update', update: this.intake.take(u, n.fourOctetAs) });
  }

  private handleRefresh(r: RouteRefreshMessage): void {
    const family = familyName(r.afi, r.safi);
    const ours = family !== undefined && this.current?.families.includes(family) === true;
    const marker = MARKERS[r.subtype];
    let d: Delivery | undefined;
    if (ours && r.subtype === RefreshSubtype.REQUEST) d = { kind: 'refresh', family };
    else if (ours && marker !== undefined && this.current?.enhancedRouteRefresh === true) {
      // RFC 7313 section 4: the RIB marks the family's routes stale at BoRR and purges at EoRR.
      this.log.info(`received ${marker === 'begin' ? 'BoRR' : 'EoRR'} for ${family}`, { peer: this.spec.key });
      d = { kind: 'marker', family, marker };
    } else this.log.debug(`ROUTE-REFRESH afi ${r.afi} safi ${r.safi} subtype ${r.subtype} ignored`);
    this.feed({ type: 'RouteRefreshMsg' }, d);
  }
}
