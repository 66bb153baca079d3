/**
 * Graceful restart, receiving side (RFC 4724 section 4.2): when a session that negotiated it goes
 * down, the peer's paths of the preserved families stay (marked stale) while the restart timer
 * runs. Once the session is back, a family is swept of paths not re-learned when its End-of-RIB
 * arrives, at once when the new OPEN no longer preserves it (no capability, or F bit clear), or when
 * the stale timer (staleTime, as FRR's stalepath-time) ends. Timers come from an injected Clock.
 * The RIB does the sweeping; this module decides when.
 */

import type { PeerState } from './peer-state.js';
import { AFI_OF, type FamilyName } from '../bgp/families.js';
import type { Clock } from '../contracts/clock.js';


export class Graceful {
  constructor(
    private readonly clock: Clock,
    /** Seconds a re-established peer has to send End-of-RIB. */
    private readonly staleTime: number,
    /** Removes the stale paths of one family of a peer. */
    private readonly sweep: (ps: PeerState, family: FamilyName) => void,
  ) {}

  /** The session went down with graceful restart for `families`. */
  down(ps: PeerState, families: readonly FamilyName[], restartTime: number): void {
    for (const f of families) ps.stale.add(f);
    this.arm(ps, restartTime);
  }

  /** The session is Established again. */
  reestablished(ps: PeerState): void {
    if (ps.stale.size === 0) return;
    this.cancel(ps);
    const gr = ps.negotiated?.peerGracefulRestart;
    for (const f of [...ps.stale]) {
      const kept = gr?.families.some((x) => x.afi === AFI_OF[f] && x.forwarding) ?? false;
      if (!kept) this.end(ps, f);
    }
    if (ps.stale.size > 0) this.arm(ps, this.staleTime);
  }

  endOfRib(ps: PeerState, family: FamilyName): void {
    if (!ps.stale.has(family)) return;
    this.end(ps, family);
    if (ps.stale.size === 0) this.cancel(ps);
  }

  cancel(ps: PeerState): void {
    if (ps.staleTimer !== undefined) this.clock.clearTimeout(ps.staleTimer);
    ps.staleTimer = undefined;
  }

  private end(ps: PeerState, family: FamilyName): void {
    ps.stale.delete(family);
    this.sweep(ps, family);
  }

  private arm(ps: PeerState, seconds: number): void {
    this.cancel(ps);
    ps.staleTimer = this.clock.setTimeout(() => {
      ps.staleTimer = undefined;
      for (const f of [...ps.stale]) this.end(ps, f);
    }, seconds * 1000);
  }
}
