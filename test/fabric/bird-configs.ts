/**
 * bird.conf text for the fabric lab's BIRD 2 daemons, as pure functions of the plan: the spine,
 * each rack's ToR (route reflector of its nodes for `rr`, eBGP for `as-per-rack`), and BIRD as the
 * node agent the way calico/node's confd template writes it (seed 002, in BIRD 2 syntax): a
 * template for the ToR peer with graceful restart, multihop and `gateway recursive`, `next hop
 * self` and an export filter announcing only the node's own blocks; `protocol kernel { learn;
 * persist; scan time 2; graceful restart; }` programming BGP routes and a static blackhole per own
 * block. ToR and spine sessions are tight (hold 9 s, retry 1 s) so recoveries are quick; the node
 * side keeps Calico's defaults. `timeformat protocol iso long` makes `show protocols` SINCE exact,
 * which is how flaps are counted. Not here: processes (daemons.ts).
 */
import { allNodes, type FabricPlan, type NodePlan, spineAs, torPlan } from './topology.js';

const TIGHT = ['  hold time 9;', '  keepalive time 3;', '  graceful restart on;',
  '  connect delay time 1;', '  connect retry time 1;', '  error wait time 1, 2;'];

function head(dir: string, routerId: string): string[] {
  return [
    `log "${dir}/bird.log" { info, remote, warning, error, auth, fatal, bug };`,
    `router id ${routerId};`,
    'timeformat protocol iso long;',
    'protocol device { }',
    'protocol direct { ipv4; }',
  ];
}

/** The BIRD protocol name of a ToR's session to a node. */
export function torNodeProtocol(n: NodePlan): string {
  return `n_${n.name}`;
}

export function spineConfig(plan: FabricPlan, dir: string): string {
  const ibgp = plan.model === 'rr';
  const lines = head(dir, '10.250.0.1');
  for (let r = 0; r < plan.racks; r++) {
    const t = torPlan(plan, r);
    lines.push(
      `protocol bgp tor_${r} {`,
      `  local ${t.spineAddress} as ${spineAs(plan)};`,
      `  neighbor ${t.spineLinkAddress} as ${t.as};`,
      ...(ibgp ? ['  direct;', '  rr client;', '  rr cluster id 10.250.0.1;'] : []),
      ...TIGHT,
      '  ipv4 { import all; export where source = RTS_BGP; next hop self; };',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function torConfig(plan: FabricPlan, rack: number, dir: string): string {
  const ibgp = plan.model === 'rr';
  const t = torPlan(plan, rack);
  const lines = head(dir, t.lanAddress);
  // Routes from the spine go to the nodes with the ToR as next hop: under iBGP reflection BIRD
  // would pass the spine's link address on (RFC 4456 keeps NEXT_HOP), unreachable from the LAN.
  // A next hop set in an export filter is kept as set.
  lines.push(`filter to_nodes { if source != RTS_BGP then reject; if proto = "spine" then bgp_next_hop = ${t.lanAddress}; accept; }`);
  lines.push(
    'template bgp node_peer {',
    `  local ${t.lanAddress} as ${t.as};`,
    ...(ibgp ? ['  direct;', '  rr client;', `  rr cluster id ${t.lanAddress};`] : []),
    ...TIGHT,
    '  ipv4 { import all; export filter to_nodes; };',
    '}',
  );
  for (const n of allNodes(plan).filter((x) => x.rack === rack)) {
    lines.push(`protocol bgp ${torNodeProtocol(n)} from node_peer { neighbor ${n.address} as ${n.as}; }`);
  }
  lines.push(
    'protocol bgp spine {',
    `  local ${t.spineLinkAddress} as ${t.as};`,
    `  neighbor ${t.spineAddress} as ${spineAs(plan)};`,
    ...(ibgp ? ['  direct;'] : []),
    ...TIGHT,
    '  ipv4 { import all; export where source = RTS_BGP; next hop self; };',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** BIRD as calico/node runs it (seed 002), for node `n` owning `blocks`. */
export function nodeBirdConfig(plan: FabricPlan, n: NodePlan, blocks: readonly string[], dir: string): string {
  const t = torPlan(plan, n.rack);
  const peerName = `Node_${t.lanAddress.replace(/\./g, '_')}`;
  return [
    '# Generated like calico/node confd bird.cfg (seed 002), in BIRD 2 syntax, by test/fabric/bird-configs.ts',
    ...head(dir, n.address).slice(0, 3),
    'filter calico_kernel_programming { if source = RTS_BGP || source = RTS_STATIC then accept; reject; }',
    `filter calico_export_to_bgp_peers { if net ~ [ ${blocks.join(', ')} ] then accept; reject; }`,
    'protocol kernel {',
    '  learn;          # Learn all alien routes from the kernel',
    '  persist;        # Don\'t remove routes on bird shutdown',
    '  scan time 2;    # Scan kernel routing table every 2 seconds',
    '  graceful restart;',
    '  ipv4 { import all; export filter calico_kernel_programming; };',
    '}',
    'protocol device { scan time 2; }',
    'protocol direct { ipv4; interface -"cali*", "*"; }',
    `protocol static calico_blocks { ipv4; ${blocks.map((b) => `route ${b} blackhole;`).join(' ')} }`,
    'template bgp bgp_template {',
    '  description "Connection to BGP peer";',
    `  local ${n.address} as ${n.as};`,
    '  multihop;',
    '  graceful restart;',
    '  ipv4 { import all; export filter calico_export_to_bgp_peers; next hop self; gateway recursive; add paths on; };',
    '}',
    `protocol bgp ${peerName} from bgp_template { neighbor ${t.lanAddress} as ${t.as}; }`,
    '',
  ].join('\n');
}
