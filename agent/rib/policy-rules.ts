/**
 * Routing policy rules (SPEC.md "Routing policy") compiled once per reload into a matcher, pure.
 * A rule matches when every condition it has holds: prefix (the prefix or one inside it; `exact`:
 * only itself; `ge`/`le`: inside it within those lengths), pool (inside that pool), community
 * (RFC 1997), large community (RFC 8092), an AS in the AS_PATH, peer (address, interface, iBGP or
 * eBGP). The first rule that matches decides: accept (with its `set`) or reject.
 * The cost is split so a million prefixes pay almost nothing: `candidates` runs the attribute
 * and peer conditions once per UPDATE (import) or per path (export) and keeps the rules still
 * possible; `firstMatch` runs only their prefix conditions, per prefix. A policy without prefix
 * conditions decides once per UPDATE or path.
 * `applySet` is what an accepting rule changes; GRACEFUL_SHUTDOWN (RFC 8326) is drain's, in
 * export-rules.ts. Not here: the Calico pool rule and the loop checks (policy.ts), the memo per
 * update group (update-group.ts).
 */

import type { LargeCommunity, PathAttributes } from '../bgp/attributes.js';
import type { AsPathSegment } from '../bgp/as-path.js';
import { parseCommunity, parseLargeCommunity } from '../bgp/community-text.js';
import { parsePrefix, type Prefix } from '../bgp/prefix.js';
import type { PolicyRule } from '../../config/types.js';
import { covers } from './policy.js';

/** What a rule sets on accept, parsed. */
export interface CompiledSet {
  readonly localPref?: number;
  readonly med?: number;
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunity[];
  readonly prepend: number;
}

export interface CompiledRule {
  /** Position in its list: what an export memo is keyed on. */
  readonly index: number;
  readonly accept: boolean;
  readonly set: CompiledSet;
  /** Prefix condition: inside `within`, length in [minLen, maxLen]. */
  readonly within?: Prefix;
  readonly minLen: number;
  readonly maxLen: number;
  readonly pool?: Prefix;
  readonly community?: number;
  readonly largeCommunity?: LargeCommunity;
  readonly asPathContains?: number;
  readonly peerAddress: string;
  readonly peerInterface: string;
  /** undefined: any; true: iBGP only; false: eBGP only. */
  readonly peerInternal?: boolean;
  /** Has a prefix or pool condition. */
  readonly byPrefix: boolean;
  /** Has an address or interface condition (an export rule with one splits update groups). */
  readonly byPeerIdentity: boolean;
}

export interface CompiledPolicy {
  readonly rules: readonly CompiledRule[];
  /** Some rule has a prefix condition: the outcome may differ between prefixes of one path. */
  readonly byPrefix: boolean;
  /** The rules as configured, to tell whether a reload changed them. */
  readonly text: string;
}

/** The peer a rule looks at: import, the peer a path came from; export, the peer it goes to. */
export interface PolicyPeer {
  readonly address: string;
  readonly interface?: string;
  readonly internal: boolean;
}

export const NO_POLICY: CompiledPolicy = Object.freeze({ rules: Object.freeze([]), byPrefix: false, text: '[]' });
const NONE: readonly CompiledRule[] = Object.freeze([]);

export function compilePolicy(rules: readonly PolicyRule[]): CompiledPolicy {
  if (rules.length === 0) return NO_POLICY;
  const compiled = rules.map((r, index): CompiledRule => {
    const m = r.match;
    const within = m.prefix === '' ? undefined : parsePrefix(m.prefix);
    const max = within?.afi === 2 ? 128 : 32;
    const minLen = within === undefined ? 0 : m.exact ? within.len : (m.ge ?? within.len);
    const maxLen = within === undefined ? 128 : m.exact ? within.len : (m.le ?? max);
    const s = r.set;
    const pool = m.pool === '' ? undefined : parsePrefix(m.pool);
    return Object.freeze({
      index,
      accept: r.action === 'accept',
      set: Object.freeze({
        ...(s.localPref === null ? {} : { localPref: s.localPref }),
        ...(s.med === null ? {} : { med: s.med }),
        communities: s.communities.map((c) => parseCommunity(c) ?? 0),
        largeCommunities: s.largeCommunities.map((c) => parseLargeCommunity(c) ?? { global: 0, local1: 0, local2: 0 }),
        prepend: s.prepend,
      }),
      within, minLen, maxLen, pool,
      ...(m.community === '' ? {} : { community: parseCommunity(m.community) }),
      ...(m.largeCommunity === '' ? {} : { largeCommunity: parseLargeCommunity(m.largeCommunity) }),
      ...(m.asPathContains === null ? {} : { asPathContains: m.asPathContains }),
      peerAddress: m.peer.address,
      peerInterface: m.peer.interface,
      ...(m.peer.type === '' ? {} : { peerInternal: m.peer.type === 'ibgp' }),
      byPrefix: within !== undefined || pool !== undefined,
      byPeerIdentity: m.peer.address !== '' || m.peer.interface !== '',
    });
  });
  return Object.freeze({ rules: Object.freeze(compiled), byPrefix: compiled.some((r) => r.byPrefix), text: JSON.stringify(rules) });
}

