/**
 * Between FIB routes and rtnetlink route messages: the key a route is known by (prefix, and the
 * metric when it is not the family's default), the signature two routes are compared by, the
 * reduction of a kernel RouteMessage to a KernelRoute, and the messages that add, replace and
 * delete one of our routes. Pure.
 *
 * A signature holds the route type and its next hops. The device of a next hop is part of it only
 * where the agent chooses the device (onlink, IPv6 link-local, device routes); a gateway on a
 * connected subnet gets its device from the kernel, which the agent does not second-guess. An IPv4
 * route's IPv6 next hop (RTA_VIA, RFC 8950) is a gateway like any other here: a link-local one pins
 * its device, a global one does not.
 */
import { RT_SCOPE, RTN, RTNH_F } from '../rtnetlink/constants.js';
import { routeMessage, type RouteMessage } from '../rtnetlink/route.js';
import type { Family, FibRoute, KernelRoute, Ownership } from './types.js';

/** Metric of our routes: the kernel default of each family (IPv6 stores 0 as 1024). */
export const defaultMetric = (family: Family): number => (family === 6 ? 1024 : 0);

export function routeKey(prefix: string, metric: number, family: Family): string {
  return metric === defaultMetric(family) ? prefix : `${prefix}|${metric}`;
}

export const isLinkLocal6 = (address: string): boolean => /^fe[89ab]/i.test(address);

interface HopLike {
  readonly gateway: string;
  readonly ifindex: number;
  readonly onlink: boolean;
}

export function signatureOf(type: number, hops: readonly HopLike[]): string {
  if (type === RTN.BLACKHOLE) return 'blackhole';
  if (type !== RTN.UNICAST) return `type${type}`;
  const parts = hops.map((nh) => {
    const pinned = nh.onlink || nh.gateway === '' || isLinkLocal6(nh.gateway);
    return `${nh.gateway}${pinned ? `%${nh.ifindex}` : ''}${nh.onlink ? ' onlink' : ''}`;
  });
  return parts.length === 1 ? parts[0] : parts.sort().join(',');
}

export function fibSignature(route: FibRoute): string {
  return signatureOf(route.kind === 'blackhole' ? RTN.BLACKHOLE : RTN.UNICAST, route.nextHops);
}

/** The kernel's view of a route message; IPv6 metric 0 reads as 1024, as the kernel stores it. */
export function kernelRoute(msg: RouteMessage): KernelRoute {
  const hops = msg.multipath.length > 0
    ? msg.multipath.map((nh) => ({ gateway: nh.gateway, ifindex: nh.ifindex, onlink: (nh.flags & RTNH_F.ONLINK) !== 0 }))
    : msg.type === RTN.UNICAST ? [{ gateway: msg.gateway, ifindex: msg.oif, onlink: (msg.flags & RTNH_F.ONLINK) !== 0 }] : [];
  const metric = msg.family === 6 && msg.priority === 0 ? 1024 : msg.priority;
  return {
    family: msg.family,
    prefix: `${msg.dst}/${msg.dstLen}`,
    metric,
    table: msg.table,
    protocol: msg.protocol,
    signature: signatureOf(msg.type, hops),
  };
}

function splitPrefix(prefix: string): { dst: string; dstLen: number } {
  const slash = prefix.lastIndexOf('/');
  return { dst: prefix.slice(0, slash), dstLen: Number(prefix.slice(slash + 1)) };
}

/** RTM_NEWROUTE payload fields for one of our routes (built field by field: once per route sent). */
export function routeToMessage(route: FibRoute, own: Ownership): RouteMessage {
  const slash = route.prefix.lastIndexOf('/');
  const single = route.kind === 'unicast' && route.nextHops.length === 1 ? route.nextHops[0] : undefined;
  return {
    family: route.family,
    dstLen: Number(route.prefix.slice(slash + 1)),
    srcLen: 0,
    tos: 0,
    table: own.table,
    protocol: own.protocol,
    scope: RT_SCOPE.UNIVERSE,
    type: route.kind === 'blackhole' ? RTN.BLACKHOLE : RTN.UNICAST,
    flags: single?.onlink === true ? RTNH_F.ONLINK : 0,
    dst: route.prefix.slice(0, slash),
    gateway: single?.gateway ?? '',
    oif: single?.ifindex ?? 0,
    priority: defaultMetric(route.family),
    prefsrc: '',
    multipath: route.kind === 'blackhole' || single !== undefined ? [] : route.nextHops.map((nh) => ({
      gateway: nh.gateway, ifindex: nh.ifindex, flags: nh.onlink ? RTNH_F.ONLINK : 0, weight: 1,
    })),
  };
}

/** RTM_DELROUTE payload fields: matches only a route of our protocol (the kernel checks it). */
export function deleteMessage(family: Family, prefix: string, metric: number, own: Ownership): RouteMessage {
  const { dst, dstLen } = splitPrefix(prefix);
  return routeMessage({
    family, dst, dstLen, table: own.table, protocol: own.protocol, scope: RT_SCOPE.NOWHERE, type: RTN.UNSPEC,
    priority: metric,
  });
}
