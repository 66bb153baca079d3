/**
 * bench:rr's load generator process: runs one Fleet (clients.ts) inside the lab's generator
 * namespace, started by run.ts as `node generator.js` with the FleetSpec as JSON in BENCH_RR_GEN.
 * Commands arrive as lines on stdin (`start`, `churn`, `stats`, `stop`); events leave as JSON lines
 * on stdout: `ready`, `progress` every second, `converged` and `churned` with absolute times in
 * ms (performance.timeOrigin + now, so several generator processes compare), `stats` with the
 * totals. It exits at `stop` or when stdin closes (its parent is gone).
 * Not here: the clients themselves (clients.ts), the lab and the reflector (run.ts).
 */
import { createInterface } from 'node:readline';
import { Fleet, type FleetSpec } from './clients.js';

export type GeneratorEvent =
  | { ev: 'ready' }
  | { ev: 'progress'; up: number; done: number; target: number; phase: string; resets: number; opening: number; retries: number }
  | { ev: 'converged' | 'churned'; started: number; finished: number }
  | { ev: 'stats'; totals: Fleet['totals'] };

const send = (e: GeneratorEvent): void => {
  process.stdout.write(`${JSON.stringify(e)}\n`);
};

const fleet = new Fleet(JSON.parse(process.env.BENCH_RR_GEN ?? '') as FleetSpec);
fleet.onPhaseDone = (phase) => send({ ev: phase === 'start' ? 'converged' : 'churned', started: fleet.started, finished: fleet.finished });

const ticker = setInterval(() => send({
  ev: 'progress', up: fleet.up, done: fleet.done, target: fleet.target, phase: fleet.phase, resets: fleet.totals.resets,
  opening: fleet.opening, retries: fleet.totals.retries,
}), 1000);

function stop(): void {
  clearInterval(ticker);
  fleet.stop();
  process.exit(0);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') fleet.start();
  else if (line === 'churn') fleet.churn();
  else if (line === 'stats') send({ ev: 'stats', totals: fleet.totals });
  else if (line === 'stop') stop();
}).on('close', stop);

send({ ev: 'ready' });
