/**
 * Interned path sets: what a prefix holds is one PathSet (every accepted path for it, best first,
 * with the decision's result), and equal sets are one object. In a Calico fabric a million
 * prefixes share a few thousand sets (each node's block arrives over the same peers with the same
 * attributes), so a prefix costs one table entry, and the decision process runs once per distinct
 * set rather than once per prefix. Transitions (put a path, drop a path, drop a peer's paths) are
 * memoised on the set, so an UPDATE of 256 prefixes usually costs one decision and 255 lookups.
 * Sets are counted by the prefixes holding them; sweep() forgets unused sets and reports the paths
 * still in use, so the RIB can drop the rest (mark and sweep, run now and then, not per prefix).
 * Not here: which prefix holds which set (table.ts).
 */

import { decide, type StepName } from './decision.js';
import type { Path } from './path.js';

export class PathSet {
  /** Prefixes holding this set. */
  refs = 0;
  put?: Map<Path, PathSet>;
  drop?: Map<Path, PathSet>;
  dropPeer?: Map<string, PathSet>;

  constructor(
    /** Small integer naming the set in compact tables (0: the empty set); reused after a sweep. */
    readonly id: number,
    readonly key: string,
    /** Every path, the best set first (best first), then the rest. */
    readonly paths: readonly Path[],
    /** The ECMP set, best first: paths.slice(0, nBest), frozen. */
    readonly best: readonly Path[],
    readonly decidedBy: StepName,
  ) {}
}

/**
 * Which of a peer's paths a sweep drops: all of them, the graceful-restart stale ones (RFC 4724),
 * or the ones still marked by an enhanced route refresh (RFC 7313 section 4).
 */
export type DropMode = 'all' | 'stale' | 'refresh';

const DROP_PREFIX: Record<DropMode, string> = { all: 'a', stale: 's', refresh: 'r' };

export const dropKey = (peer: string, mode: DropMode): string => `${DROP_PREFIX[mode]}${peer}`;

function dropped(x: Path, peer: string, mode: DropMode): boolean {
  if (x.peer !== peer) return false;
  return mode === 'all' || (mode === 'stale' ? x.stale : x.refreshStale);
}

const EMPTY_PATHS: readonly Path[] = Object.freeze([]);

export class PathSets {
  readonly empty = new PathSet(0, '', EMPTY_PATHS, EMPTY_PATHS, 'only-path');
  private readonly table = new Map<string, PathSet>();
  private readonly ids: (PathSet | undefined)[] = [this.empty];
  private readonly freeIds: number[] = [];
  /** Sets whose count fell to zero since the last sweep. */
  private dead = 0;

  constructor(private readonly multipath: number) {}

  get size(): number {
    return this.table.size;
  }

  byId(id: number): PathSet {
    return this.ids[id] ?? this.empty;
  }

  /** `s` with `p` in place of the path of the same peer and path id (or added). */
  put(s: PathSet, p: Path): PathSet {
    let next = s.put?.get(p);
    if (next === undefined) {
      const members = s.paths.filter((x) => !(x.peer === p.peer && x.pathId === p.pathId));
      members.push(p);
      next = this.intern(members);
      (s.put ??= new Map()).set(p, next);
    }
    return next;
  }

  /** `s` without `q`. */
  drop(s: PathSet, q: Path): PathSet {
    let next = s.drop?.get(q);
    if (next === undefined) {
      next = this.intern(s.paths.filter((x) => x !== q));
      (s.drop ??= new Map()).set(q, next);
    }
    return next;
  }

  /**
   * `s` without the paths of `peer` that `mode` picks. `memoKey` names the operation (built once
   * per sweep, not per prefix): dropKey(peer, mode).
   */
  dropPeer(s: PathSet, peer: string, mode: DropMode, memoKey = dropKey(peer, mode)): PathSet {
    const key = memoKey;
    let next = s.dropPeer?.get(key);
    if (next === undefined) {
      const kept = s.paths.filter((x) => !dropped(x, peer, mode));
      next = kept.length === s.paths.length ? s : this.intern(kept);
      (s.dropPeer ??= new Map()).set(key, next);
    }
    return next;
  }

  /** Paths turned stale (RFC 4724) or refresh-stale (RFC 7313): memoised peer drops are no longer right. */
  staleChanged(): void {
    for (const s of this.table.values()) s.dropPeer = undefined;
  }

  /** Counts a prefix moving from `from` to `to`. */
  move(from: PathSet, to: PathSet): void {
    if (from === to) return;
    to.refs++;
    if (--from.refs === 0 && from !== this.empty) this.dead++;
  }

  /** True when enough sets died that a sweep pays (called after each flush). */
  sweepDue(): boolean {
    return this.dead > 256 && this.dead * 2 > this.table.size;
  }

  /**
   * Forgets sets no prefix holds and every memoised transition (they may lead to forgotten sets);
   * returns the paths still in use.
   */
  sweep(): Set<Path> {
    const live = new Set<Path>();
    for (const [key, s] of this.table) {
      if (s.refs <= 0) {
        this.table.delete(key);
        this.ids[s.id] = undefined;
        this.freeIds.push(s.id);
        continue;
      }
      s.put = s.drop = s.dropPeer = undefined;
      for (const p of s.paths) live.add(p);
    }
    this.empty.put = this.empty.drop = this.empty.dropPeer = undefined;
    this.dead = 0;
    return live;
  }

  private intern(members: Path[]): PathSet {
    if (members.length === 0) return this.empty;
    const key = members
      .map((p) => p.uid)
      .sort((a, b) => a - b)
      .join(',');
    let s = this.table.get(key);
    if (s === undefined) {
      s = this.create(key, members);
      this.table.set(key, s);
    }
    return s;
  }

  private create(key: string, members: Path[]): PathSet {
    const id = this.freeIds.pop() ?? this.ids.length;
    let s: PathSet;
    if (members.length === 1) {
      s = new PathSet(id, key, Object.freeze(members), Object.freeze(members.slice()), 'only-path');
    } else {
      const d = decide(members, this.multipath);
      const rest = members.filter((p) => !d.best.includes(p)).sort((a, b) => a.uid - b.uid);
      s = new PathSet(id, key, Object.freeze([...d.best, ...rest]), Object.freeze(d.best), d.decidedBy);
    }
    this.ids[id] = s;
    return s;
  }
}
