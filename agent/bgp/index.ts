/**
 * The BGP-4 wire format: pure functions from bytes to typed messages and back. No sockets, no
 * timers, no module state. See README.md for the supported RFCs.
 */

export * from './constants.js';
export * from './errors.js';
export * from './context.js';
export * from './ip.js';
export * from './prefix.js';
export * from './capabilities.js';
export * from './open.js';
export * from './as-path.js';
export * from './mp.js';
export * from './attributes.js';
export * from './update.js';
export * from './pack.js';
export * from './notification.js';
export * from './route-refresh.js';
export * from './message.js';
export * from './framer.js';
