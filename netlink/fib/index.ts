/** The FIB: kernel routes from RibChanges (see fib.ts). */
export { Fib } from './fib.js';
export { fibOptions, type FibOptions } from './options.js';
export type { FibRouteView } from './views.js';
export { desiredRoute, type DesiredResult } from './desired.js';
export { diff, diffKey, kernelTable, type DesiredEntry, type FibOp, type KernelTable } from './diff.js';
export { fibSignature, kernelRoute, routeKey, signatureOf } from './kernel-route.js';
export type * from './types.js';
