/**
 * Builds the fabric lab in network namespaces from a plan: a spine (BIRD 2), per rack a LAN bridge,
 * a ToR (BIRD 2) and N nodes, dual stack, each running the chosen node agent with its own IPv4 /26
 * and IPv6 /122 (topology.ts for the plan, bird-configs.ts for the daemons' configs). The ToRs and
 * the spine forward (both families); each node holds the first address of each of its blocks on lo,
 * so traffic between blocks crosses the fabric (a local address wins over the block's blackhole).
 * The `unnumbered` model is wired by unnumbered.ts (two FRR ToRs per rack, no LAN) and started here.
 * The caller owns the Lab and calls `disposeFabric` then `lab.destroy()` in finally; nothing
 * outside the lab's namespaces is touched.
 */
import type { ConfigDoc } from '../helpers/agent.js';
import type { Lab } from '../helpers/netns.js';
import { nodeBirdConfig, spineConfig, torConfig } from './bird-configs.js';
import { birdNode, FabricBird, type FabricRouter, type NodeAgent, startRackAgent } from './daemons.js';
import { allNodes, type FabricPlan, type NodeAgentKind, type NodePlan, probeAddress, torPlan } from './topology.js';
import { FrrTor, frrTorOptions, unnumberedAgentDoc, unnumberedNodeBirdConfig, type UplinkPeer, wireUnnumbered } from './unnumbered.js';

export interface FabricNode {
  readonly plan: NodePlan;
  readonly ns: string;
  /** The node's blocks now, IPv4 then IPv6 (a reload may change them). */
  blocks: string[];
  agent: NodeAgent;
  /** `unnumbered`: the node's uplinks and the ToR ends' link-local addresses. */
  readonly uplinks?: readonly UplinkPeer[];
  /** BIRD-as-node: its config carries the RFC 8326 drain (rolling.ts). */
  drained?: boolean;
}

export interface FabricTor {
  readonly rack: number;
  /** t<rack>, or t<rack>a / t<rack>b in `unnumbered` (the name sessions are counted under). */
  readonly name: string;
  readonly ns: string;
  readonly router: FabricRouter;
  /** The same daemon when it is BIRD (every model but `unnumbered`, whose ToRs run FRR). */
  readonly bird?: FabricBird;
}

export interface Fabric {
  readonly plan: FabricPlan;
  readonly kind: NodeAgentKind;
  readonly lab: Lab;
  readonly spine: FabricBird;
  readonly spineNs: string;
  readonly tors: FabricTor[];
  readonly nodes: FabricNode[];
}

