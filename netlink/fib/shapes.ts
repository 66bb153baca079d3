/**
 * Interned desired routes (issue 12). What the kernel should hold for a prefix depends on the
 * prefix only through its family and its pool (IPIP mode); the rest is the best paths, which the
 * RIB hands on as shared, frozen arrays (one per path set, a few thousand for a million prefixes).
 * So the result of desiredRoute (desired.ts, the one definition) is computed once per (best
 * array, family, pool), kept in a WeakMap on the array, and interned by content: every prefix
 * with the same next hops points at one DesiredEntry, whose route's prefix is '' (the Fib's key
 * names the prefix; withPrefix puts it back for a request). Results with a problem name their
 * prefix and are not cached (their route is still interned). The registry (interned.ts) counts
 * the prefixes using each route and forgets unused ones. The cache is dropped when the context
 * (devices, tunnel) changes.
 * Not here: per-prefix state (state.ts), the diff (diff.ts).
 */
import { AFI } from '../../agent/bgp/constants.js';
import type { Prefix } from '../../agent/bgp/prefix.js';
import { desiredRoute, prefixWithin } from './desired.js';
import type { DesiredEntry } from './diff.js';
import { fibSignature } from './kernel-route.js';
import type { Interned } from './interned.js';
import type { FibContext, FibProblem, FibRoute } from './types.js';
import type { RibPath } from '../../agent/contracts/engines.js';

/** A computed result: the interning key and route, kept per best array. */
interface Computed {
  readonly key: string;
  readonly want: DesiredEntry | undefined;
  readonly problem: FibProblem | null;
}

export class Shapes {
  private cache = new WeakMap<readonly RibPath[], Computed[]>();
  private ctx: FibContext;
  /** Why the route of the last desired() call cannot be installed, or some of its next hops (null: nothing). */
  problem: FibProblem | null = null;

  constructor(ctx: FibContext, private readonly registry: Interned<DesiredEntry>) {
    this.ctx = ctx;
  }

  /** A new context: every cached result may be stale. */
  reset(ctx: FibContext): void {
    this.ctx = ctx;
    this.cache = new WeakMap();
  }

  /**
   * The id in the registry of the route `prefix` should have (0: nothing to install); its problem
   * in `problem` (a field, not a result object: this runs once per prefix a million times).
   */
  desired(prefix: Prefix, best: readonly RibPath[]): number {
    this.problem = null;
    if (best.length === 0) return 0;
    const slot = this.slotOf(prefix);
    let row = this.cache.get(best);
    let c = row?.[slot];
    if (c === undefined) {
      c = this.compute(prefix, best);
      if (c.problem === null) {
        if (row === undefined) {
          row = [];
          this.cache.set(best, row);
        }
        row[slot] = c;
      }
    }
    const want = c.want;
    this.problem = c.problem;
    return want === undefined ? 0 : this.registry.idOf(c.key, want);
  }

  private compute(prefix: Prefix, best: readonly RibPath[]): Computed {
    const result = desiredRoute({ prefix, best, old: [] }, this.ctx);
    const route = result.route;
    if (route === null) return { key: '', want: undefined, problem: result.problem };
    let key = `${route.family} ${route.kind}`;
    for (const nh of route.nextHops) key += ` ${nh.gateway}%${nh.ifindex}%${nh.dev}%${nh.onlink ? 1 : 0}%${nh.peer}`;
    const shared: FibRoute = { family: route.family, prefix: '', kind: route.kind, nextHops: route.nextHops };
    return { key, want: { route: shared, signature: fibSignature(shared) }, problem: result.problem };
  }

  /** 0 for IPv6, then 1 + the index of the IPv4 prefix's pool (0 + 1 + pools for none). */
  private slotOf(prefix: Prefix): number {
    if (prefix.afi !== AFI.IPV4) return 0;
    const pools = this.ctx.pools;
    for (let i = 0; i < pools.length; i++) if (prefixWithin(prefix, pools[i].prefix)) return i + 1;
    return pools.length + 1;
  }
}

/** The desired entry with its route's prefix filled in: what one request carries. */
export function withPrefix(want: DesiredEntry, prefix: string): DesiredEntry {
  return { route: { ...want.route, prefix }, signature: want.signature };
}
