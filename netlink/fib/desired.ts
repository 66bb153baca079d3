/**
 * desiredRoute: what one RibChange means for the kernel (SPEC.md "What lands in the kernel").
 * - the node's own block (best path from peer 'local'): a blackhole;
 * - an anycast service's prefix (best path from SERVICE_PEER): nothing (removed if it was there);
 * - a learned prefix: via the next hop, the device left to the kernel (connected subnet);
 * - IPIP (the prefix's pool has ipipMode Always, or CrossSubnet and the next hop is outside the
 *   node's IPv4 subnet): via the next hop, dev kernel.tunnelDevice, onlink;
 * - several best paths: one route with a next hop each (ECMP), duplicates merged;
 * - IPv6 alike; a link-local next hop (or an IPv6 path with only a link-local one) goes out of the
 *   device the peer is reached on.
 * - an IPv4 prefix with an IPv6 next hop (RFC 8950 section 3, learned over an extended-next-hop
 *   session): `via inet6 ADDR` (RTA_VIA). The next hop is chosen as for an IPv6 route (the
 *   link-local one when the global one is missing, `::` or itself link-local); a link-local one
 *   goes out of the device the peer is reached on, a global one is left to the kernel, which
 *   resolves it through its IPv6 table when a connected IPv6 route makes it on-link (checked on
 *   6.18: without one the kernel answers EHOSTUNREACH, a refusal the Fib retries). Never
 *   through the IPIP tunnel, whatever the pool says: IPIP carries IPv4 to IPv4 next hops only.
 * - IPv4 and IPv6 next hops of one IPv4 prefix (a peer of each kind with equal paths): one ECMP
 *   route with both kinds in RTA_MULTIPATH, as the kernel accepts (checked on 6.18; BGP multipath
 *   already judged the paths equal). An IPv4 next hop of an IPv6 prefix is refused
 *   (NEXTHOP_FAMILY): the kernel has no RTA_VIA for IPv6 routes.
 * Next hops that cannot be installed are left out and reported; when none is left the route is
 * not installed at all (never a route without its next hops). Pure.
 * Not here: kernel state, ownership, diffing (diff.ts).
 */
import { AFI } from '../../agent/bgp/constants.js';
import { formatPrefix, parsePrefix, type Prefix } from '../../agent/bgp/prefix.js';
import { isLinkLocal6 } from './kernel-route.js';
import type { FibContext, FibNextHop, FibProblem, FibRoute } from './types.js';
import { SERVICE_PEER, type RibChange, type RibPath } from '../../agent/contracts/engines.js';

export interface DesiredResult {
  readonly prefix: string;
  /** null: nothing to install (withdrawn, or no next hop could be installed). */
  readonly route: FibRoute | null;
  /** Why the route, or some of its next hops, cannot be installed. */
  readonly problem: FibProblem | null;
}

