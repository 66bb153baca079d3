/**
 * The agent's V8 flags (issue 12), set in code as the second thing the agent does (after the
 * signal handlers, before config, RIB or FIB are even loaded: agent/main.ts imports the daemon
 * dynamically), so the systemd unit and a `rack-agent` started by hand run with the same ones: a
 * shebang cannot carry flags portably and NODE_OPTIONS refuses some of them. Only flags V8 reads
 * while it runs work this way (the growth of the young generation, the old generation's growing
 * factor, whether TurboFan is used); sizes V8 fixes at start-up (--max-semi-space-size) do not,
 * which is why none is used.
 * - --semi-space-growth-factor=1: the young generation stays at its initial 1 MB semi-spaces
 *   instead of growing to 16 MB; the young generation's share of the peak RSS is gone, at no
 *   measurable CPU cost.
 * - --heap-growing-percent=30: the old generation may grow by 30% between full collections
 *   (V8 lets it grow up to 4x when the program runs fast), so the heap stays near its live size
 *   while a million routes arrive.
 * - --no-opt until the agent has real work: TurboFan, V8's optimizing compiler, costs about 6 MB
 *   of RSS the moment it first runs (its code pages in the node binary, its zones), and at start-up
 *   it would run only for the module loader's own hot paths. The interpreter and Sparkplug are
 *   plenty for a small table; `routeWork` turns TurboFan on (--opt) once OPTIMIZE_AFTER routes
 *   of work were done (prefixes in UPDATEs received, prefixes handed to each peer's session, route
 *   changes the FIB applies, routes a restart finds in the kernel), long before a large table's cost
 *   matters; a route reflector, which receives little and sends much, counts its sending (issue 21).
 * - Until the agent has real work, also no Sparkplug (the baseline compiler), --optimize-for-size
 *   and --max-lazy (no eager compilation), all lifted with --no-opt (issue 21): V8's code and heap
 *   stay smaller (bench:e2e at 1,000 prefixes, peak RSS: 57.9 MB without them, 54.0-55.4 MB with
 *   them), at a CPU cost only a large table would feel, and a large table lifts them after
 *   OPTIMIZE_AFTER routes.
 * Measured (bench:e2e, agent only, shared 2-core machine; peak RSS / time at 1,000,000): none
 * 256 MB / 6.5 s; growth factor alone 234 MB / 6.8 s; these two 175 MB / 7.2 s; growth factor and
 * --optimize-for-size 173 MB / 7.7 s (about 1 s more CPU, but 4 MB less at 1,000 prefixes).
 * RACK_AGENT_V8_FLAGS (space-separated; empty for none) replaces the list and is applied as given
 * (a --no-opt there is never lifted), for measuring and as an escape hatch.
 */
import { setFlagsFromString } from 'node:v8';
import type { UpdateMessage } from '../bgp/update.js';
import type { OutboundItem } from '../contracts/engines.js';

const DEFAULT_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=30 --no-opt --no-sparkplug --optimize-for-size --max-lazy';
/** What routeWork turns on once there is real work: the compilers, and V8's defaults for speed. */
const LIFTED = ['--opt', '--sparkplug', '--no-optimize-for-size', '--no-max-lazy'];

/** Routes of work (see routeWork's callers) after which TurboFan is turned on. */
export const OPTIMIZE_AFTER = 10_000;

export const V8_FLAGS: readonly string[] = (process.env.RACK_AGENT_V8_FLAGS ?? DEFAULT_FLAGS).split(' ').filter((f) => f !== '');

for (const flag of V8_FLAGS) setFlagsFromString(flag);

/** Whether TurboFan waits for `routeWork` (the default list), or the flags stay as given. */
let deferred = process.env.RACK_AGENT_V8_FLAGS === undefined;
let work = 0;

/** `n` more routes of work; the OPTIMIZE_AFTER-th turns TurboFan on, once. */
export function routeWork(n: number): void {
  if (!deferred) return;
  work += n;
  if (work < OPTIMIZE_AFTER) return;
  deferred = false;
  for (const flag of LIFTED) setFlagsFromString(flag);
}

/** Whether TurboFan is (still) held back. */
export function optimizerDeferred(): boolean {
  return deferred;
}

const outboundCounted = new WeakMap<object, number>();

/** Prefixes one outbound item carries (counted once per item: a shared update goes to many peers). */
export function prefixesOut(item: OutboundItem): number {
  if (item.kind !== 'update' && item.kind !== 'shared') return 0;
  const known = outboundCounted.get(item);
  if (known !== undefined) return known;
  let n = 0;
  const updates = item.kind === 'update' ? [item.update] : item.parts.map((p) => p.update);
  for (const u of updates) {
    n += u.withdraw?.length ?? 0;
    for (const g of u.announce ?? []) n += g.prefixes.length;
  }
  outboundCounted.set(item, n);
  return n;
}

/** Prefixes an UPDATE announces or withdraws, all families. */
export function prefixesOf(u: UpdateMessage): number {
  return u.nlri.length + u.withdrawn.length + (u.attributes.mpReach?.nlri.length ?? 0) + (u.attributes.mpUnreach?.withdrawn.length ?? 0);
}
