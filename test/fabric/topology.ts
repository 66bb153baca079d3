/**
 * The fabric lab's address and AS plan, as pure data: R racks of N nodes, one ToR per rack, one
 * spine. Rack r is the LAN 10.<r+1>.0.0/24 (ToR .1, node i .<11+i>); ToR r reaches the spine over
 * 10.250.<r>.0/24 (spine .1, ToR .2). Node g = r*N+i owns the IPv4 block 192.168.<g/4>.<64*(g%4)>/26.
 * IPv6 beside it (dual stack, as Calico runs it): rack LAN fd00:<r+1>::/64 (ToR ::1, node i
 * ::<11+i>), spine link fd00:ff:<r+1>::/64 (spine ::1, ToR ::2), node g's block fd00:10:0:<g>::/122
 * (pool fd00:10::/48). Each node also has an address in each of its blocks (the first one, on lo)
 * that the traffic probes use.
 * Models: `rr` (Calico's ToR route reflector: everything in AS 64512, nodes rr clients of their ToR,
 * ToRs rr clients of the spine) and `as-per-rack` (ToR r in AS 65100+r, spine 65000, every node its
 * own 4-byte AS 4200000000+r*1000+i over eBGP: a per-rack node AS shared by rack-mates would make
 * the ToR's rack-mate routes loop-rejected without allowas-in), and `unnumbered` (issue 22: every
 * node on TWO ToRs of its rack, t<r>a and t<r>b, both in AS 65100+r, over point-to-point veths that
 * carry only link-local IPv6 addresses, one eBGP session per uplink for both families with RFC 8950
 * next hops; no rack LAN; node AS as in `as-per-rack`; ToR t<r><s> reaches the spine (AS 65000)
 * over the numbered link 10.250.<2r+s>.0/24 and fd00:ff:<2r+s+1>::/64). `expectedKernel` is what
 * every node's kernel must hold once converged, both families. No processes here.
 */

export type Model = 'rr' | 'as-per-rack' | 'unnumbered';
export type NodeAgentKind = 'rack-agent' | 'bird';

export interface FabricPlan {
  readonly racks: number;
  readonly nodes: number;
  readonly model: Model;
}

export interface NodePlan {
  readonly rack: number;
  readonly index: number;
  /** Namespace short name, e.g. r0n3. */
  readonly name: string;
  readonly address: string;
  readonly address6: string;
  readonly as: number;
  readonly block: string;
  readonly block6: string;
}

export interface TorPlan {
  readonly rack: number;
  /** '' for the one ToR of `rr` and `as-per-rack`; 'a' or 'b' for the pair of `unnumbered`. */
  readonly side: '' | 'a' | 'b';
  readonly name: string;
  /** The ToR's address on the rack LAN (`unnumbered`: there is none; this is its router id). */
  readonly lanAddress: string;
  readonly lanAddress6: string;
  readonly spineLinkAddress: string;
  readonly spineLinkAddress6: string;
  readonly spineAddress: string;
  readonly spineAddress6: string;
  readonly as: number;
}

export const SPINE_AS_EBGP = 65000;
export const IBGP_AS = 64512;

/** The (first) ToR of a rack; `torPlans` gives both of an `unnumbered` rack. */
export function torPlan(plan: FabricPlan, rack: number): TorPlan {
  return torPlans(plan, rack)[0];
}

export function torPlans(plan: FabricPlan, rack: number): TorPlan[] {
  const sides = plan.model === 'unnumbered' ? (['a', 'b'] as const) : ([''] as const);
  return sides.map((side, s) => {
    const link = plan.model === 'unnumbered' ? 2 * rack + s : rack;
    return {
      rack,
      side,
      name: `t${rack}${side}`,
      lanAddress: `10.${rack + 1}.0.${1 + s}`,
      lanAddress6: `fd00:${rack + 1}::${1 + s}`,
      spineLinkAddress: `10.250.${link}.2`,
      spineLinkAddress6: `fd00:ff:${link + 1}::2`,
      spineAddress: `10.250.${link}.1`,
      spineAddress6: `fd00:ff:${link + 1}::1`,
      as: plan.model === 'rr' ? IBGP_AS : 65100 + rack,
    };
  });
}

export function allTors(plan: FabricPlan): TorPlan[] {
  const out: TorPlan[] = [];
  for (let r = 0; r < plan.racks; r++) out.push(...torPlans(plan, r));
  return out;
}

/** A veth's name inside namespace `self` for the link to namespace `peer` (as Lab.veth names it). */
export const linkTo = (peer: string): string => `to-${peer}`.slice(0, 12);

export function blockOf(global: number): string {
  return `192.168.${Math.floor(global / 4)}.${64 * (global % 4)}/26`;
}

