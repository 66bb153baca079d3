/**
 * Test fixtures for the RIB: peers, negotiated sessions, UPDATEs, a sink that records everything,
 * and a manual scheduler so every test is synchronous.
 */

import type { PathAttributes } from '../../agent/bgp/attributes.js';
import { contextWith } from '../../agent/bgp/context.js';
import { formatPrefix, parsePrefix, type Prefix } from '../../agent/bgp/prefix.js';
import type { UpdateMessage } from '../../agent/bgp/update.js';
import { outboundFor, type Negotiated, type OutboundItem, type OutboundUpdate, type PeerSpec, type RibChange, type SessionEvent, type SharedUpdate } from '../../agent/contracts/engines.js';
import { InitialTables } from '../../agent/daemon/readiness.js';
import type { ExportNode } from '../../agent/rib/export.js';
import { Rib, type RibOptions, type RibSink } from '../../agent/rib/rib.js';
import { peerSpec } from '../session/specs.js';
import type { FamilyName } from '../../agent/bgp/families.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { PolicyMatch, PolicyRule } from '../../config/types.js';

const NO_MATCH: PolicyMatch = { prefix: '', exact: false, ge: null, le: null, pool: '', community: '', largeCommunity: '', asPathContains: null, peer: { address: '', interface: '', type: '' } };

/** A policy rule as the config gives it, every key not written at its default. */
export function rule(match: Partial<PolicyMatch>, action: 'accept' | 'reject' = 'accept', set: Partial<PolicyRule['set']> = {}): PolicyRule {
  return { match: { ...NO_MATCH, ...match, peer: { ...NO_MATCH.peer, ...match.peer } }, action, set: { localPref: null, med: null, communities: [], largeCommunities: [], prepend: 0, ...set } };
}

export const NODE: ExportNode = { asNumber: 64512, routerId: '10.0.1.13', clusterId: '', ipv4: '10.0.1.13', ipv6: 'fd00:1::13' };
export const POOLS = ['192.168.0.0/16', 'fd00:100::/48'];

/** A peer of the node: the session tests' PeerSpec defaults, iBGP in AS 64512, TTL 255. */
export function spec(address: string, o: Partial<PeerSpec> = {}): PeerSpec {
  return peerSpec({ address, peerAs: 64512, localAs: 64512, routerId: NODE.routerId, ttl: 255, ...o });
}

export function negotiated(peer: PeerSpec, o: Partial<Negotiated> & { peerId?: string } = {}): Negotiated {
  const external = !peer.internal;
  const addPathSend = o.addPathSend ?? { ipv4: false, ipv6: false };
  const addPathReceive = o.addPathReceive ?? { ipv4: false, ipv6: false };
  const enh = o.extendedNextHop?.ipv4 ?? false;
  return {
    peerAs: peer.peerAs,
    peerId: o.peerId ?? peer.address,
    holdTime: 90,
    keepaliveTime: 30,
    families: ['ipv4', 'ipv6'],
    fourOctetAs: true,
    extendedMessage: false,
    routeRefresh: true,
    enhancedRouteRefresh: false,
    addPathReceive,
    addPathSend,
    extendedNextHop: { ipv4: enh },
    localGracefulRestart: true,
    decode: contextWith({ external, addPathIpv4: addPathReceive.ipv4, addPathIpv6: addPathReceive.ipv6, extendedNextHopIpv4: enh }),
    encode: contextWith({ external, addPathIpv4: addPathSend.ipv4, addPathIpv6: addPathSend.ipv6, extendedNextHopIpv4: enh }),
    ...o,
  };
}

export const established = (peer: PeerSpec, o: Parameters<typeof negotiated>[1] = {}): SessionEvent => ({ type: 'established', peer, negotiated: negotiated(peer, o) });
export const down = (peer: PeerSpec, gr: { restartTime: number; families: FamilyName[] } | null = null): SessionEvent => ({ type: 'down', peer, reason: 'test', gracefulRestart: gr });

const pfx = (text: string, pathId?: number): Prefix => parsePrefix(text, pathId);

/** An UPDATE announcing `prefixes` (IPv4 in the body, IPv6 in MP_REACH_NLRI) with `attrs`. */
export function announce(peer: PeerSpec, prefixes: readonly (string | Prefix)[], nextHop: string, attrs: PathAttributes = {}): SessionEvent {
  const list = prefixes.map((p) => (typeof p === 'string' ? pfx(p) : p));
  const v4 = list.filter((p) => p.afi === 1);
  const v6 = list.filter((p) => p.afi === 2);
  const base: PathAttributes = { origin: 0, asPath: peer.internal ? [] : [{ type: 'sequence', asns: [peer.peerAs] }], ...attrs };
  const attributes: PathAttributes = {
    ...base,
    ...(v4.length > 0 ? { nextHop } : {}),
    // An IPv4 next hop for IPv6 routes travels as ::ffff:a.b.c.d (as FRR sends it without zebra).
    ...(v6.length > 0 ? { mpReach: { afi: 2, safi: 1, nextHops: [nextHop.includes(':') ? nextHop : `::ffff:${nextHop}`], nlri: v6 } } : {}),
  };
  const update: UpdateMessage = { type: 'update', withdrawn: [], attributes, nlri: v4 };
  return { type: 'update', peer, update };
}

export function withdraw(peer: PeerSpec, prefixes: readonly (string | Prefix)[]): SessionEvent {
  const list = prefixes.map((p) => (typeof p === 'string' ? pfx(p) : p));
  const v6 = list.filter((p) => p.afi === 2);
  const attributes: PathAttributes = v6.length > 0 ? { mpUnreach: { afi: 2, safi: 1, withdrawn: v6 } } : {};
  return { type: 'update', peer, update: { type: 'update', withdrawn: list.filter((p) => p.afi === 1), attributes, nlri: [] } };
}

