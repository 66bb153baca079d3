/**
 * What the RIB hands on: plain data. RibChange goes to the FIB (netlink/fib), OutboundUpdate to a
 * session for encoding. Nothing here knows sockets or netlink.
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { Prefix } from '../bgp/prefix.js';

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
export type { PackInput as OutboundUpdate } from '../bgp/pack.js';