/** The peer conditions of `r` hold for `peer`. */
export function peerMatches(r: CompiledRule, peer: PolicyPeer): boolean {
  if (r.peerInternal !== undefined && r.peerInternal !== peer.internal) return false;
  if (r.peerAddress !== '' && r.peerAddress !== peer.address) return false;
  return r.peerInterface === '' || r.peerInterface === (peer.interface ?? '');
}

const hasAs = (path: readonly AsPathSegment[] | undefined, asn: number): boolean => path?.some((s) => s.asns.includes(asn)) ?? false;
const sameLarge = (a: LargeCommunity, b: LargeCommunity): boolean => a.global === b.global && a.local1 === b.local1 && a.local2 === b.local2;

/** The attribute conditions of `r` hold for `a`. */
function attributesMatch(r: CompiledRule, a: PathAttributes): boolean {
  if (r.community !== undefined && !(a.communities?.includes(r.community) ?? false)) return false;
  const lc = r.largeCommunity;
  if (lc !== undefined && !(a.largeCommunities?.some((x) => sameLarge(x, lc)) ?? false)) return false;
  return r.asPathContains === undefined || hasAs(a.asPath, r.asPathContains);
}

/**
 * The rules whose attribute and peer conditions hold (in order), cut after the first one without
 * a prefix condition (it matches every prefix, so nothing after it can decide). `peerOk` says
 * whether a rule's peer conditions hold (export: computed once per update group).
 */
export function candidates(policy: CompiledPolicy, a: PathAttributes, peerOk: (r: CompiledRule) => boolean): readonly CompiledRule[] {
  if (policy.rules.length === 0) return NONE;
  const out: CompiledRule[] = [];
  for (const r of policy.rules) {
    if (!peerOk(r) || !attributesMatch(r, a)) continue;
    out.push(r);
    if (!r.byPrefix) break;
  }
  return out.length === 0 ? NONE : out;
}

/**
 * The first of `cands` whose prefix conditions hold for `p`, or undefined (no rule decides). `p`
 * may be undefined when no rule has a prefix condition (CompiledPolicy.byPrefix false).
 */
export function firstMatch(cands: readonly CompiledRule[], p: Prefix | undefined): CompiledRule | undefined {
  for (let i = 0; i < cands.length; i++) {
    const r = cands[i];
    if (r.within !== undefined && (p === undefined || p.len < r.minLen || p.len > r.maxLen || !covers(r.within, p))) continue;
    if (r.pool !== undefined && (p === undefined || !covers(r.pool, p))) continue;
    return r;
  }
  return undefined;
}

function addUnique<T>(list: readonly T[] | undefined, more: readonly T[], same: (a: T, b: T) => boolean): readonly T[] | undefined {
  if (more.length === 0) return list;
  const out = [...(list ?? [])];
  for (const x of more) if (!out.some((y) => same(x, y))) out.push(x);
  return out;
}

/** `asn` in front of the AS_PATH `times` times (a segment holds at most 255 ASes). */
export function prependAs(path: readonly AsPathSegment[] | undefined, asn: number, times: number): AsPathSegment[] {
  const segs = [...(path ?? [])];
  for (let i = 0; i < times; i++) {
    const first = segs[0];
    if (first !== undefined && first.type === 'sequence' && first.asns.length < 255) segs[0] = { type: 'sequence', asns: [asn, ...first.asns] };
    else segs.unshift({ type: 'sequence', asns: [asn] });
  }
  return segs;
}

/**
 * `a` with `s` applied: LOCAL_PREF (when `localPref` may be carried), MED, communities and large
 * communities added (once each), `prependAsn` prepended `s.prepend` times (0: no prepend).
 */
export function applySet(a: PathAttributes, s: CompiledSet, o: { localPref: boolean; prependAsn: number }): PathAttributes {
  let out: PathAttributes = a;
  if (s.localPref !== undefined && o.localPref) out = { ...out, localPref: s.localPref };
  if (s.med !== undefined) out = { ...out, med: s.med };
  const communities = addUnique(a.communities, s.communities, (x, y) => x === y);
  if (communities !== a.communities) out = { ...out, communities };
  const large = addUnique(a.largeCommunities, s.largeCommunities, sameLarge);
  if (large !== a.largeCommunities) out = { ...out, largeCommunities: large };
  if (s.prepend > 0 && o.prependAsn > 0) out = { ...out, asPath: prependAs(out.asPath, o.prependAsn, s.prepend) };
  return out;
}
