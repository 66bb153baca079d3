/**
 * Session: one BGP peer's transport and FSM (RFC 4271 section 8) - the TCP connection(s), the
 * framer and inbound queue (connection.ts), the FSM data (fsm.ts, the only decision maker), the
 * named timers (timers.ts) and the outbound queue (transmit.ts). Every FSM action is carried out in
 * `execute`, the one place; every state change is logged there with describeTransition.
 * Connection collision (RFC 4271 section 6.8): a second connection gets our OPEN and is resolved by
 * BGP identifier as soon as the peer's identifier is known; the loser gets Cease / Connection
 * Collision Resolution. Inbound messages are digested for at most `digestBudgetMs` per event loop
 * turn (the 50 ms rule); keepalives come from timers and are written straight to the socket.
 * RFC 7606 treat-as-withdraw is applied before delivery; RFC 4724 / 8538 decide whether `down`
 * keeps the peer's routes. Not here: the RIB, adj-RIB-out, maximum-prefix counting, the listener.
 */

import type * as net from 'node:net';
import { CeaseSubcode, ErrorCode, MessageType } from '../bgp/constants.js';
import { DEFAULT_CONTEXT } from '../bgp/context.js';
import { BgpError } from '../bgp/errors.js';
import { KEEPALIVE, decodeMessage, type Message } from '../bgp/message.js';
import { encodeNotification, notificationFor } from '../bgp/notification.js';
import { checkOpen, encodeOpen, type OpenMessage } from '../bgp/open.js';
import { RefreshSubtype, encodeRouteRefresh, type RouteRefreshMessage } from '../bgp/route-refresh.js';
import { encodeUpdate, endOfRib, isTreatAsWithdraw, type UpdateMessage } from '../bgp/update.js';
import { mergeAs4 } from '../bgp/as-path.js';
import { connectWithOptions, setSocketMinTtl, setSocketTtl } from '../../netlink/socket-options.js';
import type { OutboundUpdate } from '../rib/types.js';
import { Connection, type Inbound } from './connection.js';
import type { MessageCounts, SessionEvent, SessionStatus } from './events.js';
import { DEFAULT_FSM_CONFIG, describeTransition, initialData, transition, type Action, type FsmData, type FsmEvent, type Notify, type State, type Timer } from './fsm.js';
import { AFI_OF, adminShutdown, asWithdrawal, capabilityNames, collisionWinner, describeNotify, familyName, gracefulRestartOnDown, socketErrorWords, type SessionEnd } from './inbound.js';
import type { Logger } from './logger.js';
import { buildOpen, negotiate, type FamilyName, type Negotiated } from './negotiate.js';
import type { PeerSpec } from './peer.js';
import { SessionTimers, systemClock, type Clock } from './timers.js';
import { Transmitter } from './transmit.js';

export interface StateChange {
  readonly key: string;
  readonly from: State;
  readonly to: State;
  readonly reason: string;
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
}

type Delivery = { readonly kind: 'update'; readonly update: UpdateMessage } | { readonly kind: 'refresh'; readonly family: FamilyName };

const CEASE_COLLISION: Notify = { code: ErrorCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION };
/** RFC 4271 section 8.2.2: the hold time in OpenSent. */
const OPEN_SENT_HOLD = 240;
const TIMER_EVENT: Record<Timer, FsmEvent> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
  errorForget: { type: 'ErrorForgetTimerExpires' },
};
const COUNT_KEY: Record<number, keyof MessageCounts> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' };
const ERROR_EVENT: Record<number, 'BgpHeaderErr' | 'BgpOpenMsgErr' | 'UpdateMsgErr'> = { 1: 'BgpHeaderErr', 2: 'BgpOpenMsgErr', 3: 'UpdateMsgErr' };

const zeroCounts = (): Record<keyof MessageCounts, number> => ({ open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 });
const notificationBytes = (n: Notify): Uint8Array => encodeNotification({ code: n.code, subcode: n.subcode, data: n.data ?? new Uint8Array(0) });

