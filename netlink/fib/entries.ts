/**
 * The Fib's keys as small integers (issue 12), the way the RIB keys IPv4 (agent/rib/table4.ts):
 * an IPv4 key at the default metric ("a.b.c.d/len", nearly every key) is its address and length
 * in typed arrays, found through an open-addressing hash table of indices; any other key (IPv6,
 * another metric) is text in a Map. An index names one key until it is released; the Fib's
 * per-prefix fields are arrays indexed by it (state.ts). No object or string per IPv4 prefix.
 * Not here: what the Fib keeps per key.
 */
import { flatKey, ipv4Text } from './keys.js';

const UNUSED = -2;
const TEXT = -1;
const TOMB = -1;


/**
 * The slot hash of an IPv4 key: the prefix's bits and its length, mixed through every bit. Not the
 * RIB's prefixHash4, which keeps 16 neighbouring prefixes in 16 neighbouring slots: with linear
 * probing a run of 16 taken slots displaces the next block whole, and at a million /26 (load
 * 0.48) a new key's search walked 21 slots on average, each a read of `addr` at a random index
 * (about 0.9 s of the main thread at a million, issue 21); mixed, 1.8.
 */
export function slotHash4(addr: number, len: number): number {
  const idx = len === 0 ? 0 : addr >>> (32 - len);
  let h = Math.imul(idx ^ Math.imul(len, 0x01000193), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return h ^ (h >>> 13);
}

let parsedAddr = 0;

/** The length of a canonical default-metric IPv4 key, its address left in parsedAddr; -1 otherwise. */
function parse4(key: string): number {
  let addr = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // a leading zero is not canonical
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return -1;
    } else if (digits === 0) {
      return -1;
    } else if (c === 46 && dots < 3) {
      addr = addr * 256 + octet;
      octet = digits = 0;
      dots++;
    } else if (c === 47 && dots === 3) {
      const rest = key.length - i - 1;
      if (rest < 1 || rest > 2) return -1;
      let len = 0;
      for (let j = i + 1; j < key.length; j++) {
        const d = key.charCodeAt(j);
        if (d < 48 || d > 57 || (j > i + 1 && len === 0)) return -1;
        len = len * 10 + d - 48;
      }
      if (len > 32) return -1;
      parsedAddr = (addr * 256 + octet) | 0;
      return len;
    } else {
      return -1;
    }
  }
  return -1;
}

export class KeyIndex {
  /** Indices below this have arrays allocated (state.ts grows its arrays to match). */
  capacity = 0;
  /** Per index: IPv4 address; length, or TEXT for a text key, or UNUSED. */
  addr = new Int32Array(0);
  len = new Int8Array(0);
  /** Indices ever used: iterate 0..end. */
  end = 0;
  count = 0;
  private slots = new Int32Array(0); // index + 1; 0 free; TOMB
  private slotsUsed = 0;
  private readonly text = new Map<number, string>();
  private readonly byText = new Map<string, number>();
  private readonly released: number[] = [];

  constructor() {
    this.grow(1024);
    this.rehash(2048);
  }

  isUsed(i: number): boolean {
    return i < this.end && this.len[i] !== UNUSED;
  }

  /** The index of a key, or -1. */
  find(key: string): number {
    const len = parse4(key);
    return len < 0 ? (this.byText.get(key) ?? -1) : this.find4(parsedAddr, len);
  }

  find4(addr: number, len: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let j = slotHash4(addr, len) & mask; ; j = (j + 1) & mask) {
      const v = slots[j];
      if (v === 0) return -1;
      if (v > 0 && this.addr[v - 1] === addr && this.len[v - 1] === len) return v - 1;
    }
  }

  /** The index of a key, made when new. */
  add(key: string): number {
    const len = parse4(key);
    if (len >= 0) return this.add4(parsedAddr, len);
    const found = this.byText.get(key);
    if (found !== undefined) return found;
    const i = this.allocate();
    const flat = flatKey(key);
    this.len[i] = TEXT;
    this.text.set(i, flat);
    this.byText.set(flat, i);
    return i;
  }

  add4(addr: number, len: number): number {
    const found = this.find4(addr | 0, len);
    if (found >= 0) return found;
    if ((this.slotsUsed + 1) * 2 > this.slots.length) this.rehash(Math.max(2048, this.slots.length * (this.count * 4 > this.slots.length ? 2 : 1)));
    const i = this.allocate();
    this.addr[i] = addr | 0;
    this.len[i] = len;
    const mask = this.slots.length - 1;
    let j = slotHash4(addr | 0, len) & mask;
    while (this.slots[j] > 0) j = (j + 1) & mask;
    if (this.slots[j] === 0) this.slotsUsed++;
    this.slots[j] = i + 1;
    return i;
  }

  /** Slots a search for IPv4 key i reads, its own included (tests and diagnostics); 0 for other keys. */
  probeLength(i: number): number {
    const len = this.len[i];
    if (len < 0) return 0;
    const mask = this.slots.length - 1;
    let n = 1;
    for (let j = slotHash4(this.addr[i], len) & mask; this.slots[j] !== i + 1; j = (j + 1) & mask) n++;
    return n;
  }

  /** The key's text (IPv4 formatted on demand). */
  keyOf(i: number): string {
    const len = this.len[i];
    return len >= 0 ? ipv4Text(this.addr[i] >>> 0, len) : (this.text.get(i) ?? '');
  }

  release(i: number): void {
    const len = this.len[i];
    if (len === UNUSED) return;
    if (len === TEXT) {
      this.byText.delete(this.text.get(i) ?? '');
      this.text.delete(i);
    } else {
      const slots = this.slots;
      const mask = slots.length - 1;
      let j = slotHash4(this.addr[i], len) & mask;
      while (slots[j] !== i + 1) j = (j + 1) & mask;
      slots[j] = TOMB;
    }
    this.len[i] = UNUSED;
    this.count--;
    this.released.push(i);
  }

  private allocate(): number {
    this.count++;
    const reused = this.released.pop();
    if (reused !== undefined) return reused;
    if (this.end === this.capacity) this.grow(this.capacity * 2);
    return this.end++;
  }

  private grow(capacity: number): void {
    const addr = new Int32Array(capacity);
    addr.set(this.addr);
    const len = new Int8Array(capacity).fill(UNUSED);
    len.set(this.len);
    this.addr = addr;
    this.len = len;
    this.capacity = capacity;
  }

  /** A fresh slot table of `size` (a power of two), tombstones dropped. */
  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    this.slotsUsed = 0;
    for (let i = 0; i < this.end; i++) {
      const len = this.len[i];
      if (len < 0) continue;
      let j = slotHash4(this.addr[i], len) & mask;
      while (slots[j] !== 0) j = (j + 1) & mask;
      slots[j] = i + 1;
      this.slotsUsed++;
    }
    this.slots = slots;
  }
}
