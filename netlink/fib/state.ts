/**
 * The Fib's per-prefix state (issue 12): for every key (prefix, and metric when not the default)
 * that is desired, held by a route of ours in the kernel, or waiting for something, a small
 * integer from KeyIndex (entries.ts) and, at that index, a few typed-array fields: the desired
 * route's id, the kernel route's signature id, six flag bits, the dump generation and, while a
 * request is in flight, the id of the route it installs. Desired
 * routes are interned per distinct set of next hops (shapes.ts), signatures per distinct text
 * (interned.ts), so an IPv4 prefix costs no JavaScript object or string; `best` (the RIB's shared,
 * frozen best array, to recompute when devices change) is one reference. Problems and refusals
 * are rare and live in maps; routes of other protocols at our keys in `aliens` (empty on a normal
 * node). The queue of indices to compare with the kernel is a growable ring.
 * Plain data and functions; the Fib (fib.ts) owns the only instance.
 */
import type { DesiredEntry, KernelTable } from './diff.js';
import { KeyIndex } from './entries.js';
import { Interned } from './interned.js';
import type { FibProblem } from './types.js';
import type { RibPath } from '../../agent/contracts/engines.js';

export const QUEUED = 1;
export const INFLIGHT = 2;
/** Withdrawn by the RIB before convergence: may be deleted even in restart mode. */
export const WITHDRAWN = 4;
/** Someone else changed the key while a request of ours was on it. */
export const RACED = 8;
/** The bulk request in flight (window.ts) adds (OP_ADD) or replaces (OP_REPLACE) the route. */
export const OP_ADD = 16;
export const OP_REPLACE = 32;
export const OP_BITS = OP_ADD | OP_REPLACE;

export interface FibState {
  readonly keys: KeyIndex;
  best: (readonly RibPath[] | null)[];
  /** Per index: id in `shapes` of the desired route (0: none). */
  want: Int32Array;
  /** Per index: id in `signatures` of our route in the kernel (0: none). */
  kernel: Int32Array;
  flags: Uint8Array;
  /** The dump generation that last saw our route here. */
  seen: Int32Array;
  /** Per index, while a bulk request is in flight (window.ts): the id in `shapes` it installs. */
  sent: Int32Array;
  readonly shapes: Interned<DesiredEntry>;
  readonly signatures: Interned<string>;
  /** Why the route, or some next hops, cannot be installed (from desiredRoute). */
  readonly problems: Map<number, FibProblem>;
  /** The kernel refused our request, or a route of another protocol holds the key (CONFLICT). */
  readonly refusals: Map<number, FibProblem>;
  /** Indices with a problem or a refusal, for the snapshot. */
  readonly troubled: Set<number>;
  /** key -> "protocol signature" of each route of another protocol at that key. */
  aliens: Map<string, string[]>;
  queue: Int32Array;
  queueHead: number;
  queueLength: number;
  ours: number;
  desired: number;
}

export function emptyState(): FibState {
  const keys = new KeyIndex();
  const n = keys.capacity;
  return {
    keys, best: new Array<null>(n).fill(null), want: new Int32Array(n), kernel: new Int32Array(n), flags: new Uint8Array(n),
    seen: new Int32Array(n), sent: new Int32Array(n), shapes: new Interned(), signatures: new Interned(), problems: new Map(), refusals: new Map(),
    troubled: new Set(), aliens: new Map(), queue: new Int32Array(1024), queueHead: 0, queueLength: 0, ours: 0, desired: 0,
  };
}

function grown<T extends Int32Array | Uint8Array>(a: T, n: number, make: (n: number) => T): T {
  const b = make(n);
  b.set(a);
  return b;
}

/** Keeps the per-index arrays as long as the key index. */
function fit(state: FibState): void {
  const n = state.keys.capacity;
  if (state.want.length >= n) return;
  state.want = grown(state.want, n, (k) => new Int32Array(k));
  state.kernel = grown(state.kernel, n, (k) => new Int32Array(k));
  state.seen = grown(state.seen, n, (k) => new Int32Array(k));
  state.sent = grown(state.sent, n, (k) => new Int32Array(k));
  state.flags = grown(state.flags, n, (k) => new Uint8Array(k));
  // At the key index's capacity at once (it doubles), not pushed one by one: V8 would regrow it
  // by half a dozen copies on the way to a million.
  const best = new Array<readonly RibPath[] | null>(n).fill(null);
  for (let i = 0; i < state.best.length; i++) best[i] = state.best[i];
  state.best = best;
}

export function entryFor(state: FibState, key: string): number {
  const i = state.keys.add(key);
  fit(state);
  return i;
}

export function entryFor4(state: FibState, addr: number, len: number): number {
  const i = state.keys.add4(addr, len);
  fit(state);
  return i;
}

export const keyOf = (state: FibState, i: number): string => state.keys.keyOf(i);

/** Aliens looked through by alienLengths4 at most; past it every key is looked up by its text. */
const ALIEN_SCAN = 256;

/**
 * A filter before an IPv4 key's text is made to look for other protocols' routes at it: per
 * prefix length 0-32, 1 when some alien IPv4 key at the default metric has that length (the
 * common node has a few connected routes, none of our blocks' length). Null when there are more
 * than ALIEN_SCAN aliens: then every key is looked up.
 */
