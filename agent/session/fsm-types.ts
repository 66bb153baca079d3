import type { State } from '../contracts/engines.js';
/**
 * The vocabulary of the BGP FSM (RFC 4271 section 8, fsm.ts): its states, events (section 8.1, with
 * RFC 5882 BFD and RFC 9687 send-hold events), actions, configuration and data. Pure data and
 * types. Not here: any transition (fsm.ts, fsm-steps.ts).
 */


/** The session's connection, or a second one from the same peer (a collision, RFC 4271 section 6.8). */
export type Which = 'main' | 'second';

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
  /**
   * RFC 4271 section 6.8: the connection to dump, by the collision rule (collision.ts) or because
   * the session's connection ended while a second one (our OPEN sent) could take over: 'main', the
   * second takes over; 'second', it is closed and the session's connection stays.
   */
  | { readonly type: 'OpenCollisionDump'; readonly dump: Which }
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

/** The event each timer's expiry feeds. */
export const TIMER_EVENT: Readonly<Record<Timer, FsmEvent>> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
  errorForget: { type: 'ErrorForgetTimerExpires' },
  sendHold: { type: 'SendHoldTimerExpires' },
};

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
