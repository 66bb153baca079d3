/**
 * The IPv4 Loc-RIB table: prefix -> PathSet id in an open-addressing hash table in one typed array
 * (per slot: address, length, set id, set id at the start of the tick; 16 bytes, one cache line
 * per probe), off the JavaScript heap: a million prefixes cost 32 MB and nothing for the garbage
 * collector to scan.
 * Linear probing (prefixHash4() keeps neighbouring prefixes in neighbouring slots); removal leaves a
 * tombstone, and only when the tick's changes are drained (the slot remembers the prefix's first
 * set of the tick until then). Growth rehashes everything. Implements RibTable (table.ts).
 * Not here: what a set means.
 */

import { prefixHash4, type Prefix } from '../bgp/prefix.js';
import type { PathSet, PathSets } from './path-set.js';
import type { RibTable } from './table.js';

/** Slot layout, four 32-bit words so that a probe touches one cache line. */
const ADDR = 0;
const LEN = 1;
const VAL = 2;
const OLD = 3;
const FREE = -1;
const TOMB = -2;
const MAX_LOAD = 0.7;

export class Ipv4Table implements RibTable<number> {
  readonly family = 'ipv4' as const;
  private cap = 0;
  /** Per slot: address, length (FREE, TOMB), set id, set id at the start of the tick (-1: clean). */
  private slots = new Int32Array(0);
  private dirty = new Int32Array(1024);
  private dirtyCount = 0;
  /** Slots holding a key or a tombstone, and slots holding a non-empty set. */
  private used = 0;
  private live = 0;
  private lastSlot = -1;
  /** Where the last missed find would insert, and the key get() last missed (len -1: none). */
  private hole = -1;
  private missLen = -1;
  private missKey = 0;

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
    this.missLen = i < 0 ? len : -1;
    this.missKey = key;
    return i < 0 ? this.sets.empty : this.sets.byId(this.slots[i + VAL]);
  }

  set(len: number, key: number, old: PathSet, next: PathSet): void {
    const slots = this.slots;
    let i = this.lastSlot;
    if (i < 0 || slots[i + LEN] !== len || slots[i + ADDR] !== key) i = this.insert(len, key);
    this.missLen = -1;
    if (this.slots[i + OLD] === -1) {
      this.slots[i + OLD] = old.id;
      this.markDirty(i);
    }
    const was = this.slots[i + VAL];
    if (was === 0 && next.id !== 0) this.live++;
    else if (was !== 0 && next.id === 0) this.live--;
    this.slots[i + VAL] = next.id;
  }

  drain(fn: (prefix: Prefix, old: PathSet, now: PathSet) => void): void {
    const n = this.dirtyCount;
    const dirty = this.dirty;
    const slots = this.slots;
    this.dirtyCount = 0;
    this.lastSlot = -1;
    this.missLen = -1;
    for (let k = 0; k < n; k++) {
      const i = dirty[k];
      const old = slots[i + OLD];
      const now = slots[i + VAL];
      slots[i + OLD] = -1;
      const len = slots[i + LEN];
      if (now === 0) slots[i + LEN] = TOMB;
      if (now !== old) fn({ afi: 1, len, addr: slots[i + ADDR] >>> 0 }, this.sets.byId(old), this.sets.byId(now));
    }
  }

  forEach(fn: (len: number, key: number, s: PathSet) => void): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 4) {
      const val = slots[i + VAL];
      if (slots[i + LEN] < 0 || val === 0) continue;
      fn(slots[i + LEN], slots[i + ADDR], this.sets.byId(val));
      if (slots !== this.slots) throw new Error('Ipv4Table: resized while iterating');
    }
  }

  prefix(len: number, key: number, pathId?: number): Prefix {
    return pathId === undefined ? { afi: 1, len, addr: key >>> 0 } : { afi: 1, len, addr: key >>> 0, pathId };
  }

  private markDirty(i: number): void {
    if (this.dirtyCount === this.dirty.length) {
      const grown = new Int32Array(this.dirty.length * 2);
      grown.set(this.dirty);
      this.dirty = grown;
    }
    this.dirty[this.dirtyCount++] = i;
  }

  /** The slot (word offset) of a key, or -1. */
  /** The slot (word offset) of a key, or -1; on a miss `hole` is where it would go. */
  private find(len: number, key: number): number {
    const slots = this.slots;
    const mask = this.cap - 1;
    let hole = -1;
    for (let j = prefixHash4(key, len) & mask; ; j = (j + 1) & mask) {
      const i = j << 2;
      const l = slots[i + LEN];
      if (l === FREE) {
        this.hole = hole < 0 ? i : hole;
        return -1;
      }
      if (l === len && slots[i + ADDR] === key) return i;
      if (l === TOMB && hole < 0) hole = i;
    }
  }

  private insert(len: number, key: number): number {
    // get() just missed this key: its probe already found the hole (nothing moved since).
    if (this.missLen !== len || this.missKey !== key) {
      const found = this.find(len, key);
      if (found >= 0) return found;
    }
    if (this.used + 1 > this.cap * MAX_LOAD) {
      this.resize(this.capacityFor(this.live + this.dirtyCount + 1));
      this.find(len, key);
    }
    const slots = this.slots;
    const i = this.hole;
    if (slots[i + LEN] === FREE) this.used++;
    slots[i + ADDR] = key;
    slots[i + LEN] = len;
    slots[i + VAL] = 0;
    slots[i + OLD] = -1;
    return i;
  }

  /** Room for `n` keys at half load: growth happens at 0.7, so the load stays in 0.35-0.7. */
  private capacityFor(n: number): number {
    let cap = 1024;
    while (cap * 0.5 < n) cap *= 2;
    return cap;
  }

  /** Rehashes every key (tombstones dropped; dirty slots keep their first set and stay dirty). */
  private resize(cap: number): void {
    const old = this.slots;
    const slots = new Int32Array(cap * 4);
    for (let i = 0; i < slots.length; i += 4) {
      slots[i + LEN] = FREE;
      slots[i + OLD] = -1;
    }
    this.cap = cap;
    this.slots = slots;
    this.used = 0;
    this.dirtyCount = 0;
    this.lastSlot = -1;
    this.missLen = -1;
    const mask = cap - 1;
    for (let k = 0; k < old.length; k += 4) {
      const len = old[k + LEN];
      if (len < 0 || (old[k + VAL] === 0 && old[k + OLD] === -1)) continue;
      let j = prefixHash4(old[k + ADDR], len) & mask;
      while (slots[(j << 2) + LEN] !== FREE) j = (j + 1) & mask;
      const i = j << 2;
      slots[i + ADDR] = old[k + ADDR]; // element by element: a subarray per slot was 130 MB of garbage at a million
      slots[i + LEN] = len;
      slots[i + VAL] = old[k + VAL];
      slots[i + OLD] = old[k + OLD];
      this.used++;
      if (old[k + OLD] !== -1) this.markDirty(i);
    }
  }
}
