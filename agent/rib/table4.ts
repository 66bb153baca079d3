/**
 * The IPv4 Loc-RIB table: prefix -> PathSet id in an open-addressing hash table made of typed
 * arrays (address, length, set id, a dirty flag): about 10 bytes per slot, off the JavaScript
 * heap, so a million prefixes cost some 20-40 MB and nothing for the garbage collector to scan.
 * Linear probing; removal leaves a tombstone, and only when the tick's changes are drained (the
 * slot remembers the prefix's first set of the tick until then). Growth rehashes everything.
 * Same interface as FamilyTable (table.ts). Not here: what a set means.
 */

import type { Prefix } from '../bgp/prefix.js';
import type { PathSet, PathSets } from './path-set.js';
import type { RibTable } from './table.js';

const FREE = 255;
const TOMB = 254;
const MAX_LOAD = 0.7;

function hash(addr: number, len: number): number {
  let h = Math.imul(addr ^ (len << 27) ^ (len * 0x01000193), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return h ^ (h >>> 13);
}

export class Ipv4Table implements RibTable<number> {
  readonly family = 'ipv4' as const;
  private cap = 0;
  private addrs = new Int32Array(0);
  private lens = new Uint8Array(0);
  private vals = new Int32Array(0);
  /** Set id at the start of the tick, or -1 when the slot is clean. */
  private olds = new Int32Array(0);
  private dirty = new Int32Array(1024);
  private dirtyCount = 0;
  /** Slots holding a key or a tombstone, and slots holding a non-empty set. */
  private used = 0;
  private live = 0;
  private lastSlot = -1;

  constructor(private readonly sets: PathSets) {
    this.resize(1024);
  }

  keyOf(p: Prefix): number {
    return (p.addr as number) | 0;
  }

  get size(): number {
    return this.live;
  }

  get pending(): number {
    return this.dirtyCount;
  }

  get(len: number, key: number): PathSet {
    const i = this.find(len, key);
    this.lastSlot = i;
    return i < 0 ? this.sets.empty : this.sets.byId(this.vals[i]);
  }

  set(len: number, key: number, old: PathSet, next: PathSet): void {
    let i = this.lastSlot;
    if (i < 0 || this.lens[i] !== len || this.addrs[i] !== key) i = this.insert(len, key);
    if (this.olds[i] === -1) {
      this.olds[i] = old.id;
      if (this.dirtyCount === this.dirty.length) {
        const grown = new Int32Array(this.dirty.length * 2);
        grown.set(this.dirty);
        this.dirty = grown;
      }
      this.dirty[this.dirtyCount++] = i;
    }
    const was = this.vals[i];
    if (was === 0 && next.id !== 0) this.live++;
    else if (was !== 0 && next.id === 0) this.live--;
    this.vals[i] = next.id;
  }

  drain(fn: (prefix: Prefix, old: PathSet, now: PathSet) => void): void {
    const n = this.dirtyCount;
    const dirty = this.dirty;
    this.dirtyCount = 0;
    this.lastSlot = -1;
    for (let k = 0; k < n; k++) {
      const i = dirty[k];
      const old = this.olds[i];
      const now = this.vals[i];
      this.olds[i] = -1;
      const len = this.lens[i];
      const addr = this.addrs[i];
      if (now === 0) this.lens[i] = TOMB;
      if (now !== old) fn({ afi: 1, len, addr: addr >>> 0 }, this.sets.byId(old), this.sets.byId(now));
    }
  }

  forEach(fn: (len: number, key: number, s: PathSet) => void): void {
    const { lens, addrs, vals } = this;
    for (let i = 0; i < this.cap; i++) {
      const len = lens[i];
      if (len > 32 || vals[i] === 0) continue;
      fn(len, addrs[i], this.sets.byId(vals[i]));
      if (lens !== this.lens) throw new Error('Ipv4Table: resized while iterating');
    }
  }

  prefix(len: number, key: number, pathId?: number): Prefix {
    return pathId === undefined ? { afi: 1, len, addr: key >>> 0 } : { afi: 1, len, addr: key >>> 0, pathId };
  }

  private find(len: number, key: number): number {
    const mask = this.cap - 1;
    for (let i = hash(key, len) & mask; ; i = (i + 1) & mask) {
      const l = this.lens[i];
      if (l === FREE) return -1;
      if (l === len && this.addrs[i] === key) return i;
    }
  }

  private insert(len: number, key: number): number {
    const found = this.find(len, key);
    if (found >= 0) return found;
    if ((this.used + 1) > this.cap * MAX_LOAD) this.resize(this.capacityFor(this.live + this.dirtyCount + 1));
    const mask = this.cap - 1;
    let i = hash(key, len) & mask;
    while (this.lens[i] !== FREE && this.lens[i] !== TOMB) i = (i + 1) & mask;
    if (this.lens[i] === FREE) this.used++;
    this.lens[i] = len;
    this.addrs[i] = key;
    this.vals[i] = 0;
    this.olds[i] = -1;
    return i;
  }

  /** Room for `n` keys at half load: growth happens at 0.7, so the load stays in 0.35-0.7. */
  private capacityFor(n: number): number {
    let cap = 1024;
    while (cap * 0.5 < n) cap *= 2;
    return cap;
  }

  /** Rehashes every key (tombstones dropped, except dirty slots which keep their first set). */
  private resize(cap: number): void {
    const { lens, addrs, vals, olds } = this;
    const old = this.cap;
    this.cap = cap;
    this.lens = new Uint8Array(cap).fill(FREE);
    this.addrs = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.olds = new Int32Array(cap).fill(-1);
    this.used = 0;
    this.dirtyCount = 0;
    this.lastSlot = -1;
    const mask = cap - 1;
    for (let j = 0; j < old; j++) {
      const len = lens[j];
      if (len > 32 || (vals[j] === 0 && olds[j] === -1)) continue;
      let i = hash(addrs[j], len) & mask;
      while (this.lens[i] !== FREE) i = (i + 1) & mask;
      this.lens[i] = len;
      this.addrs[i] = addrs[j];
      this.vals[i] = vals[j];
      this.olds[i] = olds[j];
      this.used++;
      if (olds[j] !== -1) {
        if (this.dirtyCount === this.dirty.length) {
          const grown = new Int32Array(this.dirty.length * 2);
          grown.set(this.dirty);
          this.dirty = grown;
        }
        this.dirty[this.dirtyCount++] = i;
      }
    }
  }
}
