/** `agentctl check`, the data-plane checks: what the daemon uses (the text is agent/control/render.ts). */
export { Checker, type CheckerOptions } from './checker.js';
export { checkSources, checkSettings, type CheckSources } from './sources.js';
