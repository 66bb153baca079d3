/**
 * Adj-RIB-Out without a per-peer table: what a peer has been sent is a pure function of the best
 * set and export policy, so a change is the difference between the export of the old best set and
 * of the new one (RFC 4271 section 9.2), and a full feed walks the Loc-RIB. Announcements are
 * grouped by exported attribute set (interned, so grouping is by identity) and cut into chunks.
 * With add-path send (RFC 7911) every member of the ECMP set goes out under its own identifier
 * (stable per source peer and path id); without it, the best path only.
 * Not here: encoding (agent/bgp/pack.ts), or deciding which peers are due a feed (rib.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { Prefix } from '../bgp/prefix.js';
import type { FamilyName } from '../session/negotiate.js';
import type { ExportNode } from './export.js';
import type { Path } from './path.js';
import type { PeerState } from './peer-state.js';
import type { RibTable } from './table.js';
import type { OutboundUpdate } from './types.js';

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
