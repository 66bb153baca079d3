/**
 * The BFD client's own timers on an injected clock (agent/bfd/client.ts, issue 20): a worker that
 * dies is started again 1 s later on the FakeClock, never by real time. A real worker thread and
 * a real UDP port (random, above 40000); the peer 127.0.0.2 never answers.
 */
import type { Worker } from 'node:worker_threads';
import test from 'ava';

import { BfdClient } from '../../agent/bfd/client.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitFor } from '../helpers/netns.js';

const PEER = { key: '127.0.0.2', peer: '127.0.0.2', local: '', family: 'ipv4' as const, minRxMs: 300, minTxMs: 300, multiplier: 3 };

test('a worker that died is started again after 1 s of the injected clock', async (t) => {
  t.timeout(30_000);
  const clock = new FakeClock();
  const errors: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (m: string) => void errors.push(m) };
  const client = new BfdClient({ log, onChange: () => undefined, port: 40000 + Math.floor(Math.random() * 9000), statusIntervalMs: 50, clock });
  t.teardown(() => client.close());
  client.configure([PEER]);
  await waitFor(() => client.status().sessions.length === 1, { timeoutMs: 10_000, what: 'the first worker\'s snapshot' });

  // The worker dies under us (terminate() stands in for a crash).
  await (client as unknown as { worker: Worker }).worker.terminate();
  await waitFor(() => errors.some((m) => m.startsWith('BFD worker exited')), { timeoutMs: 5000, what: 'the exit to be logged' });
  t.is(client.status().sessions.length, 0, 'its sessions are gone');

  clock.advance(999);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.is((client as unknown as { worker: Worker | null }).worker, null, 'not restarted before 1 s of the injected clock');
  clock.advance(1);
  t.not((client as unknown as { worker: Worker | null }).worker, null, 'restarted at 1 s of the injected clock');
  await waitFor(() => client.status().sessions.length === 1, { timeoutMs: 10_000, what: 'the new worker\'s snapshot' });
  t.pass();
});
