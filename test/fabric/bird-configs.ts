/**
 * bird.conf text for the fabric lab's BIRD 2 daemons, as pure functions of the plan: the spine,
 * each rack's ToR (route reflector of its nodes for `rr`, eBGP for `as-per-rack`), and BIRD as the
 * node agent the way calico/node's confd templates write it (seed 002 and bird6.cfg, in BIRD 2
 * syntax): a template for the ToR peer with graceful restart, multihop and `gateway recursive`,
 * `next hop self` and an export filter announcing only the node's own blocks; `protocol kernel {
 * learn; persist; scan time 2; graceful restart; }` programming BGP routes and a static blackhole
 * per own block. IPv6 runs as Calico's bird6 does: its own sessions between IPv6 addresses, its own
 * kernel, static and export filter, in the same daemon (BIRD 2 has one binary for both families).
 * Every session carries one family; the ToRs and the spine do the same. The spine also serves the
 * FRR ToR pairs of `unnumbered` (unnumbered.ts), one session per ToR and family. ToRs and the spine install
 * what they learn into their kernel (persist, graceful restart), so traffic crosses the fabric.
 * ToR and spine sessions are tight (hold 9 s, retry 1 s) so recoveries are quick; the node side
 * keeps Calico's defaults. `timeformat protocol iso long` makes `show protocols` SINCE exact,
 * which is how flaps are counted. Not here: processes (daemons.ts).
 */
import { allNodes, allTors, type FabricPlan, isIpv6, type NodePlan, spineAs, torPlan } from './topology.js';

const TIGHT = ['  hold time 9;', '  keepalive time 3;', '  graceful restart on;',
  '  connect delay time 1;', '  connect retry time 1;', '  error wait time 1, 2;'];

type Family = 'ipv4' | 'ipv6';
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

function head(dir: string, routerId: string): string[] {
  return [
    `log "${dir}/bird.log" { info, remote, warning, error, auth, fatal, bug };`,
    `router id ${routerId};`,
    'timeformat protocol iso long;',
    'protocol device { }',
    'protocol direct { ipv4; ipv6; }',
  ];
}

/**
 * A router's FIB: what BGP chose goes into the namespace's kernel (forwarding is on there). `persist`
 * and `graceful restart` keep it across a SIGKILL and a `bird -R` restart, as a ToR's hardware
 * keeps forwarding while its control plane restarts (RFC 4724's forwarding state).
 */
function routerKernel(): string[] {
  return FAMILIES.map((f) => `protocol kernel kernel_${f} { persist; graceful restart; scan time 10; ${f} { import none; export where source = RTS_BGP; }; }`);
}

/** The BIRD protocol name of a ToR's session to a node (IPv6: `n6_`). */
export function torNodeProtocol(n: NodePlan, family: Family = 'ipv4'): string {
  return family === 'ipv4' ? `n_${n.name}` : `n6_${n.name}`;
}

/** The spine's session to ToR r (`side` a or b in `unnumbered`), and the ToR's to the spine. */
export const spineTorProtocol = (rack: number, family: Family = 'ipv4', side = ''): string => (family === 'ipv4' ? `tor_${rack}${side}` : `tor6_${rack}${side}`);
export const torSpineProtocol = (family: Family = 'ipv4'): string => (family === 'ipv4' ? 'spine' : 'spine6');

