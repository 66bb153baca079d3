/**
 * A peer's outbound stream (RibSink.outbound, OutboundItem in types.ts), wholly: what goes out and
 * in which order. Per flush, for each peer already fed: the UPDATEs of what changed (all of them
 * before anything below); then per peer, in peer order, either its initial feed (each family's
 * whole export, then that family's End-of-RIB, RFC 4724 section 2; it answers any refresh asked
 * for before it) or its route refresh answers (the refresh set: families asked for since the last
 * flush; each is the family's whole export again, between BoRR and EoRR when enhanced route
 * refresh was negotiated, RFC 7313 section 4, bare otherwise, RFC 2918). So changes pending when
 * a refresh was asked for go out before its BoRR.
 * Adj-RIB-Out without a per-peer table: what a peer has been sent is a pure function of the best
 * set and export policy, so a change is the difference between the export of the old best set and
 * of the new one (RFC 4271 section 9.2), and a full feed walks the Loc-RIB. Announcements are
 * grouped by exported attribute set (interned, so grouping is by identity) and cut into chunks.
 * With add-path send (RFC 7911) every member of the ECMP set goes out under its own identifier
 * (stable per source peer and path id); without it, the best path only.
 * Not here: encoding (agent/bgp/pack.ts), export policy (export.ts), or which peers are live and
 * when a flush runs (rib.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { Prefix } from '../bgp/prefix.js';
import type { ExportNode } from './export.js';
import type { Path } from './path.js';
import type { PeerState } from './peer-state.js';
import type { RibTable } from './table.js';
import type { FamilyName } from '../bgp/families.js';
import type { OutboundItem, OutboundUpdate } from '../contracts/engines.js';

/** Collects one peer's announcements (grouped by attribute set) and withdrawals. */
export class OutboundBuilder {
  private withdraw: Prefix[] = [];
  private groups = new Map<PathAttributes, Prefix[]>();
  private count = 0;

  constructor(
    private readonly emit: (u: OutboundUpdate) => void,
    /** Most prefixes per OutboundUpdate, so a million-route feed is not one object. */
    private readonly chunk: number,
  ) {}

  announce(p: Prefix, attributes: PathAttributes): void {
    const g = this.groups.get(attributes);
    if (g === undefined) this.groups.set(attributes, [p]);
    else g.push(p);
    if (++this.count >= this.chunk) this.flush();
  }

  withdrawPrefix(p: Prefix): void {
    this.withdraw.push(p);
    if (++this.count >= this.chunk) this.flush();
  }

  flush(): void {
    if (this.count === 0) return;
    const announce = [...this.groups].map(([attributes, prefixes]) => ({ attributes, prefixes }));
    const update: OutboundUpdate = this.withdraw.length > 0 ? { withdraw: this.withdraw, announce } : { announce };
    this.withdraw = [];
    this.groups = new Map();
    this.count = 0;
    this.emit(update);
  }
}

const withId = (p: Prefix, id: number): Prefix => ({ ...p, pathId: id });

/** Sends `ps` what changed for one prefix whose best set went from `old` to `best`. */
export function exportChange(ps: PeerState, node: ExportNode, family: FamilyName, prefix: Prefix, old: readonly Path[], best: readonly Path[], out: OutboundBuilder): void {
  if (ps.addPathSend(family)) {
    for (const p of best) {
      const now = ps.exportOf(p, node, family);
      if (now === null) continue;
      const prev = old.find((o) => o.sendId === p.sendId);
      const was = prev === undefined ? null : ps.exportOf(prev, node, family);
      if (was === now) continue;
      if (was === null) ps.advertised[family]++;
      out.announce(withId(prefix, p.sendId), now);
    }
    for (const o of old) {
      if (ps.exportOf(o, node, family) === null) continue;
      const next = best.find((p) => p.sendId === o.sendId);
      if (next !== undefined && ps.exportOf(next, node, family) !== null) continue;
      ps.advertised[family]--;
      out.withdrawPrefix(withId(prefix, o.sendId));
    }
    return;
  }
  if (old[0] === best[0]) return; // the best path stays: what the peer holds stays (ECMP changed)
  const was = old.length > 0 ? ps.exportOf(old[0], node, family) : null;
  const now = best.length > 0 ? ps.exportOf(best[0], node, family) : null;
  if (now !== null) {
    if (now === was) return;
    if (was === null) ps.advertised[family]++;
    out.announce(prefix, now);
  } else if (was !== null) {
    ps.advertised[family]--;
    out.withdrawPrefix(prefix);
  }
}

