/**
 * Whole-state passes of the Fib over its per-prefix state (state.ts), as functions: what
 * convergence, a complete dump and a notification about one key each put in the queue.
 * Not here: sending (window.ts), the dump itself (events.ts).
 */
import { alienLengths4, enqueue, type FibState, forEachEntry, forgetIfEmpty, INFLIGHT, installed, keyOf, mayHaveAliens, RACED, setKernel, WITHDRAWN } from './state.js';

/** The RIB has converged: nothing is held back any more; our routes nobody wants are queued (their count). */
export function queueStale(state: FibState): number {
  let stale = 0;
  forEachEntry(state, (i) => {
    state.flags[i] &= ~WITHDRAWN;
    if (state.want[i] === 0 && state.kernel[i] !== 0) {
      enqueue(state, i);
      stale++;
    }
  });
  return stale;
}

/** After a complete dump of `generation`: our routes it did not show are gone; every difference is queued. */
export function queueDumpDifferences(state: FibState, generation: number): void {
  const aliens = state.aliens.size > 0;
  const lengths = aliens ? alienLengths4(state) : null;
  forEachEntry(state, (i) => {
    if (state.kernel[i] !== 0 && state.seen[i] !== generation) setKernel(state, i, undefined);
    const differs = state.want[i] === 0
      ? state.kernel[i] !== 0
      : !installed(state, i) || (aliens && mayHaveAliens(state, i, lengths) && state.aliens.has(keyOf(state, i)));
    if (differs || state.refusals.has(i)) enqueue(state, i);
    else forgetIfEmpty(state, i);
  });
}

/**
 * The kernel state of `key` changed: queue it to be looked at again (true), unless it is nothing
 * of ours or a request of ours is on it (then it is marked RACED: its answer cannot be trusted).
 */
export function queueTouched(state: FibState, key: string): boolean {
  const i = state.keys.find(key);
  if (i < 0) return false;
  if ((state.flags[i] & INFLIGHT) !== 0) {
    state.flags[i] |= RACED;
    return false;
  }
  if (state.want[i] === 0 && state.kernel[i] === 0) return false;
  enqueue(state, i);
  return true;
}
