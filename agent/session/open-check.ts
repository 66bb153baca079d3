/**
 * The peer's OPEN, the same on either of a session's connections: the RFC 4271 section 6.2 checks
 * against the configured peer (checkOpen; RFC 6286 for the identifier), and while two connections
 * exist the collision verdict (RFC 4271 section 6.8, collision.ts) that the FSM gets as
 * OpenCollisionDump. Pure but for the log lines. Not here: negotiation (negotiate.ts), what the FSM
 * makes of a bad OPEN or of the verdict (fsm.ts), the sockets (transport.ts).
 */

import { notificationFor } from '../bgp/notification.js';
import { checkOpen, type OpenMessage, peerAsOf } from '../bgp/open.js';
import { collisionDump } from './collision.js';
import type { Direction } from './connection.js';
import type { Notify, Which } from './fsm.js';
import type { PeerSpec } from '../contracts/engines.js';
import type { Logger } from '../contracts/log.js';

/** The NOTIFICATION for an unacceptable OPEN (logged, `where` it came), or undefined. */
export function openError(open: OpenMessage, spec: PeerSpec, log: Logger, where = ''): Notify | undefined {
  const as = spec.peerAs === 0 ? { notAs: spec.localAs } : { peerAs: spec.peerAs };
  const err = checkOpen(open, { ...as, localId: spec.routerId, internal: spec.internal });
  if (!err) return undefined;
  log.warn(`unacceptable OPEN${where}: ${err.message}`, { peer: spec.key, reason: err.reason });
  return notificationFor(err);
}

/** Which connection an acceptable OPEN dumps while there are two (`pair`: who initiated each). */
export function collisionVerdict(open: OpenMessage, spec: PeerSpec, pair: { readonly main: Direction; readonly second: Direction } | undefined, log: Logger): Which | undefined {
  if (!pair) return undefined;
  // RFC 6286 section 2.3: equal identifiers (eBGP only) are decided by the AS numbers; the peer's
  // AS is the configured one, which checkOpen has matched against its OPEN.
  const dump = collisionDump({ id: spec.routerId, asn: spec.localAs }, { id: open.bgpId, asn: spec.peerAs === 0 ? peerAsOf(open) : spec.peerAs }, pair.main, pair.second);
  log.info(`connection collision with ${open.bgpId}: keeping the ${dump === 'main' ? pair.second : pair.main}going connection`);
  return dump;
}