/** inner lies within outer (same family, outer no longer than inner, same leading bits). */
export function prefixWithin(inner: Prefix, outer: Prefix): boolean {
  if (inner.afi !== outer.afi || outer.len > inner.len) return false;
  if (inner.afi === AFI.IPV4 && outer.afi === AFI.IPV4) {
    if (outer.len === 0) return true;
    const mask = (0xffffffff << (32 - outer.len)) >>> 0;
    return ((inner.addr & mask) >>> 0) === outer.addr;
  }
  const a = inner.addr as Uint8Array;
  const b = outer.addr as Uint8Array;
  for (let bit = 0; bit < outer.len; bit += 8) {
    const bits = Math.min(8, outer.len - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((a[bit >> 3] & mask) !== (b[bit >> 3] & mask)) return false;
  }
  return true;
}

export function addressWithin(address: string, outer: Prefix): boolean {
  try {
    return prefixWithin(parsePrefix(`${address}/${address.includes(':') ? 128 : 32}`), outer);
  } catch {
    return false; // not an address: within nothing
  }
}

function needsTunnel(prefix: Prefix, nextHop: string, ctx: FibContext): boolean {
  if (prefix.afi !== AFI.IPV4) return false;
  const pool = ctx.pools.find((p) => prefixWithin(prefix, p.prefix));
  if (pool === undefined || pool.ipipMode === 'Never') return false;
  if (pool.ipipMode === 'Always') return true;
  return ctx.nodeSubnet4 === null || !addressWithin(nextHop, ctx.nodeSubnet4);
}

type HopResult = { hop: FibNextHop } | { problem: FibProblem };

function nextHopFor(prefix: Prefix, text: string, path: RibPath, ctx: FibContext): HopResult {
  const problem = (code: string, message: string): HopResult => ({ problem: { prefix: text, code, message } });
  let gateway = path.nextHop === '::' ? '' : path.nextHop; // `::` plus a link-local one: BIRD's encoding
  if ((gateway === '' || isLinkLocal6(gateway)) && path.nextHopLinkLocal !== '') gateway = path.nextHopLinkLocal;
  if (gateway === '') return problem('NEXTHOP_MISSING', `path from ${path.peer} has no next hop`);
  const gateway6 = gateway.includes(':');
  if (prefix.afi === AFI.IPV6 && !gateway6) {
    return problem('NEXTHOP_FAMILY', `next hop ${gateway} from ${path.peer} is not an IPv6 address`);
  }
  if (gateway6 && isLinkLocal6(gateway)) {
    const device = ctx.deviceFor(path.peerAddress);
    if (device === null) {
      return problem('NEXTHOP_DEVICE_UNKNOWN',
        `link-local next hop ${gateway}: no device reaches peer ${path.peerAddress || path.peer}`);
    }
    return { hop: { gateway, dev: device.name, ifindex: device.ifindex, onlink: false, peer: path.peer } };
  }
  if (!gateway6 && needsTunnel(prefix, gateway, ctx)) {
    if (ctx.tunnelIfindex === 0) {
      return problem('TUNNEL_DEVICE_MISSING', `needs IPIP via ${gateway} but tunnel device ${ctx.tunnelDevice} does not exist`);
    }
    return { hop: { gateway, dev: ctx.tunnelDevice, ifindex: ctx.tunnelIfindex, onlink: true, peer: path.peer } };
  }
  return { hop: { gateway, dev: '', ifindex: 0, onlink: false, peer: path.peer } };
}

export function desiredRoute(change: RibChange, ctx: FibContext): DesiredResult {
  const prefix = formatPrefix(change.prefix.pathId === undefined ? change.prefix : { ...change.prefix, pathId: undefined });
  const family = change.prefix.afi === AFI.IPV6 ? 6 : 4;
  if (change.best.length === 0) return { prefix, route: null, problem: null };
  // An anycast service: announced only; the address is the operator's (SPEC.md "Anycast services").
  if (change.best[0].peer === SERVICE_PEER) return { prefix, route: null, problem: null };
  if (change.best[0].peer === 'local') {
    return { prefix, route: { family, prefix, kind: 'blackhole', nextHops: [] }, problem: null };
  }
  if (change.best.length === 1) {
    // The common case, once per route of a full table: no merging, no sorting.
    const result = nextHopFor(change.prefix, prefix, change.best[0], ctx);
    if ('problem' in result) return { prefix, route: null, problem: result.problem };
    return { prefix, route: { family, prefix, kind: 'unicast', nextHops: [result.hop] }, problem: null };
  }
  const hops = new Map<string, FibNextHop>();
  let problem: FibProblem | null = null;
  for (const path of change.best) {
    const result = nextHopFor(change.prefix, prefix, path, ctx);
    if ('problem' in result) {
      problem ??= result.problem;
      continue;
    }
    const id = `${result.hop.gateway}%${result.hop.ifindex}`;
    if (!hops.has(id)) hops.set(id, result.hop);
  }
  if (hops.size === 0) return { prefix, route: null, problem };
  const nextHops = [...hops.values()].sort((a, b) =>
    (a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : a.ifindex - b.ifindex));
  return { prefix, route: { family, prefix, kind: 'unicast', nextHops }, problem };
}
