/** `agentctl check`, the data-plane checks: what agent/main.ts and agentctl use. */
export { Checker, type CheckerOptions } from './checker.js';
export { checkSources, checkSettings, type CheckSources } from './sources.js';
export { renderCheck, summaryLine } from './render.js';
