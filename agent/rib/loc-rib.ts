/**
 * The Loc-RIB as a data structure: one table per family (table4.ts for IPv4, table.ts for IPv6)
 * mapping each prefix to an interned PathSet (path-set.ts), with the primitive moves the RIB makes
 * (put a path, remove one, replace all, drop a peer's), counting of sets, the per-tick drain, and
 * the occasional mark and sweep of unused sets, paths and attribute sets. It knows nothing of
 * peers' sessions, policy or output: rib.ts does. Every move calls `touched` (to schedule a flush).
 */

import type { Prefix } from '../bgp/prefix.js';
import { AttrStore, type Path } from './path.js';
import { dropKey, PathSets, type DropMode, type PathSet } from './path-set.js';
import { ipv6Table, type MapTable, type RibTable } from './table.js';
import { Ipv4Table } from './table4.js';
import type { FamilyName } from '../bgp/families.js';

type Table = RibTable<number | string>;

export class LocRib {
  readonly sets: PathSets;
  readonly attrs = new AttrStore();
  readonly t4: Ipv4Table;
  readonly t6: MapTable<string>;
  /** The last put transition: an UPDATE's prefixes mostly share their old set, so skip the lookup. */
  private lastPut: { old: PathSet; path: Path; next: PathSet } | undefined;

  constructor(
    multipath: number,
    private readonly touched: () => void,
  ) {
    this.sets = new PathSets(Math.max(1, multipath));
    this.t4 = new Ipv4Table(this.sets);
    this.t6 = ipv6Table(this.sets.empty);
  }

  table(family: FamilyName | number): Table {
    return (family === 'ipv4' || family === 1 ? this.t4 : this.t6) as Table;
  }

  /** Puts `path` in place of its peer's path with the same path id; +1 when it was added. */
  put(p: Prefix, path: Path): number {
    const t = this.table(p.afi);
    const key = t.keyOf(p);
    const old = t.get(p.len, key);
    const last = this.lastPut;
    let next: PathSet;
    if (last !== undefined && last.old === old && last.path === path) next = last.next;
    else this.lastPut = { old, path, next: (next = this.sets.put(old, path)) };
    if (next === old) return 0;
    this.move(t, p.len, key, old, next);
    return next.paths.length - old.paths.length;
  }

  /** Removes the path of `peer` with `p`'s path id; true when there was one. */
  remove(p: Prefix, peer: string): boolean {
    const t = this.table(p.afi);
    const key = t.keyOf(p);
    const old = t.get(p.len, key);
    const pathId = p.pathId ?? 0;
    const q = old.paths.find((x) => x.peer === peer && x.pathId === pathId);
    if (q === undefined) return false;
    this.move(t, p.len, key, old, this.sets.drop(old, q));
    return true;
  }

  /** Makes `only` the prefix's single path; returns the paths it displaced. */
  replace(p: Prefix, only: Path): readonly Path[] {
    const t = this.table(p.afi);
    const key = t.keyOf(p);
    const old = t.get(p.len, key);
    this.move(t, p.len, key, old, this.sets.put(this.sets.empty, only));
    return old.paths.filter((x) => x !== only);
  }

  /** Drops `peer`'s paths of a family that `mode` picks (path-set.ts DropMode); returns how many. */
  dropPeer(family: FamilyName, peer: string, mode: DropMode): number {
    const t = this.table(family);
    const memo = dropKey(peer, mode);
    let dropped = 0;
    t.forEach((len, key, s) => {
      const next = this.sets.dropPeer(s, peer, mode, memo);
      if (next === s) return;
      dropped += s.paths.length - next.paths.length;
      this.move(t, len, key, s, next);
    });
    return dropped;
  }

  /** Drops every learned path `refuse` picks; returns the dropped paths. */
  dropWhere(family: FamilyName, refuse: (p: Prefix, path: Path) => boolean): { prefix: Prefix; path: Path }[] {
    const t = this.table(family);
    const out: { prefix: Prefix; path: Path }[] = [];
    t.forEach((len, key, s) => {
      if (s.paths.every((x) => x.local)) return;
      const prefix = t.prefix(len, key);
      let next = s;
      for (const x of s.paths) {
        if (x.local || !refuse(prefix, x)) continue;
        out.push({ prefix, path: x });
        next = this.sets.drop(next, x);
      }
      if (next !== s) this.move(t, len, key, s, next);
    });
    return out;
  }

  best(p: Prefix): readonly Path[] {
    const t = this.table(p.afi);
    return t.get(p.len, t.keyOf(p)).best;
  }

  /** Paths marked stale (RFC 4724) or refresh-stale (RFC 7313): memoised peer drops no longer hold. */
  staleChanged(): void {
    this.sets.staleChanged();
  }

  get pending(): number {
    return this.t4.pending + this.t6.pending;
  }

  size(family?: FamilyName): number {
    return (family === 'ipv6' ? 0 : this.t4.size) + (family === 'ipv4' ? 0 : this.t6.size);
  }

  /** Every prefix moved since the last drain whose set differs, with the tick's first set. */
  drain(fn: (family: FamilyName, prefix: Prefix, old: PathSet, now: PathSet) => void): void {
    this.t4.drain((p, old, now) => fn('ipv4', p, old, now));
    this.t6.drain((p, old, now) => fn('ipv6', p, old, now));
  }

  /** True when enough sets died for a sweep to pay, and nothing pending still names a set. */
  collectDue(): boolean {
    return this.sets.sweepDue() && this.pending === 0;
  }

  /**
   * Mark and sweep: forgets unused sets and attribute sets; returns the paths still in use (plus
   * `keep`), so the RIB can forget the rest. Does nothing while changes are pending.
   */
  collect(keep: readonly Path[]): Set<Path> | undefined {
    if (this.pending > 0) return undefined;
    this.lastPut = undefined;
    const live = this.sets.sweep();
    for (const p of keep) live.add(p);
    this.attrs.sweep(new Set([...live].map((p) => p.entry)));
    return live;
  }

  private move(t: Table, len: number, key: number | string, old: PathSet, next: PathSet): void {
    this.sets.move(old, next);
    t.set(len, key, old, next);
    this.touched();
  }
}
