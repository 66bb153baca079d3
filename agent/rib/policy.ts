/**
 * Import policy, as Calico's BIRD filters do it, as pure functions with a reason per rule:
 * - accept only prefixes inside an enabled pool (IPv4 and IPv6): `outside-pools`; this is the
 *   default when no import rule decides (policy-rules.ts; a rule's reject is `policy-reject`);
 * - never one of the node's own blocks exactly: `own-block` (more-specifics inside an own block
 *   are accepted: addresses another node borrowed, projectcalico/calico#3246);
 * - RFC 4456 section 8: ORIGINATOR_ID equal to our router ID (`originator-is-self`), our cluster ID
 *   in the CLUSTER_LIST (`cluster-loop`);
 * - RFC 4271 section 9.1.2: our AS in the AS_PATH of an eBGP path (`as-path-loop`).
 * The attribute rules are checked once per UPDATE, the prefix rules once per prefix. The maximum
 * prefix count is the RIB's (it counts); not here.
 */

import type { PathAttributes } from '../bgp/attributes.js';
import { ipv4ToNumber, ipv6ToBytes } from '../bgp/ip.js';
import { parsePrefix, type Prefix } from '../bgp/prefix.js';

/** Why a path was refused; `no-next-hop` is the RIB's own sanity check, not a Calico rule. */
export type ImportReason = 'outside-pools' | 'policy-reject' | 'own-block' | 'originator-is-self' | 'cluster-loop' | 'as-path-loop' | 'no-next-hop' | 'next-hop-family';

export interface ImportContext {
  /** Enabled pools. */
  readonly pools: readonly Prefix[];
  /** Own blocks, by prefixKey. */
  readonly ownBlocks: ReadonlySet<string | number>;
  /** Our BGP identifier, dotted quad. */
  readonly routerId: string;
  /** Our route-reflector cluster ID, dotted quad, or '' for a plain node. */
  readonly clusterId: string;
  readonly localAs: number;
}

/** A prefix's identity as a number (IPv4) or text (IPv6), path id ignored. */
export function prefixKey(p: Prefix): string | number {
  return p.afi === 1 ? p.len * 0x100000000 + p.addr : `${Buffer.from(p.addr.buffer, p.addr.byteOffset, 16).toString('hex')}/${p.len}`;
}

export function importContext(o: {
  pools: readonly string[];
  blocks: readonly string[];
  routerId: string;
  clusterId: string;
  localAs: number;
}): ImportContext {
  return {
    pools: o.pools.map((c) => parsePrefix(c)),
    ownBlocks: new Set(o.blocks.map((b) => prefixKey(parsePrefix(b)))),
    routerId: o.routerId,
    clusterId: o.clusterId,
    localAs: o.localAs,
  };
}

/** True when `p` lies inside (or is) `outer`. */
export function covers(outer: Prefix, p: Prefix): boolean {
  if (outer.afi !== p.afi || p.len < outer.len) return false;
  if (outer.afi === 1 && p.afi === 1) {
    return outer.len === 0 || (p.addr ^ outer.addr) >>> (32 - outer.len) === 0;
  }
  const a = outer.addr as Uint8Array;
  const b = p.addr as Uint8Array;
  const whole = outer.len >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = outer.len & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (a[whole] & mask) === (b[whole] & mask);
}

/** The rules that depend only on the attributes: run once per UPDATE. */
export function checkAttributes(a: PathAttributes, external: boolean, ctx: ImportContext): ImportReason | null {
  if (a.originatorId !== undefined && a.originatorId === ctx.routerId) return 'originator-is-self';
  if (ctx.clusterId !== '' && a.clusterList?.includes(ctx.clusterId)) return 'cluster-loop';
  if (external && a.asPath?.some((s) => s.asns.includes(ctx.localAs))) return 'as-path-loop';
  return null;
}

/** Calico's pool rule: inside an enabled pool. */
export function inPools(p: Prefix, ctx: ImportContext): boolean {
  for (const pool of ctx.pools) if (covers(pool, p)) return true;
  return false;
}

/** One of the node's own blocks exactly (never accepted from a peer, whatever the import rules say). */
export function isOwnBlock(p: Prefix, ctx: ImportContext): boolean {
  return ctx.ownBlocks.size > 0 && ctx.ownBlocks.has(prefixKey(p));
}

/** The rules that depend on the prefix without import rules: run per prefix, so they stay cheap. */
export function checkPrefix(p: Prefix, ctx: ImportContext): ImportReason | null {
  if (!inPools(p, ctx)) return 'outside-pools';
  if (isOwnBlock(p, ctx)) return 'own-block';
  return null;
}

export function importVerdict(p: Prefix, a: PathAttributes, external: boolean, ctx: ImportContext): ImportReason | null {
  return checkAttributes(a, external, ctx) ?? checkPrefix(p, ctx);
}

/** Dotted quad or IPv6 text to bytes; used to rank peer addresses. */
export function addressBytes(text: string): Uint8Array {
  if (text.includes(':')) return ipv6ToBytes(text);
  const n = ipv4ToNumber(text);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}
