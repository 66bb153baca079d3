/**
 * Update groups (FRR's term): peers whose outbound policy and encoding are the same are sent the
 * same UPDATEs, so the RIB computes each change's export once per group instead of once per peer,
 * and the sessions pack the result once for all members (a route reflector with a thousand
 * clients has one group, one memo and one copy of every exported attribute set).
 * A group holds its export view (export-view.ts: the memo of exported attributes per path and
 * deciding export rule; a new export policy or drain gives every group a new view) and the count
 * of paths it exports per family and per source peer: a member is never sent its own paths (RFC 4271 section 9.2), so what it holds is
 * the group's count less its own.
 * The signature that makes two peers one group: every PeerSpec field export.ts reads except the key
 * (iBGP or eBGP, local AS, route-reflector client, next-hop mode, local address), the families,
 * add-path send per family, RFC 8950 extended next hop for IPv4 (it changes the next hop and the
 * encoding of IPv4 routes), the encode context (4-octet AS, add-path, eBGP, message size), and
 * the outcome of each export rule's peer address or interface condition for the peer.
 * The exported attribute sets are interned once for all groups (UpdateGroups), so prefixes sharing
 * one share one UPDATE and a re-export compares old and new by identity; pruned at the RIB's sweep.
 * Not here: the export policy itself (export.ts, export-view.ts), what goes out per change
 * (outbound.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { FamilyName } from '../bgp/families.js';
import type { Prefix } from '../bgp/prefix.js';
import type { Negotiated, PeerSpec } from '../contracts/engines.js';
import type { ExportNode, ExportTarget } from './export.js';
import { ExportView, peerOutcomes, PLAIN_EXPORT, type ExportSettings } from './export-view.js';
import type { Path } from './path.js';
import type { PolicyPeer } from './policy-rules.js';

/** The peer as the export rules' peer conditions see it. */
export const policyPeer = (spec: PeerSpec): PolicyPeer => ({ address: spec.address, internal: spec.internal, ...(spec.interface === undefined ? {} : { interface: spec.interface }) });

/** What decides a peer's group. */
export function groupSignature(spec: PeerSpec, n: Negotiated, settings: ExportSettings = PLAIN_EXPORT): string {
  const e = n.encode;
  return JSON.stringify([spec.internal, spec.localAs, spec.routeReflectorClient, spec.nextHopMode, spec.localAddress, n.families,
    n.addPathSend.ipv4, n.addPathSend.ipv6, n.extendedNextHop.ipv4, e.fourOctetAs, e.addPathIpv4, e.addPathIpv6, e.external, e.maxLength,
    peerOutcomes(settings, policyPeer(spec))]);
}

export class UpdateGroup {
  /** Members with a session (fed or not). */
  readonly members = new Set<string>();
  /** The members' export target; its key is no peer's, so export.ts's "not back to the source" never applies here. */
  readonly target: ExportTarget;
  readonly families: readonly FamilyName[];
  private readonly addPath: Readonly<Record<FamilyName, boolean>>;
  /** The export under the settings now in force (replaced whole by `configure`). */
  view: ExportView;
  private readonly peer: PolicyPeer;
  /** Paths exported, per family, and per source peer. */
  private readonly total: Record<FamilyName, number> = { ipv4: 0, ipv6: 0 };
  private readonly own = new Map<string, Record<FamilyName, number>>();

  constructor(readonly signature: string, spec: PeerSpec, n: Negotiated, settings: ExportSettings = PLAIN_EXPORT,
    /** Exported attribute sets, interned across every group and view (UpdateGroups'), so equal exports are one object. */
    private readonly interned = new Map<string, PathAttributes>()) {
    this.target = { key: '', internal: spec.internal, localAs: spec.localAs, routeReflectorClient: spec.routeReflectorClient, nextHopMode: spec.nextHopMode, localAddress: spec.localAddress,
      extendedNextHopIpv4: n.extendedNextHop.ipv4 };
    this.families = n.families;
    this.addPath = { ...n.addPathSend };
    this.peer = policyPeer(spec);
    this.view = new ExportView(settings, this.target, this.peer, this.interned);
  }

