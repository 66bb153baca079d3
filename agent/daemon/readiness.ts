/**
 * Start-up convergence and readiness (SPEC.md "Readiness"), as plain data and pure decisions; the
 * clock is injected (every call takes `now` in milliseconds), so every case is a table test.
 * InitialTables is the one owner of "the peer's initial table is complete": the RIB keeps no
 * End-of-RIB bookkeeping of its own (it only ends graceful-restart stale periods, agent/rib/graceful.ts).
 *
 * - A peer that advertised the graceful-restart capability (and we did too) owes End-of-RIB for
 *   every negotiated family (RFC 4724 section 4: advertising the capability, even with no
 *   <AFI, SAFI>, states the intention of generating End-of-RIB after the initial update; section 2
 *   defines the marker per family). Its table of a family is complete at that End-of-RIB, or once
 *   `eorWaitMs` (360 s, the RIB's stale time, FRR's stalepath-time and select-defer-time) passed
 *   since Established: never by quiet, so a ToR slow to send its table after our restart keeps
 *   the previous run's routes in our kernel (until its End-of-RIB, or our restart time).
 * - A peer without the capability sends no End-of-RIB we can count on (one that arrives still
 *   completes its family). Its initial burst is over, for all its families at once, when fewer than
 *   CHURN_PER_SECOND x quietMs / 1000 UPDATEs (10 at the default 5 s) arrived in the last `quietMs`,
 *   and at least `quietMs` has passed since the session came up. The quiet rule (no UPDATE for
 *   `quietMs`) is the case of zero UPDATEs; a ToR whose table changes every couple of seconds
 *   passes it too, while an initial table streams hundreds of UPDATEs a second. Bounded by
 *   CAP_QUIET_FACTOR x quietMs (60 s at the default) after Established, still streaming or not.
 * - A stalled event loop is not a quiet peer: when the ticks themselves were late, messages may be
 *   waiting unread in our sockets, so the counting window starts over and that tick completes
 *   nothing.
 * - Ready (`agentctl wait`, the rollout gate): every enabled peer Established, every established
 *   peer's initial tables complete, the RIB settled (nothing pending, no stale paths), the kernel
 *   in sync.
 * - Start-up convergence (the FIB may delete a previous run's stale routes): every enabled peer
 *   Established, their tables complete and the RIB settled, or the graceful-restart time passed
 *   since start (a peer that never comes back must not pin stale routes forever).
 * Not here: timers (daemon.ts ticks this), the RIB's stale paths.
 */

import { endOfRibFamily } from '../bgp/update.js';
import type { SessionEvent, SessionStatus } from '../contracts/engines.js';
import { type FamilyName, familyOfAfi } from '../bgp/families.js';

/** How often daemon.ts calls `due()`; a tick later than twice this means the loop was stalled. */
export const TICK_MS = 250;
/** A peer without End-of-RIB has sent its initial table once it sends fewer UPDATEs a second than this. */
export const CHURN_PER_SECOND = 2;
/** ... or at the latest this many quiet times after Established. */
export const CAP_QUIET_FACTOR = 12;
/** How long a graceful-restart peer's End-of-RIB is waited for (ms), as the RIB's stale time. */
export const EOR_WAIT_MS = 360_000;

interface PeerProgress {
  /** When the session came up. */
  readonly since: number;
  /** The peer advertised graceful restart: it owes End-of-RIB (RFC 4724 section 4). */
  readonly owesEndOfRib: boolean;
  /** The UPDATE counting window cannot start before this: Established, or the end of a stall. */
  windowStart: number;
  /** UPDATEs counted per tick-long bucket, oldest first: [bucket start, count]. */
  readonly buckets: [number, number][];
  /** Negotiated families whose initial table is not complete yet. */
  readonly waiting: Set<FamilyName>;
}

export type CompletedBy = 'end-of-rib' | 'quiet' | 'churn' | 'cap' | 'end-of-rib-timeout';

export interface TableComplete {
  readonly peer: string;
  readonly family: FamilyName;
  readonly by: CompletedBy;
}

export class InitialTables {
  private readonly peers = new Map<string, PeerProgress>();
  private lastTick: number | undefined;

  constructor(
    private quietMs: number,
    /** How long a graceful-restart peer may take to send End-of-RIB. */
    private readonly eorWaitMs = EOR_WAIT_MS,
  ) {}

  /** A reload may change the quiet time; it applies from the next tick. */
  setQuietTime(ms: number): void {
    this.quietMs = ms;
  }

