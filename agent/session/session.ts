/**
 * Session: one BGP peer. The class owns the resources and wires the jobs: the FSM (fsm.ts, RFC 4271
 * section 8, the only decision maker), its timers, the TCP side (transport.ts), the outbound queue
 * (transmit.ts) and the send hold timer (send-hold.ts, RFC 9687). Every FSM action is carried out
 * in `execute`, the one place, and every state change logged there. Inbound items become FSM
 * events in decode-event.ts (the session's connection) and second-connection.ts (a second one,
 * RFC 4724 section 4.2's peer restart among it); an OPEN on either is checked once (open-check.ts)
 * and a collision's verdict (collision.ts) goes to the FSM as OpenCollisionDump. What goes out is
 * the RIB's stream (`send`), written in the order given (RFC 7313's BoRR/EoRR included: the session
 * adds none); keepalives come from timers. Our OPEN: local-open.ts; how a session ends and whether
 * the peer's routes stay: ending.ts; what it reports: session-status.ts.
 * Not here: the RIB, adj-RIB-out, maximum-prefix counting, the listener.
 */

import type * as net from 'node:net';
import { KEEPALIVE } from '../bgp/message.js';
import { encodeOpen, type OpenMessage } from '../bgp/open.js';
import type { Inbound } from './connection.js';
import { decodeEvent, delivered, type Delivery } from './decode-event.js';
import type { Negotiated, OutboundItem, PeerSpec, SessionEvent, SessionStatus, State } from '../contracts/engines.js';
import { Ending } from './ending.js';
import { describeTransition, initialData, TIMER_EVENT, transition, type Action, type FsmData, type FsmEvent, type Timer, type Which } from './fsm.js';
import { localOpen } from './local-open.js';
import { negotiate } from './negotiate.js';
import { collisionVerdict, openError } from './open-check.js';
import { secondStep, whileEstablished } from './second-connection.js';
import { fsmConfig, type SessionDeps, type StopOptions } from './session-deps.js';
import { countMessage, sessionStatus, zeroCounts } from './session-status.js';
import { namedTimer, SendHold, sendHoldSeconds } from './send-hold.js';
import { SessionTimers } from './timers.js';
import { UpdateIntake } from './receive.js';
import { Transmitter } from './transmit.js';
import { notificationBytes, Transport } from './transport.js';
import { systemClock, type Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/log.js';

export type { LocalRestartState } from './local-open.js';
export type { SessionDeps, StateChange, StopOptions } from './session-deps.js';

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
  private since: number;
  /** What ends the session and the last error in words. */
  private readonly ending: Ending;
  private readonly counts = { in: zeroCounts(), out: zeroCounts() };
  private readonly events: [FsmEvent, Delivery | undefined][] = [];
  private feeding = false;
  private currentSpec: PeerSpec;
  /** RFC 9687 (send-hold.ts), armed while Established. */
  private readonly sendHold: SendHold;
  private readonly intake: UpdateIntake;

  constructor(spec: PeerSpec, private readonly deps: SessionDeps) {
    this.currentSpec = spec;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log;
    this.intake = new UpdateIntake(deps.log, spec.key);
    this.ending = new Ending(deps.log, spec.key);
    this.since = this.clock.now();
    this.timers = new SessionTimers<Timer>(this.clock, (t) => this.onTimer(t));
    this.sendHold = new SendHold(namedTimer(this.timers, 'sendHold'), () => this.clock.now());
    this.fsm = initialData(fsmConfig(spec, deps));
    this.localOpen = localOpen(spec, deps.localRestartState?.());
    this.transport = new Transport(spec, {
      state: () => this.fsm.state,
      inbound: (item, which) => this.inbound(item, which),
      connected: () => this.feed({ type: 'TcpConnectionConfirmed' }),
      connectFailed: (words) => {
        if (this.fsm.state !== 'Connect') return;
        this.ending.lastError = words;
        this.feed({ type: 'TcpConnectionFails' });
      },
      secondWhileEstablished: () => {
        const refuse = whileEstablished(this.current, this.spec, this.log);
        if (refuse) this.feed(refuse);
      },
      counted: (direction, type) => countMessage(this.counts[direction], type),
    }, this.clock, this.log, (path) => deps.readPassword(path), () => this.nextOpen(), deps.digestBudgetMs);
    this.transmitter = new Transmitter({
      peer: spec.key,
      sent: (type, n) => countMessage(this.counts.out, type, n),
      failed: (err) => this.log.error(`could not encode an outbound message: ${String(err)}`),
    }, undefined, undefined, () => deps.writeSpacingMs?.() ?? 0, this.clock);
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
    this.ending.started();
    this.log.debug('session start', { listenPort: this.deps.listenPort, passive: this.spec.passive });
    this.feed({ type: 'ManualStart' });
  }

  /**
   * Administrative stop (RFC 9003 text in the Cease), then Idle until start(); `graceful`: so that
   * a graceful-restart peer keeps our routes (ending.ts stop).
   */
  stop(communication = '', options: StopOptions = {}): void {
    this.feed({ type: 'ManualStop', notify: this.ending.stop(communication, options.graceful === true, this.current, this.fsm.state) });
  }

  /**
   * Ends the session with a Cease of `subcode` (RFC 4486), e.g. 1 for too many prefixes (ending.ts
   * cease); Idle until start(), as after stop().
   */
  cease(subcode: number, communication = ''): void {
    this.feed({ type: 'ManualStop', notify: this.ending.cease(subcode, communication, this.current) });
  }

  /**
   * The peer's BFD session went down (RFC 5882 section 4.3): the session goes down at once, without
   * a NOTIFICATION; with `bfd.strict` it connects again only after bfdUp(), otherwise after the
   * idle hold (fsm.ts bfdDown). The routes are kept as graceful-restart stale only when GR was
   * negotiated and the peer's BFD did not set the C bit (inbound.ts gracefulRestartOnDown).
   */
  bfdDown(reason: string, controlPlaneIndependent: boolean): void {
    this.ending.bfdDown(reason, controlPlaneIndependent, this.fsm.state);
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

  /** The two fields readiness reads, without building the whole status (cheap at thousands of peers). */
  view(): Pick<SessionStatus, 'state' | 'enabled'> {
    return { state: this.fsm.state, enabled: !this.fsm.adminDown };
  }

  status(): SessionStatus {
    const { spec, fsm, current: negotiated, since, counts } = this;
    return sessionStatus({ spec, fsm, negotiated, since, lastError: this.ending.lastError, counts, sendHoldExpired: this.sendHold.expiries, asSetWithdrawn: this.intake.asSetWithdrawn, nextHopFamilyWithdrawn: this.intake.nextHopFamilyWithdrawn });
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
    const lastError = this.ending.lastError;
    this.log.info(line, { peer: this.spec.key, ...(lastError && to === 'Idle' ? { lastError } : {}) });
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
        this.transport.write(notificationBytes(a.notify));
        return this.ending.sent(a.notify);
      case 'startTimer':
        return this.timers.start(a.timer, a.seconds);
      case 'stopTimer':
        return this.timers.stop(a.timer);
      case 'established':
        return this.established();
      case 'sessionDown':
        return this.down(from);
      case 'deliver':
        return delivery && this.emit(delivered(delivery, this.spec));
    }
  }

  private established(): void {
    const n = this.current;
    const conn = this.transport.connection;
    if (!conn || !n) return;
    this.ending.established();
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
      const gracefulRestart = this.ending.routesKept(this.current);
      this.emit({ type: 'down', peer: this.spec, reason: this.ending.lastError || 'session closed', gracefulRestart });
    }
    this.current = undefined;
    this.ending.forget();
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
      const waiting = this.transport.connection?.writableLength ?? 0;
      this.log.warn(this.sendHold.expired(waiting), { peer: this.spec.key, waiting });
    }
    this.feed(TIMER_EVENT[timer]);
  }

  /** The bytes of a fresh OPEN, remembered for negotiation (RFC 4724 section 3: R and F as of now). */
  private nextOpen(): Uint8Array {
    this.localOpen = localOpen(this.spec, this.deps.localRestartState?.());
    return encodeOpen(this.localOpen);
  }

  // ---- inbound -----------------------------------------------------------------------------

  private inbound(item: Inbound, which: Which): void {
    if (item instanceof Uint8Array) countMessage(this.counts.in, item[18]);
    const step = which === 'second'
      ? secondStep(item, this.fsm.state, this.spec, this.log)
      : decodeEvent(item, { spec: this.spec, state: this.fsm.state, negotiated: this.current, intake: this.intake, log: this.log });
    switch (step.kind) {
      case 'open':
        return this.handleOpen(step.open, which);
      case 'refuse':
        return this.transport.dropSecond(step.notify);
      case 'restart':
        // RFC 4724 section 4.2: the FSM closes the old connection and keeps the new one in
        // OpenSent; the OPEN is then that session's.
        this.ending.lastError = 'Peer restarted: new connection while Established';
        this.feed({ type: 'TcpConnectionWhileEstablished', gracefulRestart: true });
        return this.handleOpen(step.open, 'main');
      case 'ended':
        if (step.received) this.ending.received(step.received, step.lastError);
        // The peer resolved a collision against this connection, or closed it: carry on with the
        // second one, if there is one (not once Established).
        if (this.transport.canFallBack) return this.feed({ type: 'OpenCollisionDump', dump: 'main' });
        this.ending.lastError = step.lastError;
        return this.feed(step.event);
      case 'feed':
        if (step.lastError !== undefined) this.ending.lastError = step.lastError;
        return this.feed(step.event, step.delivery);
    }
  }

  /** An OPEN on the session's connection or on a second one (RFC 4271 sections 6.2 and 6.8). */
  private handleOpen(open: OpenMessage, which: Which): void {
    if (which === 'main' && this.fsm.state !== 'OpenSent') return this.feed({ type: 'BgpOpen', holdTime: open.holdTime });
    const notify = openError(open, this.spec, this.log, which === 'second' ? ' on the second connection' : '');
    if (notify) return which === 'second' ? this.transport.dropSecond(notify) : this.feed({ type: 'BgpOpenMsgErr', notify });
    const dump = collisionVerdict(open, this.spec, this.transport.pair, this.log);
    if (dump) this.feed({ type: 'OpenCollisionDump', dump });
    // The OPEN of the connection that lost is not the session's, nor one on a second connection
    // without a rival; the winner's is, from OpenSent.
    if (which === (dump ?? 'second')) return;
    this.current = negotiate(this.localOpen, open, !this.spec.internal);
    this.transport.connection?.allowExtendedMessages(this.current.extendedMessage);
    this.feed({ type: 'BgpOpen', holdTime: open.holdTime });
  }
}
