/**
 * The server side of `agentctl wait`: polls converged() until it holds or the timeout passes,
 * so a client needs one request and no loop of its own. An AbortSignal (the client left, the
 * agent is closing) ends it early with SHUTTING_DOWN. Its polls run on the server's clock
 * (systemClock: unref'd, the client's connection holds the process meanwhile). Not here: what "converged" means
 * (ControlHandlers.converged, agent/main.ts).
 */

import { type Clock, systemClock } from '../contracts/clock.js';
import type { WaitAnswer } from './api.js';
import { ControlError } from './errors.js';

export function waitConverged(converged: () => boolean, timeoutSeconds: number, pollMs: number, signal: AbortSignal,
  clock: Clock = systemClock): Promise<WaitAnswer> {
  const started = clock.now();
  const deadline = started + timeoutSeconds * 1000;
  const answer = (value: boolean): WaitAnswer => ({ converged: value, waited: Math.round((clock.now() - started) / 100) / 10 });
  return new Promise<WaitAnswer>((resolve, reject) => {
    let timer: unknown = null;
    const finish = (outcome: () => void): void => {
      if (timer !== null) clock.clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      outcome();
    };
    const abort = (): void => finish(() => reject(new ControlError('SHUTTING_DOWN', 'the wait ended: the connection or the agent is closing')));
    const poll = (): void => {
      timer = null;
      let done: boolean;
      try {
        done = converged();
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      const left = deadline - clock.now();
      if (done || left <= 0) {
        finish(() => resolve(answer(done)));
        return;
      }
      timer = clock.setTimeout(poll, Math.min(pollMs, left));
    };
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort);
    poll();
  });
}
