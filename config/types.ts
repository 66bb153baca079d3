/**
 * The typed, fully-defaulted configuration that loadConfig returns (SPEC.md "Config file").
 * Plain data, deeply readonly (and frozen at run time); no convict types leak out of config/.
 * Derived defaults are already applied: node.routerId, node.asNumber, keepalive times, per-peer
 * holdTime, pool blockSize and ipipMode. Optional addresses and strings are '' when not set.
 * Password files are paths only: readPassword (config/password.ts) reads one when needed.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';
export type IpipMode = 'Always' | 'CrossSubnet' | 'Never';
export type PeerScope = 'node' | 'global';
export type SourceAddress = 'UseNodeIP' | 'None';
export type NextHopMode = 'Auto' | 'Self' | 'Keep';

export interface Labels {
  readonly [key: string]: string;
}

export interface NodeConfig {
  readonly name: string;
  /** Address and subnet, `10.0.1.13/24`; the subnet decides CrossSubnet. */
  readonly ipv4Address: string;
  /** `fd00:1::13/64`, or '' when the node has no IPv6. */
  readonly ipv6Address: string;
  readonly routerId: string;
  readonly asNumber: number;
  readonly labels: Labels;
  /** Non-empty: this node is a route reflector for its clients (RFC 4456). */
  readonly routeReflectorClusterID: string;
}

export interface PeerConfig {
  /** As written: `ip` or `ip:port` (`[v6]:port`), or '' when peerSelector is used. */
  readonly peerIP: string;
  /** An interface name for BGP unnumbered (link-local addresses, RFC 8950), or ''. */
  readonly interface: string;
  /** Calico selector over bgp.nodes labels, or '' when peerIP is used. */
  readonly peerSelector: string;
  /** The address part of peerIP ('' with peerSelector). */
  readonly address: string;
  /** The port part of peerIP, 179 when not given. */
  readonly port: number;
  /**
   * null only with peerSelector: each selected node's own AS is used. `external` (any AS but ours)
   * and `internal` (ours) only with `interface`.
   */
  readonly asNumber: number | 'external' | 'internal' | null;
  readonly scope: PeerScope;
  /** Absolute path of the TCP MD5 key file (RFC 2385), or ''. Never the key itself. */
  readonly passwordFile: string;
  readonly sourceAddress: SourceAddress;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** RFC 9687 SendHoldTime, seconds; 0: off; null: the greater of 480 and twice the negotiated hold time. */
  readonly sendHoldTime: number | null;
  /** >0: GTSM (RFC 5082) with that many hops. */
  readonly ttlSecurity: number;
  readonly nextHopMode: NextHopMode;
  /** 0: no limit. */
  readonly maxPrefixes: number;
  readonly passive: boolean;
  /** bgp.bfd with this peer's overrides applied. */
  readonly bfd: BfdConfig;
}

/** One entry of the bgp.nodes inventory (mesh and peerSelector). */
export interface NodeEntry {
  readonly name: string;
  readonly ipv4Address: string;
  readonly ipv6Address: string;
  readonly asNumber: number;
  readonly labels: Labels;
  readonly routeReflectorClusterID: string;
}

export interface GracefulRestartConfig {
  readonly enabled: boolean;
  /** Seconds, 0..4095 (RFC 4724 section 3: a 12-bit field). */
  readonly restartTime: number;
}

/** RFC 5880 / 5881 single-hop BFD for a peer session (SPEC.md "BFD"). */
export interface BfdConfig {
  readonly enabled: boolean;
  /** Required Min RX Interval we offer, milliseconds. */
  readonly minRxMs: number;
  /** Desired Min TX Interval, milliseconds. */
  readonly minTxMs: number;
  /** Detect Mult. */
  readonly multiplier: number;
  /**
   * After BFD Down, true: BGP waits for BFD Up (RFC 9384-style strict mode); false: BGP may come
   * back while BFD stays Down, and BFD takes over once it is Up again.
   */
  readonly strict: boolean;
  /**
   * auto: RFC 5883 multihop BFD (UDP 4784) when the peer has ttlSecurity > 1 or sits on no
   * connected subnet (agent/bfd/coupling.ts), else RFC 5881 single hop; on / off force it.
   */
  readonly multihop: 'auto' | 'on' | 'off';
  /** Multihop only: the lowest received TTL accepted (RFC 5883 section 5); 0: no check. */
  readonly minTtl: number;
}

