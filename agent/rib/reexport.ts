/**
 * Re-export after the export rules or drain changed (reload, `agentctl drain` / `undrain`):
 * without an Adj-RIB-Out, what a member holds is its old view's export of the best set (RFC 4271
 * section 9.2), so one walk of the Loc-RIB per group and family compares the old export with the
 * new one and sends only the difference: an announcement where the attributes changed, a
 * withdrawal where the new rules refuse what was sent. Members that held their export under
 * different old views (a peer moved between groups) get their own part of the walk. The group's
 * counts are rebuilt on the way. Not here: when it runs (outbound.ts, at the end of a flush, after
 * the flush's changes went out with the old view).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { FamilyName } from '../bgp/families.js';
import type { Prefix } from '../bgp/prefix.js';
import type { ExportNode } from './export.js';
import type { ExportView } from './export-view.js';
import { attributesKey } from './path.js';
import type { PeerState } from './peer-state.js';
import type { RibTable } from './table.js';
import type { UpdateGroup } from './update-group.js';

/** What a walk sends to (outbound.ts OutboundBuilder). */
export interface ReexportSink {
  announce(p: Prefix, attributes: PathAttributes, except?: string): void;
  withdrawPrefix(p: Prefix, except?: string): void;
  flush(): void;
}

/** Members of `g` whose held export was computed with `view`, and where their updates go. */
export interface Holders {
  readonly view: ExportView;
  readonly out: ReexportSink;
}

export function reexport<K extends number | string>(g: UpdateGroup, node: ExportNode, table: RibTable<K>, family: FamilyName, holders: readonly Holders[]): void {
  const addPath = g.addPathSend(family);
  g.recount(family);
  table.forEach((len, key, s) => {
    const n = addPath ? s.best.length : Math.min(1, s.best.length);
    if (n === 0) return;
    const prefix = table.prefix(len, key);
    for (let i = 0; i < n; i++) {
      const p = s.best[i];
      const now = g.exportOf(p, node, family, prefix);
      if (now !== null) g.count(p.peer, family, 1);
      const sent = addPath ? { ...prefix, pathId: p.sendId } : prefix;
      for (const h of holders) {
        const was = h.view.exportOf(p, node, family, prefix);
        // Interned, so equal is identical; unless the intern table was dropped meanwhile (its limit).
        if (was === now || (was !== null && now !== null && attributesKey(was) === attributesKey(now))) continue;
        // The source of the path never held it (RFC 4271 9.2): `except` leaves it out.
        if (now !== null) h.out.announce(sent, now, p.peer);
        else h.out.withdrawPrefix(sent, p.peer);
      }
    }
  });
  for (const h of holders) h.out.flush();
}

/**
 * Each group's fed members among `live`, by the view their holdings were computed with (`held`,
 * from UpdateGroups.configure): one walk per group and family, a part per old view.
 */
export function reexportAll(live: readonly PeerState[], held: ReadonlyMap<string, ExportView>, node: ExportNode,
  table: (family: FamilyName) => RibTable<number | string>, builder: (keys: readonly string[]) => ReexportSink): void {
  const byGroup = new Map<UpdateGroup, Map<ExportView, string[]>>();
  for (const ps of live) {
    const view = held.get(ps.spec.key);
    if (!ps.fed || ps.group === null || view === undefined) continue;
    let parts = byGroup.get(ps.group);
    if (parts === undefined) byGroup.set(ps.group, (parts = new Map()));
    const keys = parts.get(view);
    if (keys === undefined) parts.set(view, [ps.spec.key]);
    else keys.push(ps.spec.key);
  }
  for (const [group, parts] of byGroup) {
    for (const f of group.families) reexport(group, node, table(f), f, [...parts].map(([view, keys]) => ({ view, out: builder(keys) })));
  }
}
