/**
 * The BGP finite state machine of RFC 4271 section 8 as data: `transition(data, event)` returns
 * the next data and the actions the session must carry out (send, connect, drop, timers, deliver).
 * No sockets, no clocks: the session executes the actions and feeds back events, and time comes
 * from the timers module. Unexpected messages in OpenSent, OpenConfirm and Established send the
 * RFC 6608 FSM-error subcodes. After an error the session waits in Idle for the idle-hold time,
 * 5 s doubling up to 30 s, as Calico configures BIRD's `error wait time 5,30`; 300 s in
 * Established forgets the errors (BIRD's `error forget time`). When the peer ends an Established
 * session itself (its FIN or RST, or a Cease) there is no error and no wait: the session listens
 * at once (Active), as BIRD does, so a restarting ToR's reconnect is accepted.
 * Two connections: OpenCollisionDump (RFC 4271 section 6.8) means the session's connection lost a
 * collision to the second one, which already carries our OPEN and takes over in OpenSent; a new
 * connection while Established (TcpConnectionWhileEstablished) is refused with Cease 7, unless the
 * peer sent the graceful-restart capability and the new connection an acceptable OPEN (the session
 * feeds the event only then): then it is the peer's restart (RFC 4724 section 4.2),
 * the old connection is closed, the session goes down with the routes kept, the new one is retained.
 * BFD (RFC 5882 section 4.3, RFC 5880 / 5881): BfdDown takes the session to Idle at once, the
 * connection closed without a NOTIFICATION (the path is broken: it would not arrive). With
 * `bfdStrict` (RFC 9384 section 4.1's strict mode) it is held there (`bfdHold`): no start,
 * automatic or manual, connects until BfdUp. Without it BfdUp still starts it at once, but so does
 * the end of the idle-hold time with BFD still Down, so a peer whose BFD stopped without AdminDown
 * cannot keep it down for good; BFD takes over again once it has come back Up (the next BfdDown).
 * RFC 9687: SendHoldTimerExpires (the session runs the send hold timer, send-hold.ts) ends a
 * connected session with NOTIFICATION 8 like a hold expiry; without a connection it is ignored.
 * Not here: OPEN validation and capability negotiation (the session turns a bad OPEN into a
 * BgpOpenMsgErr event), which connection wins a collision (transport.ts decides, the session feeds
 * OpenCollisionDump).
 */

import { CeaseSubcode, ErrorCode } from '../bgp/constants.js';

export const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
export type State = (typeof STATES)[number];

export interface Notify {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Uint8Array;
}

export type FsmEvent =
  | { readonly type: 'ManualStart' }
  /** `notify` null: close the connection without a NOTIFICATION (a graceful-restart stop, RFC 4724). */
  | { readonly type: 'ManualStop'; readonly notify?: Notify | null }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'AutomaticStop'; readonly notify?: Notify }
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  /** RFC 9687: nothing we queued reached the peer's TCP for SendHoldTime (the session runs the timer). */
  | { readonly type: 'SendHoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  | { readonly type: 'IdleHoldTimerExpires' }
  | { readonly type: 'ErrorForgetTimerExpires' }
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  | { readonly type: 'BgpOpen'; readonly holdTime: number }
  | { readonly type: 'BgpHeaderErr'; readonly notify: Notify }
  | { readonly type: 'BgpOpenMsgErr'; readonly notify: Notify }
  /** The session's connection lost a collision; the second connection (our OPEN sent) takes over. */
  | { readonly type: 'OpenCollisionDump' }
  /**
   * A new connection from the peer while the session's connection is Established. `gracefulRestart`:
   * the peer's OPEN on the Established session carried the graceful-restart capability.
   */
  | { readonly type: 'TcpConnectionWhileEstablished'; readonly gracefulRestart: boolean }
  | { readonly type: 'NotifMsgVerErr' }
  /** A NOTIFICATION from the peer, with its code and subcode (a Cease is 6, subcodes RFC 4486). */
  | { readonly type: 'NotifMsg'; readonly code?: number; readonly subcode?: number }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'UpdateMsgErr'; readonly notify: Notify }
  | { readonly type: 'RouteRefreshMsg' }
  /** The peer's BFD session went down (RFC 5882 section 4.3): down now, no connection until BfdUp. */
  | { readonly type: 'BfdDown' }
  /** BFD is Up again, or no longer configured: the session may start. */
  | { readonly type: 'BfdUp' };