export interface BgpConfig {
  readonly asNumber: number;
  readonly listenPort: number;
  readonly nodeToNodeMesh: boolean;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** RFC 9687 SendHoldTime, seconds; 0: off; null: the greater of 480 and twice the negotiated hold time. */
  readonly sendHoldTime: number | null;
  /** Most equal best paths installed as one ECMP route. */
  readonly multipath: number;
  readonly gracefulRestart: GracefulRestartConfig;
  /**
   * Seconds with no UPDATE after which a peer that sends no End-of-RIB counts as having sent its
   * whole initial table (SPEC.md "Readiness", agent/daemon/readiness.ts).
   */
  readonly endOfRibQuietTime: number;
  /** Start drained (RFC 8326, SPEC.md "Drain"); `agentctl drain` / `undrain` change it at run time. */
  readonly drained: boolean;
  /** The default for every peer; bgp.peers[].bfd overrides any key. */
  readonly bfd: BfdConfig;
  readonly peers: readonly PeerConfig[];
  readonly nodes: readonly NodeEntry[];
}

export interface PoolConfig {
  readonly cidr: string;
  readonly blockSize: number;
  readonly ipipMode: IpipMode;
  readonly disabled: boolean;
}

/** One policy rule (SPEC.md "Routing policy"); empty strings and nulls mean "not part of the match". */
export interface PolicyMatch {
  readonly prefix: string;
  readonly exact: boolean;
  readonly ge: number | null;
  readonly le: number | null;
  readonly pool: string;
  readonly community: string;
  readonly largeCommunity: string;
  readonly asPathContains: number | null;
  readonly peer: { readonly address: string; readonly interface: string; readonly type: '' | 'ibgp' | 'ebgp' };
}

export interface PolicySet {
  readonly localPref: number | null;
  readonly med: number | null;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
  readonly prepend: number;
}

export interface PolicyRule {
  readonly match: PolicyMatch;
  readonly action: 'accept' | 'reject';
  readonly set: PolicySet;
}

export interface PolicyConfig {
  readonly import: readonly PolicyRule[];
  readonly export: readonly PolicyRule[];
}

export interface KernelConfig {
  readonly routeProtocol: number;
  readonly table: number;
  readonly tunnelDevice: string;
}

export interface ControlConfig {
  readonly socket: string;
  /** Group allowed the read-only commands; '' for root only. */
  readonly group: string;
}

export interface MetricsConfig {
  /** `ip:port` for Prometheus text, or '' for off. */
  readonly listen: string;
}

/** `agentctl check` and its periodic probes (SPEC.md "agentctl check"). */
export interface CheckConfig {
  /** Seconds between periodic data-plane checks feeding the metrics; 0: only on request. */
  readonly interval: number;
  /** Seconds a check's probes may take (agentctl check's default --timeout). */
  readonly timeout: number;
}

/** A service's health check (SPEC.md "Anycast services"): exactly one kind. */
export type ServiceCheck =
  /** Passes when a TCP connection to address:port opens. */
  | { readonly kind: 'tcp'; readonly address: string; readonly port: number }
  /** Passes when a GET of url answers exactly `status`. */
  | { readonly kind: 'http'; readonly url: string; readonly status: number }
  /** Passes when argv (run without a shell, argv[0] an absolute path) exits 0. */
  | { readonly kind: 'exec'; readonly argv: readonly string[] };

/** One anycast service: its prefix is announced while the check passes. */
export interface ServiceConfig {
  readonly name: string;
  /** As written, network bits only: `10.255.0.53/32`. */
  readonly prefix: string;
  readonly check: ServiceCheck;
  /** Seconds between checks, and the most a check may take (timeout < interval). */
  readonly interval: number;
  readonly timeout: number;
  /** Consecutive passes before announcing, failures before withdrawing. */
  readonly rise: number;
  readonly fall: number;
  /** RFC 1997 communities as written, `AS:VALUE`. */
  readonly communities: readonly string[];
}

export interface LogConfig {
  readonly level: LogLevel;
  readonly format: 'json' | 'text';
}

export interface Config {
  readonly node: NodeConfig;
  readonly bgp: BgpConfig;
  readonly pools: readonly PoolConfig[];
  /** This node's own blocks: announced, and blackholed locally. */
  readonly blocks: readonly string[];
  /** Anycast services, announced while healthy (SPEC.md "Anycast services"). */
  readonly services: readonly ServiceConfig[];
  readonly policy: PolicyConfig;
  readonly kernel: KernelConfig;
  readonly control: ControlConfig;
  readonly metrics: MetricsConfig;
  readonly check: CheckConfig;
  readonly log: LogConfig;
}