/** rack-agent's config: the IPv4 ToR peer first (a session flap takes the first one down), then IPv6. */
export function rackAgentDoc(plan: FabricPlan, n: NodePlan, blocks: readonly string[]): ConfigDoc {
  const t = torPlan(plan, n.rack);
  return {
    node: { name: n.name, ipv4Address: `${n.address}/24`, ipv6Address: `${n.address6}/64` },
    bgp: {
      asNumber: n.as,
      holdTime: 9,
      gracefulRestart: { enabled: true, restartTime: 120 },
      peers: [{ peerIP: t.lanAddress, asNumber: t.as }, { peerIP: t.lanAddress6, asNumber: t.as }],
    },
    pools: [
      { cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' },
      { cidr: 'fd00:10::/48', blockSize: 122, ipipMode: 'Never' },
    ],
    blocks: [...blocks],
    log: { level: 'info' },
  };
}

export async function startNodeAgent(f: Pick<Fabric, 'plan' | 'kind' | 'lab'>, n: FabricNode): Promise<NodeAgent> {
  const unnumbered = f.plan.model === 'unnumbered';
  if (f.kind === 'rack-agent') {
    return startRackAgent(f.lab, n.ns, (b) => (unnumbered ? unnumberedAgentDoc : rackAgentDoc)(f.plan, n.plan, b), n.blocks);
  }
  const bird = new FabricBird(f.lab, n.ns, (dir) => (unnumbered
    ? unnumberedNodeBirdConfig(n.plan, n.blocks, n.uplinks ?? [], dir) : nodeBirdConfig(f.plan, n.plan, n.blocks, dir, n.drained === true)));
  await bird.start(true);
  return birdNode(bird, (on) => { n.drained = on; });
}

/** Runs `fn` over `items` with at most `width` at a time (two cores: starting 30 agents at once thrashes). */
export async function inBatches<T>(items: readonly T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

async function forwarding(lab: Lab, ns: string): Promise<void> {
  await lab.sysctl(ns, 'net.ipv4.ip_forward', 1);
  await lab.sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
}

type Pending = { plan: NodePlan; ns: string; uplinks?: readonly UplinkPeer[] };

/** `rr` and `as-per-rack`: per rack a bridge LAN, a BIRD ToR on it and numbered to the spine, the nodes. */
async function wireLans(lab: Lab, plan: FabricPlan, spineNs: string, tors: FabricTor[], pending: Pending[]): Promise<void> {
  for (let r = 0; r < plan.racks; r++) {
    const t = torPlan(plan, r);
    const sw = await lab.namespace(`sw${r}`);
    const torNs = await lab.namespace(t.name);
    const members = allNodes(plan).filter((n) => n.rack === r);
    const nodeNs: string[] = [];
    for (const n of members) nodeNs.push(await lab.namespace(n.name));
    await lab.lan(sw, [
      { ns: torNs, addr: { ipv4: `${t.lanAddress}/24`, ipv6: `${t.lanAddress6}/64` } },
      ...members.map((n, i) => ({ ns: nodeNs[i], addr: { ipv4: `${n.address}/24`, ipv6: `${n.address6}/64` } })),
    ]);
    await lab.veth(spineNs, { ipv4: `${t.spineAddress}/24`, ipv6: `${t.spineAddress6}/64` }, torNs, { ipv4: `${t.spineLinkAddress}/24`, ipv6: `${t.spineLinkAddress6}/64` });
    await forwarding(lab, torNs);
    // A link set down keeps its static IPv6 address, as a server's network manager would put it
    // back (the kernel's default drops it, and the node's IPv6 sessions with it, for good).
    await Promise.all(members.map(async (n, i) => {
      await lab.sysctl(nodeNs[i], 'net.ipv6.conf.all.keep_addr_on_down', 1);
      await lab.ip(nodeNs[i], 'addr', 'add', `${probeAddress(n.block)}/32`, 'dev', 'lo');
      await lab.ip(nodeNs[i], 'addr', 'add', `${probeAddress(n.block6)}/128`, 'dev', 'lo', 'nodad');
    }));
    members.forEach((n, i) => pending.push({ plan: n, ns: nodeNs[i] }));
    const bird = new FabricBird(lab, torNs, (dir) => torConfig(plan, r, dir));
    tors.push({ rack: r, name: t.name, ns: torNs, router: bird, bird });
  }
}

/** Builds the fabric into `out` as it goes, so a failure half-way still disposes what started. */
export async function buildFabric(lab: Lab, plan: FabricPlan, kind: NodeAgentKind, out: Partial<Fabric> = {}): Promise<Fabric> {
  const spineNs = await lab.namespace('sp');
  const tors: FabricTor[] = [];
  const nodes: FabricNode[] = [];
  Object.assign(out, { plan, kind, lab, spineNs, tors, nodes });
  const pending: Pending[] = [];
  if (plan.model === 'unnumbered') {
    const w = await wireUnnumbered(lab, plan, spineNs);
    for (const t of w.tors) tors.push({ rack: t.plan.rack, name: t.plan.name, ns: t.ns, router: new FrrTor(lab, t.ns, frrTorOptions(plan, t.plan)) });
    pending.push(...w.nodes);
  } else {
    await wireLans(lab, plan, spineNs, tors, pending);
  }
  await forwarding(lab, spineNs);
  const spine = new FabricBird(lab, spineNs, (dir) => spineConfig(plan, dir));
  Object.assign(out, { spine });
  await spine.start();
  for (const t of tors) await t.router.start();
  const f = out as Fabric;
  await inBatches(pending, 4, async (p) => {
    const node = { plan: p.plan, ns: p.ns, blocks: [p.plan.block, p.plan.block6], uplinks: p.uplinks } as FabricNode;
    node.agent = await startNodeAgent(f, node);
    nodes.push(node);
  });
  nodes.sort((a, b) => a.plan.rack - b.plan.rack || a.plan.index - b.plan.index);
  return f;
}

export async function disposeFabric(f: Partial<Fabric> | undefined): Promise<void> {
  for (const n of f?.nodes ?? []) await n.agent?.dispose().catch(() => undefined);
  for (const t of f?.tors ?? []) await t.router.dispose().catch(() => undefined);
  await f?.spine?.dispose().catch(() => undefined);
}

/** How to look around in a running fabric. */
export function exploreText(f: Fabric): string {
  const n0 = f.nodes[0];
  const lines = [
    `  ip netns list | grep ${f.lab.prefix}`,
    `  ip netns exec ${n0.ns} ip route                  # node ${n0.plan.name}; ip -6 route for IPv6`,
    `  ip netns exec ${f.tors[0].ns} ip route           # ToR ${f.tors[0].name}'s kernel: it forwards between racks`,
    `  ${n0.agent.explore()}`,
    `  ${f.tors[0].router.explore()}     # ToR ${f.tors[0].name}`,
    `  birdc -s ${f.spine.socket} show route                # spine`,
  ];
  for (const n of f.nodes.slice(1)) lines.push(`  # ${n.plan.name}: ns ${n.ns}; ${n.agent.explore()}`);
  return lines.join('\n');
}
