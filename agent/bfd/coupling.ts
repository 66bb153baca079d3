/**
 * How BFD and BGP meet (RFC 5882), as pure functions the daemon calls: which BFD sessions the peer
 * set wants (`bfdPeers`: one per PeerSpec with bfd enabled, from the session's local address), and
 * what a BFD state change does to the BGP session (`bgpReaction`).
 * Single hop or multihop (`multihopOf`): `bfd.multihop: on | off` decides; `auto` (the default)
 * runs RFC 5883 multihop BFD (UDP 4784) for a peer with `ttlSecurity` > 1 (GTSM says it is more
 * than one hop away) or one on no connected subnet of the node (`connected`: the daemon asks the
 * kernel's addresses, netlink/fib/interfaces.ts deviceFor), and RFC 5881 single hop otherwise. An
 * interface peer (`interface`, or a link-local address) is always single hop, bound to its
 * interface (RFC 5881 section 3). BIRD 2 runs iBGP as multihop (and its BFD with it) unless told
 * `direct`: such a ToR needs `bfd.multihop: on` here.
 * What a BFD state change does (`bgpReaction`):
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

/** A PeerSpec, and the interface of an interface peer (`bgp.peers[].interface`, RFC 8950 unnumbered). */
export type BfdSpec = PeerSpec & { readonly interface?: string };

export interface BfdPathContext {
  /** Whether the address is on a subnet of one of the node's interfaces. */
  connected(address: string): boolean;
}

const isLinkLocal = (a: string): boolean => /^fe[89ab][0-9a-f]:/i.test(a);

/** Whether the peer's BFD session is multihop (RFC 5883) rather than single hop (RFC 5881). */
export function multihopOf(p: BfdSpec, ctx: BfdPathContext): boolean {
  if (p.bfd.multihop !== 'auto') return p.bfd.multihop === 'on';
  if ((p.interface ?? '') !== '' || p.address.includes('%') || isLinkLocal(p.address)) return false;
  return p.ttlSecurity > 1 || !ctx.connected(p.address);
}

/**
 * One BfdPeerConfig per peer with BFD enabled. An interface peer whose neighbour's link-local
 * address is not known yet (`address` not an IPv6 address) gets none until it is.
 */
export function bfdPeers(specs: readonly BfdSpec[], ctx: BfdPathContext): BfdPeerConfig[] {
  return specs
    .filter((p) => p.bfd.enabled && ((p.interface ?? '') === '' || p.address.includes(':')))
    .map((p) => {
      const multihop = multihopOf(p, ctx);
      return {
        key: p.key, peer: p.address, local: p.interface ? '' : p.localAddress, family: p.family, minRxMs: p.bfd.minRxMs, minTxMs: p.bfd.minTxMs, multiplier: p.bfd.multiplier,
        multihop, interface: multihop ? '' : p.interface ?? '', minTtl: multihop ? p.bfd.minTtl : 0,
      };
    });
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
