/**
 * The agent's V8 flags (issue 12), set in code as the second thing the agent does (after the
 * signal handlers, before config, RIB or FIB allocate anything), so the systemd unit and a
 * `rack-agent` started by hand run with the same ones: a shebang cannot carry flags portably and
 * NODE_OPTIONS refuses some of them. Only flags V8 reads while it runs work this way (the growth
 * of the young generation, the old generation's growing factor); sizes V8 fixes at start-up
 * (--max-semi-space-size) do not, which is why none is used.
 * - --semi-space-growth-factor=1: the young generation stays at its initial 1 MB semi-spaces
 *   instead of growing to 16 MB; objects that wait for the kernel's answer are then promoted a
 *   little more often, but the young generation's share of the peak RSS is gone.
 * - --optimize-for-size: the old generation grows by a smaller factor between full collections,
 *   so garbage promoted while a million routes are installed is collected sooner.
 * RACK_AGENT_V8_FLAGS (space-separated; empty for none) replaces the list, for measuring and as
 * an escape hatch. Measured by `npm run bench:e2e` (README "Memory": with and without).
 */
import { setFlagsFromString } from 'node:v8';

const DEFAULT_FLAGS = '--semi-space-growth-factor=1 --optimize-for-size';

export const V8_FLAGS: readonly string[] = (process.env.RACK_AGENT_V8_FLAGS ?? DEFAULT_FLAGS).split(' ').filter((f) => f !== '');

for (const flag of V8_FLAGS) setFlagsFromString(flag);
