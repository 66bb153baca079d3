/**
 * Enhanced route refresh, receiving side (RFC 7313 section 4). At a peer's BoRR for a family its
 * paths of that family are marked refresh-stale; a path the peer re-advertises before EoRR is a new
 * Path object without the mark (the RIB interns it afresh, as after a graceful restart); at EoRR the
 * paths still marked are purged. RFC 7313 lets an implementation bound how long it keeps them
 * ("MAY impose a locally configurable upper bound"): we purge them when no EoRR came within
 * staleTime seconds (the RIB's staleTime, 360 s by default, as FRR's stalepath-time, which FRR uses
 * for this timer too). A BoRR while a refresh is in progress marks everything again and restarts
 * the timer. An EoRR without a BoRR is ignored (section 4: MAY ignore, SHOULD log). A BoRR from a
 * peer that sent the Graceful Restart capability, before its End-of-RIB of the family, is ignored
 * (section 4: MUST ignore).
 * The graceful-restart mark (`Path.stale`, graceful.ts) is separate: paths kept from a previous
 * session are not in the peer's intern map, so a BoRR never marks them and an EoRR never purges
 * them; their own End-of-RIB or stale timer does. A session that goes down mid-refresh ends the
 * refresh (abort): its marks are cleared and the down handling (flush, or graceful restart) decides.
 * The RIB does the sweeping; this module marks and decides when. Timers come from an injected Clock.
 */

import type { Path } from './path.js';
import type { PeerState, Refreshing } from './peer-state.js';
import type { FamilyName } from '../bgp/families.js';
import type { Clock } from '../contracts/clock.js';

/**
 * What happened, for the owner's log (agent/daemon/daemon.ts logs it at info). `paths`: interned paths
 * marked (one per attribute set and next hop, not per prefix); `purged`: routes (prefix paths) removed.
 */
export type RefreshReport =
  | { readonly what: 'begin'; readonly family: FamilyName; readonly paths: number; readonly restarted: boolean }
  | { readonly what: 'end' | 'timeout'; readonly family: FamilyName; readonly purged: number }
  | { readonly what: 'ignored'; readonly family: FamilyName; readonly reason: 'EoRR without BoRR' | 'BoRR before End-of-RIB' };

const AFI_PREFIX: Record<FamilyName, string> = { ipv4: '1|', ipv6: '2|' };

export class RefreshStale {
  constructor(
    private readonly clock: Clock,
    /** Seconds to wait for EoRR after BoRR before purging anyway. */
    private readonly staleTime: number,
    /** Removes the refresh-stale paths of one family of a peer; returns how many went. */
    private readonly sweep: (ps: PeerState, family: FamilyName) => number,
    /** Marks changed: memoised peer drops no longer hold (LocRib.staleChanged). */
    private readonly marksChanged: () => void,
    private readonly report: (ps: PeerState, r: RefreshReport) => void = () => undefined,
    /** The peer's initial table of the family is complete (End-of-RIB came: agent/daemon/readiness.ts). */
    private readonly initialTableComplete: (peerKey: string, family: FamilyName) => boolean = () => true,
  ) {}

  /** BoRR for `family` (RFC 7313 section 4). */
  begin(ps: PeerState, family: FamilyName): void {
    // Section 4: a peer that advertised graceful restart sends no BoRR before its End-of-RIB.
    if (ps.negotiated?.peerGracefulRestart != null && !this.initialTableComplete(ps.spec.key, family)) {
      this.report(ps, { what: 'ignored', family, reason: 'BoRR before End-of-RIB' });
      return;
    }
    const prev = ps.refreshing.get(family);
    if (prev !== undefined) this.clock.clearTimeout(prev.timer);
    const r: Refreshing = prev ?? { marked: [], timer: undefined };
    // Interned paths are shared by every prefix they carry, so the mark goes on the Path and the
    // Path leaves the intern map: a re-advertised prefix gets a fresh, unmarked Path.
    const prefix = AFI_PREFIX[family];
    for (const [key, p] of ps.paths) {
      if (!key.startsWith(prefix)) continue;
      p.refreshStale = true;
      r.marked.push(p);
      ps.paths.delete(key);
    }
    r.timer = this.clock.setTimeout(() => this.finish(ps, family, 'timeout'), this.staleTime * 1000);
    ps.refreshing.set(family, r);
    this.marksChanged();
    this.report(ps, { what: 'begin', family, paths: r.marked.length, restarted: prev !== undefined });
  }

  /** EoRR for `family`: the paths still marked go. */
  end(ps: PeerState, family: FamilyName): void {
    if (!ps.refreshing.has(family)) {
      this.report(ps, { what: 'ignored', family, reason: 'EoRR without BoRR' });
      return;
    }
    this.finish(ps, family, 'end');
  }

  /**
   * The session ended (or restarted) mid-refresh: timers stop, marks are cleared. Returns the
   * paths that were marked (no longer in the intern map), for a graceful-restart down to keep.
   */
  abort(ps: PeerState): Path[] {
    if (ps.refreshing.size === 0) return [];
    const out: Path[] = [];
    for (const r of ps.refreshing.values()) {
      this.clock.clearTimeout(r.timer);
      for (const p of r.marked) p.refreshStale = false;
      out.push(...r.marked);
    }
    ps.refreshing.clear();
    this.marksChanged();
    return out;
  }

  private finish(ps: PeerState, family: FamilyName, what: 'end' | 'timeout'): void {
    const r = ps.refreshing.get(family);
    if (r === undefined) return;
    this.clock.clearTimeout(r.timer);
    ps.refreshing.delete(family);
    const purged = this.sweep(ps, family);
    this.report(ps, { what, family, purged });
  }
}
