/**
 * Start-up convergence and readiness (SPEC.md "Readiness"), as plain data and pure decisions; the
 * clock is injected (every call takes `now` in milliseconds), so every case is a table test.
 *
 * - A peer's initial table is complete per family at its End-of-RIB (RFC 4724 section 2), or, for a
 *   peer that sends none (no graceful restart, FRR's `disable-eor`, many ToRs), once it has sent no
 *   UPDATE for `quietMs` since it came up or since its last UPDATE. `due()` names the families
 *   whose table became complete by quiet; the RIB is told, exactly as if End-of-RIB had arrived.
 * - A peer that restarts (its OPEN has the graceful-restart R bit, RFC 4724 section 4.1) may stay
 *   silent a long time before its first UPDATE (BIRD in recovery waits for its own convergence):
 *   until that first UPDATE the quiet rule waits `restartingMs` (the RIB's stale time), so the
 *   routes it is about to re-send are never swept by our impatience. Once it sends, the usual
 *   quiet rule applies (FRR sets the R bit on every fresh start, `disable-eor` or not).
 * - A stalled event loop is not a quiet peer: when the ticks themselves were late, messages may be
 *   waiting unread in our sockets, so the quiet period starts over.
 * - Ready (`agentctl wait`, the rollout gate): every enabled peer Established, the RIB converged
 *   (every established peer's table complete, nothing pending), the kernel in sync.
 * - Start-up convergence (the FIB may delete a previous run's stale routes): every enabled peer
 *   Established and the RIB converged, or the graceful-restart time passed since start (a peer that
 *   never comes back must not pin stale routes forever).
 * Not here: timers (main.ts ticks this), the RIB's bookkeeping of End-of-RIB and stale paths.
 */

import { endOfRibFamily } from './bgp/update.js';
import type { SessionEvent, SessionStatus } from './session/events.js';
import type { FamilyName } from './session/negotiate.js';

/** How often main.ts calls `due()`; a tick later than twice this means the loop was stalled. */
export const TICK_MS = 250;

interface PeerProgress {
  /** When the session came up, or when its last UPDATE (not an End-of-RIB) arrived. */
  lastActivity: number;
  /** The peer is restarting (R bit) and has sent no UPDATE yet: it may be in its own recovery. */
  recovering: boolean;
  /** Negotiated families whose initial table is not complete yet. */
  readonly waiting: Set<FamilyName>;
}

export interface TableComplete {
  readonly peer: string;
  readonly family: FamilyName;
}

export class InitialTables {
  private readonly peers = new Map<string, PeerProgress>();
  private lastTick: number | undefined;

  constructor(
    private quietMs: number,
    /** How long a restarting peer may stay silent before its table counts as complete anyway. */
    private readonly restartingMs = 360_000,
  ) {}

  /** A reload may change the quiet time; it applies from the next tick. */
  setQuietTime(ms: number): void {
    this.quietMs = ms;
  }

  /** Follows the session events (the same stream the RIB consumes); names a family End-of-RIB completed. */
  observe(e: SessionEvent, now: number): TableComplete | undefined {
    switch (e.type) {
      case 'established':
        this.peers.set(e.peer.key, { lastActivity: now, recovering: e.negotiated.peerGracefulRestart?.restarting === true, waiting: new Set(e.negotiated.families) });
        return undefined;
      case 'down':
        this.peers.delete(e.peer.key);
        return undefined;
      case 'update': {
        const p = this.peers.get(e.peer.key);
        if (p === undefined || p.waiting.size === 0) return undefined;
        const eor = endOfRibFamily(e.update);
        if (eor === undefined) {
          p.lastActivity = now;
          p.recovering = false;
          return undefined;
        }
        const family: FamilyName = eor.afi === 1 ? 'ipv4' : 'ipv6';
        return p.waiting.delete(family) ? { peer: e.peer.key, family } : undefined;
      }
      case 'route-refresh':
      case 'refresh-marker':
        return undefined;
    }
  }

  /** Families whose table is complete by quiet at `now`: each is reported once. */
  due(now: number): TableComplete[] {
    const stalled = this.lastTick !== undefined && now - this.lastTick > 2 * TICK_MS;
    this.lastTick = now;
    const out: TableComplete[] = [];
    for (const [peer, p] of this.peers) {
      if (p.waiting.size === 0) continue;
      if (stalled) p.lastActivity = Math.max(p.lastActivity, now);
      if (now - p.lastActivity < (p.recovering ? Math.max(this.quietMs, this.restartingMs) : this.quietMs)) continue;
      for (const family of p.waiting) out.push({ peer, family });
      p.waiting.clear();
    }
    return out;
  }

  /** For `agentctl peers`: whether the peer's initial table is still coming. */
  waiting(peer: string): readonly FamilyName[] {
    return [...(this.peers.get(peer)?.waiting ?? [])];
  }
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
