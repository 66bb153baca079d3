/**
 * The peers' outbound streams (RibSink.outbound, OutboundItem in contracts/engines.ts), wholly:
 * what goes out and in which order. Per flush, for each update group with members already fed:
 * the UPDATEs of what changed, computed once for the group and handed as one SharedUpdate to each
 * member (all of them before anything below); then the initial feeds of the members not fed yet,
 * one walk per group for all of them (each family's whole export, then that family's End-of-RIB to
 * each, RFC 4724 section 2; it answers any refresh asked for before it; a large group's members
 * are fed together, at most every feedSpacing); then per peer, in peer
 * order, its route refresh answers (the families asked for since the last flush; each is the
 * family's whole export again, between BoRR and EoRR when enhanced route refresh was negotiated,
 * RFC 7313 section 4, bare otherwise, RFC 2918). So changes pending when a refresh was asked for
 * go out before its BoRR.
 * Adj-RIB-Out without a per-peer table: what a member has been sent is a pure function of the best
 * set and its group's export, so a change is the difference between the export of the old best
 * set and of the new one (RFC 4271 section 9.2), and a full feed walks the Loc-RIB. A member is
 * never sent its own paths: their part of a shared update names it as `except`; a member whose own
 * path became best while it held another's gets that prefix withdrawn in a part `only` for it.
 * Announcements are grouped by exported attribute set (interned, so grouping is by identity) and
 * cut into chunks. With add-path send (RFC 7911) every member of the ECMP set goes out under its
 * own identifier (stable per source peer and path id); without it, the best path only.
 * Not here: encoding (agent/bgp/pack.ts, agent/session/shared-pack.ts), export policy (export.ts),
 * the groups (update-group.ts), or which peers are live and when a flush runs (rib.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { Prefix } from '../bgp/prefix.js';
import type { ExportNode } from './export.js';
import type { ExportView } from './export-view.js';
import { reexportAll } from './reexport.js';
import type { Path } from './path.js';
import type { PeerState } from './peer-state.js';
import type { RibTable } from './table.js';
import type { UpdateGroup } from './update-group.js';
import type { FamilyName } from '../bgp/families.js';
import type { OutboundItem, OutboundPart, SharedUpdate } from '../contracts/engines.js';
import type { Clock } from '../contracts/clock.js';

/** One part under construction: withdrawals, and announcements grouped by attribute set. */
class PartBuilder {
  readonly withdraw: Prefix[] = [];
  readonly groups = new Map<PathAttributes, Prefix[]>();

  constructor(readonly except: string | undefined, readonly only: string | undefined) {}

  part(): OutboundPart {
    const announce = [...this.groups].map(([attributes, prefixes]) => ({ attributes, prefixes }));
    const update = this.withdraw.length > 0 ? { withdraw: this.withdraw, announce } : { announce };
    if (this.except !== undefined) return { except: this.except, update };
    if (this.only !== undefined) return { only: this.only, update };
    return { update };
  }
}

/**
 * Collects one shared update for a set of recipients (the members of one group being sent the
 * same thing): a part for everyone, a part per recipient that is the source of some routes (not
 * sent to it), a part per recipient that alone must withdraw.
 */
export class OutboundBuilder {
  private all = new PartBuilder(undefined, undefined);
  private parts = new Map<string, PartBuilder>();
  private count = 0;

  constructor(
    /** Who the shared updates go to. */
    private readonly recipients: ReadonlySet<string>,
    private readonly emit: (u: SharedUpdate) => void,
    /** Most prefixes per item, so a million-route feed is not one object. */
    private readonly chunk: number,
  ) {}

  /** `p` with `attributes` to every recipient but `except` (the path's source). */
  announce(p: Prefix, attributes: PathAttributes, except?: string): void {
    this.add(this.partOf(except, undefined), p, attributes);
  }

