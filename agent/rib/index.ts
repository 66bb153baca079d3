/**
 * agent/rib's public face for the daemon and the control server: the Rib (events in, RibChange
 * and OutboundUpdate out), what it takes from the config (ribSettings), the decision steps' names,
 * and RibError. Everything else in agent/rib/ is internal. Which peers exist is agent/peers/.
 */

export { Rib, type RibOptions, type RibSink } from './rib.js';
export type { RibRoute } from './rib-view.js';
export { ribSettings, type RibSettings } from './settings.js';
export { STEP_NAMES, type StepName } from './decision.js';
export type { ImportReason } from './policy.js';
export { RibError, type RibErrorCode } from './errors.js';
export type { OutboundUpdate, RibChange, RibPath } from '../contracts/engines.js';
