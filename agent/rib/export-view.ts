/**
 * One update group's export under one setting of the export rules and drain: export.ts's result
 * with the first matching export rule applied (policy-rules.ts) and, while drained, RFC 8326 on
 * the node's own paths (peer 'local': own blocks, services): GRACEFUL_SHUTDOWN (65535:0) added,
 * LOCAL_PREF 0 toward iBGP peers, our AS prepended three more times toward eBGP peers (SPEC.md
 * "Drain"). Export rules never touch a path the base export refuses.
 * The memo: per path, the rules still possible after the attribute and peer conditions, and the
 * result per deciding rule (index + 1; 0 when none decides), each interned so equal results are
 * one object (prefixes sharing an exported attribute set share one UPDATE; the interning is shared
 * by every group and view, so reexport.ts compares by identity). A rule with a prefix
 * condition makes the result prefix-dependent; keying on the deciding rule keeps one entry per
 * (path, outcome), never per prefix. A new setting is a new view (the old one is kept only to
 * compute what the members held, outbound.ts reexport).
 * Not here: the group's members and counts (update-group.ts).
 */

import type { PathAttributes } from '../bgp/attributes.js';
import { GRACEFUL_SHUTDOWN } from '../bgp/community-text.js';
import type { FamilyName } from '../bgp/families.js';
import type { Prefix } from '../bgp/prefix.js';
import { exportPath, type ExportNode, type ExportTarget } from './export.js';
import { attributesKey, type Path } from './path.js';
import { applySet, candidates, firstMatch, NO_POLICY, peerMatches, prependAs, type CompiledPolicy, type CompiledRule, type PolicyPeer } from './policy-rules.js';

/** The export memo is dropped when it grows past this many paths (it is cheap to rebuild). */
const MEMO_LIMIT = 65536;
/** RFC 8326 leaves the prepend count to the operator; SPEC.md "Drain" says three. */
export const DRAIN_PREPEND = 3;

/** What the export of every group depends on besides the paths: the export rules and drain. */
export interface ExportSettings {
  readonly policy: CompiledPolicy;
  readonly drained: boolean;
}

export const PLAIN_EXPORT: ExportSettings = Object.freeze({ policy: NO_POLICY, drained: false });

interface Slot {
  readonly cands: readonly CompiledRule[];
  /** By deciding rule index + 1; undefined: not computed yet. */
  readonly out: (PathAttributes | null | undefined)[];
}

export class ExportView {
  private readonly memo = new Map<Path, Slot>();
  private readonly peerOk: (r: CompiledRule) => boolean;

  constructor(
    readonly settings: ExportSettings,
    private readonly target: ExportTarget,
    peer: PolicyPeer,
    /** Interned results, shared by every group and view: an unchanged export is the same object under old and new settings. */
    private readonly interned: Map<string, PathAttributes>,
  ) {
    const ok = settings.policy.rules.map((r) => peerMatches(r, peer));
    this.peerOk = (r) => ok[r.index];
  }

  /** The attributes `path` is sent with for `prefix` (interned), or null. */
  exportOf(path: Path, node: ExportNode, family: FamilyName, prefix: Prefix | undefined): PathAttributes | null {
    let slot = this.memo.get(path);
    if (slot === undefined) {
      if (this.memo.size >= MEMO_LIMIT) {
        this.memo.clear();
        this.interned.clear();
      }
      slot = { cands: candidates(this.settings.policy, path.attributes, this.peerOk), out: [] };
      this.memo.set(path, slot);
    }
    const rule = slot.cands.length === 0 ? undefined : firstMatch(slot.cands, prefix);
    const k = rule === undefined ? 0 : rule.index + 1;
    const hit = slot.out[k];
    if (hit !== undefined) return hit;
    const out = this.compute(path, node, family, rule);
    slot.out[k] = out;
    return out;
  }

  private compute(path: Path, node: ExportNode, family: FamilyName, rule: CompiledRule | undefined): PathAttributes | null {
    let out = exportPath(path, this.target, node, family);
    if (out === null) return null;
    const to = this.target;
    if (rule !== undefined) {
      if (!rule.accept) return null;
      // RFC 4271 5.1.5: LOCAL_PREF only to iBGP peers; a prepend of our own AS only toward eBGP
      // (an iBGP peer would see its own AS in the path and refuse it as a loop).
      out = applySet(out, rule.set, { localPref: to.internal, prependAsn: to.internal ? 0 : to.localAs });
    }
    if (this.settings.drained && path.local) out = drain(out, to);
    const key = attributesKey(out);
    const known = this.interned.get(key);
    if (known !== undefined) return known;
    const frozen = Object.freeze(out);
    this.interned.set(key, frozen);
    return frozen;
  }

  /** Drops what is known about paths no longer in use; adds the results still held to `held`. */
  forget(live: ReadonlySet<Path>, held?: Set<PathAttributes>): void {
    for (const [p, slot] of this.memo) {
      if (!live.has(p)) this.memo.delete(p);
      else if (held !== undefined) for (const a of slot.out) if (a) held.add(a);
    }
  }
}

/** RFC 8326 section 4 (SPEC.md "Drain"): what a drained node's own route carries. */
export function drain(a: PathAttributes, to: Pick<ExportTarget, 'internal' | 'localAs'>): PathAttributes {
  const communities = a.communities?.includes(GRACEFUL_SHUTDOWN) ? a.communities : [...(a.communities ?? []), GRACEFUL_SHUTDOWN];
  if (to.internal) return { ...a, communities, localPref: 0 };
  return { ...a, communities, asPath: prependAs(a.asPath, to.localAs, DRAIN_PREPEND) };
}

/** The export rules with a peer address or interface condition, and whether each holds for `peer`: part of a group's signature. */
export function peerOutcomes(settings: ExportSettings, peer: PolicyPeer): string {
  return settings.policy.rules.filter((r) => r.byPeerIdentity).map((r) => (peerMatches(r, peer) ? '1' : '0')).join('');
}
