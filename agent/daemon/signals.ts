/**
 * The agent's signals from the first moment: main.ts imports this module before any other, and ES
 * modules are evaluated in import order, so the handlers exist before the config library, the
 * logger or the addon load. A SIGTERM or SIGINT during start-up is then a clean stop (exit 0 at the
 * next step of the start-up) instead of the default action's exit 143, and a SIGHUP during
 * start-up is a reload once the agent runs instead of the default action's exit 129.
 * Until the daemon takes the signals over (`takeOver`), they are remembered; one-shot modes
 * (`--check-config`, `--help`) give them back (`release`).
 */

export type StopSignal = 'SIGTERM' | 'SIGINT';
export type AgentSignal = StopSignal | 'SIGHUP';

const EXIT_OF: Record<AgentSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

let stop: StopSignal | null = null;
let hup = false;
let handler: ((signal: AgentSignal) => void) | null = null;
const listeners = new Map<AgentSignal, () => void>();

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  const listener = (): void => {
    if (handler !== null) return handler(signal);
    if (signal === 'SIGHUP') hup = true;
    else stop ??= signal;
  };
  listeners.set(signal, listener);
  process.on(signal, listener);
}

/** A stop signal that arrived before the daemon took the signals over, or null. */
export function stopRequested(): StopSignal | null {
  return stop;
}

/** From now on `h` receives every signal; what arrived meanwhile is delivered to it at once. */
export function takeOver(h: (signal: AgentSignal) => void): void {
  handler = h;
  if (stop !== null) h(stop);
  else if (hup) h('SIGHUP');
  stop = null;
  hup = false;
}

/** Default behaviour again (one-shot modes); a stop signal that already came ends the process. */
export function release(): void {
  for (const [signal, listener] of listeners) process.off(signal, listener);
  listeners.clear();
  if (stop !== null) process.exit(EXIT_OF[stop]);
}