/** Node g's IPv6 block, written as `ip -6 route` prints it (g in hex, a group of its own). */
export function blockOf6(global: number): string {
  return global === 0 ? 'fd00:10::/122' : `fd00:10:0:${global.toString(16)}::/122`;
}

export const isIpv6 = (prefix: string): boolean => prefix.includes(':');

/** The address a node holds in one of its blocks (the block's first host), without a length. */
export function probeAddress(block: string): string {
  const base = block.slice(0, block.indexOf('/'));
  if (isIpv6(base)) return `${base}1`;
  const octets = base.split('.').map(Number);
  return [...octets.slice(0, 3), octets[3] + 1].join('.');
}

export function nodePlan(plan: FabricPlan, rack: number, index: number): NodePlan {
  return {
    rack,
    index,
    name: `r${rack}n${index}`,
    address: `10.${rack + 1}.0.${11 + index}`,
    address6: `fd00:${rack + 1}::${11 + index}`,
    as: plan.model === 'rr' ? IBGP_AS : 4_200_000_000 + rack * 1000 + index,
    block: blockOf(rack * plan.nodes + index),
    block6: blockOf6(rack * plan.nodes + index),
  };
}

export function allNodes(plan: FabricPlan): NodePlan[] {
  const out: NodePlan[] = [];
  for (let r = 0; r < plan.racks; r++) for (let i = 0; i < plan.nodes; i++) out.push(nodePlan(plan, r, i));
  return out;
}

/** `unnumbered`: a node's uplinks, one per ToR of its rack (interface names in the node's namespace). */
export function uplinks(plan: FabricPlan, n: NodePlan): string[] {
  return torPlans(plan, n.rack).map((t) => linkTo(t.name));
}

export function spineAs(plan: FabricPlan): number {
  return plan.model === 'rr' ? IBGP_AS : SPINE_AS_EBGP;
}

/**
 * A kernel route as the check sees it: 'blackhole', the gateway of a route with one numbered next
 * hop, or else its next hops sorted and joined by ',', a link-local gateway written `fe80%<dev>`
 * and an IPv4 route's IPv6 gateway (RTA_VIA) prefixed `inet6 ` (watch.ts parseRouteLine).
 */
export type KernelEntry = string;

/**
 * What node `n`'s kernel must hold for the fabric's blocks, in each family: its own block
 * blackholed, a rack-mate's block via the rack-mate (same LAN: the ToR reflects or passes on the
 * original next hop), every other rack's block via its own ToR. `unnumbered`: every block but its
 * own as one ECMP route over both uplinks, each ToR's link-local address on its link (`via inet6`
 * for IPv4), rack-mates' too (they share no link).
 */
export function expectedKernel(plan: FabricPlan, n: NodePlan): Map<string, KernelEntry> {
  const out = new Map<string, KernelEntry>();
  const tor = torPlan(plan, n.rack);
  if (plan.model === 'unnumbered') {
    const hops = uplinks(plan, n).map((dev) => `fe80%${dev}`).sort();
    for (const m of allNodes(plan)) {
      const self = m.name === n.name;
      out.set(m.block, self ? 'blackhole' : hops.map((h) => `inet6 ${h}`).join(','));
      out.set(m.block6, self ? 'blackhole' : hops.join(','));
    }
    return out;
  }
  for (const m of allNodes(plan)) {
    const self = m.name === n.name;
    const mate = m.rack === n.rack;
    out.set(m.block, self ? 'blackhole' : mate ? m.address : tor.lanAddress);
    out.set(m.block6, self ? 'blackhole' : mate ? m.address6 : tor.lanAddress6);
  }
  return out;
}

/** Differences between a node's kernel and what it must hold; [] when exact. */
export function kernelDiff(expected: ReadonlyMap<string, KernelEntry>, actual: ReadonlyMap<string, KernelEntry>): string[] {
  const out: string[] = [];
  for (const [prefix, want] of expected) {
    const got = actual.get(prefix);
    if (got === undefined) out.push(`${prefix} missing (want ${want})`);
    else if (got !== want) out.push(`${prefix} via ${got} (want ${want})`);
  }
  for (const prefix of actual.keys()) if (!expected.has(prefix)) out.push(`${prefix} unexpected`);
  return out;
}

/**
 * The nodes that send and answer traffic probes: one per rack, node 1 (node 0 when a rack has one),
 * so the faults that hit r0n0 show what they cost the rest of the fabric.
 */
export function probeNodes(plan: FabricPlan): NodePlan[] {
  const out: NodePlan[] = [];
  for (let r = 0; r < plan.racks; r++) out.push(nodePlan(plan, r, Math.min(1, plan.nodes - 1)));
  return out;
}
