/**
 * How BFD and BGP meet (RFC 5882), as pure functions main.ts calls: which BFD sessions the peer set
 * wants (`bfdPeers`: one per PeerSpec with bfd enabled, single hop from the session's local
 * address), and what a BFD state change does to the BGP session (`bgpReaction`):
 * - Up: the BGP session may connect (with `bfd.strict` it was held since a BFD Down; RFC 9384
 *   section 4.1);
 * - Down from Up, detected by us or signalled by the peer: the BGP session goes down now, with
 *   "BFD: neighbor down (<diagnostic>)" as its last error, and the peer's C bit: set (its BFD
 *   survives a control-plane restart), the forwarding failed and its routes go at once; clear, the
 *   graceful-restart rules decide (section 4.3, inbound.ts gracefulRestartOnDown);
 * - Down because the peer's BFD went AdminDown: nothing (section 3.2: an administrative stop of
 *   BFD is no failure of the path);
 * - AdminDown (we removed the session): the BGP session is no longer held.
 * A BFD session that never came Up does not hold BGP: a peer without BFD still peers (the gate
 * closes only once BFD has been Up and failed). Not here: the threads, sockets, timers.
 */

import type { BfdPeerConfig } from './engine.js';
import type { BfdChange } from './session.js';
import type { PeerSpec } from '../contracts/engines.js';

export function bfdPeers(specs: readonly PeerSpec[]): BfdPeerConfig[] {
  return specs
    .filter((p) => p.bfd.enabled)
    .map((p) => ({ key: p.key, peer: p.address, local: p.localAddress, family: p.family, minRxMs: p.bfd.minRxMs, minTxMs: p.bfd.minTxMs, multiplier: p.bfd.multiplier }));
}

export type BgpReaction =
  | { readonly action: 'down'; readonly reason: string; readonly controlPlaneIndependent: boolean }
  | { readonly action: 'up' }
  | { readonly action: 'none' };

export function bgpReaction(c: BfdChange): BgpReaction {
  if (c.to === 'Up' || c.to === 'AdminDown') return { action: 'up' };
  if (c.to !== 'Down' || c.from !== 'Up') return { action: 'none' };
  if (c.remoteState === 'AdminDown') return { action: 'none' };
  return { action: 'down', reason: `BFD: neighbor down (${c.diagText})`, controlPlaneIndependent: c.remoteCpi };
}
