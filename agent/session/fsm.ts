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
 * Two connections: OpenCollisionDump (RFC 4271 section 6.8) carries the collision's verdict and the
 * FSM closes the loser with Cease 7: a losing second connection is refused (refuseConnection); when
 * the session's connection lost, the second one, which already carries our OPEN, takes over in
 * OpenSent (switchConnection). A new connection while Established (TcpConnectionWhileEstablished)
 * is refused with Cease 7, unless the peer sent the graceful-restart capability and the new
 * connection an acceptable OPEN (the session feeds the event only then): then it is the peer's
 * restart (RFC 4724 section 4.2), the old connection is closed, the session goes down with the
 * routes kept, the new one is retained.
 * BFD (RFC 5882 section 4.3, RFC 5880 / 5881): BfdDown takes the session to Idle at once, the
 * connection closed without a NOTIFICATION (the path is broken: it would not arrive). With
 * `bfdStrict` (RFC 9384 section 4.1's strict mode) it is held there (`bfdHold`): no start,
 * automatic or manual, connects until BfdUp. Without it BfdUp still starts it at once, but so does
 * the end of the idle-hold time with BFD still Down, so a peer whose BFD stopped without AdminDown
 * cannot keep it down for good; BFD takes over again once it has come back Up (the next BfdDown).
 * RFC 9687: SendHoldTimerExpires (the session runs the send hold timer, send-hold.ts) ends a
 * connected session with NOTIFICATION 8 like a hold expiry; without a connection it is ignored.
 * This file is the one entry (transition) and the per-state handlers; the states, events and
 * actions are fsm-types.ts, the steps several states share fsm-steps.ts.
 * Not here: OPEN validation and capability negotiation (the session turns a bad OPEN into a
 * BgpOpenMsgErr event), the collision rule (collision.ts; the session feeds its verdict as
 * OpenCollisionDump), the sockets (transport.ts carries out the actions).
 */

import { ErrorCode } from '../bgp/constants.js';
import {
  bfdDown, CEASE_COLLISION, collisionDump, fail, HOLD_EXPIRED, holdTimers, keepaliveSeconds, LARGE_HOLD, next, peerEnded, peerRestarted,
  QUICK_CEASE, restartHold, SEND_HOLD_EXPIRED, start, stop, unexpected,
} from './fsm-steps.js';
import type { Action, EventType, FsmData, FsmEvent, Transition } from './fsm-types.js';
import type { State } from '../contracts/engines.js';

export { DEFAULT_FSM_CONFIG, initialData, TIMER_EVENT } from './fsm-types.js';
export type { Action, EventType, FsmConfig, FsmData, FsmEvent, Notify, Timer, Transition, Which } from './fsm-types.js';
export { keepaliveSeconds } from './fsm-steps.js';

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
      return collisionDump(d, e.dump);
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
