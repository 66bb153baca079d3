/**
 * Our OPEN for a peer (RFC 4271 section 4.2): its AS, our identifier, hold time and families, and
 * with graceful restart configured the capability whose R and F bits say the agent's restart state
 * at the moment the OPEN is built (RFC 4724 section 3), and on an IPv6 transport the extended next
 * hop capability for IPv4 (RFC 8950; why in negotiate.ts). Pure. Not here: the capabilities' encoding
 * and negotiation (negotiate.ts), when an OPEN goes out (the FSM's sendOpen, transport.ts).
 */

import type { OpenMessage } from '../bgp/open.js';
import { buildOpen } from './negotiate.js';
import type { PeerSpec } from '../contracts/engines.js';

/** Our side of graceful restart as the OPEN announces it (RFC 4724 section 3). */
export interface LocalRestartState {
  /** R bit: we restarted and are re-learning routes. */
  readonly restarting: boolean;
  /** F bit (every family): our forwarding state survived the restart. */
  readonly forwarding: boolean;
}

const NOT_RESTARTING: LocalRestartState = { restarting: false, forwarding: false };

export function localOpen(spec: PeerSpec, state: LocalRestartState = NOT_RESTARTING): OpenMessage {
  return buildOpen({
    asn: spec.localAs,
    routerId: spec.routerId,
    holdTime: spec.holdTime,
    families: spec.families,
    extendedNextHop: spec.address.includes(':'),
    ...(spec.gracefulRestart.enabled ? { gracefulRestart: { restartTime: spec.gracefulRestart.restartTime, ...state } } : {}),
  });
}
