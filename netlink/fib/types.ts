/**
 * The FIB's plain data: routes as the agent wants them (FibRoute), routes as the kernel holds them
 * (KernelRoute), the context desiredRoute needs, problems, the snapshot, and the logger interface.
 * Nothing here touches a socket.
 */
import type { Prefix } from '../../agent/bgp/prefix.js';
import type { IpipMode } from '../../config/types.js';

export type Family = 4 | 6;

export interface FibNextHop {
  /** The route's family, or IPv6 for an IPv4 route (RFC 8950: sent and dumped as RTA_VIA). */
  readonly gateway: string;
  /** Device name, '' when the kernel resolves the gateway (a directly connected next hop). */
  readonly dev: string;
  /** Index of `dev`, 0 when dev is ''. */
  readonly ifindex: number;
  /** RTNH_F_ONLINK: the gateway is on the device's link even without a connected route (IPIP). */
  readonly onlink: boolean;
  /** The RIB peer the path came from (shown by agentctl; not part of the kernel route). */
  readonly peer: string;
}

export interface FibRoute {
  readonly family: Family;
  /** Canonical prefix text (formatPrefix), the FIB's key together with the metric. */
  readonly prefix: string;
  readonly kind: 'blackhole' | 'unicast';
  /** Sorted by gateway; empty for a blackhole. Several: one multipath (ECMP) route. */
  readonly nextHops: readonly FibNextHop[];
}

/** A route read from the kernel, reduced to what ownership and comparison need. */
export interface KernelRoute {
  readonly family: Family;
  readonly prefix: string;
  readonly metric: number;
  readonly table: number;
  readonly protocol: number;
  /** routeSignature(): type and next hops, comparable with a FibRoute's. */
  readonly signature: string;
}

/** Our routes: this table, this rtm_protocol. */
export interface Ownership {
  readonly table: number;
  readonly protocol: number;
}

export interface FibPool {
  readonly prefix: Prefix;
  readonly ipipMode: IpipMode;
}

export interface Device {
  readonly name: string;
  readonly ifindex: number;
}

export interface FibContext {
  readonly tunnelDevice: string;
  /** Index of tunnelDevice, 0 while it does not exist. */
  readonly tunnelIfindex: number;
  readonly pools: readonly FibPool[];
  /** The subnet of node.ipv4Address: CrossSubnet tunnels next hops outside it. */
  readonly nodeSubnet4: Prefix | null;
  /** The device a peer is reached on (for IPv6 link-local next hops), null when unknown. */
  readonly deviceFor: (peerAddress: string) => Device | null;
}

/** Why a route (or some of its next hops) is not in the kernel as desired. Stable codes. */
export type FibProblemCode =
  | 'TUNNEL_DEVICE_MISSING'
  | 'NEXTHOP_DEVICE_UNKNOWN'
  | 'NEXTHOP_MISSING'
  | 'NEXTHOP_FAMILY'
  | 'CONFLICT'
  | string; // a kernel errno name: ENETUNREACH, ENODEV, EINVAL, ...

export interface FibProblem {
  readonly prefix: string;
  readonly code: FibProblemCode;
  readonly message: string;
}

export interface FibSnapshot {
  /** Routes of ours in the kernel (our protocol, our table). */
  readonly routes: number;
  /** Routes the RIB wants installed. */
  readonly desired: number;
  /** The kernel holds exactly the desired routes, nothing is pending, and the RIB has converged. */
  readonly inSync: boolean;
  readonly converged: boolean;
  readonly pending: number;
  /** Prefixes not in the kernel as desired now (at most 1,000 listed). */
  readonly errors: readonly FibProblem[];
  /** Route requests the kernel refused, since start (a running total; `errors` is the current state). */
  readonly failures: number;
  /** Full dumps compared with the desired state (start, periodic, after overflows and link changes). */
  readonly reconciles: number;
  /** Netlink receive-buffer overflows (ENOBUFS) seen. */
  readonly overflows: number;
  /** Routes added, replaced and deleted since start. */
  readonly ops: { readonly add: number; readonly replace: number; readonly delete: number };
  /**
   * Datagrams of route requests sent since start and the time the kernel took on them (inside
   * sendto on the addon's send thread: where the kernel applies them).
   */
  readonly kernelTime: { readonly datagrams: number; readonly seconds: number };
}

/** The FIB logs through the agent's Logger (agent/contracts/log.ts). */
export type { Logger } from '../../agent/contracts/log.js';
