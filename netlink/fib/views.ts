/** What the Fib shows agentctl: the snapshot and the routes list, built from its state. Pure. */
import { parseKey } from './diff.js';
import { type FibState, forEachEntry, installed, keyOf, wantOf } from './state.js';
import type { FibProblem } from './types.js';

/** One route as agentctl shows it (agent/control/api.ts RouteAnswer, plus whether it is in). */
export interface FibRouteView {
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly kind: 'blackhole' | 'unicast';
  readonly nextHops: readonly { readonly via: string; readonly dev?: string; readonly onlink?: boolean; readonly peer: string }[];
  readonly installed: boolean;
}

export function routeViews(state: FibState, family?: 'ipv4' | 'ipv6'): FibRouteView[] {
  const out: FibRouteView[] = [];
  forEachEntry(state, (i) => {
    const want = wantOf(state, i);
    if (want === undefined) return;
    const route = want.route;
    const fam = route.family === 4 ? 'ipv4' : 'ipv6';
    if (family !== undefined && family !== fam) return;
    out.push({
      prefix: parseKey(keyOf(state, i)).prefix, // the route is shared by every prefix with its next hops
      family: fam,
      kind: route.kind,
      nextHops: route.nextHops.map((nh) => ({
        via: nh.gateway, ...(nh.dev === '' ? {} : { dev: nh.dev }), ...(nh.onlink ? { onlink: true } : {}), peer: nh.peer,
      })),
      installed: installed(state, i),
    });
  });
  return out;
}

/** Problems of every troubled prefix, at most `limit`. */
export function problems(state: FibState, limit = 1000): FibProblem[] {
  const out: FibProblem[] = [];
  for (const i of state.troubled) {
    const problem = state.problems.get(i);
    const refused = state.refusals.get(i);
    if (problem !== undefined) out.push(problem);
    if (refused !== undefined) out.push(refused);
    if (out.length >= limit) break;
  }
  return out;
}