  /** `p` withdrawn from every recipient but `except` (it never had it). */
  withdrawPrefix(p: Prefix, except?: string): void {
    this.partOf(except, undefined)?.withdraw.push(p);
    this.counted();
  }

  /** `p` with `attributes` to the one recipient `only`. */
  announceOnly(p: Prefix, attributes: PathAttributes, only: string): void {
    if (this.recipients.has(only)) this.add(this.partOf(undefined, only), p, attributes);
  }

  /** `p` withdrawn from the one recipient `only`. */
  withdrawOnly(p: Prefix, only: string): void {
    if (!this.recipients.has(only)) return;
    this.partOf(undefined, only)?.withdraw.push(p);
    this.counted();
  }

  flush(): void {
    if (this.count === 0) return;
    const parts: OutboundPart[] = [];
    if (this.all.withdraw.length > 0 || this.all.groups.size > 0) parts.push(this.all.part());
    for (const b of this.parts.values()) parts.push(b.part());
    this.all = new PartBuilder(undefined, undefined);
    this.parts = new Map();
    this.count = 0;
    this.emit({ kind: 'shared', parts });
  }

  /** The part for `except` / `only`; undefined when nobody would receive it. */
  private partOf(except: string | undefined, only: string | undefined): PartBuilder | undefined {
    if (only !== undefined) {
      const key = `o${only}`;
      let b = this.parts.get(key);
      if (b === undefined) this.parts.set(key, (b = new PartBuilder(undefined, only)));
      return b;
    }
    if (except === undefined || !this.recipients.has(except)) return this.all;
    if (this.recipients.size === 1) return undefined; // its own routes, and nobody else to send them to
    const key = `x${except}`;
    let b = this.parts.get(key);
    if (b === undefined) this.parts.set(key, (b = new PartBuilder(except, undefined)));
    return b;
  }

  private add(b: PartBuilder | undefined, p: Prefix, attributes: PathAttributes): void {
    if (b === undefined) return;
    const g = b.groups.get(attributes);
    if (g === undefined) b.groups.set(attributes, [p]);
    else g.push(p);
    this.counted();
  }

  private counted(): void {
    if (++this.count >= this.chunk) this.flush();
  }
}

const withId = (p: Prefix, id: number): Prefix => ({ ...p, pathId: id });

/** Sends group `g` what changed for one prefix whose best set went from `old` to `best`. */
export function exportChange(g: UpdateGroup, node: ExportNode, family: FamilyName, prefix: Prefix, old: readonly Path[], best: readonly Path[], out: OutboundBuilder): void {
  if (g.addPathSend(family)) {
    // One identifier per path, stable per source peer and path id: a member's own paths are simply not sent to it.
    for (const p of best) {
      const now = g.exportOf(p, node, family, prefix);
      if (now === null) continue;
      const prev = old.find((o) => o.sendId === p.sendId);
      const was = prev === undefined ? null : g.exportOf(prev, node, family, prefix);
      if (was === now) continue;
      if (was === null) g.count(p.peer, family, 1);
      out.announce(withId(prefix, p.sendId), now, p.peer);
    }
    for (const o of old) {
      if (g.exportOf(o, node, family, prefix) === null) continue;
      const next = best.find((p) => p.sendId === o.sendId);
      if (next !== undefined && g.exportOf(next, node, family, prefix) !== null) continue;
      g.count(o.peer, family, -1);
      out.withdrawPrefix(withId(prefix, o.sendId), o.peer);
    }
    return;
  }
  if (old[0] === best[0]) return; // the best path stays: what the members hold stays (ECMP changed)
  const was = old.length > 0 ? g.exportOf(old[0], node, family, prefix) : null;
  const now = best.length > 0 ? g.exportOf(best[0], node, family, prefix) : null;
  const from = was === null ? undefined : old[0].peer; // the source of what the members hold
  const to = now === null ? undefined : best[0].peer; // the source of what they should hold
  if (was === now && from === to) return;
  if (from !== undefined) g.count(from, family, -1);
  if (to !== undefined) g.count(to, family, 1);
  // Every member but `from` holds `was`; every member but `to` should hold `now`.
  if (now !== null) {
    if (was !== now) out.announce(prefix, now, to);
    else if (from !== undefined) out.announceOnly(prefix, now, from); // only `from` lacks it
  } else {
    out.withdrawPrefix(prefix, from);
  }
  // `to` held another's path for the prefix; now the best is its own.
  if (was !== null && now !== null && to !== from && to !== undefined) out.withdrawOnly(prefix, to);
}

