/**
 * The convict schema of SPEC.md's config file, every key with its documented default, plus one
 * schema per array item (bgp.peers[], bgp.nodes[], pools[], services[]) and the item format of blocks[],
 * because convict's strict mode does not look inside arrays. A default of null marks a key that
 * is either required or derived from another key afterwards (derive.ts): node.routerId,
 * node.asNumber, keepalive times, per-peer holdTime, send hold times (null: RFC 9687's default), pool blockSize and ipipMode.
 * Not here: checks across keys (cross-checks.ts) and reading files (load.ts).
 */

import { hostname } from 'node:os';
import convict from 'convict';
import { DEFAULT_ROUTE_PROTOCOL, FORMATS, type FormatName } from './formats.js';

/** A leaf of the schema: convict's schema object, restricted to this project's formats. */
export interface Leaf {
  readonly doc: string;
  readonly format: FormatName;
  readonly default: unknown;
  readonly nullable?: boolean;
}

export interface Section {
  readonly [key: string]: Leaf | Section;
}

export function isLeaf(node: Leaf | Section): node is Leaf {
  return 'default' in node;
}

const leaf = (format: FormatName, def: unknown, doc: string): Leaf => ({ doc, format, default: def });
/** Optional or derived: null until derive.ts fills it in. */
const derived = (format: FormatName, doc: string): Leaf => ({ doc, format, default: null, nullable: true });
/** No default: the file must set it. */
const required = (format: FormatName, doc: string): Leaf => ({ doc, format, default: null });

let registered = false;
/** Registers FORMATS with convict (its format registry is global); safe to call again. */
export function registerFormats(): void {
  if (registered) return;
  for (const [name, check] of Object.entries(FORMATS)) {
    convict.addFormat({
      name,
      validate: (value: unknown) => {
        const problem = check(value);
        if (problem !== undefined) throw new Error(problem);
      },
    });
  }
  registered = true;
}

export const SCHEMA: Section = {
  node: {
    name: leaf('ra-node-name', hostname(), 'this node; default: the host name'),
    ipv4Address: required('ra-ipv4-interface', 'address and subnet; the subnet decides CrossSubnet'),
    ipv6Address: leaf('ra-ipv6-interface', '', 'address and subnet; empty: no IPv6'),
    routerId: derived('ra-ipv4', 'BGP identifier; default: the IPv4 address'),
    asNumber: derived('ra-as-number', 'default: bgp.asNumber'),
    labels: leaf('ra-labels', {}, 'labels for peerSelector'),
    routeReflectorClusterID: leaf('ra-cluster-id', '', 'non-empty: this node reflects routes (RFC 4456)'),
  },
  bgp: {
    asNumber: leaf('ra-as-number', 64512, 'global default AS'),
    listenPort: leaf('ra-port', 179, 'TCP port to listen on'),
    nodeToNodeMesh: leaf('ra-bool', false, 'peer with every entry of bgp.nodes but itself'),
    holdTime: leaf('ra-hold-time', 90, 'seconds, 0 or 3..65535'),
    keepaliveTime: derived('ra-keepalive-time', 'seconds; default: a third of holdTime'),
    sendHoldTime: derived('ra-send-hold-time', 'RFC 9687 seconds, 0: off, else above holdTime; default: the greater of 480 and twice the negotiated hold time'),
    multipath: leaf('ra-multipath', 8, 'most equal best paths in one ECMP route'),
    gracefulRestart: {
      enabled: leaf('ra-bool', true, 'RFC 4724 graceful restart'),
      restartTime: leaf('ra-restart-time', 120, 'seconds'),
    },
    endOfRibQuietTime: leaf('ra-quiet-time', 5, 'for a peer without graceful restart (no End-of-RIB owed): its initial table is complete after this many seconds without an UPDATE or with fewer than 2 a second, or at 12 times this after it came up'),
    bfd: {
      enabled: leaf('ra-bool', false, 'RFC 5880/5881 single-hop BFD on every peer session'),
      minRxMs: leaf('ra-bfd-interval', 300, 'Required Min RX Interval we offer, ms'),
      minTxMs: leaf('ra-bfd-interval', 300, 'Desired Min TX Interval, ms'),
      multiplier: leaf('ra-bfd-multiplier', 3, 'Detect Mult'),
      strict: leaf('ra-bool', false, 'true: after BFD Down, BGP waits for BFD Up (RFC 9384 strict mode); false: BGP may come back while BFD stays Down'),
      multihop: leaf('ra-bfd-multihop', 'auto', 'auto: RFC 5883 multihop BFD (UDP 4784) when ttlSecurity > 1 or the peer is on no connected subnet, else single hop (RFC 5881); on | off force it'),
      minTtl: leaf('ra-bfd-min-ttl', 0, 'multihop BFD only: the lowest received TTL / Hop Limit accepted (RFC 5883 section 5); 0: no check'),
    },
    drained: leaf('ra-bool', false, 'start drained (RFC 8326): what we announce carries GRACEFUL_SHUTDOWN and is least preferred'),
    peers: leaf('ra-list', [], 'BGP peers (items: PEER_SCHEMA)'),
    nodes: leaf('ra-list', [], 'node inventory (items: NODE_ENTRY_SCHEMA)'),
  },
  pools: leaf('ra-list', [], 'address pools (items: POOL_SCHEMA)'),
  blocks: leaf('ra-list', [], "this node's own blocks: announced, and blackholed locally"),
  services: leaf('ra-list', [], 'anycast services: announced while their health check passes (items: SERVICE_SCHEMA)'),
  policy: {
    import: leaf('ra-list', [], 'import rules, in order, after the loop checks and before the pool rule (items: POLICY_RULE_SCHEMA)'),
    export: leaf('ra-list', [], 'export rules, in order (items: POLICY_RULE_SCHEMA)'),
  },
  kernel: {
    routeProtocol: leaf('ra-route-protocol', DEFAULT_ROUTE_PROTOCOL, 'rtm_protocol of every route the agent owns'),
    table: leaf('ra-route-table', 254, 'routing table'),
    tunnelDevice: leaf('ra-ifname', 'tunl0', 'the IPIP device'),
  },
  control: {
    socket: leaf('ra-socket-path', '/run/rack-agent/agent.sock', 'Unix socket of agentctl'),
    group: leaf('ra-group', '', 'group allowed the read-only commands; empty: root only'),
  },
  metrics: {
    listen: leaf('ra-listen', '', 'ip:port for Prometheus text; empty: off'),
  },
  check: {
    interval: leaf('ra-check-interval', 0, 'seconds between periodic data-plane checks (metrics); 0: off'),
    timeout: leaf('ra-check-timeout', 5, 'seconds a data-plane check may take (agentctl check --timeout)'),
  },
  log: {
    level: leaf('ra-log-level', 'info', 'winston level'),
    format: leaf('ra-log-format', 'json', 'json | text'),
  },
};

