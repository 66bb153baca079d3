/**
 * Anycast services' routes in the Loc-RIB (SPEC.md "Anycast services"): each healthy service is
 * one locally originated path (peer SERVICE_PEER, ORIGIN IGP, empty AS_PATH, its communities;
 * export.ts sends it with our next hop to every peer, and the FIB installs nothing for it). The
 * owner hands over the whole announced set each time it changes; only the difference acts. A
 * service's path is made once per announcement and never changed in place (new communities are a
 * new Path), so the update groups' export memo, keyed by Path, never holds a stale export.
 * A service prefix is one more path for its prefix: a peer's path for the same anycast prefix
 * stays beside it (ours wins the decision as locally originated; theirs takes over when ours goes).
 * Not here: health (agent/services/), the own blocks (own-blocks.ts).
 */

import { formatPrefix, type Prefix } from '../bgp/prefix.js';
import { SERVICE_PEER } from '../contracts/engines.js';
import type { AdjIn } from './adj-in.js';
import type { LocRib } from './loc-rib.js';
import { parseBlock } from './own-blocks.js';
import type { Path } from './path.js';

/** One announced service (agent/services ServiceRoute). */
export interface ServiceAnnouncement {
  readonly name: string;
  readonly prefix: string;
  readonly communities: readonly number[];
}

interface Announced {
  readonly prefix: Prefix;
  readonly path: Path;
  /** Prefix and communities: what makes a new announcement. */
  readonly key: string;
}

const keyOf = (s: ServiceAnnouncement, p: Prefix): string => `${formatPrefix(p)}|${s.communities.join(',')}`;

export class ServiceRoutes {
  private readonly announced = new Map<string, Announced>();

  constructor(
    private readonly loc: LocRib,
    private readonly adjIn: AdjIn,
    private readonly routerId: string,
  ) {}

  /** The services to announce now, by name; returns the names announced and withdrawn. */
  set(services: readonly ServiceAnnouncement[]): { announced: string[]; withdrawn: string[] } {
    const want = new Map<string, { s: ServiceAnnouncement; prefix: Prefix }>();
    for (const s of services) want.set(s.name, { s, prefix: parseBlock(s.prefix) }); // throws before anything changed
    const announced: string[] = [];
    const withdrawn: string[] = [];
    // Withdrawals first: a prefix may pass from one service to another in one change.
    for (const [name, a] of this.announced) {
      const w = want.get(name);
      if (w !== undefined && keyOf(w.s, w.prefix) === a.key) continue;
      this.loc.remove(a.prefix, SERVICE_PEER);
      this.announced.delete(name);
      if (w === undefined) withdrawn.push(name);
    }
    for (const [name, { s, prefix }] of want) {
      if (this.announced.has(name)) continue;
      const path = this.adjIn.servicePath(this.routerId, prefix.afi, s.communities);
      this.loc.put(prefix, path);
      this.announced.set(name, { prefix, path, key: keyOf(s, prefix) });
      announced.push(name);
    }
    return { announced, withdrawn };
  }

  /** The paths in use: roots of the Loc-RIB's mark and sweep. */
  paths(): Path[] {
    return [...this.announced.values()].map((a) => a.path);
  }
}
