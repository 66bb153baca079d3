/**
 * Prometheus metrics (prom-client), pull model: every scrape takes one snapshot from a function
 * agent/main.ts supplies and turns it into gauges and counters, so no engine keeps metric state
 * of its own. The pushed values are the UPDATE processing time (a histogram the session/RIB
 * path observes) and the data-plane checks' results (observeCheck: `rack_agent_nexthop_up` per
 * next hop, replaced by each run, and the small probes' RTT histogram). Served over HTTP at /metrics when `metrics.listen` is set.
 * `rack_agent_service_up{service}` per anycast service (SPEC.md "Anycast services").
 * Session state uses RFC 4273's bgpPeerState numbering (1 Idle .. 6 Established).
 * `rack_agent_node_info{node, rack, ...} 1` names the node (config node.name, node.labels.rack):
 * the alert rules and dashboard in deploy/monitoring join on it for per-rack and per-node views.
 * Not here: push gateways, TLS, authentication (bind it to loopback or a management address).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { CodedError } from '../contracts/coded-error.js';
import type { CheckAnswer } from '../control/api.js';
import type { Log } from '../contracts/log.js';

export interface PeerMetrics {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  /** FSM state name, e.g. `Established`. */
  readonly state: string;
  readonly prefixes: { readonly received: number; readonly accepted: number; readonly advertised: number };
  /** The peer's maxPrefixes (a limit on accepted prefixes); 0: no limit. */
  readonly maxPrefixes: number;
  /** Send hold timer expiries (RFC 9687) of the peer's session since it was configured. */
  readonly sendHoldExpired: number;
  /** UPDATEs treated as withdrawn for an AS_SET or AS_CONFED_SET (RFC 9774); absent: 0. */
  readonly asSetWithdrawn?: number;
  /** UPDATEs treated as withdrawn for an IPv6 next hop on IPv4 NLRI without extended next hop (RFC 8950); absent: 0. */
  readonly nextHopFamilyWithdrawn?: number;
  /** BFD state name when BFD is enabled for the peer. */
  readonly bfd?: { readonly state: string; readonly upCount: number; readonly downCount: number };
}

/** Who this agent is: constant for the life of the process. */
export interface NodeMetrics {
  /** config node.name. */
  readonly name: string;
  /** config node.labels.rack, or '' (the label is then absent in Prometheus). */
  readonly rack: string;
  readonly routerId: string;
  readonly asNumber: number;
  readonly version: string;
}

export interface MetricsSnapshot {
  readonly node: NodeMetrics;
  readonly peers: readonly PeerMetrics[];
  readonly kernel: {
    /** Routes of our protocol in the kernel table now. */
    readonly routes: number;
    /** The kernel holds exactly what the RIB wants, nothing pending, the RIB converged. */
    readonly inSync: boolean;
    /** Prefixes not in the kernel as desired now (refused, missing device, conflict). */
    readonly problems: number;
    /** Netlink requests that failed, since start. */
    readonly errors: number;
    /** Full dump-and-reconcile passes, since start. */
    readonly reconciles: number;
    /** Seconds the kernel spent applying our route requests (inside sendto), since start. */
    readonly writeSeconds: number;
  };
  /** BFD packets discarded, by reason. */
  readonly bfdDrops?: Readonly<Record<string, number>>;
  /** Anycast services: whether each passes its health check (SPEC.md "Anycast services"). */
  readonly services?: readonly { readonly name: string; readonly up: boolean }[];
  /** RFC 8326 drain in force (`agentctl drain`, bgp.drained). */
  readonly drained?: boolean;
}

export type MetricsErrorCode = 'BAD_LISTEN' | 'LISTEN_FAILED';

export class MetricsError extends CodedError<MetricsErrorCode> {}

/** RFC 4273 bgpPeerState. */
export const STATE_NUMBER: Readonly<Record<string, number>> = {
  Idle: 1, Connect: 2, Active: 3, OpenSent: 4, OpenConfirm: 5, Established: 6,
};

export interface Metrics {
  readonly registry: Registry;
  /** Seconds spent processing one UPDATE (decode to RIB change). */
  observeUpdate(seconds: number): void;
  /** One finished data-plane check: its nexthop rows replace the previous run's. */
  observeCheck(answer: CheckAnswer): void;
  /** The text exposition for one scrape (one snapshot). */
  scrape(): Promise<string>;
}