export function endOfRib(peer: PeerSpec, family: FamilyName = 'ipv4'): SessionEvent {
  const attributes: PathAttributes = family === 'ipv4' ? {} : { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } };
  return { type: 'update', peer, update: { type: 'update', withdrawn: [], attributes, nlri: [] } };
}

/** A marker of a peer's outbound stream (End-of-RIB, BoRR, EoRR). */
export type MarkerKind = Exclude<OutboundItem['kind'], 'update' | 'shared'>;

export class Recorder implements RibSink {
  readonly batches: RibChange[][] = [];
  /** Every item of every peer's outbound stream, in order. */
  readonly stream: { peer: string; item: Exclude<OutboundItem, SharedUpdate> }[] = [];
  /** The UPDATE items of the stream. */
  readonly updates: { peer: string; update: OutboundUpdate }[] = [];
  /** The marker items of the stream. */
  readonly done: { peer: string; family: FamilyName; kind: MarkerKind }[] = [];
  readonly limits: { peer: string; limit: number; count: number }[] = [];
  changes(batch: readonly RibChange[]): void {
    this.batches.push([...batch]);
  }
  /** Every shared update as handed over, with the peers it was handed to. */
  readonly shared: { peers: string[]; item: SharedUpdate }[] = [];
  outbound(peer: string, given: OutboundItem): void {
    let item: Exclude<OutboundItem, SharedUpdate>;
    if (given.kind !== 'shared') item = given;
    else {
      // The stream as the peer's session sends it: its own parts, nothing when none is for it.
      const last = this.shared[this.shared.length - 1];
      if (last?.item === given) last.peers.push(peer);
      else this.shared.push({ peers: [peer], item: given });
      const update = outboundFor(given, peer);
      if ((update.withdraw?.length ?? 0) === 0 && (update.announce ?? []).every((g) => g.prefixes.length === 0)) return;
      item = { kind: 'update', update };
    }
    this.stream.push({ peer, item });
    if (item.kind === 'update') this.updates.push({ peer, update: item.update });
    else this.done.push({ peer, family: item.family, kind: item.kind });
  }
  limitExceeded(peer: string, limit: number, count: number): void {
    this.limits.push({ peer, limit, count });
  }
  clear(): void {
    this.batches.length = 0;
    this.stream.length = 0;
    this.shared.length = 0;
    this.updates.length = 0;
    this.done.length = 0;
    this.limits.length = 0;
  }
  /** Every change of every batch, as `prefix: peer@nexthop,...` lines. */
  changeLines(): string[] {
    return this.batches.flat().map((c) => `${formatPrefix(c.prefix)}: ${c.best.map((p) => `${p.peer}@${p.nextHop}`).join(',') || '-'}`);
  }
  /**
   * One peer's stream as words, in order: `+prefix` / `-prefix` per announcement / withdrawal
   * (withdrawals of an UPDATE first), `eor ipv4`, `borr ipv4`, `eorr ipv4` per marker.
   */
  wire(peer: string): string[] {
    const words: Record<MarkerKind, string> = { 'end-of-rib': 'eor', 'begin-refresh': 'borr', 'end-refresh': 'eorr', 'request-refresh': 'rr' };
    const out: string[] = [];
    for (const { item } of this.stream.filter((x) => x.peer === peer)) {
      if (item.kind !== 'update') {
        out.push(`${words[item.kind]} ${item.family}`);
        continue;
      }
      for (const w of item.update.withdraw ?? []) out.push(`-${formatPrefix(w)}`);
      for (const g of item.update.announce ?? []) for (const p of g.prefixes) out.push(`+${formatPrefix(p)}`);
    }
    return out;
  }
  /** What one peer was sent, flattened: `+prefix` per announcement, `-prefix` per withdrawal. */
  sent(peer: string): string[] {
    const out: string[] = [];
    for (const u of this.updates.filter((x) => x.peer === peer)) {
      for (const w of u.update.withdraw ?? []) out.push(`-${formatPrefix(w)}`);
      for (const g of u.update.announce ?? []) for (const p of g.prefixes) out.push(`+${formatPrefix(p)}`);
    }
    return out;
  }
  /** The attributes one prefix was last announced to `peer` with. */
  attrsSent(peer: string, prefix: string): PathAttributes | undefined {
    let found: PathAttributes | undefined;
    for (const u of this.updates.filter((x) => x.peer === peer)) {
      for (const g of u.update.announce ?? []) if (g.prefixes.some((p) => formatPrefix(p) === prefix)) found = g.attributes;
    }
    return found;
  }
}

export interface Harness {
  readonly rib: Rib;
  readonly sink: Recorder;
  readonly clock: FakeClock;
  /** Handles the events, then runs the pending flush. */
  feed(...events: SessionEvent[]): void;
}

export function harness(o: Partial<RibOptions> = {}): Harness {
  const sink = new Recorder();
  const clock = new FakeClock();
  let pending: (() => void) | undefined;
  // The one owner of End-of-RIB (agent/daemon/readiness.ts) follows the same events, as in the daemon.
  const tables = new InitialTables(5000);
  const initialTableComplete = (peer: string, family: FamilyName): boolean => tables.tableComplete(peer, family);
  const rib = new Rib({ node: NODE, pools: POOLS, sink, clock, schedule: (fn) => void (pending = fn), initialTableComplete, ...o });
  return {
    rib,
    sink,
    clock,
    feed(...events) {
      for (const e of events) {
        tables.observe(e, clock.now());
        rib.handle(e);
      }
      const fn = pending;
      pending = undefined;
      fn?.();
    },
  };
}
