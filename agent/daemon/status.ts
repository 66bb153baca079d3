/**
 * Status answers for the control socket (SPEC.md "agentctl status -o json"), built as pure
 * functions over the plain snapshots the three engines give: SessionStatus per peer, the RIB's
 * per-peer counts and the FIB's snapshot. No engine is imported, only their data types.
 */

import type { BfdSessionStatus } from '../bfd/session.js';
import type { BfdAnswer, PeerAnswer, RouteAnswer, StatusAnswer } from '../control/api.js';
import type { SessionStatus } from '../contracts/engines.js';
import { isoSeconds } from '../contracts/clock.js';

export interface PeerCounts {
  readonly received: number;
  readonly accepted: number;
  readonly advertised: number;
}


/** INFO as calicoctl shows it: the FSM state, then the last error while not Established. */
export function peerInfo(s: Pick<SessionStatus, 'state' | 'lastError'>): string {
  return s.state !== 'Established' && s.lastError !== '' ? `${s.state} ${s.lastError}` : s.state;
}

/** A BFD session's status; `multihop` and `interface` when the engine knows its path. */
type BfdStatus = BfdSessionStatus & { readonly multihop?: boolean; readonly interface?: string };

export function bfdAnswer(b: BfdStatus): BfdAnswer {
  return {
    state: b.state, mode: b.multihop === true ? 'multihop' : 'single-hop', ...(b.interface ? { interface: b.interface } : {}), diagnostic: b.diag, remoteState: b.remoteState, remoteDiagnostic: b.remoteDiag, since: isoSeconds(b.since),
    localDiscriminator: b.localDiscriminator, remoteDiscriminator: b.remoteDiscriminator, txIntervalMs: b.txIntervalMs, detectTimeMs: b.detectTimeMs,
    minRxMs: b.minRxMs, minTxMs: b.minTxMs, multiplier: b.multiplier, remoteControlPlaneIndependent: b.remoteCpi,
    upCount: b.upCount, downCount: b.downCount, packetsIn: b.packetsIn, packetsOut: b.packetsOut,
  };
}

export function peerAnswer(s: SessionStatus, counts: PeerCounts, bfd?: BfdStatus): PeerAnswer {
  const messages = { in: { ...s.messagesIn }, out: { ...s.messagesOut } };
  return {
    address: s.address,
    ...(s.linkLocal !== undefined ? { linkLocal: s.linkLocal } : {}),
    family: s.family,
    type: s.type,
    asNumber: s.peerAs,
    state: s.state,
    since: isoSeconds(s.since),
    info: peerInfo(s),
    enabled: s.enabled,
    prefixes: { received: counts.received, accepted: counts.accepted, advertised: counts.advertised },
    capabilities: s.capabilities,
    messages,
    lastError: s.lastError,
    ...(bfd ? { bfd: bfdAnswer(bfd) } : {}),
  };
}

export interface StatusInput {
  readonly routerId: string;
  readonly asNumber: number;
  readonly sessions: readonly SessionStatus[];
  readonly counts: (key: string) => PeerCounts;
  readonly fib: { readonly routes: number; readonly inSync: boolean };
  readonly drained: boolean;
  /** The BFD snapshot (agent/bfd/client.ts), when BFD runs. */
  readonly bfd?: { readonly sessions: readonly BfdSessionStatus[]; readonly drops: Readonly<Record<string, number>> };
}

/** Peers in a stable order: IPv4 before IPv6, then by address as text sorts for operators. */
export function statusAnswer(input: StatusInput): StatusAnswer {
  const peers = [...input.sessions]
    .sort((a, b) => (a.family === b.family ? compareAddress(a.address, b.address) : a.family === 'ipv4' ? -1 : 1))
    .map((s) => peerAnswer(s, input.counts(s.key), input.bfd?.sessions.find((b) => b.key === s.key)));
  const bfd = input.bfd && input.bfd.sessions.length > 0 ? { bfd: { drops: { ...input.bfd.drops } } } : {};
  return { running: true, routerId: input.routerId, asNumber: input.asNumber, peers, fib: { routes: input.fib.routes, inSync: input.fib.inSync }, drained: input.drained, ...bfd };
}

function compareAddress(a: string, b: string): number {
  const pa = a.split(/[.:]/).map((x) => Number.parseInt(x === '' ? '0' : x, a.includes(':') ? 16 : 10));
  const pb = b.split(/[.:]/).map((x) => Number.parseInt(x === '' ? '0' : x, b.includes(':') ? 16 : 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A route as the RIB shows it: the answer's fields, before the kernel's devices are known. */
export type RibRouteLike = Pick<RouteAnswer, 'prefix' | 'family' | 'kind' | 'asPath' | 'communities' | 'largeCommunities' | 'localPref' | 'med' | 'peers'> & {
  readonly nextHops: readonly { readonly via: string; readonly peer: string }[];
  readonly decidedBy: string;
};

export interface FibRouteLike {
  readonly prefix: string;
  readonly nextHops: readonly { readonly via: string; readonly dev?: string; readonly onlink?: boolean }[];
}

/** RIB routes with the kernel's device and onlink flag joined in where the FIB has the route. */
export function routeAnswers(rib: readonly RibRouteLike[], fib: readonly FibRouteLike[]): RouteAnswer[] {
  const byPrefix = new Map(fib.map((r) => [r.prefix, r]));
  return rib.map((r) => {
    const k = byPrefix.get(r.prefix);
    const nextHops = r.nextHops.map((h) => {
      const kh = k?.nextHops.find((x) => x.via === h.via);
      return { via: h.via, peer: h.peer, ...(kh?.dev ? { dev: kh.dev } : {}), ...(kh?.onlink ? { onlink: true } : {}) };
    });
    const { asPath, communities, largeCommunities, localPref, med, peers } = r;
    const detail = { asPath, communities, largeCommunities, localPref, med, peers };
    for (const key of Object.keys(detail) as (keyof typeof detail)[]) if (detail[key] === undefined) delete detail[key];
    return { prefix: r.prefix, family: r.family, kind: r.kind, nextHops, decidedBy: r.decidedBy, ...detail };
  });
}
