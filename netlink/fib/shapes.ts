/**
 * Interned desired routes (issue 12). What the kernel should hold for a prefix depends on the
 * prefix only through its family and its pool (IPIP mode); the rest is the best paths, which the
 * RIB hands on as shared, frozen arrays (one per path set, a few thousand for a million prefixes).
 * So the result of desiredRoute (desired.ts, the one definition) is computed once per (best
 * array, family, pool), kept in a WeakMap on the array, and interned by content: every prefix
 * with the same next hops points at one DesiredEntry, whose route's prefix is '' (the Fib's key
 * names the prefix; withPrefix puts it back for a request). Results with a problem name their
 * prefix and are not shared. The cache is dropped when the context (devices, tunnel) changes.
 * Not here: per-prefix state (state.ts), the diff (diff.ts).
 */
import { AFI } from '../../agent/bgp/constants.js';
import type { Prefix } from '../../agent/bgp/prefix.js';
import type { RibPath } from '../../agent/rib/types.js';
import { desiredRoute, prefixWithin } from './desired.js';
import type { DesiredEntry } from './diff.js';
import { fibSignature } from './kernel-route.js';
import type { FibContext, FibProblem, FibRoute } from './types.js';

export interface Desired {
  readonly want: DesiredEntry | undefined;
  readonly problem: FibProblem | null;
}

const NOTHING: Desired = { want: undefined, problem: null };
const MAX_INTERNED = 65_536;

export class Shapes {
  private cache = new WeakMap<readonly RibPath[], Desired[]>();
  private readonly interned = new Map<string, DesiredEntry>();
  private ctx: FibContext;

  constructor(ctx: FibContext) {
    this.ctx = ctx;
  }

  /** A new context: every cached result may be stale. */
  reset(ctx: FibContext): void {
    this.ctx = ctx;
    this.cache = new WeakMap();
  }

  desired(prefix: Prefix, best: readonly RibPath[]): Desired {
    if (best.length === 0) return NOTHING;
    const slot = this.slotOf(prefix);
    let row = this.cache.get(best);
    const hit = row?.[slot];
    if (hit !== undefined) return hit;
    const result = desiredRoute({ prefix, best, old: [] }, this.ctx);
    const desired: Desired = { want: result.route === null ? undefined : this.intern(result.route), problem: result.problem };
    if (result.problem === null) {
      if (row === undefined) {
        row = [];
        this.cache.set(best, row);
      }
      row[slot] = desired;
    }
    return desired;
  }

  /** 0 for IPv6, then 1 + the index of the IPv4 prefix's pool (0 + 1 + pools for none). */
  private slotOf(prefix: Prefix): number {
    if (prefix.afi !== AFI.IPV4) return 0;
    const pools = this.ctx.pools;
    for (let i = 0; i < pools.length; i++) if (prefixWithin(prefix, pools[i].prefix)) return i + 1;
    return pools.length + 1;
  }

  private intern(route: FibRoute): DesiredEntry {
    let key = `${route.family} ${route.kind}`;
    for (const nh of route.nextHops) key += ` ${nh.gateway}%${nh.ifindex}%${nh.dev}%${nh.onlink ? 1 : 0}%${nh.peer}`;
    let entry = this.interned.get(key);
    if (entry === undefined) {
      if (this.interned.size >= MAX_INTERNED) this.interned.clear(); // only sharing is lost
      const shared: FibRoute = { family: route.family, prefix: '', kind: route.kind, nextHops: route.nextHops };
      entry = { route: shared, signature: fibSignature(shared) };
      this.interned.set(key, entry);
    }
    return entry;
  }
}

/** The desired entry with its route's prefix filled in: what one request carries. */
export function withPrefix(want: DesiredEntry, prefix: string): DesiredEntry {
  return { route: { ...want.route, prefix }, signature: want.signature };
}
