/**
 * bench:layers' view into a Fib without a socket: every desired route marked as installed, the
 * way the kernel's answers leave the state (a million routes in the kernel mirror). Test-only.
 */
import type { Fib } from '../../netlink/fib/fib.js';
import { dequeue, forEachEntry, setKernel, wantOf } from '../../netlink/fib/state.js';

export function markAllInstalled(fib: Fib): void {
  const state = fib.state;
  while (dequeue(state) >= 0);
  forEachEntry(state, (i) => {
    const want = wantOf(state, i);
    if (want !== undefined) setKernel(state, i, want.signature);
  });
}