/** Sends `out`'s recipients every path of `family` that group `g` exports (initial feed or route refresh). */
export function feed<K extends number | string>(g: UpdateGroup, node: ExportNode, table: RibTable<K>, family: FamilyName, out: OutboundBuilder): void {
  const addPath = g.addPathSend(family);
  g.recount(family);
  // The prefix is built for the export rules only when one of them looks at prefixes.
  const byPrefix = g.view.settings.policy.byPrefix;
  table.forEach((len, key, s) => {
    const n = addPath ? s.best.length : Math.min(1, s.best.length);
    for (let i = 0; i < n; i++) {
      const p = s.best[i];
      const attrs = g.exportOf(p, node, family, byPrefix ? table.prefix(len, key) : undefined);
      if (attrs === null) continue;
      out.announce(table.prefix(len, key, addPath ? p.sendId : undefined), attrs, p.peer);
      g.count(p.peer, family, 1);
    }
  });
  out.flush();
}

/**
 * Members joining a large group are fed together: a group's next initial feed waits until
 * `feedSpacing` after its last one, so when hundreds of sessions come up one after another (a
 * reflector starting, or restarting under its clients) one walk and one packing serve every member
 * that joined meanwhile, instead of one per member. Below FEED_BATCH_FROM members there is no wait.
 */
export const FEED_BATCH_FROM = 64;
const FEED_SPACING_MAX_MS = 200;
export function feedSpacing(members: number): number {
  return members < FEED_BATCH_FROM ? 0 : Math.min(FEED_SPACING_MAX_MS, members * 0.1);
}

/** A group with members already fed, and its builder for the changes of the current flush. */
interface Target {
  readonly group: UpdateGroup;
  readonly members: string[];
  readonly out: OutboundBuilder;
}

/** The outbound streams of all peers, one flush at a time: begin, change per prefix, end. */
export class OutboundStream {
  private to4: Target[] = [];
  private to6: Target[] = [];
  private targets: Target[] = [];

  /** Per group: when its last initial feed went out, and the timer of the next one. */
  private readonly feeds = new Map<UpdateGroup, { last: number; timer: unknown }>();

  constructor(
    private readonly node: ExportNode,
    private readonly send: (peerKey: string, item: OutboundItem) => void,
    /** Most prefixes per OutboundUpdate. */
    private readonly chunk: number,
    private readonly clock: Clock,
    /** Asks for a flush (a batched feed is due). */
    private readonly wake: () => void,
  ) {}

  /** Stops the feed timers. */
  close(): void {
    for (const f of this.feeds.values()) if (f.timer !== undefined) this.clock.clearTimeout(f.timer);
    this.feeds.clear();
  }

  /** Whether group `g` may be fed now; if not, a flush is asked for when it may. */
  private feedDue(g: UpdateGroup): boolean {
    const spacing = feedSpacing(g.members.size);
    const now = this.clock.now();
    let f = this.feeds.get(g);
    if (f === undefined) this.feeds.set(g, (f = { last: -Infinity, timer: undefined }));
    const wait = f.last + spacing - now;
    if (wait <= 0) {
      f.last = now;
      return true;
    }
    if (f.timer === undefined) {
      const entry = f;
      entry.timer = this.clock.setTimeout(() => {
        entry.timer = undefined;
        this.wake();
      }, wait);
    }
    return false;
  }

