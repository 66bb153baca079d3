/**
 * BGP unnumbered: which link-local neighbour each interface peer is (the table peer-set.ts reads).
 * A neighbour is heard three ways (SPEC "Unnumbered peers"): its router advertisements (RFC 4861
 * section 6.1.2 source, a router), its neighbour solicitations and advertisements on the link
 * (section 7: a host or router resolving us, what the kernel's neighbour table learns from), and
 * its connection to our port 179 (the listener's remote address with its zone).
 * Rules, for point-to-point links as unnumbered fabrics wire them:
 * - the first neighbour heard on an interface is the peer;
 * - another one replaces it only while the session on that interface is not Established (a ToR
 *   replaced, a cable moved), and then a router advertisement or a connection outranks a
 *   solicitation, which any host on a shared segment could send;
 * - a link that goes down forgets its neighbour (the next one heard after it comes up is the peer).
 * Our own link-local address on the link is read when the neighbour is recorded (our next hop).
 * Pure but for the injected readers. Not here: the ICMPv6 socket (nd-socket.ts), PeerSpecs
 * (peer-set.ts).
 */

import { isIpv6LinkLocal } from '../bgp/ip.js';
import type { LinkNeighbour } from './peer-set.js';

export type HeardFrom = 'router advertisement' | 'neighbour discovery' | 'connection';

const RANK: Readonly<Record<HeardFrom, number>> = { 'router advertisement': 2, connection: 2, 'neighbour discovery': 1 };

export interface NeighbourEntry extends LinkNeighbour {
  readonly heardFrom: HeardFrom;
  /** Epoch ms when it was recorded. */
  readonly since: number;
}

export interface LinkNeighboursDeps {
  /** Our link-local address on the interface (no zone), '' when it has none yet. */
  readonly localLinkLocal: (ifname: string) => string;
  /** Whether the session on the interface is Established (then its neighbour is kept). */
  readonly established: (ifname: string) => boolean;
  readonly now: () => number;
}

/** An IPv6 link-local unicast address (fe80::/10), zone and case ignored. */
export function isLinkLocal(address: string): boolean {
  return isIpv6LinkLocal(address.replace(/%.*$/, ''));
}

export class LinkNeighbours {
  private readonly table = new Map<string, NeighbourEntry>();

  constructor(private readonly deps: LinkNeighboursDeps) {}

  /** The current neighbours, by interface: peerSet's input. */
  snapshot(): ReadonlyMap<string, LinkNeighbour> {
    return new Map([...this.table].map(([k, v]) => [k, { peer: v.peer, local: v.local }]));
  }

  entry(ifname: string): NeighbourEntry | undefined {
    return this.table.get(ifname);
  }

  /** A neighbour heard on `ifname`; true when the table changed (the peers are then re-derived). */
  heard(ifname: string, address: string, from: HeardFrom): boolean {
    const peer = address.replace(/%.*$/, '').toLowerCase();
    if (!isLinkLocal(peer)) return false;
    const local = this.deps.localLinkLocal(ifname);
    if (local === '' || peer === local.toLowerCase()) return false;
    const had = this.table.get(ifname);
    if (had !== undefined) {
      if (had.peer === peer && had.local === local) return false;
      if (had.peer !== peer && (this.deps.established(ifname) || RANK[from] < RANK[had.heardFrom])) return false;
    }
    this.table.set(ifname, { peer, local, heardFrom: from, since: this.deps.now() });
    return true;
  }

  /** The link went down or away: its neighbour is forgotten. True when there was one. */
  forget(ifname: string): boolean {
    return this.table.delete(ifname);
  }
}