export const PEER_SCHEMA: Section = {
  peerIP: leaf('ra-endpoint', '', '"ip" or "ip:port"; exactly one of peerIP, peerSelector and interface'),
  peerSelector: leaf('ra-string', '', "Calico selector over bgp.nodes' labels"),
  interface: leaf('ra-ifname-or-empty', '', "BGP unnumbered over this interface's IPv6 link-local addresses (RFC 8950)"),
  asNumber: derived('ra-peer-as-number', 'required with peerIP and interface (a number; with interface also external or internal); with peerSelector each node’s own AS'),
  scope: leaf('ra-scope', 'node', 'node | global'),
  passwordFile: leaf('ra-path', '', 'TCP MD5 key file (RFC 2385); never logged'),
  sourceAddress: leaf('ra-source-address', 'UseNodeIP', 'UseNodeIP | None'),
  holdTime: derived('ra-hold-time', 'default: bgp.holdTime'),
  keepaliveTime: derived('ra-keepalive-time', 'default: a third of holdTime'),
  sendHoldTime: derived('ra-send-hold-time', 'default: bgp.sendHoldTime'),
  ttlSecurity: leaf('ra-ttl-security', 0, '>0: GTSM (RFC 5082) with that many hops'),
  nextHopMode: leaf('ra-next-hop-mode', 'Auto', 'Auto | Self | Keep'),
  maxPrefixes: leaf('ra-uint32', 0, '0: no limit'),
  passive: leaf('ra-bool', false, 'wait for the peer to connect'),
  bfd: {
    enabled: derived('ra-bool', 'default: bgp.bfd.enabled'),
    minRxMs: derived('ra-bfd-interval', 'default: bgp.bfd.minRxMs'),
    minTxMs: derived('ra-bfd-interval', 'default: bgp.bfd.minTxMs'),
    multiplier: derived('ra-bfd-multiplier', 'default: bgp.bfd.multiplier'),
    strict: derived('ra-bool', 'default: bgp.bfd.strict'),
    multihop: derived('ra-bfd-multihop', 'default: bgp.bfd.multihop'),
    minTtl: derived('ra-bfd-min-ttl', 'default: bgp.bfd.minTtl'),
  },
};

