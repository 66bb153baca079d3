/**
 * Import of one UPDATE into the Adj-RIBs-In (RFC 4271 section 9.1, kept merged in the Loc-RIB,
 * loc-rib.ts): withdrawals (withdrawn routes and MP_UNREACH_NLRI, RFC 4760), then announcements
 * (NLRI and MP_REACH_NLRI, whose next hop mpNextHop reads into a global and a link-local address,
 * RFC 2545, RFC 8950: an IPv4 route with an IPv6 next hop only from a peer that negotiated
 * extended next hop, else refused as `next-hop-family`) through import policy (policy.ts:
 * attribute rules once per UPDATE, prefix rules once per prefix), then the import rules
 * (policy-rules.ts: their attribute and peer conditions once per UPDATE, their prefix conditions
 * per prefix; the first that matches accepts, with its `set`, or rejects; none: Calico's pool
 * rule). An UPDATE's attributes are interned once and its Path once per
 * path id (RFC 7911), not per prefix: this is the hot path. Refused routes are remembered by
 * `${prefixKey}#${pathId}` so their withdrawal is not counted and a received count stays right.
 * Also the maker of every Path (the node's own included), so path ids and uids stay unique.
 * Not here: End-of-RIB (graceful.ts), the maxPrefixes verdict (rib.ts, peers.ts), or output.
 */

import type { Prefix } from '../bgp/prefix.js';
import type { UpdateMessage } from '../bgp/update.js';
import { mpNextHop } from '../bgp/mp.js';
import { AFI } from '../bgp/constants.js';
import type { LocRib } from './loc-rib.js';
import { makeSource, Path, storedAttributes, type AttrEntry } from './path.js';
import type { PeerState } from './peer-state.js';
import { checkAttributes, inPools, isOwnBlock, prefixKey, type ImportContext, type ImportReason } from './policy.js';
import { applySet, candidates, firstMatch, NO_POLICY, peerMatches, type CompiledPolicy, type CompiledRule } from './policy-rules.js';
import type { PathAttributes } from '../bgp/attributes.js';
import type { FamilyName } from '../bgp/families.js';
import { SERVICE_PEER } from '../contracts/engines.js';

/** One UPDATE being imported: its attributes, the import rules still possible, the paths made per outcome. */
interface Import {
  readonly ps: PeerState;
  readonly stored: PathAttributes;
  readonly cands: readonly CompiledRule[];
  readonly outcomes: ({ entry: AttrEntry; path0: Path | undefined; byId: Map<number, Path> | undefined } | undefined)[];
}

export class AdjIn {
  private nextSendId = 1;
  private nextUid = 1;

  constructor(
    private readonly loc: LocRib,
    /** Import policy's inputs; replaced when the own blocks or pools change (own-blocks.ts). */
    public policy: ImportContext,
    /** policy.import, compiled; replaced at reload (paths already in need a route refresh). */
    public rules: CompiledPolicy = NO_POLICY,
  ) {}

  /** The paths of the node's own blocks (peer 'local'), one per family. */
  localPaths(routerId: string): Record<FamilyName, Path> {
    const source = makeSource({ key: 'local', address: '', external: false, client: false, bgpId: routerId, addressRank: '' });
    const entry = this.loc.attrs.intern({ origin: 0, asPath: [] });
    return {
      ipv4: new Path(source, 0, '', '', entry, 'local4', this.nextSendId++, this.nextUid++),
      ipv6: new Path(source, 0, '', '', entry, 'local6', this.nextSendId++, this.nextUid++),
    };
  }

  /** The path of one anycast service (peer SERVICE_PEER): ORIGIN IGP, empty AS_PATH, its communities. */
  servicePath(routerId: string, afi: number, communities: readonly number[]): Path {
    const source = makeSource({ key: SERVICE_PEER, address: '', external: false, client: false, bgpId: routerId, addressRank: '' });
    const entry = this.loc.attrs.intern(communities.length === 0 ? { origin: 0, asPath: [] } : { origin: 0, asPath: [], communities: [...communities] });
    return new Path(source, 0, '', '', entry, `service${afi}|${entry.id}`, this.nextSendId++, this.nextUid++);
  }

