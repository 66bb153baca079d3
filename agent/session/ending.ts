/**
 * How a session is ending, noted while it runs: the NOTIFICATIONs sent and received, a BFD down
 * (RFC 5882 section 4.3), an operator's stop or cease, and the last error in words for `agentctl
 * status`. At sessionDown it says whether the peer's routes are kept (RFC 4724 section 4.2, RFC
 * 8538; inbound.ts gracefulRestartOnDown). The NOTIFICATION of a stop or cease follows inbound.ts's
 * rules (RFC 4486, RFC 9003, RFC 8538 section 5). Not here: ending the session (the FSM), sockets.
 */

import { ErrorCode } from '../bgp/constants.js';
import type { Notify } from './fsm.js';
import { adminShutdown, ceaseNotify, describeNotify, gracefulRestartOnDown, gracefulStop, type GracefulRestartInfo } from './inbound.js';
import type { State, Negotiated } from '../contracts/engines.js';
import type { Logger } from '../contracts/log.js';

export class Ending {
  /** In words, e.g. `Socket: Connection refused`, `Received: ...`, `Hold timer expired`; '' once Established. */
  lastError = '';
  /** Stopped by an operator or the configuration: the routes go, a NOTIFICATION sent is no warning. */
  private adminStop = false;
  private notes: { sent?: Notify; received?: Notify; bfdDown?: { controlPlaneIndependent: boolean } } = {};

  constructor(
    private readonly log: Logger,
    private readonly peer: string,
  ) {}

  started(): void {
    this.adminStop = false;
  }

  /**
   * The NOTIFICATION of an administrative stop: Cease / Administrative Shutdown with the RFC 9003
   * text (as a Hard Reset when the N bit was exchanged). `graceful` (the agent stopping to restart)
   * ends the session so that a graceful-restart peer keeps our routes: a soft Administrative Reset
   * with the N bit, null (no NOTIFICATION at all) without it (inbound.ts gracefulStop).
   */
  stop(communication: string, graceful: boolean, n: Negotiated | undefined, state: State): Notify | null {
    this.adminStop = true;
    if (!graceful) return adminShutdown(communication, n);
    const notify = gracefulStop(communication, n);
    if (notify === null && state === 'Established') {
      this.lastError = 'Closed for a graceful restart';
      this.log.info('closing the connection without a NOTIFICATION: the peer keeps our routes (graceful restart, RFC 4724)', { peer: this.peer });
    }
    return notify;
  }

  /**
   * The Cease of `subcode` (RFC 4486); a Hard Reset around it when the N bit was exchanged (RFC 8538
   * section 5). The communication goes into the NOTIFICATION for subcodes 2 and 4 (RFC 9003), into
   * the log for others (inbound.ts ceaseNotify).
   */
  cease(subcode: number, communication: string, n: Negotiated | undefined): Notify {
    this.adminStop = true;
    if (communication !== '') this.log.info(`ceasing the session: ${communication}`, { peer: this.peer, subcode });
    return ceaseNotify(subcode, communication, n);
  }

  bfdDown(reason: string, controlPlaneIndependent: boolean, state: State): void {
    this.lastError = reason;
    this.notes.bfdDown = { controlPlaneIndependent };
    this.log.warn(`${reason}: taking the BGP session down`, { peer: this.peer, state, controlPlaneIndependent });
  }

  sent(n: Notify): void {
    this.notes.sent = n;
    const words = describeNotify(n);
    this.lastError = n.code === ErrorCode.HOLD_TIMER_EXPIRED ? 'Hold timer expired' : n.code === ErrorCode.SEND_HOLD_TIMER_EXPIRED ? 'Send hold timer expired' : `Sent: ${words}`;
    if (this.adminStop) this.log.info(`sent NOTIFICATION: ${words}`);
    else this.log.warn(`sent NOTIFICATION: ${words}`);
  }

  /** The peer's NOTIFICATION `n`, in words `lastError`. */
  received(n: Notify, lastError: string): void {
    this.lastError = lastError;
    this.notes.received = n;
  }

  established(): void {
    this.notes = {};
    this.lastError = '';
  }

  /** Whether the peer's routes are kept as the Established session `n` ends. */
  routesKept(n: Negotiated | undefined): GracefulRestartInfo {
    return gracefulRestartOnDown(n, { ...this.notes, adminStop: this.adminStop && this.notes.bfdDown === undefined });
  }

  /** The session is down: what ended it is forgotten (the last error stays). */
  forget(): void {
    this.notes = {};
  }
}