export function spineConfig(plan: FabricPlan, dir: string): string {
  const ibgp = plan.model === 'rr';
  const lines = [...head(dir, '10.250.0.1'), ...routerKernel()];
  for (const t of allTors(plan)) {
    for (const f of FAMILIES) {
      lines.push(
        `protocol bgp ${spineTorProtocol(t.rack, f, t.side)} {`,
        `  local ${f === 'ipv4' ? t.spineAddress : t.spineAddress6} as ${spineAs(plan)};`,
        `  neighbor ${f === 'ipv4' ? t.spineLinkAddress : t.spineLinkAddress6} as ${t.as};`,
        ...(ibgp ? ['  direct;', '  rr client;', '  rr cluster id 10.250.0.1;'] : []),
        ...TIGHT,
        `  ${f} { import all; export where source = RTS_BGP; next hop self; };`,
        '}',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * RFC 8326 section 4 on the ToRs' imports from their nodes: a path with GRACEFUL_SHUTDOWN gets the
 * lowest LOCAL_PREF (BIRD 2 does nothing for 65535:0 by itself).
 */
const GSHUT_FILTER = 'honour_graceful_shutdown';
const GSHUT_FILTER_TEXT = `filter ${GSHUT_FILTER} { if (65535,0) ~ bgp_community then bgp_local_pref = 0; accept; }`;

export function torConfig(plan: FabricPlan, rack: number, dir: string): string {
  const ibgp = plan.model === 'rr';
  const t = torPlan(plan, rack);
  const lines = [...head(dir, t.lanAddress), ...routerKernel(), GSHUT_FILTER_TEXT];
  for (const f of FAMILIES) {
    const v6 = f === 'ipv6';
    const lan = v6 ? t.lanAddress6 : t.lanAddress;
    // Routes from the spine go to the nodes with the ToR as next hop: under iBGP reflection BIRD
    // would pass the spine's link address on (RFC 4456 keeps NEXT_HOP), unreachable from the LAN.
    // A next hop set in an export filter is kept as set.
    lines.push(`filter to_nodes_${f} { if source != RTS_BGP then reject; if proto = "${torSpineProtocol(f)}" then bgp_next_hop = ${lan}; accept; }`);
    lines.push(
      `template bgp node_peer_${f} {`,
      `  local ${lan} as ${t.as};`,
      ...(ibgp ? ['  direct;', '  rr client;', `  rr cluster id ${t.lanAddress};`] : []),
      ...TIGHT,
      `  ${f} { import filter ${GSHUT_FILTER}; export filter to_nodes_${f}; };`,
      '}',
    );
    for (const n of allNodes(plan).filter((x) => x.rack === rack)) {
      lines.push(`protocol bgp ${torNodeProtocol(n, f)} from node_peer_${f} { neighbor ${v6 ? n.address6 : n.address} as ${n.as}; }`);
    }
    lines.push(
      `protocol bgp ${torSpineProtocol(f)} {`,
      `  local ${v6 ? t.spineLinkAddress6 : t.spineLinkAddress} as ${t.as};`,
      `  neighbor ${v6 ? t.spineAddress6 : t.spineAddress} as ${spineAs(plan)};`,
      ...(ibgp ? ['  direct;'] : []),
      ...TIGHT,
      `  ${f} { import all; export where source = RTS_BGP; next hop self; };`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Calico's protocol name for a peer: Node_ and the address with . and : as _ (Node_fd00_1__1). */
export const calicoPeerName = (address: string): string => `Node_${address.replace(/[.:]/g, '_')}`;

/** BIRD as calico/node runs it (seed 002 for IPv4, bird6.cfg for IPv6), for node `n` owning `blocks`. */
export function nodeBirdConfig(plan: FabricPlan, n: NodePlan, blocks: readonly string[], dir: string, drained = false): string {
  // An operator's RFC 8326 drain: the own blocks leave with 65535:0 and least preferred, LOCAL_PREF 0
  // toward an iBGP ToR, our AS prepended three times toward an eBGP one.
  const drain = `bgp_community.add((65535,0)); ${plan.model === 'rr' ? 'bgp_local_pref = 0;' : `bgp_path.prepend(${n.as}); `.repeat(3)} `;
  const then = drained ? `then { ${drain}accept; }` : 'then accept;';
  const t = torPlan(plan, n.rack);
  const lines = [
    '# Generated like calico/node confd bird.cfg (seed 002) and bird6.cfg, in BIRD 2 syntax, by test/fabric/bird-configs.ts',
    ...head(dir, n.address).slice(0, 3),
    'filter calico_kernel_programming { if source = RTS_BGP || source = RTS_STATIC then accept; reject; }',
    'protocol device { scan time 2; }',
    'protocol direct { ipv4; ipv6; interface -"cali*", "*"; }',
  ];
  // IPv4 first: a session flap disables the first Node_ protocol, the IPv4 one (daemons.ts).
  for (const f of FAMILIES) {
    const v6 = f === 'ipv6';
    const own = blocks.filter((b) => isIpv6(b) === v6);
    const sfx = v6 ? '6' : '';
    lines.push(
      `filter calico_export_to_bgp_peers${sfx} { ${own.length > 0 ? `if net ~ [ ${own.join(', ')} ] ${then} ` : ''}reject; }`,
      `protocol kernel${v6 ? ' kernel6' : ''} {`,
      '  learn;          # Learn all alien routes from the kernel',
      '  persist;        # Don\'t remove routes on bird shutdown',
      '  scan time 2;    # Scan kernel routing table every 2 seconds',
      '  graceful restart;',
      `  ${f} { import all; export filter calico_kernel_programming; };`,
      '}',
      `protocol static calico_blocks${sfx} { ${f}; ${own.map((b) => `route ${b} blackhole;`).join(' ')} }`,
      `template bgp bgp_template${sfx} {`,
      '  description "Connection to BGP peer";',
      `  local ${v6 ? n.address6 : n.address} as ${n.as};`,
      '  multihop;',
      '  graceful restart;',
      `  ${f} { import all; export filter calico_export_to_bgp_peers${sfx}; next hop self; gateway recursive; add paths on; };`,
      '}',
      `protocol bgp ${calicoPeerName(v6 ? t.lanAddress6 : t.lanAddress)} from bgp_template${sfx} { neighbor ${v6 ? t.lanAddress6 : t.lanAddress} as ${t.as}; }`,
    );
  }
  return `${lines.join('\n')}\n`;
}
