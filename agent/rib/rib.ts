/**
 * The RIB (RFC 4271 section 9): consumes SessionEvents, keeps every accepted path per prefix (the
 * Adj-RIBs-In of all peers merged into the Loc-RIB, loc-rib.ts: a prefix holds one interned
 * PathSet whose paths know their peer), and once per tick (the injected scheduler) emits what
 * changed: RibChange batches for the FIB and, per peer, its outbound stream (UPDATEs grouped by
 * exported attribute set, End-of-RIB, BoRR/EoRR). Import policy is policy.ts, export export.ts and outbound.ts.
 * Output contract (RibSink):
 * - `changes(batch)`: prefixes whose best set differs from the last tick (best first; empty =
 *   gone), in batches of at most `chunk`. A path replaced by an equal one (graceful-restart
 *   re-learn) is no change. The best arrays are shared and frozen: read, never keep-and-mutate.
 * - `outbound(peer, item)`: the peer's outbound stream (OutboundItem, types.ts), to be sent in
 *   exactly this order. UPDATEs (pack with packUpdates(u, negotiated.encode); several per tick when
 *   large); after the initial feed of each family its End-of-RIB (RFC 4724 section 2); a route
 *   refresh is the family's whole export again, between BoRR and EoRR when enhanced route refresh
 *   was negotiated (RFC 7313 section 4), bare otherwise (RFC 2918). Changes that were pending when
 *   the refresh was asked for go out before its BoRR. The RIB answers on its flush, never from
 *   inside the session's event: the stream carries the markers so nobody has to guess when.
 * - `limitExceeded(peer, limit, count)`: more than maxPrefixes accepted paths; the peer's routes are
 *   already gone and it is ignored until its next session: send Cease subcode 1 (RFC 4486).
 * Graceful restart timing is graceful.ts; a peer's enhanced route refresh (BoRR/EoRR, RFC 7313
 * section 4) is refresh-stale.ts; route listings are rib-view.ts.
 * Not here: sockets, netlink, encoding.
 */

import { formatPrefix, parsePrefix, type Prefix } from '../bgp/prefix.js';
import { endOfRibFamily, type UpdateMessage } from '../bgp/update.js';
import type { SessionEvent } from '../session/events.js';
import type { FamilyName, Negotiated } from '../session/negotiate.js';
import type { PeerSpec } from '../session/peer.js';
import { systemClock, type Clock } from '../session/timers.js';
import { addressRank } from './decision.js';
import { RibError } from './errors.js';
import type { ExportNode } from './export.js';
import { Graceful } from './graceful.js';
import { exportChange, feed, OutboundBuilder } from './outbound.js';
import { LocRib } from './loc-rib.js';
import type { DropMode } from './path-set.js';
import { makeSource, Path, storedAttributes, type AttrEntry } from './path.js';
import { PeerState } from './peer-state.js';
import { RefreshStale, type RefreshReport } from './refresh-stale.js';
import { addressBytes, checkAttributes, checkPrefix, covers, importContext, prefixKey, type ImportContext, type ImportReason } from './policy.js';
import { routesOf, type RibRoute } from './rib-view.js';
import type { OutboundItem, RibChange, RibPath } from './types.js';

export interface RibSink {
  changes(batch: readonly RibChange[]): void;
  outbound(peerKey: string, item: OutboundItem): void;
  limitExceeded(peerKey: string, limit: number, count: number): void;
}

export interface RibOptions {
  readonly node: ExportNode;
  /** Enabled pools (CIDR text). */
  readonly pools: readonly string[];
  /** Most paths in an ECMP set (bgp.multipath); default 8. */
  readonly multipath?: number;
  readonly sink: RibSink;
  /** Runs the flush later, after the current batch of events; default setImmediate. */
  readonly schedule?: (fn: () => void) => void;
  readonly clock?: Clock;
  /**
   * Seconds a restarted peer has to send End-of-RIB once back, and a refreshing peer to send EoRR
   * after its BoRR (default 360, as FRR's stalepath-time for both).
   */
  readonly staleTime?: number;
  /**
   * Whether the peer's initial table of `family` is complete (agent/daemon/readiness.ts InitialTables, the
   * one owner of End-of-RIB): a graceful-restart peer's BoRR before it is ignored (RFC 7313 s4).
   * Default: always.
   */
  readonly initialTableComplete?: (peerKey: string, family: FamilyName) => boolean;
  /** An enhanced route refresh of a peer began, ended, timed out or was ignored (for the log). */
  readonly onRefresh?: (peerKey: string, r: RefreshReport) => void;
  /** Most prefixes per OutboundUpdate and per RibChange batch (default 10,000). */
  readonly chunk?: number;
}

