/**
 * agent/rib's public face for agent/main.ts and the control server: the Rib (events in, RibChange
 * and OutboundUpdate out), what it takes from the config (ribSettings, peerSet), the selector
 * syntax, the decision steps' names, and RibError. Everything else in agent/rib/ is internal.
 */

export { Rib, type RibOptions, type RibSink } from './rib.js';
export type { RibRoute } from './rib-view.js';
export { ribSettings, type RibSettings } from './settings.js';
export { peerKey, peerSet, selectorProblems } from './peer-set.js';
export { matches, parseSelector, type Selector } from './selector.js';
export { STEP_NAMES, type StepName } from './decision.js';
export type { ImportReason } from './policy.js';
export { RibError, type RibErrorCode } from './errors.js';
export type { OutboundUpdate, RibChange, RibPath } from './types.js';
