/**
 * The RIB (RFC 4271 section 9): consumes SessionEvents, keeps every accepted path per prefix
 * (Adj-RIB-In of each peer, merged into the Loc-RIB table), runs the decision process per touched
 * prefix, and once per tick (the injected scheduler) emits what changed: RibChange batches for the
 * FIB and, per peer, OutboundUpdates grouped by exported attribute set.
 * Output contract (RibSink):
 * - `changes(batch)`: prefixes whose best set differs from the last tick (best first; empty =
 *   gone). A path replaced by an equal one (graceful-restart re-learn) is no change.
 * - `update(peer, u)`: pack with packUpdates(u, negotiated.encode); several per tick when large.
 * - `feedDone(peer, family, cause)`: after 'established' every exportable route of the family has
 *   gone out: send End-of-RIB (RFC 4724 section 2). After 'route-refresh': send EoRR when enhanced
 *   route refresh (RFC 7313) was negotiated, nothing otherwise.
 * - `limitExceeded(peer, limit, count)`: more than maxPrefixes accepted paths; the peer's routes are
 *   already gone and it is ignored until its next session: send Cease subcode 1 (RFC 4486).
 * Graceful restart, receiving side (RFC 4724 section 4.2) is graceful.ts. Not here: sockets,
 * netlink, encoding.
 */

import { formatPrefix, parsePrefix, type Prefix } from '../bgp/prefix.js';
import { endOfRibFamily, type UpdateMessage } from '../bgp/update.js';
import type { SessionEvent } from '../session/events.js';
import type { FamilyName } from '../session/negotiate.js';
import type { PeerSpec } from '../session/peer.js';
import { systemClock, type Clock } from '../session/timers.js';
import { addressRank, decide, STEP_NAMES, type StepName } from './decision.js';
import type { ExportNode } from './export.js';
import { RibError } from './errors.js';
import { Graceful } from './graceful.js';
import { AttrStore, makeSource, Path, storedAttributes, type AttrEntry } from './path.js';
import { exportChange, feed, OutboundBuilder } from './outbound.js';
import { PeerState } from './peer-state.js';
import { addressBytes, checkAttributes, checkPrefix, importContext, prefixKey, type ImportContext } from './policy.js';
import { Dest, PrefixTable } from './table.js';
import type { OutboundUpdate, RibChange } from './types.js';

export interface RibSink {
  changes(batch: readonly RibChange[]): void;
  update(peerKey: string, update: OutboundUpdate): void;
  feedDone(peerKey: string, family: FamilyName, cause: 'established' | 'route-refresh'): void;
  limitExceeded(peerKey: string, limit: number, count: number): void;
}

export interface RibOptions {
  readonly node: ExportNode;
  /** Enabled pools (CIDR text). */
  readonly pools: readonly string[];
  /** Most paths in an ECMP set (bgp.multipath); default 8. */
  readonly multipath?: number;
  readonly sink: RibSink;
  /** Runs the flush later in the same turn of work; default setImmediate. */
  readonly schedule?: (fn: () => void) => void;
  readonly clock?: Clock;
  /** Seconds to wait for End-of-RIB after a restarted peer is back (default 360, as FRR). */
  readonly staleTime?: number;
  /** Most prefixes per OutboundUpdate (default 50,000). */
  readonly chunk?: number;
}

/** One route for the control socket (RouteAnswer without the FIB's device data). */
export interface RibRoute {
  readonly prefix: string;
  readonly family: FamilyName;
  readonly kind: 'blackhole' | 'unicast';
  readonly nextHops: readonly { readonly via: string; readonly peer: string }[];
  readonly decidedBy: StepName;
  /** Candidate paths held for the prefix (all peers, add-path included). */
  readonly paths: number;
}