  /** A route refresh of `family` asked for (RFC 2918): answered at the next flush. False when ignored. */
  refreshAsked(ps: PeerState | undefined, family: FamilyName): boolean {
    if (!ps?.established || !ps.carries(family)) return false;
    ps.refresh.add(family);
    return true;
  }

  /** A flush begins: changes go to the groups of the `live` peers already fed. */
  begin(live: readonly PeerState[]): void {
    const fed = new Map<UpdateGroup, string[]>();
    for (const ps of live) {
      if (!ps.fed || ps.group === null) continue;
      const m = fed.get(ps.group);
      if (m === undefined) fed.set(ps.group, [ps.spec.key]);
      else m.push(ps.spec.key);
    }
    this.targets = [...fed].map(([group, members]) => ({ group, members, out: this.builder(members) }));
    this.to4 = this.targets.filter((t) => t.group.carries('ipv4'));
    this.to6 = this.targets.filter((t) => t.group.carries('ipv6'));
  }

  /** One prefix's best set changed from `old` to `best` (between begin and end). */
  change(family: FamilyName, prefix: Prefix, old: readonly Path[], best: readonly Path[]): void {
    const to = family === 'ipv4' ? this.to4 : this.to6;
    for (let i = 0; i < to.length; i++) exportChange(to[i].group, this.node, family, prefix, old, best, to[i].out);
  }

  /**
   * The flush ends: the changes go out; then, when the export rules or drain changed, `regroup`
   * puts the new ones in force (returning the view each peer's holdings were computed with) and
   * the fed members get the difference (reexport.ts); then initial feeds (one walk per group) and
   * refresh answers, peer by peer.
   */
  end(live: readonly PeerState[], table: (family: FamilyName) => RibTable<number | string>, regroup?: () => ReadonlyMap<string, ExportView>): void {
    for (const t of this.targets) t.out.flush();
    this.targets = this.to4 = this.to6 = [];
    if (regroup !== undefined) reexportAll(live, regroup(), this.node, table, (keys) => this.builder(keys));
    const unfed = new Map<UpdateGroup, PeerState[]>();
    for (const ps of live) {
      if (ps.fed || ps.group === null) continue;
      const m = unfed.get(ps.group);
      if (m === undefined) unfed.set(ps.group, [ps]);
      else m.push(ps);
    }
    for (const [group, joining] of unfed) {
      if (!this.feedDue(group)) continue;
      // The initial feed answers any refresh asked for before it.
      for (const ps of joining) {
        ps.fed = true;
        ps.refresh.clear();
      }
      const keys = joining.map((ps) => ps.spec.key);
      for (const f of group.families) {
        feed(group, this.node, table(f), f, this.builder(keys));
        for (const key of keys) this.send(key, { kind: 'end-of-rib', family: f });
      }
    }
    for (const g of this.feeds.keys()) if (g.members.size === 0 && this.feeds.get(g)?.timer === undefined) this.feeds.delete(g);
    for (const ps of live) {
      if (ps.refresh.size === 0 || ps.group === null || !ps.fed) continue;
      const key = ps.spec.key;
      const families = [...ps.refresh];
      ps.refresh.clear();
      // RFC 7313 section 4: BoRR before the re-advertisement, EoRR after it; the peer drops at EoRR
      // whatever of ours it did not see in between.
      const enhanced = ps.negotiated?.enhancedRouteRefresh === true;
      for (const f of families) {
        if (enhanced) this.send(key, { kind: 'begin-refresh', family: f });
        feed(ps.group, this.node, table(f), f, this.builder([key]));
        if (enhanced) this.send(key, { kind: 'end-refresh', family: f });
      }
    }
  }

  private builder(members: readonly string[]): OutboundBuilder {
    const recipients = new Set(members);
    return new OutboundBuilder(recipients, (item) => {
      for (const key of members) this.send(key, item);
    }, this.chunk);
  }
}