export function alienLengths4(state: FibState): Uint8Array | null {
  if (state.aliens.size > ALIEN_SCAN) return null;
  const lengths = new Uint8Array(33);
  for (const key of state.aliens.keys()) {
    if (key.includes('|') || key.includes(':')) continue;
    const len = Number(key.slice(key.indexOf('/') + 1));
    if (Number.isInteger(len) && len >= 0 && len <= 32) lengths[len] = 1;
  }
  return lengths;
}

/** Whether key i may have aliens (alienLengths4's filter; IPv6 and other metrics: always). */
export function mayHaveAliens(state: FibState, i: number, lengths: Uint8Array | null): boolean {
  const len = state.keys.len[i];
  return lengths === null || len < 0 || lengths[len] === 1;
}
export const wantOf = (state: FibState, i: number): DesiredEntry | undefined => state.shapes.get(state.want[i]);
export const kernelOf = (state: FibState, i: number): string | undefined => state.signatures.get(state.kernel[i]);
export const problemOf = (state: FibState, i: number): FibProblem | null => state.problems.get(i) ?? null;
export const refusedOf = (state: FibState, i: number): FibProblem | null => state.refusals.get(i) ?? null;

/** Our route at i is in the kernel exactly as desired. */
export function installed(state: FibState, i: number): boolean {
  const want = wantOf(state, i);
  return want !== undefined && state.kernel[i] !== 0 && kernelOf(state, i) === want.signature;
}

export function setKernel(state: FibState, i: number, signature: string | undefined): void {
  const id = signature === undefined ? 0 : state.signatures.idOf(signature, signature);
  const was = state.kernel[i];
  state.ours += (id === 0 ? 0 : 1) - (was === 0 ? 0 : 1);
  state.signatures.ref(id);
  state.signatures.unref(was);
  state.kernel[i] = id;
}

/** Sets the desired route by its id in state.shapes (0: nothing desired). */
export function setWant(state: FibState, i: number, id: number): void {
  const was = state.want[i];
  state.desired += (id === 0 ? 0 : 1) - (was === 0 ? 0 : 1);
  state.shapes.ref(id);
  state.shapes.unref(was);
  state.want[i] = id;
}

export function setProblem(state: FibState, i: number, field: 'problem' | 'refused', problem: FibProblem | null): void {
  const map = field === 'problem' ? state.problems : state.refusals;
  if (problem === null) map.delete(i);
  else map.set(i, problem);
  if (state.problems.has(i) || state.refusals.has(i)) state.troubled.add(i);
  else state.troubled.delete(i);
}

export function enqueue(state: FibState, i: number): void {
  if ((state.flags[i] & QUEUED) !== 0) return;
  state.flags[i] |= QUEUED;
  let queue = state.queue;
  if (state.queueLength === queue.length) {
    const bigger = new Int32Array(queue.length * 2);
    for (let k = 0; k < state.queueLength; k++) bigger[k] = queue[(state.queueHead + k) % queue.length];
    state.queue = queue = bigger;
    state.queueHead = 0;
  }
  queue[(state.queueHead + state.queueLength) % queue.length] = i;
  state.queueLength++;
}

export const queued = (state: FibState): number => state.queueLength;

/** Takes the next index off the queue, or -1. */
export function dequeue(state: FibState): number {
  if (state.queueLength === 0) return -1;
  const i = state.queue[state.queueHead];
  state.queueHead = (state.queueHead + 1) % state.queue.length;
  state.queueLength--;
  state.flags[i] &= ~QUEUED;
  return i;
}

/** Releases an index that no longer holds anything (keeps the table the size of what matters). */
export function forgetIfEmpty(state: FibState, i: number): void {
  if (state.best[i] !== null || state.want[i] !== 0 || state.kernel[i] !== 0 || (state.flags[i] & (QUEUED | INFLIGHT)) !== 0 ||
      state.troubled.has(i)) return;
  state.flags[i] = 0;
  state.seen[i] = 0;
  state.keys.release(i);
}

/** Calls fn with every index in use (fn may forget the one it is given). */
export function forEachEntry(state: FibState, fn: (i: number) => void): void {
  const keys = state.keys;
  for (let i = 0; i < keys.end; i++) if (keys.isUsed(i)) fn(i);
}

/**
 * The state seen as a KernelTable, so the pure table functions (addToTable, applyRouteEvent in
 * diff.ts) work on it: `ours` reads and writes the kernel field, stamping `seen` with `generation`.
 */
export function tableView(state: FibState, generation: () => number): KernelTable {
  const ours = {
    get(key: string) {
      const i = state.keys.find(key);
      return i < 0 ? undefined : kernelOf(state, i);
    },
    has: (key: string) => {
      const i = state.keys.find(key);
      return i >= 0 && state.kernel[i] !== 0;
    },
    set(key: string, signature: string) {
      const i = entryFor(state, key);
      setKernel(state, i, signature);
      state.seen[i] = generation();
      return ours;
    },
    delete(key: string) {
      const i = state.keys.find(key);
      if (i < 0 || state.kernel[i] === 0) return false;
      setKernel(state, i, undefined);
      return true;
    },
  };
  return {
    ours,
    get aliens() {
      return state.aliens;
    },
  };
}
