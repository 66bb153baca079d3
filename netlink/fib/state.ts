/**
 * The Fib's per-prefix state: one Entry per key (prefix, and metric when not the default) that is
 * desired, or held by a route of ours in the kernel, or waiting for something. Everything the Fib
 * knows about a prefix sits in that one object, so a route costs one hash lookup per step even
 * with a million of them (separate maps per aspect cost a cache miss each). Routes of other
 * protocols at our keys live in `aliens`, which is empty on a normal node.
 * Plain data and functions; the Fib (fib.ts) owns the only instance.
 */
import type { RibChange } from '../../agent/rib/types.js';
import type { DesiredEntry, KernelTable } from './diff.js';
import type { FibProblem } from './types.js';

export interface Entry {
  readonly key: string;
  /** The RIB's latest best paths for the prefix (kept to recompute when devices change). */
  change: RibChange | null;
  want: DesiredEntry | undefined;
  /** Signature of our route at this key in the kernel, undefined when there is none. */
  kernel: string | undefined;
  /** Why the route, or some next hops, cannot be installed (from desiredRoute). */
  problem: FibProblem | null;
  /** The kernel refused our request, or a route of another protocol holds the key (CONFLICT). */
  refused: FibProblem | null;
  queued: boolean;
  inflight: boolean;
  /** Withdrawn by the RIB before convergence: may be deleted even in restart mode. */
  withdrawn: boolean;
  /** Someone else changed the key while a request of ours was on it. */
  raced: boolean;
  /** The dump generation that last saw our route here. */
  seen: number;
}

export interface FibState {
  readonly entries: Map<string, Entry>;
  /** key -> "protocol signature" of each route of another protocol at that key. */
  aliens: Map<string, string[]>;
  /** Entries waiting to be compared with the kernel, each once (Entry.queued). */
  queue: Entry[];
  /** Entries with a problem or a refusal, for the snapshot. */
  readonly troubled: Set<Entry>;
  ours: number;
  desired: number;
}

export function emptyState(): FibState {
  return { entries: new Map(), aliens: new Map(), queue: [], troubled: new Set(), ours: 0, desired: 0 };
}

export function entryFor(state: FibState, key: string): Entry {
  let entry = state.entries.get(key);
  if (entry === undefined) {
    entry = {
      key, change: null, want: undefined, kernel: undefined, problem: null, refused: null,
      queued: false, inflight: false, withdrawn: false, raced: false, seen: 0,
    };
    state.entries.set(key, entry);
  }
  return entry;
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

/** Drops an entry that no longer holds anything (keeps the map the size of what matters). */
export function forgetIfEmpty(state: FibState, entry: Entry): void {
  if (entry.change === null && entry.want === undefined && entry.kernel === undefined && !entry.inflight &&
      !entry.queued && entry.problem === null && entry.refused === null) {
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
      setKernel(state, entry, signature);
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