export type EventType = FsmEvent['type'];

export type Timer = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold' | 'errorForget' | 'sendHold';

export type Action =
  | { readonly kind: 'connect' }
  | { readonly kind: 'drop' }
  /** The second connection becomes the session's; the old one is closed, after `notify` if given. */
  | { readonly kind: 'switchConnection'; readonly notify?: Notify }
  /** The second connection is closed after `notify`; the session's connection stays. */
  | { readonly kind: 'refuseConnection'; readonly notify: Notify }
  | { readonly kind: 'sendOpen' }
  | { readonly kind: 'sendKeepalive' }
  | { readonly kind: 'sendNotification'; readonly notify: Notify }
  | { readonly kind: 'startTimer'; readonly timer: Timer; readonly seconds: number }
  | { readonly kind: 'stopTimer'; readonly timer: Timer }
  | { readonly kind: 'established' }
  /** Leaving Established or a connected state: routes learned on this session are to be handled. */
  | { readonly kind: 'sessionDown' }
  | { readonly kind: 'deliver' };

export interface FsmConfig {
  /** Wait for the peer to connect, never connect out (RFC 4271 section 8.1.1, passive). */
  readonly passive: boolean;
  readonly connectRetryTime: number;
  /** Our proposed hold time; 0 disables keepalives and the hold timer. */
  readonly holdTime: number;
  /**
   * Configured keepalive interval; 0 or absent: a third of the negotiated hold time (RFC 4271
   * section 10). Never more than a third of the negotiated hold time, never less than 1 s.
   */
  readonly keepaliveTime?: number;
  readonly idleHoldMin: number;
  readonly idleHoldMax: number;
  readonly errorForgetTime: number;
  /** After BfdDown, wait for BfdUp (RFC 9384 strict mode); false: restart after the idle hold. */
  readonly bfdStrict: boolean;
}

export const DEFAULT_FSM_CONFIG: FsmConfig = {
  passive: false,
  connectRetryTime: 5,
  holdTime: 90,
  idleHoldMin: 5,
  idleHoldMax: 30,
  errorForgetTime: 300,
  bfdStrict: false,
};

export interface FsmData {
  readonly state: State;
  readonly config: FsmConfig;
  /** Stopped by an operator: no automatic restart until ManualStart. */
  readonly adminDown: boolean;
  /** Consecutive errors, for the idle-hold backoff. */
  readonly errors: number;
  /** Hold time in force once OPENs were exchanged. */
  readonly negotiatedHoldTime: number;
  /**
   * Idle since BFD went down (RFC 5882 section 4.3), waiting for BfdUp; with `config.bfdStrict`
   * nothing else starts the session, without it the idle hold does too.
   */
  readonly bfdHold: boolean;
}

export interface Transition {
  readonly data: FsmData;
  readonly actions: readonly Action[];
  /** For the one log line: `state change Active -> OpenSent, reason: TcpConnectionConfirmed`. */
  readonly reason: string;
}

export function initialData(config: FsmConfig = DEFAULT_FSM_CONFIG): FsmData {
  return { state: 'Idle', config, adminDown: true, errors: 0, negotiatedHoldTime: config.holdTime, bfdHold: false };
}

/** RFC 4271 section 8.2.2: a hold time of OpenSent before the peer's OPEN sets it. */
const LARGE_HOLD = 240;
const CEASE_ADMIN_SHUTDOWN: Notify = { code: ErrorCode.CEASE, subcode: 2 };
const CEASE_COLLISION: Notify = { code: ErrorCode.CEASE, subcode: 7 };
const HOLD_EXPIRED: Notify = { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 };
const SEND_HOLD_EXPIRED: Notify = { code: ErrorCode.SEND_HOLD_TIMER_EXPIRED, subcode: 0 };

