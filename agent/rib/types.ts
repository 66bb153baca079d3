/**
 * What the RIB hands on: plain data. RibChange goes to the FIB (netlink/fib); a peer's outbound
 * stream (OutboundItem: UPDATEs and the markers between them) to its session, which only encodes
 * and sends it in order. Nothing here knows sockets or netlink.
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { Prefix } from '../bgp/prefix.js';
import type { PackInput } from '../bgp/pack.js';
import type { FamilyName } from '../bgp/families.js';

/** One path in the Loc-RIB. Attribute objects are interned: equal sets are the same object. */
export interface RibPath {
  /** PeerSpec.key of the peer it came from, or 'local' for the node's own blocks. */
  readonly peer: string;
  /** Add-path identifier from that peer (0 without add-path). */
  readonly pathId: number;
  /** Next hop as text; '' for a local block (blackhole). */
  readonly nextHop: string;
  /** IPv6 only: the link-local next hop the peer sent beside the global one, or ''. */
  readonly nextHopLinkLocal: string;
  /** The peer's address (for resolving the link-local next hop's device). */
  readonly peerAddress: string;
  readonly attributes: PathAttributes;
}

/**
 * The best set for a prefix changed. `best` empty: the prefix is gone. A local block has a single
 * best path with peer 'local'. `best` holds every multipath member (ECMP), best first.
 */
export interface RibChange {
  readonly prefix: Prefix;
  readonly best: readonly RibPath[];
  readonly old: readonly RibPath[];
}

/** What to send to one peer: the input of packUpdates (agent/bgp/pack.ts), per family. */
export type OutboundUpdate = PackInput;

/**
 * One element of a peer's outbound stream, in wire order. The RIB decides all of it; the session
 * encodes each item as it comes and must not reorder them (transmit.ts):
 * - `update`: routes and withdrawals (RFC 4271 section 4.3).
 * - `end-of-rib`: the initial feed of `family` is complete (RFC 4724 section 2).
 * - `begin-refresh` / `end-refresh`: BoRR and EoRR around a route refresh's re-advertisement
 *   (RFC 7313 section 4), only when the peer negotiated enhanced route refresh. The receiver marks
 *   the family's routes from us stale at BoRR and removes those not re-sent at EoRR, so every
 *   UPDATE of the refresh must be between the two.
 */
export type OutboundItem =
  | { readonly kind: 'update'; readonly update: OutboundUpdate }
  | { readonly kind: 'end-of-rib'; readonly family: FamilyName }
  | { readonly kind: 'begin-refresh'; readonly family: FamilyName }
  | { readonly kind: 'end-refresh'; readonly family: FamilyName };