function parseBlock(text: string): Prefix {
  try {
    return parsePrefix(text);
  } catch (err) {
    throw new RibError('RIB_BAD_PREFIX', `bad prefix ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

export const FAMILIES: readonly FamilyName[] = ['ipv4', 'ipv6'];

function equivalent(a: RibPath, b: RibPath): boolean {
  return a === b || (a.peer === b.peer && a.pathId === b.pathId && a.nextHop === b.nextHop && a.nextHopLinkLocal === b.nextHopLinkLocal && a.attributes === b.attributes);
}

export function sameBest(a: readonly RibPath[], b: readonly RibPath[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equivalent(a[i], b[i])) return false;
  return true;
}

export class Rib {
  private readonly loc: LocRib;
  private readonly peers = new Map<string, PeerState>();
  private readonly local: Record<FamilyName, Path>;
  private readonly localBlocks = new Map<string | number, Prefix>();
  private policy: ImportContext;
  private scheduled = false;
  private closed = false;
  /** Inside flush(): events wait in `deferred`, table changes are refused. */
  private flushing = false;
  private readonly deferred: SessionEvent[] = [];
  private readonly schedule: (fn: () => void) => void;
  private readonly chunk: number;
  private readonly graceful: Graceful;
  private readonly refreshing: RefreshStale;
  private nextSendId = 1;
  private nextUid = 1;

  constructor(private readonly opts: RibOptions) {
    const n = opts.node;
    opts.pools.forEach(parseBlock); // a bad pool is a RibError before anything is built
    this.loc = new LocRib(opts.multipath ?? 8, () => this.kick());
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
    this.chunk = opts.chunk ?? 10_000;
    this.policy = importContext({ pools: opts.pools, blocks: [], routerId: n.routerId, clusterId: n.clusterId, localAs: n.asNumber });
    const source = makeSource({ key: 'local', address: '', external: false, client: false, bgpId: n.routerId, addressRank: '' });
    const entry = this.loc.attrs.intern({ origin: 0, asPath: [] });
    this.local = {
      ipv4: new Path(source, 0, '', '', entry, 'local4', this.nextSendId++, this.nextUid++),
      ipv6: new Path(source, 0, '', '', entry, 'local6', this.nextSendId++, this.nextUid++),
    };
    const clock = opts.clock ?? systemClock;
    this.graceful = new Graceful(clock, opts.staleTime ?? 360, (ps, family) => void this.sweep(ps, family, 'stale'));
    const report = (ps: PeerState, r: RefreshReport): void => opts.onRefresh?.(ps.spec.key, r);
    this.refreshing = new RefreshStale(clock, opts.staleTime ?? 360, (ps, family) => this.sweep(ps, family, 'refresh'), () => this.loc.staleChanged(), report,
      opts.initialTableComplete ?? (() => true));
  }

  /** Consumes one session event; cheap per prefix, the output waits for the flush. */
  handle(e: SessionEvent): void {
    if (this.closed) return;
    if (this.flushing) {
      // A sink callback made a session emit (say, a write failed and it went down): after the flush.
      this.deferred.push(e);
      return;
    }
    switch (e.type) {
      case 'established':
        return this.established(e.peer, e.negotiated);
      case 'update': {
        const ps = this.peers.get(e.peer.key);
        if (ps !== undefined && ps.established && !ps.limitHit) this.update(ps, e.update);
        return;
      }
      case 'route-refresh': {
        const ps = this.peers.get(e.peer.key);
        if (ps?.established && ps.carries(e.family)) {
          ps.refresh.add(e.family);
          this.kick();
        }
        return;
      }
      case 'refresh-marker': {
        const ps = this.peers.get(e.peer.key);
        if (ps === undefined || !ps.established || ps.limitHit || !ps.carries(e.family)) return;
        if (e.marker === 'begin') this.refreshing.begin(ps, e.family);
        else this.refreshing.end(ps, e.family);
        return;
      }
      case 'down':
        return this.down(e.peer, e.gracefulRestart);
    }
  }

  private established(spec: PeerSpec, negotiated: Negotiated): void {
    const source = makeSource({
      key: spec.key,
      address: spec.address,
      external: !spec.internal,
      client: spec.routeReflectorClient,
      bgpId: negotiated.peerId,
      addressRank: addressRank(addressBytes(spec.address)),
    });
    let ps = this.peers.get(spec.key);
    if (ps === undefined) this.peers.set(spec.key, (ps = new PeerState(spec, source)));
    this.refreshing.abort(ps);
    if (ps.established) this.sweepAll(ps, 'all'); // a new session without a down: start afresh
    ps.spec = spec;
    ps.source = source;
    ps.resetSession();
    ps.negotiated = negotiated;
    ps.established = true;
    this.graceful.reestablished(ps);
    this.kick();
  }

  private down(spec: PeerSpec, gr: { readonly restartTime: number; readonly families: readonly FamilyName[] } | null): void {
    const ps = this.peers.get(spec.key);
    if (ps === undefined) return;
    ps.established = false;
    ps.negotiated = null;
    ps.resetSession();
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
    this.peers.delete(spec.key);
  }

  private update(ps: PeerState, u: UpdateMessage): void {
    const eor = endOfRibFamily(u);
    // RFC 4724 section 4.2: End-of-RIB ends the stale period of the family. Whether the initial
    // table is complete (readiness) is agent/daemon/readiness.ts's, which follows the same events.
    if (eor !== undefined) return this.graceful.endOfRib(ps, eor.afi === 1 ? 'ipv4' : 'ipv6');
    const a = u.attributes;
    for (const p of u.withdrawn) this.withdraw(ps, p);
    const un = a.mpUnreach;
    if (un !== undefined && un.raw === undefined) for (const p of un.withdrawn) this.withdraw(ps, p);
    const mp = a.mpReach !== undefined && a.mpReach.raw === undefined && a.mpReach.nlri.length > 0 ? a.mpReach : undefined;
    if (u.nlri.length === 0 && mp === undefined) return;
    const stored = storedAttributes(a);
    const refused = checkAttributes(stored, !ps.spec.internal, this.policy);
    if (u.nlri.length > 0) this.announceAll(ps, u.nlri, stored, refused, a.nextHop ?? '', '');
    if (mp !== undefined) this.announceAll(ps, mp.nlri, stored, refused, mp.nextHops[0] ?? '', mp.nextHops[1] ?? '');
    const limit = ps.spec.maxPrefixes;
    if (limit > 0 && ps.accepted > limit) {
      const count = ps.accepted;
      ps.limitHit = true;
      this.refreshing.abort(ps);
      this.sweepAll(ps, 'all');
      this.opts.sink.limitExceeded(ps.spec.key, limit, count);
    }
  }

  /** One UPDATE's NLRI of one family: the path is interned once (per path id), not per prefix. */
  private announceAll(ps: PeerState, nlri: readonly Prefix[], stored: UpdateMessage['attributes'], refused: ImportReason | null, nextHop: string, linkLocal: string): void {
    let entry: AttrEntry | undefined;
    let path0: Path | undefined;
    let byId: Map<number, Path> | undefined;
    // A route without a next hop cannot be forwarded (the session should not hand one over).
    const bad = refused ?? (nextHop === '' ? 'no-next-hop' : null);
    for (const p of nlri) {
      const pathId = p.pathId ?? 0;
      if (bad !== null || checkPrefix(p, this.policy) !== null) {
        ps.rejected.add(`${prefixKey(p)}#${pathId}`);
        if (this.loc.remove(p, ps.spec.key)) ps.accepted--;
        continue;
      }
      if (ps.rejected.size > 0) ps.rejected.delete(`${prefixKey(p)}#${pathId}`);
      entry ??= this.loc.attrs.intern(stored);
      let path: Path | undefined = pathId === 0 ? path0 : byId?.get(pathId);
      if (path === undefined) {
        path = this.intern(ps, p.afi, pathId, nextHop, linkLocal, entry);
        if (pathId === 0) path0 = path;
        else (byId ??= new Map()).set(pathId, path);
      }
      ps.accepted += this.loc.put(p, path);
    }
  }

  private intern(ps: PeerState, afi: number, pathId: number, nextHop: string, linkLocal: string, entry: AttrEntry): Path {
    const key = `${afi}|${pathId}|${nextHop}|${linkLocal}|${entry.id}`;
    let path = ps.paths.get(key);
    if (path === undefined) {
      let sendId = ps.sendIds.get(pathId);
      if (sendId === undefined) ps.sendIds.set(pathId, (sendId = this.nextSendId++ >>> 0));
      path = new Path(ps.source, pathId, nextHop, linkLocal, entry, key, sendId, this.nextUid++);
      ps.paths.set(key, path);
    }
    return path;
  }

  private withdraw(ps: PeerState, p: Prefix): void {
    if (ps.rejected.size > 0 && ps.rejected.delete(`${prefixKey(p)}#${p.pathId ?? 0}`)) return;
    if (this.loc.remove(p, ps.spec.key)) ps.accepted--;
  }

  /** Removes a peer's paths of one family that `mode` picks (all, GR-stale, refresh-stale); returns how many. */
  private sweep(ps: PeerState, family: FamilyName, mode: DropMode): number {
    const dropped = ps.accepted > 0 ? this.loc.dropPeer(family, ps.spec.key, mode) : 0;
    ps.accepted -= dropped;
    if (!ps.established && ps.stale.size === 0 && this.peers.get(ps.spec.key) === ps) this.peers.delete(ps.spec.key);
    return dropped;
  }

  private sweepAll(ps: PeerState, mode: DropMode): void {
    for (const f of FAMILIES) this.sweep(ps, f, mode);
  }

  private kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Emits what changed since the last flush; runs from the scheduler, callable directly. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      this.emit();
    } finally {
      this.flushing = false;
    }
    const deferred = this.deferred.splice(0);
    for (const e of deferred) this.handle(e);
  }

  private emit(): void {
    this.scheduled = false;
    if (this.closed) return;
    const { node, sink } = this.opts;
    const live = [...this.peers.values()].filter((ps) => ps.established && !ps.limitHit);
    const targets = live.filter((ps) => ps.fed).map((ps) => ({ ps, out: this.builder(ps) }));
    let changes: RibChange[] = [];
    const to: Record<FamilyName, typeof targets> = {
      ipv4: targets.filter((x) => x.ps.carries('ipv4')),
      ipv6: targets.filter((x) => x.ps.carries('ipv6')),
    };
    this.loc.drain((family, prefix, old, now) => {
      if (sameBest(old.best, now.best)) return;
      changes.push({ prefix, best: now.best, old: old.best });
      for (const x of to[family]) exportChange(x.ps, node, family, prefix, old.best, now.best, x.out);
      if (changes.length >= this.chunk) {
        sink.changes(changes); // a million-prefix flush stays a stream of modest batches
        changes = [];
      }
    });
    if (changes.length > 0) sink.changes(changes);
    for (const x of targets) x.out.flush();
    for (const ps of live) {
      const send = (item: OutboundItem): void => sink.outbound(ps.spec.key, item);
      if (!ps.fed) {
        // The initial feed answers any refresh asked for before it.
        ps.fed = true;
        ps.refresh.clear();
        for (const f of ps.negotiated?.families ?? []) {
          feed(ps, node, this.loc.table(f), f, this.builder(ps));
          send({ kind: 'end-of-rib', family: f });
        }
        continue;
      }
      const families = [...ps.refresh];
      ps.refresh.clear();
      // RFC 7313 section 4: BoRR before the re-advertisement, EoRR after it; the peer drops at EoRR
      // whatever of ours it did not see in between.
      const enhanced = ps.negotiated?.enhancedRouteRefresh === true;
      for (const f of families) {
        if (enhanced) send({ kind: 'begin-refresh', family: f });
        feed(ps, node, this.loc.table(f), f, this.builder(ps));
        if (enhanced) send({ kind: 'end-refresh', family: f });
      }
    }
    if (this.loc.collectDue()) this.collect();
  }

  private builder(ps: PeerState): OutboundBuilder {
    const key = ps.spec.key;
    return new OutboundBuilder((update) => this.opts.sink.outbound(key, { kind: 'update', update }), this.chunk);
  }

  /** Mark and sweep: forgets path sets, paths and attribute sets nothing uses any more. */
  collect(): void {
    const live = this.loc.collect([this.local.ipv4, this.local.ipv6]);
    if (live !== undefined) for (const ps of this.peers.values()) ps.forget(live);
  }

  /** The node's own blocks, announced with peer 'local'; reload-safe (only the difference acts). */
  setLocalBlocks(blocks: readonly string[]): { added: string[]; removed: string[] } {
    this.notFlushing('setLocalBlocks');
    const want = new Map<string | number, Prefix>();
    for (const b of blocks) {
      const p = parseBlock(b); // throws before anything changed
      want.set(prefixKey(p), p);
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const [k, p] of this.localBlocks) {
      if (want.has(k)) continue;
      this.localBlocks.delete(k);
      removed.push(formatPrefix(p));
      this.loc.remove(p, 'local');
    }
    for (const [k, p] of want) {
      if (this.localBlocks.has(k)) continue;
      this.localBlocks.set(k, p);
      added.push(formatPrefix(p));
      this.addLocal(p);
    }
    this.policy = { ...this.policy, ownBlocks: new Set(this.localBlocks.keys()) };
    return { added, removed };
  }

  private addLocal(p: Prefix): void {
    // Import policy never accepts an own block exactly: what peers sent for it is refused now.
    for (const x of this.loc.replace(p, this.local[p.afi === 1 ? 'ipv4' : 'ipv6'])) {
      const ps = this.peers.get(x.peer);
      if (ps === undefined) continue;
      ps.rejected.add(`${prefixKey(p)}#${x.pathId}`);
      ps.accepted--;
    }
  }

  /**
   * New enabled pools (reload): learned paths now outside every pool are refused. Paths refused
   * before cannot be recalled (their attributes were not kept): `refreshNeeded` says a pool was
   * added, so the owner should ask its peers for a route refresh (RFC 2918).
   */
  setPools(pools: readonly string[]): { refreshNeeded: boolean } {
    this.notFlushing('setPools');
    const parsed = pools.map(parseBlock);
    const before = this.policy.pools;
    this.policy = { ...this.policy, pools: parsed };
    for (const f of FAMILIES) {
      const outside = (p: Prefix): boolean => checkPrefix(p, this.policy) === 'outside-pools';
      for (const { prefix, path } of this.loc.dropWhere(f, outside)) {
        const ps = this.peers.get(path.peer);
        if (ps === undefined) continue;
        ps.accepted--;
        ps.rejected.add(`${prefixKey(prefix)}#${path.pathId}`);
      }
    }
    return { refreshNeeded: parsed.some((p) => !before.some((q) => covers(q, p))) };
  }

  private notFlushing(what: string): void {
    if (this.flushing) throw new RibError('RIB_BUSY', `${what} called from inside a RibSink callback`);
  }

  /** Counters for `agentctl status`; zeros for a peer the RIB does not know. */
  peerCounts(key: string): { received: number; accepted: number; advertised: number } {
    const ps = this.peers.get(key);
    if (ps === undefined) return { received: 0, accepted: 0, advertised: 0 };
    return { received: ps.received(), accepted: ps.accepted, advertised: ps.advertised.ipv4 + ps.advertised.ipv6 };
  }

  /** Prefixes with a path in the Loc-RIB. */
  prefixCount(family?: FamilyName): number {
    return this.loc.size(family);
  }

  /** The best set of one prefix, best first (empty when unknown). */
  best(prefix: Prefix | string): readonly Path[] {
    return this.loc.best(typeof prefix === 'string' ? parseBlock(prefix) : prefix);
  }

  /** Every prefix with a best path, for `agentctl routes` (at most `limit`). */
  routes(family?: FamilyName, limit?: number): RibRoute[] {
    const out: RibRoute[] = [];
    if (family !== 'ipv6') routesOf(this.loc.t4, limit, out);
    if (family !== 'ipv4') routesOf(this.loc.t6, limit, out);
    return out;
  }

  /**
   * True when the RIB has settled for the FIB: nothing waits for a flush and no restarting peer
   * still has stale paths. Whether the initial tables are complete is agent/daemon/readiness.ts's.
   */
  converged(): boolean {
    if (this.scheduled || this.loc.pending > 0) return false;
    for (const ps of this.peers.values()) if (ps.stale.size > 0) return false;
    return true;
  }

  /** Distinct attribute sets and path sets held (for metrics and the memory bench). */
  interned(): { attributeSets: number; pathSets: number } {
    return { attributeSets: this.loc.attrs.size, pathSets: this.loc.sets.size };
  }

  /** Stops timers and output; the tables are left to the garbage collector. */
  close(): void {
    this.closed = true;
    for (const ps of this.peers.values()) {
      this.graceful.cancel(ps);
      this.refreshing.abort(ps);
    }
  }
}
