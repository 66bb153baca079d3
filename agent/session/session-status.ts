/**
 * What a session reports: its message counters by type (RFC 4271 section 4.1: OPEN, UPDATE,
 * NOTIFICATION, KEEPALIVE; RFC 2918 ROUTE-REFRESH), one set each way, and the SessionStatus
 * snapshot `agentctl status` and the metrics read, built from the session's parts. Pure but for
 * the counters it increments. Not here: who counts (session.ts, transport.ts), the rendering.
 */

import type { MessageCounts, Negotiated, PeerSpec, SessionStatus } from '../contracts/engines.js';
import { keepaliveSeconds, type FsmData } from './fsm.js';
import { capabilityNames } from './inbound.js';

export type Counts = Record<keyof MessageCounts, number>;

const COUNT_KEY: Record<number, keyof MessageCounts> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' };

export const zeroCounts = (): Counts => ({ open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 });

/** One message of `type` (the header's type octet); unknown types are not counted. */
export function countMessage(counts: Counts, type: number, n = 1): void {
  const key = COUNT_KEY[type];
  if (key) counts[key] += n;
}

export interface StatusParts {
  readonly spec: PeerSpec;
  readonly fsm: FsmData;
  readonly negotiated: Negotiated | undefined;
  readonly since: number;
  readonly lastError: string;
  readonly counts: { readonly in: Counts; readonly out: Counts };
  readonly sendHoldExpired: number;
  readonly asSetWithdrawn: number;
  readonly nextHopFamilyWithdrawn: number;
}

export function sessionStatus(p: StatusParts): SessionStatus {
  const { spec, fsm, negotiated: n } = p;
  return {
    key: spec.key,
    ...(spec.interface ? { address: spec.interface, linkLocal: spec.address.replace(/%.*$/, '') } : { address: spec.address }),
    family: spec.family,
    type: spec.type,
    peerAs: n ? n.peerAs : spec.peerAs,
    state: fsm.state,
    since: p.since,
    lastError: p.lastError,
    enabled: !fsm.adminDown,
    messagesIn: { ...p.counts.in },
    messagesOut: { ...p.counts.out },
    capabilities: n && fsm.state === 'Established' ? capabilityNames(n) : [],
    holdTime: n ? n.holdTime : spec.holdTime,
    keepaliveTime: n ? (n.holdTime === 0 ? 0 : keepaliveSeconds(fsm.config, n.holdTime)) : spec.keepaliveTime,
    maxPrefixes: spec.maxPrefixes,
    sendHoldExpired: p.sendHoldExpired,
    asSetWithdrawn: p.asSetWithdrawn,
    nextHopFamilyWithdrawn: p.nextHopFamilyWithdrawn,
  };
}
