/**
 * What sessions hand to the rest of the agent: plain data, one way (STYLE.md "The house").
 * A SessionEvent is delivered synchronously, in arrival order, by the session's digest loop;
 * the handler must be quick per event (the loop yields every few milliseconds, not per event).
 * SessionStatus is the snapshot `agentctl status` and metrics read.
 */

import type { UpdateMessage } from '../bgp/update.js';
import type { Negotiated } from './negotiate.js';
import type { PeerSpec } from './peer.js';
import type { State } from './fsm.js';
import type { FamilyName } from '../bgp/families.js';

export type SessionEvent =
  /** The session reached Established; `negotiated` holds the codec contexts both ways. */
  | { readonly type: 'established'; readonly peer: PeerSpec; readonly negotiated: Negotiated }
  /** A decoded UPDATE (treat-as-withdraw already applied: its NLRI moved to `withdrawn`). */
  | { readonly type: 'update'; readonly peer: PeerSpec; readonly update: UpdateMessage }
  /** The peer asked for our routes again (RFC 2918). */
  | { readonly type: 'route-refresh'; readonly peer: PeerSpec; readonly family: FamilyName }
  /**
   * The peer's BoRR ('begin') or EoRR ('end') around its re-advertisement of `family` (RFC 7313
   * section 4); only when enhanced route refresh was negotiated and the family is the session's.
   */
  | { readonly type: 'refresh-marker'; readonly peer: PeerSpec; readonly family: FamilyName; readonly marker: 'begin' | 'end' }
  /**
   * The session left Established. `gracefulRestart` is set when the peer's routes should be kept
   * as stale (RFC 4724: it negotiated GR and the session did not end with a Cease we sent or a
   * NOTIFICATION without the N bit); null means flush its routes now.
   */
  | {
      readonly type: 'down';
      readonly peer: PeerSpec;
      readonly reason: string;
      readonly gracefulRestart: { readonly restartTime: number; readonly families: readonly FamilyName[] } | null;
    };

export interface MessageCounts {
  readonly open: number;
  readonly update: number;
  readonly notification: number;
  readonly keepalive: number;
  readonly routeRefresh: number;
}

export interface SessionStatus {
  readonly key: string;
  readonly address: string;
  readonly family: FamilyName;
  readonly type: PeerSpec['type'];
  readonly peerAs: number;
  readonly state: State;
  /** Epoch milliseconds of the last state change. */
  readonly since: number;
  /** In words, e.g. `Socket: Connection refused`, `Received: Bad peer AS`, `Hold timer expired`; '' if none. */
  readonly lastError: string;
  readonly enabled: boolean;
  readonly messagesIn: MessageCounts;
  readonly messagesOut: MessageCounts;
  /** Negotiated capability names once Established, e.g. `4-octet AS`, `route refresh`. */
  readonly capabilities: readonly string[];
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** The peer's accepted-prefix limit from its PeerSpec; 0: none. */
  readonly maxPrefixes: number;
  /** Send hold timer expiries of this session since it was created (RFC 9687). */
  readonly sendHoldExpired: number;
  /** UPDATEs treated as withdrawn for an AS_SET or AS_CONFED_SET (RFC 9774), since the agent started. */
  readonly asSetWithdrawn: number;
}
