/**
 * A Loc-RIB table of one address family: prefix -> PathSet (path-set.ts). RibTable is what the RIB
 * needs of one: lookups by (length, key), moves that remember each prefix's set at the start of
 * the tick (so the RIB emits one change per prefix per tick however often it moved), a drain of
 * those, and a walk. IPv4 has its own compact table (table4.ts); MapTable here serves IPv6: one
 * Map per prefix length keyed by the address in hex (IPv6 tables are small here).
 * Not here: the decision, counting, or what a change means for peers (rib.ts, outbound.ts).
 */

import type { Prefix } from '../bgp/prefix.js';
import type { PathSet } from './path-set.js';
import type { FamilyName } from '../bgp/families.js';

export interface RibTable<K extends number | string> {
  readonly family: FamilyName;
  readonly size: number;
  /** Prefixes touched since the last drain. */
  readonly pending: number;
  keyOf(p: Prefix): K;
  get(len: number, key: K): PathSet;
  /** Moves a prefix from `old` (what get returned) to `next`. */
  set(len: number, key: K, old: PathSet, next: PathSet): void;
  /** Hands every prefix touched since the last drain to `fn` with its first and current set. */
  drain(fn: (prefix: Prefix, old: PathSet, now: PathSet) => void): void;
  /** Every prefix with a path; `fn` may move the prefix it is given, nothing else. */
  forEach(fn: (len: number, key: K, s: PathSet) => void): void;
  prefix(len: number, key: K, pathId?: number): Prefix;
}

export class MapTable<K extends number | string> implements RibTable<K> {
  private readonly maps: Map<K, PathSet>[];
  private dirty: Map<K, PathSet>[];
  private dirtyCount = 0;

  constructor(
    readonly family: FamilyName,
    private readonly empty: PathSet,
    readonly keyOf: (p: Prefix) => K,
    private readonly prefixOf: (len: number, key: K, pathId?: number) => Prefix,
  ) {
    const lengths = family === 'ipv4' ? 33 : 129;
    this.maps = Array.from({ length: lengths }, () => new Map<K, PathSet>());
    this.dirty = this.maps.map(() => new Map<K, PathSet>());
  }

  get(len: number, key: K): PathSet {
    return this.maps[len].get(key) ?? this.empty;
  }

  /** Moves a prefix from `old` (what get returned) to `next`, remembering the tick's first set. */
  set(len: number, key: K, old: PathSet, next: PathSet): void {
    const d = this.dirty[len];
    if (!d.has(key)) {
      d.set(key, old);
      this.dirtyCount++;
    }
    if (next === this.empty) this.maps[len].delete(key);
    else this.maps[len].set(key, next);
  }

  get pending(): number {
    return this.dirtyCount;
  }

  /** Hands every prefix touched since the last drain to `fn` with its first and current set. */
  drain(fn: (prefix: Prefix, old: PathSet, now: PathSet) => void): void {
    if (this.dirtyCount === 0) return;
    const dirty = this.dirty;
    this.dirty = this.maps.map(() => new Map<K, PathSet>());
    this.dirtyCount = 0;
    for (let len = 0; len < dirty.length; len++) {
      const m = this.maps[len];
      for (const [key, old] of dirty[len]) {
        const now = m.get(key) ?? this.empty;
        if (now !== old) fn(this.prefixOf(len, key), old, now);
      }
    }
  }

  forEach(fn: (len: number, key: K, s: PathSet) => void): void {
    for (let len = 0; len < this.maps.length; len++) for (const [key, s] of this.maps[len]) fn(len, key, s);
  }

  prefix(len: number, key: K, pathId?: number): Prefix {
    return this.prefixOf(len, key, pathId);
  }

  get size(): number {
    return this.maps.reduce((n, m) => n + m.size, 0);
  }
}

export function ipv6Table(empty: PathSet): MapTable<string> {
  return new MapTable<string>(
    'ipv6',
    empty,
    (p) => {
      const a = p.addr as Uint8Array;
      return Buffer.from(a.buffer, a.byteOffset, 16).toString('hex');
    },
    (len, key, pathId) => {
      const addr = Uint8Array.from(Buffer.from(key, 'hex'));
      return pathId === undefined ? { afi: 2, len, addr } : { afi: 2, len, addr, pathId };
    },
  );
}