  /** One UPDATE of `ps` that is not an End-of-RIB. */
  update(ps: PeerState, u: UpdateMessage): void {
    const a = u.attributes;
    for (const p of u.withdrawn) this.withdraw(ps, p);
    const un = a.mpUnreach;
    if (un !== undefined && un.raw === undefined) for (const p of un.withdrawn) this.withdraw(ps, p);
    const mp = a.mpReach !== undefined && a.mpReach.raw === undefined && a.mpReach.nlri.length > 0 ? a.mpReach : undefined;
    if (u.nlri.length === 0 && mp === undefined) return;
    const stored = storedAttributes(a);
    const refused = checkAttributes(stored, !ps.spec.internal, this.policy);
    const spec = ps.spec;
    const cands = this.rules.rules.length === 0 ? [] : candidates(this.rules, stored, (r) => peerMatches(r, { address: spec.address, internal: spec.internal, interface: spec.interface }));
    const im: Import = { ps, stored, cands, outcomes: [] };
    if (u.nlri.length > 0) this.announceAll(im, u.nlri, refused, a.nextHop ?? '', '');
    if (mp !== undefined) {
      const nh = mpNextHop(mp);
      // The session withdraws these already (update.ts checkNextHopFamily); the RIB does not rely on it.
      const family = mp.afi === AFI.IPV4 && (nh.linkLocal !== '' || nh.nextHop.includes(':')) && ps.negotiated?.extendedNextHop.ipv4 !== true
        ? 'next-hop-family' : null;
      im.outcomes.length = 0; // another next hop: other paths
      this.announceAll(im, mp.nlri, refused ?? family, nh.nextHop, nh.linkLocal);
    }
  }

  /** A path of `ps` in the Loc-RIB is refused now (policy changed): it counts as received, not accepted. */
  refuse(ps: PeerState, prefix: Prefix, pathId: number): void {
    ps.rejected.add(`${prefixKey(prefix)}#${pathId}`);
    ps.accepted--;
  }

  /**
   * One UPDATE's NLRI of one family: the path is interned once per import outcome (no rule, or
   * the accepting rule) and path id, not per prefix.
   */
  private announceAll(im: Import, nlri: readonly Prefix[], refused: ImportReason | null, nextHop: string, linkLocal: string): void {
    const { ps, cands } = im;
    // A route without a next hop cannot be forwarded (the session should not hand one over).
    const bad = refused ?? (nextHop === '' && linkLocal === '' ? 'no-next-hop' : null);
    for (const p of nlri) {
      const pathId = p.pathId ?? 0;
      const rule = bad !== null || isOwnBlock(p, this.policy) ? null : cands.length === 0 ? undefined : firstMatch(cands, p);
      // No rule decides: Calico's pool rule.
      if (rule === null || (rule === undefined ? !inPools(p, this.policy) : !rule.accept)) {
        ps.rejected.add(`${prefixKey(p)}#${pathId}`);
        if (this.loc.remove(p, ps.spec.key)) ps.accepted--;
        continue;
      }
      if (ps.rejected.size > 0) ps.rejected.delete(`${prefixKey(p)}#${pathId}`);
      const k = rule === undefined ? 0 : rule.index + 1;
      let o = im.outcomes[k];
      if (o === undefined) im.outcomes[k] = o = { entry: this.loc.attrs.intern(this.imported(im, rule)), path0: undefined, byId: undefined };
      let path: Path | undefined = pathId === 0 ? o.path0 : o.byId?.get(pathId);
      if (path === undefined) {
        path = this.intern(ps, p.afi, pathId, nextHop, linkLocal, o.entry);
        if (pathId === 0) o.path0 = path;
        else (o.byId ??= new Map()).set(pathId, path);
      }
      ps.accepted += this.loc.put(p, path);
    }
  }

  /** The attributes stored for an accepted route: the UPDATE's, with the accepting rule's `set` (the peer's AS for a prepend, eBGP only). */
  private imported(im: Import, rule: CompiledRule | undefined): PathAttributes {
    if (rule === undefined) return im.stored;
    const spec = im.ps.spec;
    return applySet(im.stored, rule.set, { localPref: true, prependAsn: spec.internal ? 0 : spec.peerAs });
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
}
