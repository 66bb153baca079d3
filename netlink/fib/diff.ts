/**
 * The kernel table as the FIB tracks it, and the difference to the desired state (STYLE.md
 * "The kernel": compute the diff as a pure function, apply only that).
 *
 * KernelTable keeps, per key (prefix, and metric when not the default) in our routing table: the
 * signature of our route, and the routes of every other protocol ("aliens"). Aliens are never
 * touched. The kernel's NLM_F_REPLACE replaces the first route of the same prefix and metric
 * whatever its protocol, so when an alien holds our key, our route is neither added nor replaced:
 * that is a CONFLICT, reported, and resolved by whoever owns the alien route. Deletes name our
 * protocol, which the kernel matches, so they can only remove our own routes.
 * Not here: sockets, event bookkeeping (fib.ts).
 */
import { routeKey } from './kernel-route.js';
import type { Family, FibProblem, FibRoute, KernelRoute, Ownership } from './types.js';

/** Our routes by key: a Map, or the Fib's per-prefix state seen through the same methods. */
export interface OursTable {
  get(key: string): string | undefined;
  has(key: string): boolean;
  set(key: string, signature: string): unknown;
  delete(key: string): boolean;
}

export interface KernelTable {
  /** key -> signature of our route. */
  readonly ours: OursTable;
  /** key -> "protocol signature" of each alien route at that key. */
  readonly aliens: Map<string, string[]>;
}

/** A table built from a dump (kernelTable), iterable. */
export interface DumpedTable extends KernelTable {
  readonly ours: Map<string, string>;
}

export interface DesiredEntry {
  readonly route: FibRoute;
  readonly signature: string;
}

export type FibOp =
  | { readonly op: 'add' | 'replace'; readonly key: string; readonly route: FibRoute; readonly signature: string }
  | { readonly op: 'delete'; readonly key: string; readonly family: Family; readonly prefix: string; readonly metric: number };

export function emptyTable(): DumpedTable {
  return { ours: new Map(), aliens: new Map() };
}

export const alienId = (r: KernelRoute): string => `${r.protocol} ${r.signature}`;

/** Adds a dumped route to the table; routes of other tables are ignored. */
export function addToTable(table: KernelTable, r: KernelRoute, own: Ownership): void {
  if (r.table !== own.table) return;
  const key = routeKey(r.prefix, r.metric, r.family);
  if (r.protocol === own.protocol) {
    table.ours.set(key, r.signature);
    return;
  }
  const list = table.aliens.get(key);
  const id = alienId(r);
  if (list === undefined) table.aliens.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

export function kernelTable(routes: Iterable<KernelRoute>, own: Ownership): DumpedTable {
  const table = emptyTable();
  for (const r of routes) addToTable(table, r, own);
  return table;
}

/** key -> family, prefix, metric (the inverse of routeKey). */
export function parseKey(key: string): { family: Family; prefix: string; metric: number } {
  const bar = key.indexOf('|');
  const prefix = bar < 0 ? key : key.slice(0, bar);
  const family: Family = prefix.includes(':') ? 6 : 4;
  const metric = bar < 0 ? (family === 6 ? 1024 : 0) : Number(key.slice(bar + 1));
  return { family, prefix, metric };
}

export type KeyDiff = { readonly op: FibOp | null; readonly conflict: FibProblem | null };

const NOTHING: KeyDiff = { op: null, conflict: null };

/**
 * What to do at one key, given our route's signature there (undefined: none), the routes of other
 * protocols there, and what is desired. mayDelete false (a restart before the RIB has converged)
 * keeps routes of ours that are not desired.
 */
export function diffState(
  key: string, ours: string | undefined, aliens: readonly string[] | undefined, want: DesiredEntry | undefined, mayDelete: boolean,
): KeyDiff {
  const del = (): FibOp => ({ op: 'delete', key, ...parseKey(key) });
  if (want !== undefined && aliens !== undefined && aliens.length > 0) {
    const conflict: FibProblem = {
      prefix: want.route.prefix,
      code: 'CONFLICT',
      message: `a route of protocol ${aliens[0].split(' ')[0]} holds ${want.route.prefix} at our metric in our table; ours is not installed`,
    };
    return { op: ours !== undefined && mayDelete ? del() : null, conflict };
  }
  if (want !== undefined) {
    if (ours === undefined) return { op: { op: 'add', key, route: want.route, signature: want.signature }, conflict: null };
    if (ours !== want.signature) {
      return { op: { op: 'replace', key, route: want.route, signature: want.signature }, conflict: null };
    }
    return NOTHING;
  }
  if (ours !== undefined && mayDelete) return { op: del(), conflict: null };
  return NOTHING;
}

export function diffKey(table: KernelTable, key: string, want: DesiredEntry | undefined, mayDelete: boolean): KeyDiff {
  return diffState(key, table.ours.get(key), table.aliens.get(key), want, mayDelete);
}

/** Every operation that brings the table to the desired state, and every conflict. */
export function diff(
  table: DumpedTable,
  desired: ReadonlyMap<string, DesiredEntry>,
  mayDelete: (key: string) => boolean = () => true,
): { ops: FibOp[]; conflicts: FibProblem[] } {
  const ops: FibOp[] = [];
  const conflicts: FibProblem[] = [];
  const visit = (key: string): void => {
    const d = diffKey(table, key, desired.get(key), mayDelete(key));
    if (d.op !== null) ops.push(d.op);
    if (d.conflict !== null) conflicts.push(d.conflict);
  };
  for (const key of desired.keys()) visit(key);
  for (const key of table.ours.keys()) if (!desired.has(key)) visit(key);
  return { ops, conflicts };
}

/**
 * A route notification (RTM_NEWROUTE / RTM_DELROUTE) applied to the table. A NEWROUTE with
 * NLM_F_REPLACE replaced the first route at its key; which one that was is known only when the key
 * held ours alone or aliens alone: otherwise the result is flagged ambiguous (resync by a dump).
 * Returns the key, or null for a route outside our table.
 */
export function applyRouteEvent(
  table: KernelTable, r: KernelRoute, isNew: boolean, replace: boolean, own: Ownership,
): { key: string; ambiguous: boolean } | null {
  if (r.table !== own.table) return null;
  const key = routeKey(r.prefix, r.metric, r.family);
  const isOurs = r.protocol === own.protocol;
  const aliens = table.aliens.get(key);
  let ambiguous = false;
  if (!isNew) {
    if (isOurs) table.ours.delete(key);
    else if (aliens !== undefined) removeAlien(table, key, aliens, aliens.indexOf(alienId(r)));
    return { key, ambiguous };
  }
  if (replace) {
    const hasOurs = table.ours.has(key);
    const hasAliens = aliens !== undefined && aliens.length > 0;
    if (hasOurs && hasAliens) ambiguous = true;
    else if (hasOurs) table.ours.delete(key);
    else if (hasAliens) removeAlien(table, key, aliens, 0);
  }
  addToTable(table, r, own);
  return { key, ambiguous };
}

function removeAlien(table: KernelTable, key: string, list: string[], index: number): void {
  if (index < 0) return;
  list.splice(index, 1);
  if (list.length === 0) table.aliens.delete(key);
}
