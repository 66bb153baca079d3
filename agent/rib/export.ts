/**
 * Export policy: what one path looks like when sent to one peer, or null when it is not sent.
 * - Never back to the peer it came from. RFC 1997 NO_ADVERTISE: to nobody; NO_EXPORT (and
 *   NO_EXPORT_SUBCONFED): not to eBGP peers. A path with AS_SET or AS_CONFED_SET: to nobody
 *   (RFC 9774 section 3).
 * - Own blocks (peer 'local') and services (SERVICE_PEER, with their communities): ORIGIN IGP,
 *   empty AS_PATH (our AS prepended for eBGP), next hop ours.
 * - iBGP: a plain node does not pass iBGP paths to iBGP peers (split horizon, RFC 4271 9.2.1). A
 *   route reflector (RFC 4456 section 6): from a client to every peer, from a non-client to clients
 *   only; it sets ORIGINATOR_ID when absent and prepends its cluster ID to CLUSTER_LIST. LOCAL_PREF
 *   goes to iBGP peers (100 when the path had none).
 * - eBGP: our AS prepended; LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST removed (they are not for
 *   other ASes, RFC 4271 5.1.5, RFC 4456 section 8) and MED too (RFC 4271 5.1.4).
 * - Next hop (nextHopMode): Self, our address for the family (toward an interface peer our
 *   link-local address on its link, sent as `::` plus it); Keep, the path's; Auto, our address
 *   for own blocks and eBGP peers, the path's otherwise (a reflector leaves it alone, RFC 4456 10).
 *   Our address is the session's local address when it has the family, else the node's address.
 *   Toward a peer that negotiated RFC 8950 extended next hop for IPv4 (`extendedNextHopIpv4`), our
 *   address for IPv4 routes is our IPv6 one (the session's local address if IPv6, else the node's;
 *   the IPv4 one when we have none), sent in MP_REACH_NLRI AFI 1 (pack.ts), and an IPv6 next hop
 *   learned for an IPv4 route may be kept. Toward any other peer a kept next hop of the other family
 *   than the prefix (an RFC 8950 IPv6 next hop for an IPv4 route), or a missing one (a path learned
 *   with only a link-local next hop, which means nothing off its link), is replaced by ours.
 * Pure. The RIB memoises the result per (path, peer) and interns it. Not here: add-path ids.
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { AsPathSegment } from '../bgp/as-path.js';
import type { FamilyName } from '../bgp/families.js';
import { isIpv6LinkLocal } from '../bgp/ip.js';
import { SERVICE_PEER, type PeerSpec } from '../contracts/engines.js';

/** RFC 1997 well-known communities. */
export const NO_EXPORT = 0xffffff01;
export const NO_ADVERTISE = 0xffffff02;
export const NO_EXPORT_SUBCONFED = 0xffffff03;

export interface ExportNode {
  readonly asNumber: number;
  /** Our BGP identifier. */
  readonly routerId: string;
  /** Our cluster ID, or '' for a plain node. */
  readonly clusterId: string;
  /** Our addresses without prefix length; '' when absent. */
  readonly ipv4: string;
  readonly ipv6: string;
}

/** What export needs of the path: a RibPath plus its source's standing. */
export interface ExportablePath {
  readonly peer: string;
  readonly nextHop: string;
  readonly attributes: PathAttributes;
  readonly source: {
    readonly external: boolean;
    readonly client: boolean;
    readonly bgpId: string;
  };
}

export type ExportTarget = Pick<PeerSpec, 'key' | 'internal' | 'localAs' | 'routeReflectorClient' | 'nextHopMode' | 'localAddress'> & {
  /** The session negotiated RFC 8950 extended next hop for IPv4 (Negotiated.extendedNextHop.ipv4). */
  readonly extendedNextHopIpv4?: boolean;
};

/** Our next hop towards `to` for `family`, or '' when we have no address of that family. */
export function selfNextHop(to: ExportTarget, node: ExportNode, family: FamilyName): string {
  const local = to.localAddress;
  if (local !== '' && local.includes(':') === (family === 'ipv6')) return local;
  return family === 'ipv6' ? node.ipv6 : node.ipv4;
}