function parseBlock(text: string): Prefix {
  try {
    return parsePrefix(text);
  } catch (err) {
    throw new RibError('RIB_BAD_PREFIX', `local block ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

const FAMILIES: readonly FamilyName[] = ['ipv4', 'ipv6'];
const STEP_INDEX = new Map<StepName, number>(STEP_NAMES.map((n, i) => [n, i]));
const afiFamily = (afi: number): FamilyName => (afi === 1 ? 'ipv4' : 'ipv6');

function equivalent(a: Path, b: Path): boolean {
  return a === b || (a.peer === b.peer && a.pathId === b.pathId && a.nextHop === b.nextHop && a.nextHopLinkLocal === b.nextHopLinkLocal && a.attributes === b.attributes);
}

function sameSet(a: readonly Path[], b: readonly Path[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equivalent(a[i], b[i])) return false;
  return true;
}

export class Rib {
  private readonly table = new PrefixTable();
  private readonly attrs = new AttrStore();
  private readonly peers = new Map<string, PeerState>();
  /** Prefixes touched since the last flush, with their best set before. */
  private dirty = new Map<Dest, Path[]>();
  private scheduled = false;
  private closed = false;
  private policy: ImportContext;
  private readonly local: Record<FamilyName, Path>;
  private readonly localBlocks = new Map<string | number, Prefix>();
  private readonly multipath: number;
  private readonly schedule: (fn: () => void) => void;
  private readonly chunk: number;
  private readonly graceful: Graceful;
  private nextSendId = 1;

  constructor(private readonly opts: RibOptions) {
    const n = opts.node;
    this.multipath = Math.max(1, opts.multipath ?? 8);
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
    this.chunk = opts.chunk ?? 50_000;
    this.policy = importContext({ pools: opts.pools, blocks: [], routerId: n.routerId, clusterId: n.clusterId, localAs: n.asNumber });
    const source = makeSource({ key: 'local', address: '', external: false, client: false, bgpId: n.routerId, addressRank: '' });
    const entry = this.attrs.intern({ origin: 0, asPath: [] });
    this.local = {
      ipv4: new Path(source, 0, '', '', entry, 'local4', this.nextSendId++),
      ipv6: new Path(source, 0, '', '', entry, 'local6', this.nextSendId++),
    };
    this.graceful = new Graceful(opts.clock ?? systemClock, opts.staleTime ?? 360, (ps, family) => this.sweep(ps, family, true));
  }

  /** Consumes one session event; cheap per prefix, the heavy lifting waits for the flush. */
  handle(e: SessionEvent): void {
    if (this.closed) return;
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
      case 'down':
        return this.down(e.peer, e.gracefulRestart);
    }
  }

  private established(spec: PeerSpec, negotiated: NonNullable<PeerState['negotiated']>): void {
    const source = makeSource({
      key: spec.key,
      address: spec.address,
      external: !spec.internal,
      client: spec.routeReflectorClient,
      bgpId: negotiated.peerId,
      addressRank: addressRank(addressBytes(spec.address)),
    });
    let ps = this.peers.get(spec.key);
    if (ps === undefined) {
      ps = new PeerState(spec, source);
      this.peers.set(spec.key, ps);
    } else {
      ps.spec = spec;
      ps.source = source;
    }
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
    if (gr !== null && ps.accepted > 0) {
      // RFC 4724 section 4.2: keep the routes of the preserved families, stale, for the restart time.
      for (const p of ps.paths.values()) p.stale = true;
      ps.paths.clear();
      for (const f of FAMILIES) if (!gr.families.includes(f)) this.sweep(ps, f, false);
      this.graceful.down(ps, gr.families, gr.restartTime);
      return;
    }
    this.graceful.cancel(ps);
    for (const f of FAMILIES) this.sweep(ps, f, false);
    this.peers.delete(spec.key);
  }

  private update(ps: PeerState, u: UpdateMessage): void {
    const eor = endOfRibFamily(u);
    if (eor !== undefined) {
      const family = afiFamily(eor.afi);
      ps.eor.add(family);
      this.graceful.endOfRib(ps, family);
      this.kick();
      return;
    }
    const a = u.attributes;
    for (const p of u.withdrawn) this.withdraw(ps, p);
    const un = a.mpUnreach;
    if (un !== undefined && un.raw === undefined) for (const p of un.withdrawn) this.withdraw(ps, p);
    const mp = a.mpReach !== undefined && a.mpReach.raw === undefined && a.mpReach.nlri.length > 0 ? a.mpReach : undefined;
    if (u.nlri.length === 0 && mp === undefined) return;
    const stored = storedAttributes(a);
    const refused = checkAttributes(stored, !ps.spec.internal, this.policy);
    const entry = refused === null ? this.attrs.intern(stored) : undefined;
    if (u.nlri.length > 0 && a.nextHop !== undefined) this.announceAll(ps, u.nlri, entry, a.nextHop, '');
    if (mp !== undefined) this.announceAll(ps, mp.nlri, entry, mp.nextHops[0] ?? '', mp.nextHops[1] ?? '');
    if (entry !== undefined) this.attrs.dropIfUnused(entry);
    const limit = ps.spec.maxPrefixes;
    if (limit > 0 && ps.accepted > limit) {
      const count = ps.accepted;
      ps.limitHit = true;
      for (const f of FAMILIES) this.sweep(ps, f, false);
      this.opts.sink.limitExceeded(ps.spec.key, limit, count);
    }
  }

  private announceAll(ps: PeerState, nlri: readonly Prefix[], entry: AttrEntry | undefined, nextHop: string, linkLocal: string): void {
    for (const p of nlri) {
      if (entry === undefined || checkPrefix(p, this.policy) !== null) {
        ps.rejected.add(`${prefixKey(p)}#${p.pathId ?? 0}`);
        this.remove(ps, p);
        continue;
      }
      if (ps.rejected.size > 0) ps.rejected.delete(`${prefixKey(p)}#${p.pathId ?? 0}`);
      this.insert(this.table.getOrCreate(p), this.intern(ps, p.afi, p.pathId ?? 0, nextHop, linkLocal, entry), ps);
    }
  }

  private intern(ps: PeerState, afi: number, pathId: number, nextHop: string, linkLocal: string, entry: AttrEntry): Path {
    const key = `${afi}|${pathId}|${nextHop}|${linkLocal}|${entry.id}`;
    let path = ps.paths.get(key);
    if (path === undefined) {
      let sendId = ps.sendIds.get(pathId);
      if (sendId === undefined) ps.sendIds.set(pathId, (sendId = this.nextSendId++ >>> 0));
      path = new Path(ps.source, pathId, nextHop, linkLocal, entry, key, sendId);
      ps.paths.set(key, path);
    }
    return path;
  }

  private withdraw(ps: PeerState, p: Prefix): void {
    if (ps.rejected.size > 0 && ps.rejected.delete(`${prefixKey(p)}#${p.pathId ?? 0}`)) return;
    this.remove(ps, p);
  }

  /** Puts `path` in `dest`, replacing the same peer's path with the same path id. */
  private insert(dest: Dest, path: Path, ps: PeerState | undefined): void {
    const paths = dest.paths;
    let i = 0;
    while (i < paths.length && !(paths[i].peer === path.peer && paths[i].pathId === path.pathId)) i++;
    if (i < paths.length && paths[i] === path) return;
    this.touch(dest);
    path.refs++;
    if (i < paths.length) {
      const next = paths.slice();
      next[i] = path;
      dest.paths = next;
      this.release(paths[i]);
    } else {
      dest.paths = paths.concat(path);
      if (ps !== undefined) ps.accepted++;
    }
    this.redecide(dest);
  }

  private remove(ps: PeerState | undefined, p: Prefix, peerKey = ps?.spec.key ?? 'local'): void {
    const dest = this.table.get(p);
    if (dest === undefined) return;
    const pathId = p.pathId ?? 0;
    const i = dest.paths.findIndex((x) => x.peer === peerKey && x.pathId === pathId);
    if (i >= 0) this.removeAt(dest, i, ps);
  }

  private removeAt(dest: Dest, i: number, ps: PeerState | undefined): void {
    this.touch(dest);
    const old = dest.paths[i];
    dest.paths = dest.paths.filter((_, k) => k !== i);
    if (ps !== undefined) ps.accepted--;
    this.release(old);
    this.redecide(dest);
  }

  private release(path: Path): void {
    if (--path.refs > 0) return;
    const ps = this.peers.get(path.peer);
    if (ps !== undefined && ps.paths.get(path.internKey) === path) ps.paths.delete(path.internKey);
    if (!path.local) this.attrs.release(path.entry);
  }

  private redecide(dest: Dest): void {
    const n = dest.paths.length;
    if (n <= 1) {
      dest.nBest = n;
      dest.step = 0;
      return;
    }
    const d = decide(dest.paths, this.multipath);
    if (d.best.length < n) dest.paths = d.best.concat(dest.paths.filter((x) => !d.best.includes(x)));
    else dest.paths = d.best;
    dest.nBest = d.best.length;
    dest.step = STEP_INDEX.get(d.decidedBy) ?? 0;
  }

  /** Removes a peer's paths of one family: all of them, or (staleOnly) those not re-learned. */
  sweep(ps: PeerState, family: FamilyName, staleOnly: boolean): void {
    if (ps.accepted === 0) return;
    const key = ps.spec.key;
    this.table.forEach(family, (dest) => {
      for (let i = dest.paths.length - 1; i >= 0; i--) {
        const p = dest.paths[i];
        if (p.peer === key && (!staleOnly || p.stale)) this.removeAt(dest, i, ps);
      }
    });
    if (!ps.established && ps.accepted === 0 && ps.stale.size === 0) this.peers.delete(key);
  }

  private touch(dest: Dest): void {
    if (this.dirty.has(dest)) return;
    this.dirty.set(dest, dest.best());
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** The node's own blocks, announced with peer 'local'; reload-safe (only the difference acts). */
  setLocalBlocks(blocks: readonly string[]): { added: string[]; removed: string[] } {
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
      this.remove(undefined, p, 'local');
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
    const dest = this.table.getOrCreate(p);
    // Import policy never accepts an own block exactly: what peers sent for it is refused now.
    for (let i = dest.paths.length - 1; i >= 0; i--) {
      const x = dest.paths[i];
      const ps = this.peers.get(x.peer);
      ps?.rejected.add(`${prefixKey(p)}#${x.pathId}`);
      this.removeAt(dest, i, ps);
    }
    this.insert(dest, this.local[p.afi === 1 ? 'ipv4' : 'ipv6'], undefined);
  }

  /** Emits what changed since the last flush; runs from the scheduler, callable directly. */
  flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    const { node, sink } = this.opts;
    const dirty = this.dirty;
    this.dirty = new Map();
    const live = [...this.peers.values()].filter((ps) => ps.established && !ps.limitHit);
    const targets = live.filter((ps) => ps.fed).map((ps) => ({ ps, out: this.builder(ps) }));
    const changes: RibChange[] = [];
    for (const [dest, old] of dirty) {
      const best = dest.best();
      if (dest.paths.length === 0) this.table.delete(dest);
      if (sameSet(old, best)) continue;
      const prefix = dest.prefix();
      changes.push({ prefix, best, old });
      const family = dest.family;
      for (const t of targets) if (t.ps.carries(family)) exportChange(t.ps, node, family, prefix, old, best, t.out);
    }
    if (changes.length > 0) sink.changes(changes);
    for (const t of targets) t.out.flush();
    for (const ps of live) {
      const cause = ps.fed ? 'route-refresh' : 'established';
      const families = ps.fed ? [...ps.refresh] : (ps.negotiated?.families ?? []);
      ps.fed = true;
      ps.refresh.clear();
      for (const f of families) {
        feed(ps, node, this.table, f, this.builder(ps));
        sink.feedDone(ps.spec.key, f, cause);
      }
    }
  }

  private builder(ps: PeerState): OutboundBuilder {
    const key = ps.spec.key;
    return new OutboundBuilder((u) => this.opts.sink.update(key, u), this.chunk);
  }

  /** Counters for `agentctl status`; zeros for a peer the RIB does not know. */
  peerCounts(key: string): { received: number; accepted: number; advertised: number } {
    const ps = this.peers.get(key);
    if (ps === undefined) return { received: 0, accepted: 0, advertised: 0 };
    return { received: ps.received(), accepted: ps.accepted, advertised: ps.advertised.ipv4 + ps.advertised.ipv6 };
  }

  /** Prefixes in the Loc-RIB (with a best path once flushed). */
  prefixCount(family?: FamilyName): number {
    return this.table.size(family);
  }

  /** The best set of one prefix, best first (empty when unknown). */
  best(prefix: Prefix | string): readonly Path[] {
    const p = typeof prefix === 'string' ? parsePrefix(prefix) : prefix;
    return this.table.get(p)?.best() ?? [];
  }

  /** Every prefix with a best path, for `agentctl routes`. */
  routes(family?: FamilyName): RibRoute[] {
    const out: RibRoute[] = [];
    for (const f of family === undefined ? FAMILIES : [family]) {
      this.table.forEach(f, (d) => {
        if (d.nBest === 0) return;
        const best = d.best();
        out.push({
          prefix: formatPrefix(d.prefix()),
          family: f,
          kind: best[0].local ? 'blackhole' : 'unicast',
          nextHops: best[0].local ? [] : best.map((p) => ({ via: p.nextHop, peer: p.peer })),
          decidedBy: STEP_NAMES[d.step],
          paths: d.paths.length,
        });
      });
    }
    return out;
  }

  /**
   * True when the RIB has settled for the FIB: nothing waits for a flush, every established peer
   * sent End-of-RIB for each of its families, and no restarting peer still has stale paths.
   */
  converged(): boolean {
    if (this.scheduled || this.dirty.size > 0) return false;
    for (const ps of this.peers.values()) {
      if (ps.stale.size > 0) return false;
      if (ps.established && !ps.limitHit && ps.negotiated?.families.some((f) => !ps.eor.has(f))) return false;
    }
    return true;
  }

  /** Stops timers and output; the tables are left to the garbage collector. */
  close(): void {
    this.closed = true;
    for (const ps of this.peers.values()) this.graceful.cancel(ps);
  }

  /** Distinct attribute sets held (for metrics and the memory test). */
  attributeSets(): number {
    return this.attrs.size;
  }
}