/** RFC 6608 subcodes for a message that is not expected in the state. */
const UNEXPECTED_SUBCODE: Partial<Record<State, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };
const MESSAGE_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  'BgpOpen', 'KeepAliveMsg', 'UpdateMsg', 'UpdateMsgErr', 'RouteRefreshMsg', 'BgpHeaderErr', 'BgpOpenMsgErr',
]);

const stopAll: Action[] = (['connectRetry', 'hold', 'keepalive', 'sendHold'] as const).map((timer) => ({ kind: 'stopTimer', timer }));

function idleHoldSeconds(cfg: FsmConfig, errors: number): number {
  return Math.min(cfg.idleHoldMax, cfg.idleHoldMin * 2 ** Math.max(0, errors - 1));
}

function start(d: FsmData, adminDown: boolean): Transition {
  const { config } = d;
  const actions: Action[] = [
    { kind: 'stopTimer', timer: 'idleHold' },
    { kind: 'startTimer', timer: 'connectRetry', seconds: config.connectRetryTime },
  ];
  if (!config.passive) actions.push({ kind: 'connect' });
  return next(d, config.passive ? 'Active' : 'Connect', actions, { adminDown });
}

function next(d: FsmData, state: State, actions: Action[], change: Partial<FsmData> = {}): Transition {
  return { data: { ...d, ...change, state }, actions, reason: '' };
}

/** Back to Idle after a failure: drop the connection and wait the idle-hold time. */
function fail(d: FsmData, notify?: Notify): Transition {
  const errors = d.errors + 1;
  const actions: Action[] = [];
  if (notify) actions.push({ kind: 'sendNotification', notify });
  actions.push({ kind: 'drop' }, ...stopAll, { kind: 'stopTimer', timer: 'errorForget' });
  if (d.state === 'OpenSent' || d.state === 'OpenConfirm' || d.state === 'Established') actions.push({ kind: 'sessionDown' });
  if (!d.adminDown) actions.push({ kind: 'startTimer', timer: 'idleHold', seconds: idleHoldSeconds(d.config, errors) });
  return next(d, 'Idle', actions, { errors });
}

/**
 * Cease subcodes (RFC 4486, 8538) that end a session for the peer's own reasons: its operator's
 * shutdown, de-configuration, reset, a configuration change, a hard reset. The others (maximum
 * prefixes, connection rejected, out of resources, collision, unknown) ask us to back off.
 */
const QUICK_CEASE: ReadonlySet<number> = new Set([
  CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.PEER_DECONFIGURED, CeaseSubcode.ADMINISTRATIVE_RESET,
  CeaseSubcode.OTHER_CONFIGURATION_CHANGE, CeaseSubcode.HARD_RESET,
]);

/**
 * The peer ended an Established session itself: its FIN or RST (a ToR restarting) or a Cease of
 * QUICK_CEASE (its own reset or reconfiguration). No error of ours, so no idle-hold backoff and no
 * count: the session goes to Active at once, accepting the peer's reconnect, and dials again after
 * the connect-retry time. Errors counted before are neither added to nor forgotten.
 */
function peerEnded(d: FsmData): Transition {
  return next(d, 'Active', [
    { kind: 'drop' }, ...stopAll, { kind: 'stopTimer', timer: 'errorForget' }, { kind: 'sessionDown' },
    { kind: 'startTimer', timer: 'connectRetry', seconds: d.config.connectRetryTime },
  ]);
}

/**
 * An operator or the configuration stopped the session: no backoff, no restart. `notify` null closes
 * the connection without a NOTIFICATION, so that a graceful-restart peer keeps our routes.
 */
function stop(d: FsmData, notify: Notify | null | undefined, adminDown: boolean): Transition {
  const connected = d.state === 'OpenSent' || d.state === 'OpenConfirm' || d.state === 'Established';
  const actions: Action[] = [];
  if (connected && notify !== null) actions.push({ kind: 'sendNotification', notify: notify ?? CEASE_ADMIN_SHUTDOWN });
  actions.push({ kind: 'drop' }, ...stopAll, { kind: 'stopTimer', timer: 'idleHold' }, { kind: 'stopTimer', timer: 'errorForget' });
  if (connected) actions.push({ kind: 'sessionDown' });
  return next(d, 'Idle', actions, { adminDown, errors: 0 });
}

