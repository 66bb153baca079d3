/**
 * The fabric lab's `unnumbered` model (issue 22, SPEC "Unnumbered peers and dual-homing"): every
 * node on two ToRs of its rack over point-to-point veths that carry only link-local IPv6 addresses,
 * each ToR an FRR 8.4 (zebra, bgpd, bfdd) with `neighbor IF interface remote-as external` and
 * single-hop BFD per node link (RFC 5881, 100 ms x 3), numbered eBGP to the BIRD spine (one
 * session per family), installing what it learns. Here: the wiring (namespaces, links, the ToR
 * ends' link-local addresses), `FrrTor` (a ToR as a FabricRouter), the ToRs' FRR options, and the
 * node agents' configs: rack-agent with two interface peers (`asNumber: external`, BFD), and BIRD
 * 2.0.12 as calico/node's BIRD would be stretched to it, which needs each ToR's link-local address
 * in its config (`neighbor fe80::..%dev`: BIRD cannot learn it), `protocol radv` with router
 * lifetime 0 so FRR accepts its connection (LAB-NOTES "Unnumbered"), `extended next hop on`
 * (RFC 8950), `merge paths on` in its kernel protocols for ECMP, BFD as rack-agent has it, and the
 * ToRs' reconnect timers (Calico's defaults wait up to 300 s after an error).
 * Not here: the plan (topology.ts), building the rest of the fabric (fabric.ts), scenarios.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigDoc } from '../helpers/agent.js';
import { Frr, type FrrOptions } from '../helpers/frr.js';
import { type Lab, waitFor } from '../helpers/netns.js';
import type { FabricRouter } from './daemons.js';
import {
  allNodes, type FabricPlan, isIpv6, linkTo, type NodePlan, probeAddress, spineAs, type TorPlan, torPlans, uplinks,
} from './topology.js';

/** Single-hop BFD on every node link, both ends: detection in about 300 ms. */
export const UPLINK_BFD = { minRxMs: 100, minTxMs: 100, multiplier: 3 } as const;

/** One uplink of a node: its device, and the ToR end's link-local address (BIRD must be told it). */
export interface UplinkPeer {
  readonly dev: string;
  readonly tor: string;
  readonly torAs: number;
  readonly linkLocal: string;
}

export interface UnnumberedWiring {
  readonly tors: { readonly plan: TorPlan; readonly ns: string }[];
  readonly nodes: { readonly plan: NodePlan; readonly ns: string; readonly uplinks: UplinkPeer[] }[];
}

