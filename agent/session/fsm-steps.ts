/**
 * The transitions the FSM's states share (RFC 4271 section 8.2.2): start, the failure back to Idle
 * with the idle-hold backoff, the operator's stop, the peer ending a session itself, BFD down
 * (RFC 5882 section 4.3), the RFC 6608 FSM error, the hold and keepalive timers (RFC 4271 section
 * 10), the peer's restart (RFC 4724 section 4.2) and the collision dump (RFC 4271 section 6.8).
 * Pure. Not here: which state runs which step (fsm.ts, the one entry: transition()).
 */

import { CeaseSubcode, ErrorCode } from '../bgp/constants.js';
import type { Action, EventType, FsmConfig, FsmData, FsmEvent, Notify, Transition, Which } from './fsm-types.js';
import type { State } from '../contracts/engines.js';

/** RFC 4271 section 8.2.2: a hold time of OpenSent before the peer's OPEN sets it. */
export const LARGE_HOLD = 240;
const CEASE_ADMIN_SHUTDOWN: Notify = { code: ErrorCode.CEASE, subcode: 2 };
export const CEASE_COLLISION: Notify = { code: ErrorCode.CEASE, subcode: 7 };
export const HOLD_EXPIRED: Notify = { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 };
export const SEND_HOLD_EXPIRED: Notify = { code: ErrorCode.SEND_HOLD_TIMER_EXPIRED, subcode: 0 };

/** RFC 6608 subcodes for a message that is not expected in the state. */
const UNEXPECTED_SUBCODE: Partial<Record<State, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };
const MESSAGE_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  'BgpOpen', 'KeepAliveMsg', 'UpdateMsg', 'UpdateMsgErr', 'RouteRefreshMsg', 'BgpHeaderErr', 'BgpOpenMsgErr',
]);

const stopAll: Action[] = (['connectRetry', 'hold', 'keepalive', 'sendHold'] as const).map((timer) => ({ kind: 'stopTimer', timer }));

function idleHoldSeconds(cfg: FsmConfig, errors: number): number {
  return Math.min(cfg.idleHoldMax, cfg.idleHoldMin * 2 ** Math.max(0, errors - 1));
}

export function start(d: FsmData, adminDown: boolean): Transition {
  const { config } = d;
  const actions: Action[] = [
    { kind: 'stopTimer', timer: 'idleHold' },
    { kind: 'startTimer', timer: 'connectRetry', seconds: config.connectRetryTime },
  ];
  if (!config.passive) actions.push({ kind: 'connect' });
  return next(d, config.passive ? 'Active' : 'Connect', actions, { adminDown });
}

export function next(d: FsmData, state: State, actions: Action[], change: Partial<FsmData> = {}): Transition {
  return { data: { ...d, ...change, state }, actions, reason: '' };
}

/** Back to Idle after a failure: drop the connection and wait the idle-hold time. */
export function fail(d: FsmData, notify?: Notify): Transition {
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
export const QUICK_CEASE: ReadonlySet<number> = new Set([
  CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, CeaseSubcode.PEER_DECONFIGURED, CeaseSubcode.ADMINISTRATIVE_RESET,
  CeaseSubcode.OTHER_CONFIGURATION_CHANGE, CeaseSubcode.HARD_RESET,
]);

/**
 * The peer ended an Established session itself: its FIN or RST (a ToR restarting) or a Cease of
 * QUICK_CEASE (its own reset or reconfiguration). No error of ours, so no idle-hold backoff and no
 * count: the session goes to Active at once, accepting the peer's reconnect, and dials again after
 * the connect-retry time. Errors counted before are neither added to nor forgotten.
 */
export function peerEnded(d: FsmData): Transition {
  return next(d, 'Active', [
    { kind: 'drop' }, ...stopAll, { kind: 'stopTimer', timer: 'errorForget' }, { kind: 'sessionDown' },
    { kind: 'startTimer', timer: 'connectRetry', seconds: d.config.connectRetryTime },
  ]);
}

/**
 * An operator or the configuration stopped the session: no backoff, no restart. `notify` null closes
 * the connection without a NOTIFICATION, so that a graceful-restart peer keeps our routes.
 */
export function stop(d: FsmData, notify: Notify | null | undefined, adminDown: boolean): Transition {
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
export function bfdDown(d: FsmData): Transition {
  const t = stop(d, null, d.adminDown);
  const restart: Action[] = d.config.bfdStrict || d.adminDown ? [] : [{ kind: 'startTimer', timer: 'idleHold', seconds: d.config.idleHoldMin }];
  return { ...t, actions: [...t.actions, ...restart], data: { ...t.data, bfdHold: true, errors: d.errors } };
}

export function unexpected(d: FsmData, e: FsmEvent): Transition {
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

export function holdTimers(config: FsmConfig, hold: number): Action[] {
  if (hold === 0) return [{ kind: 'stopTimer', timer: 'hold' }, { kind: 'stopTimer', timer: 'keepalive' }];
  return [
    { kind: 'startTimer', timer: 'hold', seconds: hold },
    { kind: 'startTimer', timer: 'keepalive', seconds: keepaliveSeconds(config, hold) },
  ];
}

export function restartHold(d: FsmData): Action[] {
  return d.negotiatedHoldTime === 0 ? [] : [{ kind: 'startTimer', timer: 'hold', seconds: d.negotiatedHoldTime }];
}

/**
 * RFC 4724 section 4.2: the peer sent the graceful-restart capability and opens a new connection
 * while we still see the old one Established: the old TCP session has ended (the peer restarted
 * without its FIN or RST reaching us). The old connection is closed without a NOTIFICATION (it is
 * considered reset; a NOTIFICATION would end the graceful restart), the session goes down with the
 * peer's routes kept as stale (sessionDown decides, inbound.ts gracefulRestartOnDown), and the new
 * connection is retained: OpenSent on it, as after TcpConnectionConfirmed.
 */
export function peerRestarted(d: FsmData): Transition {
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
 * RFC 4271 section 6.8: the loser of a collision gets Cease / Connection Collision Resolution. The
 * second connection lost: it is closed, nothing else changes. The session's connection lost: the
 * second one already carries our OPEN, so instead of Idle the session starts over in OpenSent on
 * it. In Established there is no second connection to take over.
 */
export function collisionDump(d: FsmData, dump: Which): Transition {
  if (dump === 'second') return next(d, d.state, [{ kind: 'refuseConnection', notify: CEASE_COLLISION }]);
  if (d.state === 'Established') return fail(d, CEASE_COLLISION);
  return next(d, 'OpenSent', [
    { kind: 'switchConnection', notify: CEASE_COLLISION },
    { kind: 'stopTimer', timer: 'keepalive' },
    { kind: 'startTimer', timer: 'hold', seconds: LARGE_HOLD },
  ], { negotiatedHoldTime: d.config.holdTime });
}