/** Sends `ps` every exportable route of `family` (initial feed or route refresh). */
export function feed<K extends number | string>(ps: PeerState, node: ExportNode, table: RibTable<K>, family: FamilyName, out: OutboundBuilder): void {
  const addPath = ps.addPathSend(family);
  let count = 0;
  table.forEach((len, key, s) => {
    const n = addPath ? s.best.length : Math.min(1, s.best.length);
    for (let i = 0; i < n; i++) {
      const p = s.best[i];
      const attrs = ps.exportOf(p, node, family);
      if (attrs === null) continue;
      out.announce(table.prefix(len, key, addPath ? p.sendId : undefined), attrs);
      count++;
    }
  });
  ps.advertised[family] = count;
  out.flush();
}

/** A peer already fed, and its builder for the changes of the current flush. */
interface Target {
  readonly ps: PeerState;
  readonly out: OutboundBuilder;
}

/** The outbound streams of all peers, one flush at a time: begin, change per prefix, end. */
export class OutboundStream {
  private targets: Target[] = [];
  /** The targets that carry IPv4, and IPv6. */
  private to4: Target[] = [];
  private to6: Target[] = [];

  constructor(
    private readonly node: ExportNode,
    private readonly send: (peerKey: string, item: OutboundItem) => void,
    /** Most prefixes per OutboundUpdate. */
    private readonly chunk: number,
  ) {}

  /** A route refresh of `family` asked for (RFC 2918): answered at the next flush. False when ignored. */
  refreshAsked(ps: PeerState | undefined, family: FamilyName): boolean {
    if (!ps?.established || !ps.carries(family)) return false;
    ps.refresh.add(family);
    return true;
  }

  /** A flush begins: changes go to the `live` peers already fed. */
  begin(live: readonly PeerState[]): void {
    this.targets = live.filter((ps) => ps.fed).map((ps) => ({ ps, out: this.builder(ps) }));
    this.to4 = this.targets.filter((x) => x.ps.carries('ipv4'));
    this.to6 = this.targets.filter((x) => x.ps.carries('ipv6'));
  }

  /** One prefix's best set changed from `old` to `best` (between begin and end). */
  change(family: FamilyName, prefix: Prefix, old: readonly Path[], best: readonly Path[]): void {
    const to = family === 'ipv4' ? this.to4 : this.to6;
    for (let i = 0; i < to.length; i++) exportChange(to[i].ps, this.node, family, prefix, old, best, to[i].out);
  }

  /** The flush ends: the changes go out, then initial feeds and refresh answers, peer by peer. */
  end(live: readonly PeerState[], table: (family: FamilyName) => RibTable<number | string>): void {
    for (const x of this.targets) x.out.flush();
    this.targets = this.to4 = this.to6 = [];
    for (const ps of live) {
      const key = ps.spec.key;
      if (!ps.fed) {
        // The initial feed answers any refresh asked for before it.
        ps.fed = true;
        ps.refresh.clear();
        for (const f of ps.negotiated?.families ?? []) {
          feed(ps, this.node, table(f), f, this.builder(ps));
          this.send(key, { kind: 'end-of-rib', family: f });
        }
        continue;
      }
      const families = [...ps.refresh];
      ps.refresh.clear();
      // RFC 7313 section 4: BoRR before the re-advertisement, EoRR after it; the peer drops at EoRR
      // whatever of ours it did not see in between.
      const enhanced = ps.negotiated?.enhancedRouteRefresh === true;
      for (const f of families) {
        if (enhanced) this.send(key, { kind: 'begin-refresh', family: f });
        feed(ps, this.node, table(f), f, this.builder(ps));
        if (enhanced) this.send(key, { kind: 'end-refresh', family: f });
      }
    }
  }

  private builder(ps: PeerState): OutboundBuilder {
    const key = ps.spec.key;
    return new OutboundBuilder((update) => this.send(key, { kind: 'update', update }), this.chunk);
  }
}
