/** The FIB: kernel routes from RibChanges (see fib.ts). */
export { Fib, fibOptions, type FibOptions, type FibRouteView } from './fib.js';
export { desiredRoute, type DesiredResult } from './desired.js';
export { diff, diffKey, kernelTable, type DesiredEntry, type FibOp, type KernelTable } from './diff.js';
export { fibSignature, kernelRoute, routeKey, signatureOf } from './kernel-route.js';
export type * from './types.js';