function prepend(asn: number, path: readonly AsPathSegment[] | undefined): AsPathSegment[] {
  const segs = path ?? [];
  const first = segs[0];
  // A segment holds at most 255 ASes (one length octet).
  if (first !== undefined && first.type === 'sequence' && first.asns.length < 255) {
    return [{ type: 'sequence', asns: [asn, ...first.asns] }, ...segs.slice(1)];
  }
  return [{ type: 'sequence', asns: [asn] }, ...segs];
}

/** NEXT_HOP for an IPv4 next hop; MP_REACH_NLRI for IPv6 routes and IPv6 next hops of IPv4 routes (RFC 8950). */
function withNextHop(a: PathAttributes, nextHop: string, family: FamilyName): PathAttributes {
  if (!nextHop.includes(':')) return { ...a, nextHop };
  // Our link-local address toward an interface peer (BGP unnumbered): `::` plus the link-local one
  // (RFC 2545 section 3's 32 bytes, the encoding BIRD sends on such links), never a 16-byte
  // link-local that a receiver would take for a global address.
  const nextHops = isIpv6LinkLocal(nextHop) ? ['::', nextHop] : [nextHop];
  return { ...a, mpReach: { afi: family === 'ipv4' ? 1 : 2, safi: 1, nextHops, nlri: [] } };
}

/** Whether a kept next hop can be sent for a route of `family`: NEXT_HOP cannot carry an IPv6 one. */
function fits(nextHop: string, family: FamilyName, v6ForV4: boolean): boolean {
  if (nextHop === '') return false;
  return nextHop.includes(':') ? family === 'ipv6' || v6ForV4 : family === 'ipv4';
}

/** The attributes to send, or null. `family` is the prefix's family. */
export function exportPath(path: ExportablePath, to: ExportTarget, node: ExportNode, family: FamilyName): PathAttributes | null {
  if (path.peer === to.key) return null;
  const local = path.peer === 'local' || path.peer === SERVICE_PEER; // originated here: next hop self
  const a = path.attributes;
  // RFC 9774 section 3: never send a path with AS_SET or AS_CONFED_SET. The codec already withdraws
  // such paths on receipt and we aggregate nothing, so this only guards a future source of paths.
  if (a.asPath?.some((s) => s.type === 'set' || s.type === 'confed-set')) return null;
  const communities = a.communities;
  if (communities?.includes(NO_ADVERTISE)) return null;
  if (!to.internal && (communities?.includes(NO_EXPORT) || communities?.includes(NO_EXPORT_SUBCONFED))) return null;

  let out: PathAttributes;
  if (to.internal) {
    if (!local && !path.source.external) {
      if (node.clusterId === '') return null; // RFC 4271 9.2.1: iBGP split horizon
      // RFC 4456 section 6: a non-client's path goes to clients only.
      if (!path.source.client && !to.routeReflectorClient) return null;
      out = {
        ...a,
        localPref: a.localPref ?? 100,
        originatorId: a.originatorId ?? path.source.bgpId,
        clusterList: [node.clusterId, ...(a.clusterList ?? [])],
      };
    } else {
      out = { ...a, localPref: a.localPref ?? 100 };
    }
  } else {
    const { localPref: _l, originatorId: _o, clusterList: _c, med: _m, ...rest } = a;
    out = { ...rest, asPath: prepend(to.localAs, a.asPath) };
  }

  // RFC 8950 section 3: toward a peer that negotiated it, an IPv4 route's next hop may be IPv6.
  const v6ForV4 = family === 'ipv4' && to.extendedNextHopIpv4 === true;
  const self = (v6ForV4 ? selfNextHop(to, node, 'ipv6') : '') || selfNextHop(to, node, family);
  let nextHop: string;
  if (local || to.nextHopMode === 'Self' || (to.nextHopMode === 'Auto' && !to.internal)) nextHop = self;
  else nextHop = fits(path.nextHop, family, v6ForV4) ? path.nextHop : self;
  if (nextHop === '') return null; // no address of that family to offer
  return withNextHop(out, nextHop, family);
}