/**
 * RFC 5882 section 4.3: BFD says the forwarding path to the peer failed. Like AutomaticStop, but
 * without a NOTIFICATION (it would not get through, and a NOTIFICATION would end a graceful restart
 * the peer may be owed) and without counting an error; held in Idle until BfdUp. Strict (RFC 9384
 * section 4.1): only BfdUp ends the hold. Not strict: so does the shortest idle hold, whatever BFD
 * does. Whether the routes stay is the session's call on sessionDown (inbound.ts
 * gracefulRestartOnDown).
 */
function bfdDown(d: FsmData): Transition {
  const t = stop(d, null, d.adminDown);
  const restart: Action[] = d.config.bfdStrict || d.adminDown ? [] : [{ kind: 'startTimer', timer: 'idleHold', seconds: d.config.idleHoldMin }];
  return { ...t, actions: [...t.actions, ...restart], data: { ...t.data, bfdHold: true, errors: d.errors } };
}

function unexpected(d: FsmData, e: FsmEvent): Transition {
  // RFC 6608 section 3: a message, subcodes 1-3 by state; any other event: unspecific.
  const subcode = MESSAGE_EVENTS.has(e.type) ? (UNEXPECTED_SUBCODE[d.state] ?? 0) : 0;
  return fail(d, { code: ErrorCode.FSM, subcode });
}

/** The keepalive interval for a negotiated hold time (not 0): the configured one, capped at hold/3. */
export function keepaliveSeconds(config: FsmConfig, hold: number): number {
  const third = Math.max(1, Math.floor(hold / 3));
  const configured = config.keepaliveTime ?? 0;
  return configured > 0 ? Math.min(configured, third) : third;
}

function holdTimers(config: FsmConfig, hold: number): Action[] {
  if (hold === 0) return [{ kind: 'stopTimer', timer: 'hold' }, { kind: 'stopTimer', timer: 'keepalive' }];
  return [
    { kind: 'startTimer', timer: 'hold', seconds: hold },
    { kind: 'startTimer', timer: 'keepalive', seconds: keepaliveSeconds(config, hold) },
  ];
}

function restartHold(d: FsmData): Action[] {
  return d.negotiatedHoldTime === 0 ? [] : [{ kind: 'startTimer', timer: 'hold', seconds: d.negotiatedHoldTime }];
}

function idle(d: FsmData, e: FsmEvent): Transition {
  switch (e.type) {
    case 'ManualStart':
      // Held by strict BFD: remembered, the start happens at BfdUp.
      return d.bfdHold && d.config.bfdStrict ? next(d, 'Idle', [], { adminDown: false }) : start({ ...d, bfdHold: false }, false);
    case 'AutomaticStart':
    case 'IdleHoldTimerExpires':
      // After ManualStop only ManualStart brings the session back.
      return d.adminDown || (d.bfdHold && d.config.bfdStrict) ? next(d, 'Idle', []) : start({ ...d, bfdHold: false }, false);
    case 'BfdDown':
      // Not strict: an idle-hold wait already running still restarts the session.
      if (!d.config.bfdStrict) return next(d, 'Idle', []);
      return next(d, 'Idle', [{ kind: 'stopTimer', timer: 'idleHold' }], { bfdHold: true });
    case 'BfdUp':
      if (!d.bfdHold) return next(d, 'Idle', []);
      return d.adminDown ? next(d, 'Idle', [], { bfdHold: false }) : start({ ...d, bfdHold: false }, false);
    case 'ManualStop':
      return next(d, 'Idle', [{ kind: 'stopTimer', timer: 'idleHold' }], { adminDown: true, errors: 0 });
    case 'TcpConnectionConfirmed':
      // A connection that raced a stop: refuse it.
      return next(d, 'Idle', [{ kind: 'drop' }]);
    default:
      // RFC 4271 section 8.2.2, Idle: other events are ignored.
      return next(d, 'Idle', []);
  }
}

