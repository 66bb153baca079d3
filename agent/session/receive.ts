/**
 * A decoded UPDATE on its way from the session to the RIB: the RFC 7606 findings logged, a
 * treat-as-withdraw message turned into withdrawals (RFC 7606 section 2, asWithdrawal in
 * inbound.ts), the AS4 merge on a 2-octet session (RFC 6793 section 4.2.3), and RFC 9774 paths with
 * AS_SET or AS_CONFED_SET (treat-as-withdraw, decided by the codec with reason AS_SET_REASON) and
 * RFC 8950 IPv6 next hops for IPv4 NLRI on a session that did not negotiate the capability
 * (NEXT_HOP_FAMILY_REASON) counted, and logged once per session rather than once per UPDATE.
 * A message rewritten here keeps its `errors`, so endOfRibFamily (agent/bgp/update.ts) never reads
 * it as an End-of-RIB: only an UPDATE that was empty on the wire is one (RFC 4724 section 2).
 * Not here: decoding (agent/bgp), the FSM (session.ts), the RIB.
 */

import { AS_SET_REASON } from '../bgp/attributes.js';
import { mergeAs4 } from '../bgp/as-path.js';
import { isTreatAsWithdraw, NEXT_HOP_FAMILY_REASON, type UpdateMessage } from '../bgp/update.js';
import { asWithdrawal } from './inbound.js';
import type { Logger } from '../contracts/log.js';

/** What the RIB gets for a decoded UPDATE (pure). */
export function receivedUpdate(u: UpdateMessage, fourOctetAs: boolean): UpdateMessage {
  if (isTreatAsWithdraw(u)) return asWithdrawal(u);
  // The merge only matters for what is announced; a message that announces nothing is passed on
  // as received, so stripping AS4_PATH never leaves an empty UPDATE that reads as End-of-RIB.
  const announces = u.nlri.length > 0 || (u.attributes.mpReach?.nlri.length ?? 0) > 0;
  if (!announces) return u;
  const attributes = mergeAs4(u.attributes, fourOctetAs);
  return attributes === u.attributes ? u : { ...u, attributes };
}

/** The findings that are counted (a metric each) and warned about once per session. */
const COUNTED = {
  [AS_SET_REASON]: { key: 'asSetWithdrawn', metric: 'rack_agent_as_set_withdrawn_total' },
  [NEXT_HOP_FAMILY_REASON]: { key: 'nextHopFamilyWithdrawn', metric: 'rack_agent_next_hop_family_withdrawn_total' },
} as const;
type CountedReason = keyof typeof COUNTED;
const isCounted = (reason: string): reason is CountedReason => Object.hasOwn(COUNTED, reason);

/** One peer's intake: the log lines and the counts. One per Session, across connections. */
export class UpdateIntake {
  /** UPDATEs withdrawn for an AS_SET or AS_CONFED_SET since the Session was created. */
  asSetWithdrawn = 0;
  /** UPDATEs withdrawn for an IPv6 next hop on IPv4 NLRI without RFC 8950, since the Session was created. */
  nextHopFamilyWithdrawn = 0;
  private readonly logged = new Set<CountedReason>();

  constructor(
    private readonly log: Logger,
    private readonly peer: string,
  ) {}

  /** A new session (Established): the AS_SET warning may be logged once again. */
  sessionUp(): void {
    this.logged.clear();
  }

  take(u: UpdateMessage, fourOctetAs: boolean): UpdateMessage {
    for (const e of u.errors ?? []) {
      if (isCounted(e.reason)) {
        const c = COUNTED[e.reason];
        this[c.key]++;
        if (this.logged.has(e.reason)) {
          this.log.debug(`treat-as-withdraw: ${e.message}`, { peer: this.peer, reason: e.reason });
          continue;
        }
        this.logged.add(e.reason);
        this.log.warn(`treat-as-withdraw: ${e.message}; further ones on this session are counted (${c.metric}), not logged`, { peer: this.peer, reason: e.reason });
        continue;
      }
      this.log.warn(`${e.action === 'withdraw' ? 'treat-as-withdraw' : 'attribute discarded'}: ${e.message}`, { peer: this.peer, reason: e.reason });
    }
    return receivedUpdate(u, fourOctetAs);
  }
}
