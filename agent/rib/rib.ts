/**
 * The RIB (RFC 4271 section 9): consumes SessionEvents, keeps every accepted path per prefix (the
 * Adj-RIBs-In of all peers merged into the Loc-RIB, loc-rib.ts: a prefix holds one interned
 * PathSet whose paths know their peer), and once per tick (the injected scheduler) emits what
 * changed: RibChange batches for the FIB and, per peer, its outbound stream (UPDATEs grouped by
 * exported attribute set, End-of-RIB, BoRR/EoRR). This class wires the jobs, each in its module:
 * importing UPDATEs adj-in.ts (policy policy.ts), peers' sessions up and down peers.ts, the
 * outbound stream and its order outbound.ts (export policy export.ts), own blocks and pools at
 * reload own-blocks.ts, anycast services' routes services.ts, listings and counters rib-view.ts.
 * Output contract (RibSink):
 * - `changes(batch)`: prefixes whose best set differs from the last tick (best first; empty =
 *   gone), in batches of at most 1,000 (or `chunk` when smaller). A path replaced by an equal one (graceful-restart
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
 * Graceful restart timing is graceful.ts; a peer's enhanced route refresh received (BoRR/EoRR,
 * RFC 7313 section 4) is refresh-stale.ts; peers.ts holds both.
 * Not here: sockets, netlink, encoding.
 */