export function createMetrics(snapshot: () => MetricsSnapshot, options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  let current: MetricsSnapshot | null = null;
  const now = (): MetricsSnapshot => current ?? snapshot();
  const peerGauge = (name: string, help: string, value: (peer: PeerMetrics) => number): void => {
    new Gauge({
      name, help, labelNames: ['peer', 'family'], registers: [registry],
      collect() {
        this.reset();
        for (const peer of now().peers) this.set({ peer: peer.address, family: peer.family }, value(peer));
      },
    });
  };
  peerGauge('rack_agent_bgp_session_state', 'BGP FSM state per peer (RFC 4273: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established)',
    (peer) => STATE_NUMBER[peer.state] ?? 0);
  peerGauge('rack_agent_bgp_session_established', '1 when the session is Established', (peer) => (peer.state === 'Established' ? 1 : 0));
  peerGauge('rack_agent_bgp_prefixes_received', 'Prefixes received from the peer', (peer) => peer.prefixes.received);
  peerGauge('rack_agent_bgp_prefixes_accepted', 'Prefixes from the peer accepted by import policy', (peer) => peer.prefixes.accepted);
  peerGauge('rack_agent_bgp_prefixes_advertised', 'Prefixes advertised to the peer', (peer) => peer.prefixes.advertised);
  peerGauge('rack_agent_bgp_max_prefixes', 'The peer\'s maxPrefixes limit on accepted prefixes (0: no limit)', (peer) => peer.maxPrefixes);
  // Counters per peer: cumulative values the session keeps, set at every scrape.
  const peerCounter = (name: string, help: string, value: (peer: PeerMetrics) => number): void => {
    new Counter({
      name, help, labelNames: ['peer', 'family'], registers: [registry],
      collect() {
        this.reset();
        for (const peer of now().peers) this.inc({ peer: peer.address, family: peer.family }, value(peer));
      },
    });
  };
  peerCounter('rack_agent_bgp_send_hold_expired_total', 'Sessions closed because nothing could be written to the peer for the send hold time (RFC 9687)',
    (peer) => peer.sendHoldExpired);
  peerCounter('rack_agent_as_set_withdrawn_total', 'UPDATEs from the peer treated as withdrawn for an AS_SET or AS_CONFED_SET in the path (RFC 9774)',
    (peer) => peer.asSetWithdrawn ?? 0);
  peerCounter('rack_agent_next_hop_family_withdrawn_total', 'UPDATEs from the peer treated as withdrawn for an IPv6 next hop on IPv4 routes without the extended next hop capability (RFC 8950)',
    (peer) => peer.nextHopFamilyWithdrawn ?? 0);
  // RFC 5880: one series per peer with BFD enabled.
  const bfdGauge = (name: string, help: string, value: (b: NonNullable<PeerMetrics['bfd']>) => number, kind: 'gauge' | 'counter'): void => {
    const collect = function (this: Gauge | Counter): void {
      this.reset();
      for (const peer of now().peers) if (peer.bfd) (this instanceof Gauge ? this.set.bind(this) : (this as Counter).inc.bind(this))({ peer: peer.address, family: peer.family }, value(peer.bfd));
    };
    if (kind === 'gauge') new Gauge({ name, help, labelNames: ['peer', 'family'], registers: [registry], collect });
    else new Counter({ name, help, labelNames: ['peer', 'family'], registers: [registry], collect });
  };
  bfdGauge('rack_agent_bfd_session_up', '1 when the peer\'s BFD session is Up (RFC 5880)', (b) => (b.state === 'Up' ? 1 : 0), 'gauge');
  bfdGauge('rack_agent_bfd_session_up_total', 'BFD session changes to Up', (b) => b.upCount, 'counter');
  bfdGauge('rack_agent_bfd_session_down_total', 'BFD session changes from Up to Down', (b) => b.downCount, 'counter');
  new Counter({
    name: 'rack_agent_bfd_packets_dropped_total', help: 'BFD packets discarded (RFC 5880 section 6.8.6, RFC 5881 section 5: TTL)', labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(now().bfdDrops ?? {})) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'rack_agent_node_info', help: 'Always 1; labels name the node (config node.name, node.labels.rack)',
    labelNames: ['node', 'rack', 'router_id', 'asn', 'version'], registers: [registry],
    collect() {
      const n = now().node;
      this.reset();
      this.set({ node: n.name, rack: n.rack, router_id: n.routerId, asn: String(n.asNumber), version: n.version }, 1);
    },
  });
  new Gauge({
    name: 'rack_agent_service_up', help: '1 while the anycast service passes its health check (its prefix announced), 0 while it is down',
    labelNames: ['service'], registers: [registry],
    collect() {
      this.reset();
      for (const s of now().services ?? []) this.set({ service: s.name }, s.up ? 1 : 0);
    },
  });
  const kernelGauge = (name: string, help: string, value: (k: MetricsSnapshot['kernel']) => number): void => {
    new Gauge({
      name, help, registers: [registry],
      collect() {
        this.set(value(now().kernel));
      },
    });
  };
  kernelGauge('rack_agent_kernel_routes', 'Routes of the agent\'s protocol in the kernel table', (k) => k.routes);
  kernelGauge('rack_agent_kernel_in_sync', '1 when the kernel holds exactly the routes the RIB wants and nothing is pending', (k) => (k.inSync ? 1 : 0));
  kernelGauge('rack_agent_kernel_route_problems', 'Prefixes not in the kernel as desired now (refused, missing device, conflict)', (k) => k.problems);
  new Gauge({
    name: 'rack_agent_drained', help: '1 while the node is drained (RFC 8326: what it announces carries GRACEFUL_SHUTDOWN and is least preferred)', registers: [registry],
    collect() {
      this.set(now().drained === true ? 1 : 0);
    },
  });
  const total = (name: string, help: string, value: (s: MetricsSnapshot) => number): void => {
    new Counter({
      name, help, registers: [registry],
      collect() {
        // The snapshot holds the running total; a counter only goes up, so set it as reset + inc.
        this.reset();
        this.inc(value(now()));
      },
    });
  };
  total('rack_agent_kernel_errors_total', 'Netlink requests that failed', (s) => s.kernel.errors);
  total('rack_agent_kernel_reconciles_total', 'Kernel dump-and-reconcile passes', (s) => s.kernel.reconciles);
  total('rack_agent_kernel_write_seconds_total', 'Seconds the kernel spent applying our route requests (inside sendto)', (s) => s.kernel.writeSeconds);
  const updates = new Histogram({
    name: 'rack_agent_update_processing_seconds', help: 'Time to process one received UPDATE',
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [registry],
  });
  const nexthopUp = new Gauge({
    name: 'rack_agent_nexthop_up', labelNames: ['nexthop'], registers: [registry],
    help: '1 when the last data-plane check found the next hop passing full-size packets (a row not failed), 0 when it failed',
  });
  const nexthopRtt = new Histogram({
    name: 'rack_agent_nexthop_rtt_seconds', help: 'Round-trip time of the data-plane check\'s small ICMP echo to a next hop',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers: [registry],
  });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'rack_agent_' });
  return {
    registry,
    observeUpdate: (seconds) => updates.observe(seconds),
    observeCheck(answer) {
      nexthopUp.reset();
      for (const row of answer.checks) {
        if (row.name !== 'nexthop') continue;
        // Not probed at all (no CAP_NET_RAW, out of time): no sample rather than a false 0.
        if (row.status === 'warn' && row.rttMs === undefined) continue;
        nexthopUp.set({ nexthop: row.target }, row.status === 'fail' ? 0 : 1);
        if (row.rttMs !== undefined) nexthopRtt.observe(row.rttMs / 1000);
      }
    },
    async scrape() {
      current = snapshot();
      try {
        return await registry.metrics();
      } finally {
        current = null;
      }
    },
  };
}

/** `ip:port` or `[v6]:port` into host and port. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(listen) ?? /^([0-9.]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (m === null || port > 65535) throw new MetricsError('BAD_LISTEN', `metrics.listen '${listen}' is not ip:port`);
  return { host: m[1], port };
}

/** The /metrics endpoint. */
export class MetricsServer {
  private readonly metrics: Metrics;
  private readonly log: Log;
  private server: Server | null = null;

  constructor(metrics: Metrics, log: Log) {
    this.metrics = metrics;
    this.log = log.child({ component: 'metrics' });
  }

  async start(listen: string): Promise<AddressInfo> {
    const { host, port } = parseListen(listen);
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MetricsError('LISTEN_FAILED', `cannot listen on ${listen} for metrics: ${err.code ?? err.message}`, { cause: err })));
      server.listen({ host, port }, () => resolve());
    });
    server.on('error', (err) => this.log.error('metrics server error', { err }));
    this.server = server;
    const address = server.address() as AddressInfo;
    this.log.info('metrics listening', { address: address.address, port: address.port });
    return address;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    try {
      const body = await this.metrics.scrape();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.log.error('metrics scrape failed', { err });
      res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed; see the agent log\n');
    }
  }
}
