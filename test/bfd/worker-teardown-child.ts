/**
 * Child process of worker-teardown.test.ts: starts the real BFD worker (agent/bfd/worker.ts) again
 * and again, lets it open its sockets (a polled receive socket per family, a send-only socket per
 * session; the sessions send to the receive socket, so datagrams are arriving) and terminates it
 * with worker.terminate(), never the worker's own close. Exits 0 after `rounds` rounds; a crash
 * in the addon's teardown (netlink/native/src/udp.c) kills it with a signal instead. This thread
 * never loads the addon, so the worker's unload of it is a real unload.
 *
 *   node worker-teardown-child.js ROUNDS PORT
 */
import { Worker } from 'node:worker_threads';
import type { ToMain, ToWorker, WorkerOptions } from '../../agent/bfd/protocol.js';

const rounds = Number(process.argv[2] ?? '20');
const port = Number(process.argv[3] ?? '47840');
const url = new URL('../../agent/bfd/worker.js', import.meta.url);

async function round(i: number): Promise<void> {
  const workerData: WorkerOptions = { port, multihopPort: port + 1, statusIntervalMs: 50 };
  const w = new Worker(url, { workerData });
  const exited = new Promise<number>((resolve) => w.once('exit', resolve));
  // Open: both families' receive sockets and two sessions each sending to them (300 ms x 3).
  const peers = [
    { key: 'a', peer: '127.0.0.1', local: '127.0.0.1', family: 'ipv4', minRxMs: 300, minTxMs: 300, multiplier: 3 },
    { key: 'b', peer: '::1', local: '::1', family: 'ipv6', minRxMs: 300, minTxMs: 300, multiplier: 3 },
  ] as const;
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m: ToMain) => {
      if (m.type === 'ready') w.postMessage({ type: 'configure', peers } satisfies ToWorker);
      // Sessions exist and a snapshot came after packets went out: sockets open and polled.
      if (m.type === 'status' && m.status.sessions.length === 2 && m.status.sessions.every((s) => s.packetsOut > 0)) resolve();
    });
    w.once('error', reject);
  });
  // Half the rounds terminate at once, half after a few ms of traffic in flight.
  if (i % 2 === 1) await new Promise((r) => setTimeout(r, 5));
  await w.terminate();
  await exited;
}

for (let i = 0; i < rounds; i++) await round(i);
process.stdout.write(`ok ${rounds}\n`);