/** Connect and Active share everything but the retry timer's effect. */
function connecting(d: FsmData, e: FsmEvent): Transition {
  const cfg = d.config;
  switch (e.type) {
    case 'ManualStop':
      return stop(d, undefined, true);
    case 'AutomaticStop':
      return stop(d, undefined, false);
    case 'BfdDown':
      return bfdDown(d);
    case 'BfdUp':
    case 'SendHoldTimerExpires':
      // No connection: a send hold timer of one that is gone.
      return next(d, d.state, []);
    case 'ConnectRetryTimerExpires': {
      const actions: Action[] = [{ kind: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }];
      if (cfg.passive) return next(d, 'Active', actions);
      return next(d, 'Connect', [{ kind: 'drop' }, ...actions, { kind: 'connect' }]);
    }
    case 'TcpConnectionConfirmed':
      return next(d, 'OpenSent', [
        { kind: 'stopTimer', timer: 'connectRetry' },
        { kind: 'sendOpen' },
        { kind: 'startTimer', timer: 'hold', seconds: LARGE_HOLD },
      ]);
    case 'TcpConnectionFails':
      // Connect: listen on (Active); Active: back to Idle with the backoff.
      if (d.state === 'Connect') return next(d, 'Active', [{ kind: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }]);
      return fail(d);
    default:
      return fail(d);
  }
}

function openSent(d: FsmData, e: FsmEvent): Transition {
  switch (e.type) {
    case 'BgpOpen': {
      const hold = Math.min(d.config.holdTime, e.holdTime);
      return next(d, 'OpenConfirm', [{ kind: 'stopTimer', timer: 'connectRetry' }, { kind: 'sendKeepalive' }, ...holdTimers(d.config, hold)], { negotiatedHoldTime: hold });
    }
    case 'TcpConnectionFails':
      return next(d, 'Active', [{ kind: 'drop' }, { kind: 'stopTimer', timer: 'hold' }, { kind: 'startTimer', timer: 'connectRetry', seconds: d.config.connectRetryTime }]);
    default:
      return connected(d, e);
  }
}

function openConfirm(d: FsmData, e: FsmEvent): Transition {
  switch (e.type) {
    case 'KeepAliveMsg':
      return next(d, 'Established', [
        ...restartHold(d),
        { kind: 'startTimer', timer: 'errorForget', seconds: d.config.errorForgetTime },
        { kind: 'established' },
      ]);
    default:
      return connected(d, e);
  }
}

function established(d: FsmData, e: FsmEvent): Transition {
  switch (e.type) {
    case 'KeepAliveMsg':
      return next(d, 'Established', restartHold(d));
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      return next(d, 'Established', [...restartHold(d), { kind: 'deliver' }]);
    case 'ErrorForgetTimerExpires':
      return next(d, 'Established', [], { errors: 0 });
    case 'TcpConnectionFails':
      return peerEnded(d);
    case 'NotifMsg':
      return e.code === ErrorCode.CEASE && e.subcode !== undefined && QUICK_CEASE.has(e.subcode) ? peerEnded(d) : fail(d);
    case 'TcpConnectionWhileEstablished':
      // RFC 4271 section 6.8: a collision with an Established connection closes the new one.
      if (!e.gracefulRestart) return next(d, 'Established', [{ kind: 'refuseConnection', notify: CEASE_COLLISION }]);
      return peerRestarted(d);
    default:
      return connected(d, e);
  }
}

/**
 * RFC 4724 section 4.2: the peer sent the graceful-restart capability and opens a new connection
 * while we still see the old one Established: the old TCP session has ended (the peer restarted
 * without its FIN or RST reaching us). The old connection is closed without a NOTIFICATION (it is
 * considered reset; a NOTIFICATION would end the graceful restart), the session goes down with the
 * peer's routes kept as stale (sessionDown decides, inbound.ts gracefulRestartOnDown), and the new
 * connection is retained: OpenSent on it, as after TcpConnectionConfirmed.
 */