  /** New export settings: a new view; the old one is returned (what the members hold was computed with it). */
  configure(settings: ExportSettings): ExportView {
    const old = this.view;
    this.view = new ExportView(settings, this.target, this.peer, this.interned);
    return old;
  }

  addPathSend(family: FamilyName): boolean {
    return this.addPath[family];
  }

  carries(family: FamilyName): boolean {
    return this.families.includes(family);
  }

  /**
   * The attributes `path` is sent to the members with for `prefix` (interned), or null (never to its
   * own source). `prefix` may be undefined when no export rule has a prefix condition.
   */
  exportOf(path: Path, node: ExportNode, family: FamilyName, prefix: Prefix | undefined): PathAttributes | null {
    return this.view.exportOf(path, node, family, prefix);
  }

  /** One exported path of `source` more (+1) or less (-1). */
  count(source: string, family: FamilyName, delta: number): void {
    this.total[family] += delta;
    let o = this.own.get(source);
    if (o === undefined) this.own.set(source, (o = { ipv4: 0, ipv6: 0 }));
    o[family] += delta;
  }

  /** A full walk of `family` follows: the counts start again. */
  recount(family: FamilyName): void {
    this.total[family] = 0;
    for (const o of this.own.values()) o[family] = 0;
  }

  /** Paths a fed member holds from us: the group's, less its own. */
  advertisedTo(key: string): number {
    const o = this.own.get(key);
    return this.total.ipv4 + this.total.ipv6 - (o === undefined ? 0 : o.ipv4 + o.ipv6);
  }

  /** Drops what is known about paths no longer in use (after the RIB's sweep); adds the exports still held to `held`. */
  forget(live: ReadonlySet<Path>, held?: Set<PathAttributes>): void {
    this.view.forget(live, held);
    for (const [key, o] of this.own) if (o.ipv4 === 0 && o.ipv6 === 0) this.own.delete(key);
  }
}

/** Every group, by signature; a group with no member is dropped. */
export class UpdateGroups {
  private readonly bySignature = new Map<string, UpdateGroup>();
  /** The export rules and drain in force. */
  settings: ExportSettings = PLAIN_EXPORT;
  /** Exported attribute sets of every group: a peer moved between groups compares its old and new export by identity. */
  private readonly interned = new Map<string, PathAttributes>();

  /** The group of a peer whose session came up with `n`. */
  join(key: string, spec: PeerSpec, n: Negotiated): UpdateGroup {
    const signature = groupSignature(spec, n, this.settings);
    let g = this.bySignature.get(signature);
    if (g === undefined) this.bySignature.set(signature, (g = new UpdateGroup(signature, spec, n, this.settings, this.interned)));
    g.members.add(key);
    return g;
  }

  /**
   * New export settings: every group gets a new view, and a peer whose signature changes (an
   * export rule's peer address or interface condition) moves to its new group. Returns, per
   * peer, the view what it holds was computed with.
   */
  configure(settings: ExportSettings, peers: readonly { key: string; spec: PeerSpec; negotiated: Negotiated; group: UpdateGroup | null; move: (g: UpdateGroup) => void }[]): Map<string, ExportView> {
    this.settings = settings;
    const old = new Map<UpdateGroup, ExportView>();
    for (const g of this.bySignature.values()) old.set(g, g.configure(settings));
    const held = new Map<string, ExportView>();
    for (const p of peers) {
      if (p.group === null) continue;
      const view = old.get(p.group);
      if (view !== undefined) held.set(p.key, view);
      if (groupSignature(p.spec, p.negotiated, settings) === p.group.signature) continue;
      this.leave(p.key, p.group);
      p.move(this.join(p.key, p.spec, p.negotiated));
    }
    return held;
  }

  leave(key: string, g: UpdateGroup | null): void {
    if (g === null) return;
    g.members.delete(key);
    if (g.members.size === 0 && this.bySignature.get(g.signature) === g) this.bySignature.delete(g.signature);
  }

  get size(): number {
    return this.bySignature.size;
  }

  /** After the RIB's sweep: each group forgets dead paths, and the intern table the exports no memo holds. */
  forget(live: ReadonlySet<Path>): void {
    const held = new Set<PathAttributes>();
    for (const g of this.bySignature.values()) g.forget(live, held);
    for (const [key, a] of this.interned) if (!held.has(a)) this.interned.delete(key);
  }
}
