/**
 * The control side's timers on an injected clock (agent/contracts/clock.ts, issue 20): `wait`
 * answers at its timeout and polls at its period on the FakeClock, the server's drain after
 * TOO_LARGE cuts the connection on it, and the probe of a live socket file arms its timer on it.
 */
import { connect } from 'node:net';

import test from 'ava';

import { ControlError } from '../../agent/control/errors.js';
import { ControlServer } from '../../agent/control/server.js';
import { claimSocketPath } from '../../agent/control/socket-file.js';
import { waitConverged } from '../../agent/control/wait.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitFor } from '../helpers/netns.js';
import { fakeHandlers, type FakeState, memoryLog } from './fakes.js';
import { rawClient, socketDir } from './helpers.js';

/** A FakeClock that also records every delay armed on it. */
class RecordingClock extends FakeClock {
  readonly armed: number[] = [];
  override setTimeout(fn: () => void, ms: number): unknown {
    this.armed.push(ms);
    return super.setTimeout(fn, ms);
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const realMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('waitConverged: not converged answers at its timeout on the injected clock, converged at the next poll', async (t) => {
  const clock = new FakeClock(5000);
  let converged = false;
  let answer: unknown;
  void waitConverged(() => converged, 5, 200, new AbortController().signal, clock).then((a) => { answer = a; });
  clock.advance(4999);
  await turn();
  t.is(answer, undefined);
  clock.advance(1);
  await turn();
  t.deepEqual(answer, { converged: false, waited: 5 });

  answer = undefined;
  void waitConverged(() => converged, 5, 200, new AbortController().signal, clock).then((a) => { answer = a; });
  converged = true;
  clock.advance(199);
  await turn();
  t.is(answer, undefined, 'converged() is asked again only at the next poll');
  clock.advance(1);
  await turn();
  t.deepEqual(answer, { converged: true, waited: 0.2 });
});

test('the server\'s `wait` and its drain after TOO_LARGE run on the injected clock', async (t) => {
  const dir = await socketDir();
  const clock = new FakeClock();
  const fake: FakeState = { converged: false, failStatus: false, refuseReload: false, reloads: 0 };
  const server = new ControlServer(fakeHandlers(fake), { path: dir.path, group: '', log: memoryLog(), waitPollMs: 20, maxRequestBytes: 1024, clock });
  await server.start();
  t.teardown(async () => {
    await server.close();
    await dir.cleanup();
  });

  const waiting = await rawClient(dir.path);
  t.teardown(() => waiting.close());
  waiting.send(`${JSON.stringify({ id: 1, cmd: 'wait', args: { timeout: 3 } })}\n`);
  await realMs(50);
  clock.advance(2999);
  await realMs(50);
  t.is(waiting.answers.length, 0, 'no answer before the timeout on the injected clock');
  clock.advance(1);
  t.deepEqual(await waiting.answersAtLeast(1, 1000), [{ id: 1, ok: true, data: { converged: false, waited: 3 } }]);

  waiting.close();
  await waitFor(() => server.clients === 0, { timeoutMs: 5000, what: 'the waiting client to leave' });

  // A client that keeps its half open after TOO_LARGE is cut DRAIN_GRACE_MS (2 s) later.
  const socket = connect({ path: dir.path, allowHalfOpen: true });
  t.teardown(() => socket.destroy());
  socket.on('error', () => undefined);
  let answered = '';
  socket.on('data', (d: Buffer) => { answered += d.toString(); });
  socket.write(Buffer.alloc(2048, 0x61));
  await waitFor(() => answered.includes('TOO_LARGE'), { timeoutMs: 5000, what: 'TOO_LARGE' });
  clock.advance(1999);
  await realMs(100);
  t.is(server.clients, 1, 'still connected before the grace on the injected clock');
  clock.advance(1);
  await waitFor(() => server.clients === 0, { timeoutMs: 1000, what: 'the cut at the grace on the injected clock' });
  t.pass();
});

test('claimSocketPath probes a live socket with its timer on the injected clock', async (t) => {
  const dir = await socketDir();
  const clock = new RecordingClock();
  const server = new ControlServer(fakeHandlers({ converged: true, failStatus: false, refuseReload: false, reloads: 0 }), { path: dir.path, group: '', log: memoryLog() });
  await server.start();
  t.teardown(async () => {
    await server.close();
    await dir.cleanup();
  });
  const err = await t.throwsAsync(claimSocketPath(dir.path, 1234, clock), { instanceOf: ControlError });
  t.is(err?.code, 'ALREADY_RUNNING');
  t.deepEqual(clock.armed, [1234]);
});
