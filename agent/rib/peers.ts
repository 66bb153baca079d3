/**
 * The RIB's peers: a PeerState per peer key while the peer has a session or stale paths, a
 * session's coming up and going down, and the sweeping of a peer's paths out of the Loc-RIB.
 * Down without graceful restart flushes the peer's paths; down with it (RFC 4724 section 4.2)
 * keeps the preserved families' paths, stale, and graceful.ts decides when they go. An enhanced
 * route refresh in progress (refresh-stale.ts, RFC 7313 section 4) ends with the session.
 * A peer over its maxPrefixes is ignored until its next session (the owner sends the Cease).
 * Not here: what a peer sends (adj-in.ts) or is sent (outbound.ts), or scheduling the flush.
 */

import { addressRank } from './decision.js';
import { Graceful } from './graceful.js';
import type { LocRib } from './loc-rib.js';
import type { DropMode } from './path-set.js';
import { makeSource, type Path } from './path.js';
import { PeerState } from './peer-state.js';
import { addressBytes } from './policy.js';
import { RefreshStale, type RefreshReport } from './refresh-stale.js';
import { UpdateGroups } from './update-group.js';
import { FAMILIES, type FamilyName } from '../bgp/families.js';
import type { Negotiated, PeerSpec } from '../contracts/engines.js';
import type { Clock } from '../contracts/clock.js';


/** What a session's down event says of graceful restart (null: none, flush). */
export type DownRestart = { readonly restartTime: number; readonly families: readonly FamilyName[] } | null;

export class RibPeers {
  private readonly map = new Map<string, PeerState>();
  readonly graceful: Graceful;
  readonly refreshing: RefreshStale;
  /** The update groups of the peers with a session (update-group.ts). */
  readonly groups = new UpdateGroups();

  constructor(
    private readonly loc: LocRib,
    clock: Clock,
    staleTime: number,
    onRefresh: ((peerKey: string, r: RefreshReport) => void) | undefined,
    initialTableComplete: (peerKey: string, family: FamilyName) => boolean,
  ) {
    this.graceful = new Graceful(clock, staleTime, (ps, family) => void this.sweep(ps, family, 'stale'));
    const report = (ps: PeerState, r: RefreshReport): void => onRefresh?.(ps.spec.key, r);
    this.refreshing = new RefreshStale(clock, staleTime, (ps, family) => this.sweep(ps, family, 'refresh'), () => this.loc.staleChanged(), report,
      initialTableComplete);
  }

  get(key: string): PeerState | undefined {
    return this.map.get(key);
  }

  values(): IterableIterator<PeerState> {
    return this.map.values();
  }

  /** Peers with a session that are not ignored: who is sent what changed. */
  live(): PeerState[] {
    return [...this.map.values()].filter((ps) => ps.established && !ps.limitHit);
  }

  /** Some restarting peer still has stale paths (RFC 4724 section 4.2). */
  anyStale(): boolean {
    for (const ps of this.map.values()) if (ps.stale.size > 0) return true;
    return false;
  }

  /** A session reached Established. */
  up(spec: PeerSpec, negotiated: Negotiated): void {
    const source = makeSource({
      key: spec.key,
      address: spec.address,
      external: !spec.internal,
      client: spec.routeReflectorClient,
      bgpId: negotiated.peerId,
      addressRank: addressRank(addressBytes(spec.address)),
    });
    let ps = this.map.get(spec.key);
    if (ps === undefined) this.map.set(spec.key, (ps = new PeerState(spec, source)));
    this.refreshing.abort(ps);
    if (ps.established) this.sweepAll(ps, 'all'); // a new session without a down: start afresh
    ps.spec = spec;
    ps.source = source;
    ps.resetSession();
    this.groups.leave(spec.key, ps.group);
    ps.group = this.groups.join(spec.key, spec, negotiated);
    ps.negotiated = negotiated;
    ps.established = true;
    this.graceful.reestablished(ps);
  }

  /** A session went down. */
  down(spec: PeerSpec, gr: DownRestart): void {
    const ps = this.map.get(spec.key);
    if (ps === undefined) return;
    ps.established = false;
    ps.negotiated = null;
    ps.resetSession();
    this.groups.leave(spec.key, ps.group);
    ps.group = null;
    // A refresh in progress ends with the session; what it had marked is the peer's like the rest.
    const marked = this.refreshing.abort(ps);
    if (gr !== null && ps.accepted > 0) {
      // RFC 4724 section 4.2: keep the preserved families' routes, stale, for the restart time.
      for (const p of ps.paths.values()) p.stale = true;
      for (const p of marked) p.stale = true;
      ps.paths.clear();
      this.loc.staleChanged();
      this.graceful.down(ps, gr.families, gr.restartTime);
      for (const f of FAMILIES) if (!gr.families.includes(f)) this.sweep(ps, f, 'all');
      return;
    }
    this.graceful.cancel(ps);
    ps.stale.clear();
    this.sweepAll(ps, 'all');
    this.map.delete(spec.key);
  }

  /** More than maxPrefixes accepted: the peer's routes go and it is ignored until its next session. */
  ignore(ps: PeerState): void {
    ps.limitHit = true;
    this.refreshing.abort(ps);
    this.sweepAll(ps, 'all');
  }

  /** Removes a peer's paths of one family that `mode` picks (all, GR-stale, refresh-stale); returns how many. */
  sweep(ps: PeerState, family: FamilyName, mode: DropMode): number {
    const dropped = ps.accepted > 0 ? this.loc.dropPeer(family, ps.spec.key, mode) : 0;
    ps.accepted -= dropped;
    if (!ps.established && ps.stale.size === 0 && this.map.get(ps.spec.key) === ps) this.map.delete(ps.spec.key);
    return dropped;
  }

  sweepAll(ps: PeerState, mode: DropMode): void {
    for (const f of FAMILIES) this.sweep(ps, f, mode);
  }

  /** After a mark and sweep of the Loc-RIB: each peer forgets paths no longer in use. */
  forget(live: ReadonlySet<Path>): void {
    for (const ps of this.map.values()) ps.forget(live);
    this.groups.forget(live);
  }

  /** Stops every timer. */
  close(): void {
    for (const ps of this.map.values()) {
      this.graceful.cancel(ps);
      this.refreshing.abort(ps);
    }
  }
}
