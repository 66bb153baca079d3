/**
 * What a Session is given (session.ts): its dependencies and options, and the FSM configuration
 * (RFC 4271 section 8.1: passive, hold, keepalive and connect-retry times; the idle-hold backoff;
 * RFC 9384 strict BFD) that a peer's spec and those options make. Types and one pure function.
 * Not here: the session itself, the peer's spec (peer.ts).
 */

import type { PeerSpec, SessionEvent, State } from '../contracts/engines.js';
import { DEFAULT_FSM_CONFIG, type FsmConfig } from './fsm.js';
import type { LocalRestartState } from './local-open.js';
import type { Clock } from '../contracts/clock.js';
import type { Logger } from '../contracts/log.js';

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
  /** Least ms between two writes of new outbound work (transmit.ts writeSpacing); default 0. */
  writeSpacingMs?(): number;
  /** Read whenever an OPEN goes out; absent: R and F clear. */
  localRestartState?(): LocalRestartState;
}

export interface StopOptions {
  /** Let graceful-restart peers keep our routes (see gracefulStop in inbound.ts). */
  readonly graceful?: boolean;
}

export function fsmConfig(spec: PeerSpec, deps: SessionDeps): FsmConfig {
  return {
    ...DEFAULT_FSM_CONFIG,
    passive: spec.passive,
    holdTime: spec.holdTime,
    keepaliveTime: spec.keepaliveTime,
    connectRetryTime: deps.connectRetrySeconds ?? DEFAULT_FSM_CONFIG.connectRetryTime,
    idleHoldMin: deps.idleHoldSeconds?.min ?? DEFAULT_FSM_CONFIG.idleHoldMin,
    idleHoldMax: deps.idleHoldSeconds?.max ?? DEFAULT_FSM_CONFIG.idleHoldMax,
    bfdStrict: spec.bfd.strict,
  };
}
