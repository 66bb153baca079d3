/**
 * Update groups (FRR's term): peers whose outbound policy and encoding are the same are sent the
 * same UPDATEs, so the RIB computes each change's export once per group instead of once per peer,
 * and the sessions pack the result once for all members (a route reflector with a thousand
 * clients has one group, one memo and one copy of every exported attribute set).
 * A group holds the export memo (exported attributes per path, interned, so prefixes sharing an
 * exported attribute set share one UPDATE) and the count of paths it exports per family and per
 * source peer: a member is never sent its own paths (RFC 4271 section 9.2), so what it holds is
 * the group's count less its own.
 * The signature that makes two peers one group: every PeerSpec field export.ts reads except the key
 * (iBGP or eBGP, local AS, route-reflector client, next-hop mode, local address), the families,
 * add-path send per family, RFC 8950 extended next hop for IPv4 (it changes the next hop and the
 * encoding of IPv4 routes), and the encode context (4-octet AS, add-path, eBGP, message size).
 * Not here: the export policy itself (export.ts), what goes out per change (outbound.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import type { FamilyName } from '../bgp/families.js';
import type { Negotiated, PeerSpec } from '../contracts/engines.js';
import { exportPath, type ExportNode, type ExportTarget } from './export.js';
import { attributesKey, type Path } from './path.js';

/** The export memo is dropped when it grows past this many paths (it is cheap to rebuild). */
const MEMO_LIMIT = 65536;

/** What decides a peer's group. */
export function groupSignature(spec: PeerSpec, n: Negotiated): string {
  const e = n.encode;
  return JSON.stringify([spec.internal, spec.localAs, spec.routeReflectorClient, spec.nextHopMode, spec.localAddress, n.families,
    n.addPathSend.ipv4, n.addPathSend.ipv6, n.extendedNextHop.ipv4, e.fourOctetAs, e.addPathIpv4, e.addPathIpv6, e.external, e.maxLength]);
}

export class UpdateGroup {
  /** Members with a session (fed or not). */
  readonly members = new Set<string>();
  /** The members' export target; its key is no peer's, so export.ts's "not back to the source" never applies here. */
  readonly target: ExportTarget;
  readonly families: readonly FamilyName[];
  private readonly addPath: Readonly<Record<FamilyName, boolean>>;
  private readonly memo = new Map<Path, PathAttributes | null>();
  private readonly interned = new Map<string, PathAttributes>();
  /** Paths exported, per family, and per source peer. */
  private readonly total: Record<FamilyName, number> = { ipv4: 0, ipv6: 0 };
  private readonly own = new Map<string, Record<FamilyName, number>>();

  constructor(readonly signature: string, spec: PeerSpec, n: Negotiated) {
    this.target = { key: '', internal: spec.internal, localAs: spec.localAs, routeReflectorClient: spec.routeReflectorClient, nextHopMode: spec.nextHopMode, localAddress: spec.localAddress,
      extendedNextHopIpv4: n.extendedNextHop.ipv4 };
    this.families = n.families;
    this.addPath = { ...n.addPathSend };
  }

  addPathSend(family: FamilyName): boolean {
    return this.addPath[family];
  }

  carries(family: FamilyName): boolean {
    return this.families.includes(family);
  }

  /** The attributes `path` is sent to the members with (interned), or null (never to its own source). */
  exportOf(path: Path, node: ExportNode, family: FamilyName): PathAttributes | null {
    const hit = this.memo.get(path);
    if (hit !== undefined) return hit;
    if (this.memo.size >= MEMO_LIMIT) {
      this.memo.clear();
      this.interned.clear();
    }
    let out = exportPath(path, this.target, node, family);
    if (out !== null) {
      const key = attributesKey(out);
      const known = this.interned.get(key);
      if (known !== undefined) out = known;
      else this.interned.set(key, (out = Object.freeze(out)));
    }
    this.memo.set(path, out);
    return out;
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

  /** Drops what is known about paths no longer in use (after the RIB's sweep). */
  forget(live: ReadonlySet<Path>): void {
    for (const p of this.memo.keys()) if (!live.has(p)) this.memo.delete(p);
    for (const [key, o] of this.own) if (o.ipv4 === 0 && o.ipv6 === 0) this.own.delete(key);
  }
}

/** Every group, by signature; a group with no member is dropped. */
export class UpdateGroups {
  private readonly bySignature = new Map<string, UpdateGroup>();

  /** The group of a peer whose session came up with `n`. */
  join(key: string, spec: PeerSpec, n: Negotiated): UpdateGroup {
    const signature = groupSignature(spec, n);
    let g = this.bySignature.get(signature);
    if (g === undefined) this.bySignature.set(signature, (g = new UpdateGroup(signature, spec, n)));
    g.members.add(key);
    return g;
  }

  leave(key: string, g: UpdateGroup | null): void {
    if (g === null) return;
    g.members.delete(key);
    if (g.members.size === 0 && this.bySignature.get(g.signature) === g) this.bySignature.delete(g.signature);
  }

  get size(): number {
    return this.bySignature.size;
  }

  forget(live: ReadonlySet<Path>): void {
    for (const g of this.bySignature.values()) g.forget(live);
  }
}
