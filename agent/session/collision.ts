/**
 * Connection collision resolution (RFC 4271 section 6.8, RFC 6286 section 2.3): which of two
 * connections between the same pair of speakers survives, given both BGP identifiers and, when the
 * identifiers are equal (allowed between different ASes, RFC 6286 section 2.2), both AS numbers.
 * Pure. Not here: detecting the collision (the session, on an acceptable OPEN while two connections
 * exist), closing the loser (the FSM's OpenCollisionDump, carried out by transport.ts), or refusing
 * an iBGP peer with our own identifier (checkOpen in agent/bgp/open.ts, before any collision).
 */

import { ipv4ToNumber } from '../bgp/ip.js';
import type { Direction } from './connection.js';
import type { Which } from './fsm-types.js';

export interface Speaker {
  /** BGP identifier, dotted quad. */
  readonly id: string;
  /** The speaker's (4-octet) AS number. */
  readonly asn: number;
}

/**
 * The direction of the connection that survives, seen from us: 'out' is the one we initiated.
 * RFC 4271 section 6.8: the connection initiated by the side with the higher BGP identifier
 * survives; identifiers compare as unsigned 32-bit numbers. RFC 6286 section 2.3: with identical
 * identifiers, the connection initiated by the speaker with the larger AS number is preserved.
 * Equal identifiers and equal ASes (iBGP) never get here: checkOpen refuses that OPEN (RFC 6286
 * section 2.2); the answer is then 'in', as before RFC 6286.
 */
export function collisionWinner(local: Speaker, peer: Speaker): Direction {
  const l = ipv4ToNumber(local.id);
  const p = ipv4ToNumber(peer.id);
  if (l !== p) return l > p ? 'out' : 'in';
  return local.asn > peer.asn ? 'out' : 'in';
}

/**
 * The verdict the FSM gets as OpenCollisionDump: which of the session's connection (`main`) and the
 * second one is dumped, given who initiated each. The survivor is the one initiated by the
 * winner; with two incoming connections the peer gave up on the older one, the session's.
 */
export function collisionDump(local: Speaker, peer: Speaker, main: Direction, second: Direction): Which {
  return main === second || second === collisionWinner(local, peer) ? 'main' : 'second';
}