  /** Follows the session events (the same stream the RIB consumes); names a family End-of-RIB completed. */
  observe(e: SessionEvent, now: number): TableComplete | undefined {
    switch (e.type) {
      case 'established':
        this.peers.set(e.peer.key, {
          since: now,
          // Both sides advertised the capability: End-of-RIB was specified for graceful restart, and
          // some speakers (Quagga's lineage) send it only to a peer that advertised it too.
          owesEndOfRib: e.negotiated.peerGracefulRestart !== undefined && e.negotiated.localGracefulRestart,
          windowStart: now,
          buckets: [],
          waiting: new Set(e.negotiated.families),
        });
        return undefined;
      case 'down':
        this.peers.delete(e.peer.key);
        return undefined;
      case 'update': {
        const p = this.peers.get(e.peer.key);
        if (p === undefined || p.waiting.size === 0) return undefined;
        const eor = endOfRibFamily(e.update);
        if (eor === undefined) {
          if (!p.owesEndOfRib) count(p, now);
          return undefined;
        }
        const family = familyOfAfi(eor.afi);
        return p.waiting.delete(family) ? { peer: e.peer.key, family, by: 'end-of-rib' } : undefined;
      }
      case 'route-refresh':
      case 'refresh-marker':
        return undefined;
    }
  }

  /** Families whose table is complete at `now` without End-of-RIB: each is reported once. */
  due(now: number): TableComplete[] {
    const stalled = this.lastTick !== undefined && now - this.lastTick > 2 * TICK_MS;
    this.lastTick = now;
    const out: TableComplete[] = [];
    for (const [peer, p] of this.peers) {
      if (p.waiting.size === 0) continue;
      if (stalled) {
        p.windowStart = Math.max(p.windowStart, now);
        continue;
      }
      const by = p.owesEndOfRib ? (now - p.since >= this.eorWaitMs ? 'end-of-rib-timeout' : undefined) : this.burstOver(p, now);
      if (by === undefined) continue;
      for (const family of p.waiting) out.push({ peer, family, by });
      p.waiting.clear();
      p.buckets.length = 0;
    }
    return out;
  }

  /** SPEC.md "Readiness" for a peer without End-of-RIB: quiet, steady churn, or the cap. */
  private burstOver(p: PeerProgress, now: number): CompletedBy | undefined {
    const from = now - this.quietMs;
    while (p.buckets.length > 0 && p.buckets[0][0] + TICK_MS <= from) p.buckets.shift();
    if (p.windowStart <= from) {
      let n = 0;
      for (const [at, c] of p.buckets) if (at + TICK_MS > from) n += c;
      if (n === 0) return 'quiet';
      if (n < (CHURN_PER_SECOND * this.quietMs) / 1000) return 'churn';
    }
    return now - p.since >= CAP_QUIET_FACTOR * this.quietMs ? 'cap' : undefined;
  }

  /** Every established peer's initial tables are complete. */
  complete(): boolean {
    for (const p of this.peers.values()) if (p.waiting.size > 0) return false;
    return true;
  }

  /** The peer's initial table of `family` is complete (End-of-RIB, or the rules above); false while not established. */
  tableComplete(peer: string, family: FamilyName): boolean {
    const p = this.peers.get(peer);
    return p !== undefined && !p.waiting.has(family);
  }

  /** For `agentctl peers`: whether the peer's initial table is still coming. */
  waiting(peer: string): readonly FamilyName[] {
    return [...(this.peers.get(peer)?.waiting ?? [])];
  }
}

/** One UPDATE at `now`, in its tick-long bucket. */
function count(p: PeerProgress, now: number): void {
  const at = now - (now % TICK_MS);
  const last = p.buckets[p.buckets.length - 1];
  if (last !== undefined && last[0] === at) last[1]++;
  else p.buckets.push([at, 1]);
}

type SessionView = Pick<SessionStatus, 'state' | 'enabled'>;

/** Every enabled peer Established and the RIB converged: the one definition both decisions use. */
export function ribConverged(sessions: readonly SessionView[], rib: boolean): boolean {
  return rib && sessions.every((s) => !s.enabled || s.state === 'Established');
}

/** `agentctl wait`'s condition (SPEC.md "Exit statuses"). */
export function isReady(sessions: readonly SessionView[], rib: boolean, fibInSync: boolean): boolean {
  return fibInSync && ribConverged(sessions, rib);
}

export type StartupVerdict = 'waiting' | 'converged' | 'restart-time-passed';

/** Whether the previous run's stale kernel routes may go now, and why. */
export function startupVerdict(input: {
  readonly now: number;
  readonly startedAt: number;
  readonly restartTimeMs: number;
  readonly sessions: readonly SessionView[];
  readonly rib: boolean;
}): StartupVerdict {
  if (ribConverged(input.sessions, input.rib)) return 'converged';
  return input.now - input.startedAt >= input.restartTimeMs ? 'restart-time-passed' : 'waiting';
}
