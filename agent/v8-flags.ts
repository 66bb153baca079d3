/**
 * The agent's V8 flags (issue 12), set in code as the second thing the agent does (after the
 * signal handlers, before config, RIB or FIB allocate anything), so the systemd unit and a
 * `rack-agent` started by hand run with the same ones: a shebang cannot carry flags portably and
 * NODE_OPTIONS refuses some of them. Only flags V8 reads while it runs work this way (the growth
 * of the young generation, the old generation's growing factor); sizes V8 fixes at start-up
 * (--max-semi-space-size) do not, which is why none is used.
 * - --semi-space-growth-factor=1: the young generation stays at its initial 1 MB semi-spaces
 *   instead of growing to 16 MB; the young generation's share of the peak RSS is gone, at no
 *   measurable CPU cost.
 * - --heap-growing-percent=30: the old generation may grow by 30% between full collections
 *   (V8 lets it grow up to 4x when the program runs fast), so the heap stays near its live size
 *   while a million routes arrive.
 * Measured (bench:e2e, agent only, shared 2-core machine; peak RSS / time at 1,000,000): none
 * 256 MB / 6.5 s; growth factor alone 234 MB / 6.8 s; these two 175 MB / 7.2 s; growth factor and
 * --optimize-for-size 173 MB / 7.7 s (about 1 s more CPU, but 4 MB less at 1,000 prefixes: a
 * choice for nodes with small tables).
 * RACK_AGENT_V8_FLAGS (space-separated; empty for none) replaces the list, for measuring and as
 * an escape hatch.
 */
import { setFlagsFromString } from 'node:v8';

const DEFAULT_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=30';

export const V8_FLAGS: readonly string[] = (process.env.RACK_AGENT_V8_FLAGS ?? DEFAULT_FLAGS).split(' ').filter((f) => f !== '');

for (const flag of V8_FLAGS) setFlagsFromString(flag);