export const NODE_ENTRY_SCHEMA: Section = {
  name: required('ra-node-name', 'node name'),
  ipv4Address: required('ra-ipv4-interface', 'address and subnet'),
  ipv6Address: leaf('ra-ipv6-interface', '', 'address and subnet; empty: no IPv6'),
  asNumber: derived('ra-as-number', 'default: bgp.asNumber'),
  labels: leaf('ra-labels', {}, 'labels for peerSelector'),
  routeReflectorClusterID: leaf('ra-cluster-id', '', 'non-empty: a route reflector'),
};

export const POOL_SCHEMA: Section = {
  cidr: required('ra-cidr', 'the pool prefix'),
  blockSize: derived('ra-block-size', 'default: 26 for IPv4, 122 for IPv6'),
  ipipMode: derived('ra-ipip-mode', 'Always | CrossSubnet | Never; default: Always for IPv4, Never for IPv6'),
  disabled: leaf('ra-bool', false, 'no new blocks; existing ones are refused'),
};

/** SPEC.md "Anycast services": one item of services[]; exactly one of check.tcp, check.http, check.exec (cross-checks.ts). */
export const SERVICE_SCHEMA: Section = {
  name: required('ra-service-name', 'unique among services; the metric label and the agentctl row'),
  prefix: required('ra-cidr', 'announced while healthy, IPv4 or IPv6, any length'),
  check: {
    tcp: leaf('ra-host-port', '', 'ip:port: passes when a TCP connection opens'),
    http: leaf('ra-http-url', '', 'http:// URL: passes when a GET answers `status`'),
    status: derived('ra-http-status', 'the status http expects; default 200'),
    exec: leaf('ra-argv', [], 'argv, run without a shell: passes on exit 0'),
  },
  interval: leaf('ra-service-interval', 2, 'seconds between checks'),
  timeout: leaf('ra-service-timeout', 1, 'seconds a check may take (below interval); a check over it failed and is killed'),
  rise: leaf('ra-service-count', 2, 'consecutive passes before the prefix is announced'),
  fall: leaf('ra-service-count', 2, 'consecutive failures before the prefix is withdrawn'),
  communities: leaf('ra-communities', [], 'RFC 1997 communities "AS:VALUE" on the announcement'),
};

/** One rule of policy.import or policy.export (SPEC.md "Routing policy"); lists inside are checked by policy-checks.ts. */
export const POLICY_RULE_SCHEMA: Section = {
  match: {
    prefix: leaf('ra-cidr-optional', '', 'the prefix or one inside it; empty: any'),
    exact: leaf('ra-bool', false, 'only the prefix itself'),
    ge: derived('ra-prefix-length', 'inside `prefix`, at least this long'),
    le: derived('ra-prefix-length', 'inside `prefix`, at most this long'),
    pool: leaf('ra-cidr-optional', '', 'inside this configured pool'),
    community: leaf('ra-string', '', 'carries this RFC 1997 community, "AS:value"'),
    largeCommunity: leaf('ra-string', '', 'carries this RFC 8092 large community, "global:local1:local2"'),
    asPathContains: derived('ra-as-number', 'the AS_PATH holds this AS'),
    peer: {
      address: leaf('ra-string', '', 'import: the peer it came from; export: the peer it goes to'),
      interface: leaf('ra-string', '', 'the peer of an unnumbered session on this interface'),
      type: leaf('ra-peer-type', '', 'ibgp | ebgp'),
    },
  },
  action: leaf('ra-policy-action', 'accept', 'accept | reject'),
  set: {
    localPref: derived('ra-uint32', 'LOCAL_PREF (iBGP peers only on export)'),
    med: derived('ra-uint32', 'MULTI_EXIT_DISC'),
    communities: leaf('ra-list', [], 'RFC 1997 communities to add, "AS:value"'),
    largeCommunities: leaf('ra-list', [], 'RFC 8092 large communities to add, "global:local1:local2"'),
    prepend: leaf('ra-prepend', 0, 'export: our AS this many more times (eBGP peers only); import: the peer AS (eBGP peers only)'),
  },
};

/** How the items of each array key are checked: an item schema, or a format for scalar items. */
export const ARRAY_ITEMS: readonly { readonly key: string; readonly items: Section | FormatName }[] = [
  { key: 'bgp.peers', items: PEER_SCHEMA },
  { key: 'bgp.nodes', items: NODE_ENTRY_SCHEMA },
  { key: 'pools', items: POOL_SCHEMA },
  { key: 'blocks', items: 'ra-cidr' },
  { key: 'services', items: SERVICE_SCHEMA },
  { key: 'policy.import', items: POLICY_RULE_SCHEMA },
  { key: 'policy.export', items: POLICY_RULE_SCHEMA },
];
