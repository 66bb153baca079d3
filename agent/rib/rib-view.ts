/**
 * Read-only views of the Loc-RIB and the peers for the control socket (`agentctl routes`,
 * `status`): plain functions over the tables and PeerStates, so the Rib class stays about events
 * and output. Not here: any change.
 */

import type { PathAttributes } from '../bgp/attributes.js';
import { formatCommunity, formatLargeCommunity } from '../bgp/community-text.js';
import { formatPrefix } from '../bgp/prefix.js';
import { SERVICE_PEER } from '../contracts/engines.js';
import type { StepName } from './decision.js';
import type { LocRib } from './loc-rib.js';
import type { PeerState } from './peer-state.js';
import type { RibTable } from './table.js';
import type { FamilyName } from '../bgp/families.js';

/** One route for the control socket (RouteAnswer without the FIB's device data). */
export interface RibRoute {
  readonly prefix: string;
  readonly family: FamilyName;
  readonly kind: 'blackhole' | 'unicast';
  readonly nextHops: readonly { readonly via: string; readonly peer: string }[];
  readonly decidedBy: StepName;
  /** Candidate paths held for the prefix (all peers, add-path included). */
  readonly paths: number;
  /** The best path's attributes, as text (route detail, SPEC.md "Routing policy"). */
  readonly asPath: string;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly localPref: number;
  readonly med?: number;
  /** The peers of the ECMP set, best first ('local' for an own block). */
  readonly peers: readonly string[];
}

/** AS_PATH as operators read it: sequences space-separated, an AS_SET in braces (RFC 4271 5.1.2). */
export function asPathText(path: PathAttributes['asPath']): string {
  return (path ?? []).map((s) => (s.type === 'sequence' ? s.asns.join(' ') : s.type === 'set' ? `{${s.asns.join(' ')}}` : `(${s.asns.join(' ')})`)).join(' ');
}

/** Every prefix of `table` with a best path; at most `limit` of them. */
export function routesOf<K extends number | string>(table: RibTable<K>, limit = Infinity, out: RibRoute[] = []): RibRoute[] {
  table.forEach((len, key, s) => {
    // A service's route is announced, never installed: not one of the routes `agentctl routes` shows.
    if (out.length >= limit || s.best.length === 0 || s.best[0].peer === SERVICE_PEER) return;
    const local = s.best[0].peer === 'local';
    out.push({
      prefix: formatPrefix(table.prefix(len, key)),
      family: table.family,
      kind: local ? 'blackhole' : 'unicast',
      nextHops: local ? [] : s.best.map((p) => ({ via: p.nextHop || p.nextHopLinkLocal, peer: p.peer })),
      decidedBy: s.decidedBy,
      paths: s.paths.length,
      ...detail(s.best[0].attributes),
      peers: s.best.map((p) => p.peer),
    });
  });
  return out;
}

function detail(a: PathAttributes): Pick<RibRoute, 'asPath' | 'communities' | 'largeCommunities' | 'localPref' | 'med'> {
  return {
    asPath: asPathText(a.asPath),
    communities: (a.communities ?? []).map(formatCommunity),
    largeCommunities: (a.largeCommunities ?? []).map(formatLargeCommunity),
    localPref: a.localPref ?? 100,
    ...(a.med === undefined ? {} : { med: a.med }),
  };
}

/** Every prefix with a best path, for `agentctl routes` (at most `limit`). */
export function routes(loc: LocRib, family?: FamilyName, limit?: number): RibRoute[] {
  const out: RibRoute[] = [];
  if (family !== 'ipv6') routesOf(loc.t4, limit, out);
  if (family !== 'ipv4') routesOf(loc.t6, limit, out);
  return out;
}

/** Counters for `agentctl status`; zeros for a peer the RIB does not know. */
export function peerCounts(ps: PeerState | undefined): { received: number; accepted: number; advertised: number } {
  if (ps === undefined) return { received: 0, accepted: 0, advertised: 0 };
  return { received: ps.received(), accepted: ps.accepted, advertised: ps.advertised() };
}