import type { Prefix } from '../bgp/prefix.js';
import { endOfRibFamily, type UpdateMessage } from '../bgp/update.js';
import type { OutboundItem, RibChange, RibPath, SessionEvent } from '../contracts/engines.js';
import { AdjIn } from './adj-in.js';
import { RibError } from './errors.js';
import type { ExportNode } from './export.js';
import type { ExportSettings } from './export-view.js';
import type { CompiledPolicy } from './policy-rules.js';
import type { UpdateGroup } from './update-group.js';
import { LocRib } from './loc-rib.js';
import { OutboundStream } from './outbound.js';
import { OwnBlocks, parseBlock } from './own-blocks.js';
import { ServiceRoutes, type ServiceAnnouncement } from './services.js';
import type { Path } from './path.js';
import type { PeerState } from './peer-state.js';
import { RibPeers } from './peers.js';
import { importContext } from './policy.js';
import type { RefreshReport } from './refresh-stale.js';
import { peerCounts, routes, type RibRoute } from './rib-view.js';
import { type FamilyName, familyOfAfi } from '../bgp/families.js';
import { systemClock, type Clock } from '../contracts/clock.js';

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
  /** Most prefixes per OutboundUpdate (default 10,000) and per RibChange batch (at most 1,000). */
  readonly chunk?: number;
}

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
  private readonly peers: RibPeers;
  private readonly adjIn: AdjIn;
  private readonly own: OwnBlocks;
  private readonly services: ServiceRoutes;
  private readonly out: OutboundStream;
  private scheduled = false;
  private closed = false;
  /** Inside flush(): events wait in `deferred`, table changes are refused. */
  private flushing = false;
  private readonly deferred: SessionEvent[] = [];
  /** New export rules or drain, put in force at the end of the next flush (reexport.ts). */
  private pendingExport: ExportSettings | undefined;
  private readonly schedule: (fn: () => void) => void;
  private readonly chunk: number;
  /**
   * RibChanges handed to the FIB at a time: each batch's objects (and their prefixes) live until
   * the FIB has applied it, and 10,000 of them outlived V8's 1 MB young generation (issue 21:
   * at a million, 1,000 a batch took the scavenges from 1.4 s to 0.8 s).
   */
  private readonly changeBatch: number;

  constructor(private readonly opts: RibOptions) {
    const n = opts.node;
    opts.pools.forEach(parseBlock); // a bad pool is a RibError before anything is built
    this.loc = new LocRib(opts.multipath ?? 8, () => this.kick());
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
    this.chunk = opts.chunk ?? 10_000;
    this.changeBatch = Math.min(this.chunk, 1_000);
    this.adjIn = new AdjIn(this.loc, importContext({ pools: opts.pools, blocks: [], routerId: n.routerId, clusterId: n.clusterId, localAs: n.asNumber }));
    this.peers = new RibPeers(this.loc, opts.clock ?? systemClock, opts.staleTime ?? 360, opts.onRefresh, opts.initialTableComplete ?? (() => true));
    this.own = new OwnBlocks(this.loc, this.adjIn, this.peers, n.routerId);
    this.services = new ServiceRoutes(this.loc, this.adjIn, n.routerId);
    this.out = new OutboundStream(n, (key, item) => opts.sink.outbound(key, item), this.chunk, opts.clock ?? systemClock, () => this.kick());
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
        this.peers.up(e.peer, e.negotiated);
        return this.kick();
      case 'update': {
        const ps = this.peers.get(e.peer.key);
        if (ps !== undefined && ps.established && !ps.limitHit) this.update(ps, e.update);
        return;
      }
      case 'route-refresh':
        if (this.out.refreshAsked(this.peers.get(e.peer.key), e.family)) this.kick();
        return;
      case 'refresh-marker': {
        const ps = this.peers.get(e.peer.key);
        if (ps === undefined || !ps.established || ps.limitHit || !ps.carries(e.family)) return;
        if (e.marker === 'begin') this.peers.refreshing.begin(ps, e.family);
        else this.peers.refreshing.end(ps, e.family);
        return;
      }
      case 'down':
        return this.peers.down(e.peer, e.gracefulRestart);
    }
  }

  private update(ps: PeerState, u: UpdateMessage): void {
    const eor = endOfRibFamily(u);
    // RFC 4724 section 4.2: End-of-RIB ends the stale period of the family. Whether the initial
    // table is complete (readiness) is agent/daemon/readiness.ts's, which follows the same events.
    if (eor !== undefined) return this.peers.graceful.endOfRib(ps, familyOfAfi(eor.afi));
    this.adjIn.update(ps, u);
    const limit = ps.spec.maxPrefixes;
    if (limit > 0 && ps.accepted > limit) {
      const count = ps.accepted;
      this.peers.ignore(ps);
      this.opts.sink.limitExceeded(ps.spec.key, limit, count);
    }
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

  /** The FIB's changes in batches, each changed prefix to the outbound stream, then its feeds and refreshes. */
  private emit(): void {
    this.scheduled = false;
    if (this.closed) return;
    const { sink } = this.opts;
    const live = this.peers.live();
    const out = this.out;
    out.begin(live);
    let changes: RibChange[] = [];
    this.loc.drain((family, prefix, old, now) => {
      if (sameBest(old.best, now.best)) return;
      changes.push({ prefix, best: now.best, old: old.best });
      out.change(family, prefix, old.best, now.best);
      if (changes.length >= this.changeBatch) {
        sink.changes(changes); // a million-prefix flush stays a stream of modest batches
        changes = [];
      }
    });
    if (changes.length > 0) sink.changes(changes);
    const settings = this.pendingExport;
    this.pendingExport = undefined;
    const regroup = settings === undefined ? undefined : () => this.peers.groups.configure(settings, [...this.peers.values()].flatMap((ps) => (ps.group === null || ps.negotiated === null ? []
      : [{ key: ps.spec.key, spec: ps.spec, negotiated: ps.negotiated, group: ps.group, move: (g: UpdateGroup) => void (ps.group = g) }])));
    out.end(live, (f) => this.loc.table(f), regroup);
    if (this.loc.collectDue()) this.collect();
  }

  /** Mark and sweep: forgets path sets, paths and attribute sets nothing uses any more. */
  collect(): void {
    const live = this.loc.collect([this.own.paths.ipv4, this.own.paths.ipv6, ...this.services.paths()]);
    if (live !== undefined) this.peers.forget(live);
  }

  /** The node's own blocks, announced with peer 'local'; reload-safe (only the difference acts). */
  setLocalBlocks(blocks: readonly string[]): { added: string[]; removed: string[] } {
    this.notFlushing('setLocalBlocks');
    return this.own.set(blocks);
  }

  /** The anycast services announced now (agent/services); only the difference acts. */
  setServiceRoutes(services: readonly ServiceAnnouncement[]): { announced: string[]; withdrawn: string[] } {
    this.notFlushing('setServiceRoutes');
    return this.services.set(services);
  }

  /**
   * New enabled pools (reload): learned paths now outside every pool are refused. Paths refused
   * before cannot be recalled (their attributes were not kept): `refreshNeeded` says a pool was
   * added, so the owner should ask its peers for a route refresh (RFC 2918).
   */
  setPools(pools: readonly string[]): { refreshNeeded: boolean } {
    this.notFlushing('setPools');
    return this.own.setPools(pools);
  }

  /**
   * New export rules or drain (reload, `agentctl drain` / `undrain`): in force from the end of the
   * next flush, when every fed peer gets what differs (reexport.ts), at once.
   */
  setExport(settings: ExportSettings): void {
    this.notFlushing('setExport');
    this.pendingExport = settings;
    this.kick();
  }

  /**
   * New import rules (reload). Paths already accepted were judged by the old ones and refused
   * ones were not kept: `refreshNeeded` says the rules changed, so the owner should ask its peers
   * for a route refresh (RFC 2918), as for a new pool.
   */
  setImportRules(rules: CompiledPolicy): { refreshNeeded: boolean } {
    this.notFlushing('setImportRules');
    const changed = rules.text !== this.adjIn.rules.text;
    this.adjIn.rules = rules;
    return { refreshNeeded: changed };
  }

  /** New export rules (reload); drain stays as it is. False when they are the rules in force. */
  setExportRules(rules: CompiledPolicy): boolean {
    const now = this.exportSettings();
    if (now.policy.text === rules.text) return false;
    this.setExport({ policy: rules, drained: now.drained });
    return true;
  }

  /** RFC 8326 drain on or off (SPEC.md "Drain"); false when it already was. */
  setDrained(drained: boolean): boolean {
    const now = this.exportSettings();
    if (now.drained === drained) return false;
    this.setExport({ policy: now.policy, drained });
    return true;
  }

  /** The export rules and drain in force, or about to be. */
  exportSettings(): ExportSettings {
    return this.pendingExport ?? this.peers.groups.settings;
  }

  private notFlushing(what: string): void {
    if (this.flushing) throw new RibError('RIB_BUSY', `${what} called from inside a RibSink callback`);
  }

  /** Counters for `agentctl status`; zeros for a peer the RIB does not know. */
  peerCounts(key: string): { received: number; accepted: number; advertised: number } {
    return peerCounts(this.peers.get(key));
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
    return routes(this.loc, family, limit);
  }

  /**
   * True when the RIB has settled for the FIB: nothing waits for a flush and no restarting peer
   * still has stale paths. Whether the initial tables are complete is agent/daemon/readiness.ts's.
   */
  converged(): boolean {
    if (this.scheduled || this.loc.pending > 0) return false;
    return !this.peers.anyStale();
  }

  /** Distinct attribute sets and path sets held (for metrics and the memory bench). */
  interned(): { attributeSets: number; pathSets: number } {
    return { attributeSets: this.loc.attrs.size, pathSets: this.loc.sets.size };
  }

  /** Stops timers and output; the tables are left to the garbage collector. */
  close(): void {
    this.closed = true;
    this.peers.close();
    this.out.close();
  }
}