function peerRestarted(d: FsmData): Transition {
  return next(d, 'OpenSent', [
    { kind: 'sessionDown' },
    { kind: 'switchConnection' },
    { kind: 'stopTimer', timer: 'keepalive' },
    { kind: 'stopTimer', timer: 'errorForget' },
    { kind: 'sendOpen' },
    { kind: 'startTimer', timer: 'hold', seconds: LARGE_HOLD },
  ], { negotiatedHoldTime: d.config.holdTime });
}

/**
 * RFC 4271 section 6.8: the session's connection lost the collision. The second connection already
 * carries our OPEN, so instead of Idle the session starts over in OpenSent on it; the loser gets
 * Cease / Connection Collision Resolution. In Established there is no second connection to take over.
 */
function collisionDump(d: FsmData): Transition {
  if (d.state === 'Established') return fail(d, CEASE_COLLISION);
  return next(d, 'OpenSent', [
    { kind: 'switchConnection', notify: CEASE_COLLISION },
    { kind: 'stopTimer', timer: 'keepalive' },
    { kind: 'startTimer', timer: 'hold', seconds: LARGE_HOLD },
  ], { negotiatedHoldTime: d.config.holdTime });
}

/** What OpenSent, OpenConfirm and Established have in common. */
function connected(d: FsmData, e: FsmEvent): Transition {
  switch (e.type) {
    case 'ManualStop':
      return stop(d, e.notify, true);
    case 'AutomaticStop':
      return stop(d, e.notify, false);
    case 'BfdDown':
      return bfdDown(d);
    case 'BfdUp':
      return next(d, d.state, []);
    case 'HoldTimerExpires':
      return fail(d, HOLD_EXPIRED);
    case 'SendHoldTimerExpires':
      // RFC 9687 section 3: NOTIFICATION Send Hold Timer Expired (it may well not get out), drop
      // the connection, Idle, counted as an error for the idle-hold backoff like a hold expiry.
      return fail(d, SEND_HOLD_EXPIRED);
    case 'KeepaliveTimerExpires':
      if (d.state === 'OpenSent') return unexpected(d, e);
      return next(d, d.state, d.negotiatedHoldTime === 0 ? [] : [{ kind: 'sendKeepalive' }, { kind: 'startTimer', timer: 'keepalive', seconds: keepaliveSeconds(d.config, d.negotiatedHoldTime) }]);
    case 'TcpConnectionFails':
    case 'NotifMsg':
    case 'NotifMsgVerErr':
      // RFC 4271 section 6.4: a NOTIFICATION is never answered.
      return fail(d);
    case 'BgpHeaderErr':
    case 'BgpOpenMsgErr':
    case 'UpdateMsgErr':
      if (e.type === 'UpdateMsgErr' && d.state !== 'Established') return unexpected(d, e);
      if (e.type === 'BgpOpenMsgErr' && d.state !== 'OpenSent') return unexpected(d, e);
      return fail(d, e.notify);
    case 'OpenCollisionDump':
      return collisionDump(d);
    default:
      return unexpected(d, e);
  }
}

const BY_STATE: Record<State, (d: FsmData, e: FsmEvent) => Transition> = {
  Idle: idle,
  Connect: connecting,
  Active: connecting,
  OpenSent: openSent,
  OpenConfirm: openConfirm,
  Established: established,
};

/** RFC 4271 section 8.2.2: start events are ignored outside Idle, and so are stray idle timers. */
const IGNORED_WHEN_RUNNING: ReadonlySet<EventType> = new Set<EventType>(['ManualStart', 'AutomaticStart', 'IdleHoldTimerExpires']);

export function transition(d: FsmData, e: FsmEvent): Transition {
  const ignored = d.state !== 'Idle' && (IGNORED_WHEN_RUNNING.has(e.type) || (e.type === 'ErrorForgetTimerExpires' && d.state !== 'Established'));
  const t = ignored ? next(d, d.state, []) : BY_STATE[d.state](d, e);
  return { ...t, reason: e.type };
}

/** The one log line for a state change, or undefined when the state stays. */
export function describeTransition(from: State, t: Transition): string | undefined {
  return from === t.data.state ? undefined : `state change ${from} -> ${t.data.state}, reason: ${t.reason}`;
}