export class Session {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers: SessionTimers<Timer>;
  private readonly localOpen: OpenMessage;
  private readonly transmitter: Transmitter;
  private fsm: FsmData;
  private main: Connection | undefined;
  /** A second connection during a collision, until one of the two is chosen. */
  private second: Connection | undefined;
  private connectGen = 0;
  private current: Negotiated | undefined;
  private lastError = '';
  private since: number;
  private end: { sent?: Notify; received?: Notify } = {};
  private adminStop = false;
  private readonly countsIn = zeroCounts();
  private readonly countsOut = zeroCounts();
  private readonly events: [FsmEvent, Delivery | undefined][] = [];
  private feeding = false;
  private digestScheduled = false;
  private currentSpec: PeerSpec;

  constructor(spec: PeerSpec, private readonly deps: SessionDeps) {
    this.currentSpec = spec;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log;
    this.since = this.clock.now();
    this.timers = new SessionTimers<Timer>(this.clock, (t) => this.onTimer(t));
    this.fsm = initialData({
      ...DEFAULT_FSM_CONFIG,
      passive: spec.passive,
      holdTime: spec.holdTime,
      connectRetryTime: deps.connectRetrySeconds ?? DEFAULT_FSM_CONFIG.connectRetryTime,
      idleHoldMin: deps.idleHoldSeconds?.min ?? DEFAULT_FSM_CONFIG.idleHoldMin,
      idleHoldMax: deps.idleHoldSeconds?.max ?? DEFAULT_FSM_CONFIG.idleHoldMax,
    });
    this.localOpen = buildOpen({
      asn: spec.localAs,
      routerId: spec.routerId,
      holdTime: spec.holdTime,
      families: spec.families,
      ...(spec.gracefulRestart.enabled ? { gracefulRestart: { restartTime: spec.gracefulRestart.restartTime, restarting: false, forwarding: false } } : {}),
    });
    this.transmitter = new Transmitter({
      sent: (type) => this.count(this.countsOut, type),
      failed: (err) => this.log.error(`could not encode an UPDATE: ${String(err)}`),
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
   * when the N bit was exchanged), then Idle until start().
   */
  stop(communication = ''): void {
    this.adminStop = true;
    this.feed({ type: 'ManualStop', notify: adminShutdown(communication, this.current) });
  }

  /** An incoming connection from this peer's address, handed over by the listener. */
  accept(socket: net.Socket): void {
    this.socketOptions(socket);
    const state = this.fsm.state;
    if (state === 'Idle') {
      this.log.info(`refusing a connection from ${socket.remoteAddress}: session is Idle`);
      socket.destroy();
      return;
    }
    const conn = this.connection(socket, 'in');
    if (state === 'Established') {
      // RFC 4271 section 6.8: a collision with an Established session closes the new connection.
      conn.close(notificationBytes(CEASE_COLLISION));
    } else if (state === 'Connect' || state === 'Active') {
      this.main = conn;
      this.feed({ type: 'TcpConnectionConfirmed' });
    } else {
      this.dropSecond();
      this.second = conn;
      this.write(conn, encodeOpen(this.localOpen));
    }
  }

  /** Queues routes for the peer; false when the session is not Established. */
  send(update: OutboundUpdate): boolean {
    if (this.fsm.state !== 'Established' || !this.transmitter.attached) return false;
    this.transmitter.send(update);
    return true;
  }

  sendEndOfRib(family: FamilyName): boolean {
    if (this.fsm.state !== 'Established' || !this.current || !this.transmitter.attached) return false;
    this.transmitter.raw(encodeUpdate(endOfRib(AFI_OF[family]), this.current.encode));
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
      keepaliveTime: n ? n.keepaliveTime : this.spec.keepaliveTime,
    };
  }

  get spec(): PeerSpec {
    return this.currentSpec;
  }

  /**
   * Takes over a spec that differs only in fields the running session does not depend on
   * (manager.ts RELABEL_ONLY: `type`, `passive`); the connection, if any, stays up. A new
   * `passive` applies from the next connection attempt.
   */
  relabel(spec: PeerSpec): void {
    if (spec.key !== this.currentSpec.key) throw new Error(`relabel: ${spec.key} is not ${this.currentSpec.key}`);
    this.currentSpec = spec;
    this.fsm = { ...this.fsm, config: { ...this.fsm.config, passive: spec.passive } };
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
        return this.connect();
      case 'drop':
        this.connectGen++;
        this.main?.close();
        this.main = undefined;
        return this.dropSecond();
      case 'sendOpen':
        return void (this.main && this.write(this.main, encodeOpen(this.localOpen)));
      case 'sendKeepalive':
        return void (this.main && this.write(this.main, KEEPALIVE));
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
    if (this.main) this.write(this.main, notificationBytes(n));
    this.end.sent = n;
    const words = describeNotify(n);
    this.lastError = n.code === ErrorCode.HOLD_TIMER_EXPIRED ? 'Hold timer expired' : `Sent: ${words}`;
    if (this.adminStop) this.log.info(`sent NOTIFICATION: ${words}`);
    else this.log.warn(`sent NOTIFICATION: ${words}`);
  }

  private established(): void {
    const n = this.current;
    if (!this.main || !n) return;
    this.end = {};
    this.lastError = '';
    this.transmitter.attach(this.main, n.encode);
    this.emit({ type: 'established', peer: this.spec, negotiated: n });
  }

  private down(from: State): void {
    this.transmitter.clear();
    if (from === 'Established') {
      const end: SessionEnd = { ...this.end, adminStop: this.adminStop };
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
      // RFC 7313 section 4: BoRR, the routes, EoRR. The RIB re-sends from within the event, so
      // whatever it queues lands between the two markers.
      const enhanced = this.current?.enhancedRouteRefresh === true;
      const marker = (subtype: number): void => this.transmitter.raw(encodeRouteRefresh({ afi: AFI_OF[d.family], safi: 1, subtype }));
      if (enhanced) marker(RefreshSubtype.BEGIN);
      this.emit({ type: 'route-refresh', peer: this.spec, family: d.family });
      if (enhanced) marker(RefreshSubtype.END);
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
    const main = this.main;
    if (timer === 'hold' && main && !main.closed) {
      // Bytes the digest loop has not reached yet, or that arrived within the hold time, prove the
      // peer alive: a backlog on our side must never expire the peer's hold timer.
      const holdMs = (this.fsm.state === 'OpenSent' ? OPEN_SENT_HOLD : this.fsm.negotiatedHoldTime) * 1000;
      const quiet = this.clock.now() - main.lastRx;
      if (main.pending > 0 || quiet < holdMs) {
        this.timers.start('hold', main.pending > 0 ? 1 : (holdMs - quiet) / 1000);
        return;
      }
    }
    this.feed(TIMER_EVENT[timer]);
  }

  // ---- transport ---------------------------------------------------------------------------

  private connection(socket: net.Socket, direction: 'in' | 'out'): Connection {
    return new Connection(socket, direction, this.clock, () => this.scheduleDigest());
  }

  private write(conn: Connection, bytes: Uint8Array): void {
    if (conn.write(bytes)) this.count(this.countsOut, bytes[18]);
  }

  private count(counts: Record<keyof MessageCounts, number>, type: number): void {
    const key = COUNT_KEY[type];
    if (key) counts[key]++;
  }

  /** TTL 1 for direct eBGP, 255 otherwise; GTSM (RFC 5082): 255 and a minimum of 256 - hops. */
  private socketOptions(socket: net.Socket): void {
    const gtsm = this.spec.ttlSecurity > 0;
    try {
      setSocketTtl(socket, gtsm ? 255 : this.spec.ttl);
      if (gtsm) setSocketMinTtl(socket, 256 - this.spec.ttlSecurity);
    } catch (err) {
      this.log.warn(`could not set TTL options on an accepted connection: ${String(err)}`);
    }
  }

  private connect(): void {
    const gen = ++this.connectGen;
    const s = this.spec;
    let md5Key: string | undefined;
    try {
      md5Key = s.passwordFile ? this.deps.readPassword(s.passwordFile) : undefined;
    } catch (err) {
      this.lastError = `Password file: ${err instanceof Error ? err.message : String(err)}`;
      setImmediate(() => gen === this.connectGen && this.fsm.state === 'Connect' && this.feed({ type: 'TcpConnectionFails' }));
      return;
    }
    const gtsm = s.ttlSecurity > 0;
    connectWithOptions({
      host: s.address,
      port: s.port,
      ...(s.localAddress ? { localAddress: s.localAddress } : {}),
      ...(md5Key ? { md5Key } : {}),
      ttl: gtsm ? 255 : s.ttl,
      ...(gtsm ? { minTtl: 256 - s.ttlSecurity } : {}),
    }).then(
      (socket) => this.connected(gen, socket),
      (err: unknown) => {
        if (gen !== this.connectGen || this.main || this.fsm.state !== 'Connect') return;
        this.lastError = socketErrorWords(err);
        this.log.debug(`connect to ${s.address} port ${s.port} failed: ${this.lastError}`);
        this.feed({ type: 'TcpConnectionFails' });
      },
    );
  }

  private connected(gen: number, socket: net.Socket): void {
    const state = this.fsm.state;
    if (gen === this.connectGen && !this.main && (state === 'Connect' || state === 'Active')) {
      this.main = this.connection(socket, 'out');
      this.feed({ type: 'TcpConnectionConfirmed' });
    } else if (gen === this.connectGen && this.main?.direction === 'in' && !this.second && (state === 'OpenSent' || state === 'OpenConfirm')) {
      this.second = this.connection(socket, 'out');
      this.write(this.second, encodeOpen(this.localOpen));
    } else {
      socket.destroy();
    }
  }

  private dropSecond(n?: Notify): void {
    if (!this.second) return;
    if (n) this.count(this.countsOut, MessageType.NOTIFICATION);
    this.second.close(n ? notificationBytes(n) : undefined);
    this.second = undefined;
  }

  /** The second connection wins the collision: it becomes the session's connection, in OpenSent. */
  private promote(): void {
    const old = this.main;
    this.main = this.second;
    this.second = undefined;
    if (old) {
      this.count(this.countsOut, MessageType.NOTIFICATION);
      old.close(notificationBytes(CEASE_COLLISION));
    }
    const from = this.fsm.state;
    this.fsm = { ...this.fsm, state: 'OpenSent', negotiatedHoldTime: this.fsm.config.holdTime };
    this.current = undefined;
    this.timers.stop('keepalive');
    this.timers.start('hold', OPEN_SENT_HOLD);
    if (from !== 'OpenSent') this.stateChanged(from, 'OpenSent', 'OpenCollisionDump', `state change ${from} -> OpenSent, reason: OpenCollisionDump`);
    if (this.main && this.main.pending > 0) this.scheduleDigest();
  }

  /** Both connections exist and the peer's identifier is known: keep one (RFC 4271 section 6.8). */
  private collide(peerId: string): 'main' | 'second' {
    const main = this.main;
    const second = this.second;
    if (!main || !second) return 'main';
    if (this.fsm.state === 'Established') {
      this.dropSecond(CEASE_COLLISION);
      return 'main';
    }
    const winner = collisionWinner(this.spec.routerId, peerId);
    // Two incoming connections: the peer gave up on the older one.
    const keepSecond = main.direction === second.direction || second.direction === winner;
    this.log.info(`connection collision with ${peerId}: keeping the ${keepSecond ? second.direction : main.direction}going connection`);
    if (!keepSecond) {
      this.dropSecond(CEASE_COLLISION);
      return 'main';
    }
    this.promote();
    return 'second';
  }

  // ---- inbound -----------------------------------------------------------------------------

  private scheduleDigest(): void {
    if (this.digestScheduled) return;
    this.digestScheduled = true;
    setImmediate(() => {
      this.digestScheduled = false;
      this.digest();
    });
  }

  /** Handles queued messages for at most the budget, then yields to timers and other sockets. */
  private digest(): void {
    const deadline = performance.now() + (this.deps.digestBudgetMs ?? 10);
    for (;;) {
      const conn = this.second && this.second.pending > 0 ? this.second : this.main && this.main.pending > 0 ? this.main : undefined;
      if (!conn) return;
      const item = conn.next();
      if (item !== undefined) {
        try {
          this.handle(conn, item);
        } catch (err) {
          this.log.error(`internal error while handling a message: ${err instanceof Error ? err.stack : String(err)}`, { peer: this.spec.key });
        }
      }
      if (performance.now() >= deadline) {
        this.scheduleDigest();
        return;
      }
    }
  }

  private handle(conn: Connection, item: Inbound): void {
    if (conn !== this.main && conn !== this.second) return;
    if (!(item instanceof Uint8Array)) {
      if (conn === this.second) return this.dropSecond();
      if (item.kind === 'closed') {
        if (this.second && this.fsm.state !== 'Established') return this.promote();
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
      if (conn === this.second) return this.dropSecond(err instanceof BgpError ? notificationFor(err) : undefined);
      return this.decodeFailed(err);
    }
    if (conn === this.second) return this.secondMessage(msg);
    switch (msg.type) {
      case 'open':
        return this.handleOpen(msg);
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
        if (this.second && this.fsm.state !== 'Established') return this.promote();
        return this.feed({ type: msg.code === ErrorCode.OPEN_MESSAGE && msg.subcode === 1 ? 'NotifMsgVerErr' : 'NotifMsg' });
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

  private secondMessage(msg: Message): void {
    if (msg.type !== 'open') return this.dropSecond();
    const err = checkOpen(msg, { peerAs: this.spec.peerAs, localId: this.spec.routerId, internal: this.spec.internal });
    if (err) return this.dropSecond(notificationFor(err));
    if (this.collide(msg.bgpId) === 'second') this.handleOpen(msg);
  }

  private handleOpen(open: OpenMessage): void {
    if (this.fsm.state !== 'OpenSent') return this.feed({ type: 'BgpOpen', holdTime: open.holdTime });
    const err = checkOpen(open, { peerAs: this.spec.peerAs, localId: this.spec.routerId, internal: this.spec.internal });
    if (err) {
      this.log.warn(`unacceptable OPEN: ${err.message}`, { peer: this.spec.key, reason: err.reason });
      return this.feed({ type: 'BgpOpenMsgErr', notify: notificationFor(err) });
    }
    if (this.second && this.collide(open.bgpId) === 'second') return;
    this.current = negotiate(this.localOpen, open, !this.spec.internal);
    this.main?.allowExtendedMessages(this.current.extendedMessage);
    this.feed({ type: 'BgpOpen', holdTime: open.holdTime });
  }

  private handleUpdate(u: UpdateMessage): void {
    const n = this.current;
    if (this.fsm.state !== 'Established' || !n) return this.feed({ type: 'UpdateMsg' });
    for (const e of u.errors ?? []) {
      this.log.warn(`${e.action === 'withdraw' ? 'treat-as-withdraw' : 'attribute discarded'}: ${e.message}`, { peer: this.spec.key, reason: e.reason });
    }
    let update = isTreatAsWithdraw(u) ? asWithdrawal(u) : u;
    const attributes = mergeAs4(update.attributes, n.fourOctetAs);
    if (attributes !== update.attributes) update = { ...update, attributes };
    this.feed({ type: 'UpdateMsg' }, { kind: 'update', update });
  }

  private handleRefresh(r: RouteRefreshMessage): void {
    const family = familyName(r.afi, r.safi);
    const wanted = r.subtype === RefreshSubtype.REQUEST && family !== undefined && this.current?.families.includes(family) === true;
    if (!wanted) this.log.debug(`ROUTE-REFRESH afi ${r.afi} safi ${r.safi} subtype ${r.subtype} not answered`);
    this.feed({ type: 'RouteRefreshMsg' }, wanted && family ? { kind: 'refresh', family } : undefined);
  }
}
