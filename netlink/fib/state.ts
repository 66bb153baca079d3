/**
 * The Fib's per-prefix state: one Entry per key (prefix, and metric when not the default) that is
 * desired, or held by a route of ours in the kernel, or waiting for something. Everything the Fib
 * knows about a prefix sits in that one object, so a route costs one hash lookup per step even
 * with a million of them (separate maps per aspect cost a cache miss each). Routes of other
 * protocols at our keys live in `aliens`, which is empty on a normal node.
 *
 * Memory (issue 12): an Entry holds no copy of what others already hold. `best` is the RIB's
 * shared, frozen best array (not the RibChange); `want` is an interned DesiredEntry shared by
 * every prefix with the same next hops (shapes.ts; its route's prefix is '', the key says which);
 * `kernel` is an interned signature string. The four flags share one small integer. Entry is a
 * class only for that: accessors over `flags` keep the object at seven fields.
 * The queue is an array with a head index, so the Fib can take a bounded slice of it per turn.
 * Plain data and functions otherwise; the Fib (fib.ts) owns the only instance.
 */
import type { RibPath } from '../../agent/rib/types.js';
import type { DesiredEntry, KernelTable } from './diff.js';
import { flatKey } from './keys.js';
import type { FibProblem } from './types.js';

const QUEUED = 1;
const INFLIGHT = 2;
const WITHDRAWN = 4;
const RACED = 8;

export class Entry {
  /** The RIB's latest best paths for the prefix (kept to recompute when devices change). */
  best: readonly RibPath[] | null = null;
  want: DesiredEntry | undefined = undefined;
  /** Signature of our route at this key in the kernel, undefined when there is none. */
  kernel: string | undefined = undefined;
  /** Why the route, or some next hops, cannot be installed (from desiredRoute). */
  problem: FibProblem | null = null;
  /** The kernel refused our request, or a route of another protocol holds the key (CONFLICT). */
  refused: FibProblem | null = null;
  flags = 0;
  /** The dump generation that last saw our route here. */
  seen = 0;

  constructor(readonly key: string) {}

  get queued(): boolean {
    return (this.flags & QUEUED) !== 0;
  }

  set queued(on: boolean) {
    this.flags = on ? this.flags | QUEUED : this.flags & ~QUEUED;
  }

  get inflight(): boolean {
    return (this.flags & INFLIGHT) !== 0;
  }

  set inflight(on: boolean) {
    this.flags = on ? this.flags | INFLIGHT : this.flags & ~INFLIGHT;
  }

  /** Withdrawn by the RIB before convergence: may be deleted even in restart mode. */
  get withdrawn(): boolean {
    return (this.flags & WITHDRAWN) !== 0;
  }

  set withdrawn(on: boolean) {
    this.flags = on ? this.flags | WITHDRAWN : this.flags & ~WITHDRAWN;
  }

  /** Someone else changed the key while a request of ours was on it. */
  get raced(): boolean {
    return (this.flags & RACED) !== 0;
  }

  set raced(on: boolean) {
    this.flags = on ? this.flags | RACED : this.flags & ~RACED;
  }
}

export interface FibState {
  readonly entries: Map<string, Entry>;
  /** key -> "protocol signature" of each route of another protocol at that key. */
  aliens: Map<string, string[]>;
  /** Entries waiting to be compared with the kernel, each once (Entry.queued), from queueHead on. */
  queue: Entry[];
  queueHead: number;
  /** Entries with a problem or a refusal, for the snapshot. */
  readonly troubled: Set<Entry>;
  /** Kernel signatures seen, each kept once (a dump would otherwise hold a string per route). */
  readonly signatures: Map<string, string>;
  ours: number;
  desired: number;
}

const MAX_SIGNATURES = 65_536;

export function emptyState(): FibState {
  return {
    entries: new Map(), aliens: new Map(), queue: [], queueHead: 0, troubled: new Set(), signatures: new Map(), ours: 0, desired: 0,
  };
}

export function entryFor(state: FibState, key: string): Entry {
  let entry = state.entries.get(key);
  if (entry === undefined) {
    entry = new Entry(flatKey(key)); // a dump's or a notification's key is a tree of pieces
    state.entries.set(key, entry);
  }
  return entry;
}

/** The one copy of a signature: the desired one when equal, else the interned one. */
export function internSignature(state: FibState, entry: Entry | undefined, signature: string): string {
  if (entry?.want !== undefined && entry.want.signature === signature) return entry.want.signature;
  const known = state.signatures.get(signature);
  if (known !== undefined) return known;
  if (state.signatures.size >= MAX_SIGNATURES) state.signatures.clear(); // only deduplication is lost
  state.signatures.set(signature, signature);
  return signature;
}

export function setKernel(state: FibState, entry: Entry, signature: string | undefined): void {
  state.ours += (signature === undefined ? 0 : 1) - (entry.kernel === undefined ? 0 : 1);
  entry.kernel = signature;
}

export function setWant(state: FibState, entry: Entry, want: DesiredEntry | undefined): void {
  state.desired += (want === undefined ? 0 : 1) - (entry.want === undefined ? 0 : 1);
  entry.want = want;
}

export function setProblem(state: FibState, entry: Entry, field: 'problem' | 'refused', problem: FibProblem | null): void {
  entry[field] = problem;
  if (entry.problem !== null || entry.refused !== null) state.troubled.add(entry);
  else state.troubled.delete(entry);
}

export function enqueue(state: FibState, entry: Entry): void {
  if (entry.queued) return;
  entry.queued = true;
  state.queue.push(entry);
}

export const queued = (state: FibState): number => state.queue.length - state.queueHead;

/** Takes the next entry off the queue (undefined when empty); compacts the array now and then. */
export function dequeue(state: FibState): Entry | undefined {
  const queue = state.queue;
  if (state.queueHead >= queue.length) {
    if (queue.length > 0) {
      state.queue = [];
      state.queueHead = 0;
    }
    return undefined;
  }
  const entry = queue[state.queueHead];
  queue[state.queueHead++] = undefined as unknown as Entry; // let it go
  if (state.queueHead >= 65_536 && state.queueHead * 2 >= queue.length) {
    state.queue = queue.slice(state.queueHead);
    state.queueHead = 0;
  }
  entry.queued = false;
  return entry;
}

/** Drops an entry that no longer holds anything (keeps the map the size of what matters). */
export function forgetIfEmpty(state: FibState, entry: Entry): void {
  if (entry.best === null && entry.want === undefined && entry.kernel === undefined &&
      (entry.flags & (QUEUED | INFLIGHT)) === 0 && entry.problem === null && entry.refused === null) {
    state.entries.delete(entry.key);
  }
}

/**
 * The state seen as a KernelTable, so the pure table functions (addToTable, applyRouteEvent in
 * diff.ts) work on it: `ours` reads and writes Entry.kernel, stamping `seen` with `generation`.
 */
export function tableView(state: FibState, generation: () => number): KernelTable {
  const ours = {
    get: (key: string) => state.entries.get(key)?.kernel,
    has: (key: string) => state.entries.get(key)?.kernel !== undefined,
    set(key: string, signature: string) {
      const entry = entryFor(state, key);
      setKernel(state, entry, internSignature(state, entry, signature));
      entry.seen = generation();
      return ours;
    },
    delete(key: string) {
      const entry = state.entries.get(key);
      if (entry === undefined || entry.kernel === undefined) return false;
      setKernel(state, entry, undefined);
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