async function linkLocal(lab: Lab, ns: string, dev: string): Promise<string> {
  return waitFor(async () => {
    const out = (await lab.ip(ns, '-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'link')).stdout;
    return /inet6 (fe80::[0-9a-f:]+)\/64 scope link/.exec(out)?.[1];
  }, { timeoutMs: 10_000, what: `${dev}'s link-local address in ${ns}` });
}

/**
 * Namespaces and links: per rack two forwarding ToRs, each with a numbered link to the spine, and
 * per node a link-local-only veth to each; the node's block addresses on lo (the probes' ends).
 */
export async function wireUnnumbered(lab: Lab, plan: FabricPlan, spineNs: string): Promise<UnnumberedWiring> {
  const out: UnnumberedWiring = { tors: [], nodes: [] };
  for (let r = 0; r < plan.racks; r++) {
    const tors = torPlans(plan, r);
    const torNs: string[] = [];
    for (const t of tors) {
      const ns = await lab.namespace(t.name);
      torNs.push(ns);
      await lab.sysctl(ns, 'net.ipv4.ip_forward', 1);
      await lab.sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
      await lab.veth(spineNs, { ipv4: `${t.spineAddress}/24`, ipv6: `${t.spineAddress6}/64` }, ns, { ipv4: `${t.spineLinkAddress}/24`, ipv6: `${t.spineLinkAddress6}/64` });
      out.tors.push({ plan: t, ns });
    }
    for (const n of allNodes(plan).filter((x) => x.rack === r)) {
      const ns = await lab.namespace(n.name);
      await lab.ip(ns, 'addr', 'add', `${probeAddress(n.block)}/32`, 'dev', 'lo');
      await lab.ip(ns, 'addr', 'add', `${probeAddress(n.block6)}/128`, 'dev', 'lo', 'nodad');
      const peers: UplinkPeer[] = [];
      for (const [s, t] of tors.entries()) {
        const { a: torDev, b: dev } = await lab.veth(torNs[s], {}, ns, {});
        if (dev !== linkTo(t.name) || torDev !== linkTo(n.name)) throw new Error(`unexpected link names ${dev}, ${torDev}`);
        peers.push({ dev, tor: t.name, torAs: t.as, linkLocal: await linkLocal(lab, torNs[s], torDev) });
      }
      out.nodes.push({ plan: n, ns, uplinks: peers });
    }
  }
  return out;
}

/** ToR t's FRR: every node of its rack unnumbered with BFD, the spine numbered; routes installed. */
export function frrTorOptions(plan: FabricPlan, t: TorPlan): FrrOptions {
  const tight = { connectRetry: 1, holdTime: 9 };
  return {
    routerId: t.spineLinkAddress,
    localAs: t.as,
    installRoutes: true,
    neighbors: [
      ...allNodes(plan).filter((n) => n.rack === t.rack).map((n) => ({
        address: linkTo(n.name), interface: true, as: 0, families: ['ipv4', 'ipv6'] as const, bfd: UPLINK_BFD, ...tight,
      })),
      { address: t.spineAddress, as: spineAs(plan), families: ['ipv4'] as const, ...tight },
      { address: t.spineAddress6, as: spineAs(plan), families: ['ipv6'] as const, ...tight },
    ],
  };
}

/** An FRR ToR: bgpd, zebra and bfdd; kill, start and freeze act on bgpd (and bfdd for a freeze). */
export class FrrTor implements FabricRouter {
  private frr: Frr | undefined;

  constructor(private readonly lab: Lab, readonly ns: string, private readonly options: FrrOptions) {}

  get pid(): number | undefined {
    const path = this.frr === undefined ? '' : join(this.frr.dir, 'bgpd.pid');
    if (path === '' || !existsSync(path)) return undefined;
    const pid = Number(readFileSync(path, 'utf8').trim());
    return existsSync(`/proc/${pid}`) ? pid : undefined;
  }

  /** First start: zebra, bfdd and bgpd. Later: bgpd again (zebra and bfdd kept, as on a ToR). */
  async start(): Promise<void> {
    if (this.frr === undefined) this.frr = await Frr.start(this.lab, this.ns, this.options);
    else await this.frr.relaunch();
  }

  /** `show bgp neighbors json`: by neighbour (interface or address); `since` counts its connections. */
  async sessions(): Promise<Map<string, { established: boolean; since: string }>> {
    const out = new Map<string, { established: boolean; since: string }>();
    if (this.frr === undefined) return out;
    const json = JSON.parse(await this.frr.vtysh('show bgp neighbors json')) as Record<string, {
      bgpState?: string; connectionsEstablished?: number; connectionsDropped?: number;
    }>;
    for (const [name, v] of Object.entries(json)) {
      out.set(name, { established: v.bgpState === 'Established', since: `${v.connectionsEstablished ?? 0}/${v.connectionsDropped ?? 0}` });
    }
    return out;
  }

  async kill(): Promise<void> {
    await this.frr?.kill();
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    if (sig === 'SIGSTOP') this.frr?.pause();
    else this.frr?.resume();
  }

  explore(): string {
    return `vtysh --vty_socket ${this.frr?.dir ?? '?'} -d bgpd -c 'show bgp summary'`;
  }

  logs(): string {
    return this.frr?.logs() ?? `(FRR in ${this.ns} not started)`;
  }

  async dispose(): Promise<void> {
    await this.frr?.dispose();
  }
}

const POOLS = [
  { cidr: '192.168.0.0/16', blockSize: 26, ipipMode: 'Never' },
  { cidr: 'fd00:10::/48', blockSize: 122, ipipMode: 'Never' },
];

/** rack-agent: one interface peer per uplink, `asNumber: external`, BFD bound to the uplink. */
export function unnumberedAgentDoc(plan: FabricPlan, n: NodePlan, blocks: readonly string[]): ConfigDoc {
  return {
    node: { name: n.name, ipv4Address: `${n.address}/32`, ipv6Address: `${n.address6}/128` },
    bgp: {
      asNumber: n.as,
      holdTime: 9,
      gracefulRestart: { enabled: true, restartTime: 120 },
      peers: uplinks(plan, n).map((dev) => ({ interface: dev, asNumber: 'external', bfd: { enabled: true, ...UPLINK_BFD } })),
    },
    pools: POOLS,
    blocks: [...blocks],
    log: { level: 'info' },
  };
}

/**
 * BIRD 2.0.12 on an unnumbered node: calico/node's kernel, static and export pieces (bird-configs.ts
 * nodeBirdConfig), one BGP protocol per uplink carrying both families, the ToR's link-local
 * address given (`neighbor fe80::..` + `interface`), RAs with router lifetime 0, BFD, ECMP.
 */
export function unnumberedNodeBirdConfig(n: NodePlan, blocks: readonly string[], peers: readonly UplinkPeer[], dir: string): string {
  const own = (v6: boolean): string => {
    const list = blocks.filter((b) => isIpv6(b) === v6);
    return list.length > 0 ? `if net ~ [ ${list.join(', ')} ] then accept; ` : '';
  };
  const b = UPLINK_BFD;
  const lines = [
    '# calico/node-like BIRD 2 on a dual-homed unnumbered node, by test/fabric/unnumbered.ts',
    `log "${dir}/bird.log" { info, remote, warning, error, auth, fatal, bug };`,
    `router id ${n.address};`,
    'timeformat protocol iso long;',
    'filter calico_kernel_programming { if source = RTS_BGP || source = RTS_STATIC then accept; reject; }',
    'protocol device { scan time 2; }',
    'protocol direct { ipv4; ipv6; interface -"cali*", "*"; }',
    `filter calico_export_to_bgp_peers { ${own(false)}reject; }`,
    `filter calico_export_to_bgp_peers6 { ${own(true)}reject; }`,
    ...(['ipv4', 'ipv6'] as const).map((f) => `protocol kernel${f === 'ipv4' ? '' : ' kernel6'} { learn; persist; scan time 2; graceful restart; merge paths on; ${f} { import all; export filter calico_kernel_programming; }; }`),
    `protocol static calico_blocks { ipv4; ${blocks.filter((x) => !isIpv6(x)).map((x) => `route ${x} blackhole;`).join(' ')} }`,
    `protocol static calico_blocks6 { ipv6; ${blocks.filter(isIpv6).map((x) => `route ${x} blackhole;`).join(' ')} }`,
    `protocol radv { interface ${peers.map((p) => `"${p.dev}"`).join(', ')} { min ra interval 3; max ra interval 4; default lifetime 0; }; }`,
    `protocol bfd { interface "to-*" { min rx interval ${b.minRxMs} ms; min tx interval ${b.minTxMs} ms; multiplier ${b.multiplier}; }; }`,
    'template bgp uplink {',
    '  description "Unnumbered uplink to a ToR";',
    `  local as ${n.as};`,
    '  graceful restart;',
    '  bfd on;',
    // Calico's defaults (error wait 60 s rising to 300 s after each error, BFD down among them) kept
    // BIRD off an uplink for 51 s after a 3 s link flap and over 60 s after a 4 s ToR freeze in
    // this lab: the ToRs' tight timers instead (bird-configs.ts), so both node agents are measured
    // on how they switch, not on how long BIRD waits by default (README "The fabric lab").
    '  connect delay time 1;',
    '  connect retry time 1;',
    '  error wait time 1, 2;',
    '  ipv4 { import all; export filter calico_export_to_bgp_peers; extended next hop on; };',
    '  ipv6 { import all; export filter calico_export_to_bgp_peers6; };',
    '}',
    ...peers.map((p) => `protocol bgp Node_${p.dev.replace(/-/g, '_')} from uplink { neighbor ${p.linkLocal} as ${p.torAs}; interface "${p.dev}"; }`),
  ];
  return `${lines.join('\n')}\n`;
}
