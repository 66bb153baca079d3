/**
 * The BFD worker terminated with its UDP sockets open and polling (issue 19 item 14): the addon's
 * UDP teardown (netlink/native/src/udp.c) must close them through the async cleanup hook, holding
 * the worker's teardown until libuv has run the poll handles' close callbacks, as netlink.c does.
 * Run in a child process (worker-teardown-child.ts) so that a crash shows as its signal, not as
 * this test runner dying. Part of `npm run test:asan` (netlink/native/asan.sh).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const child = fileURLToPath(new URL('./worker-teardown-child.js', import.meta.url));

test('worker.terminate() on the BFD worker with its UDP sockets open and polling: no crash, 20 rounds', async (t) => {
  t.timeout(120_000);
  const port = 40000 + Math.floor(Math.random() * 9000);
  const p = spawn(process.execPath, [child, '20', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => p.once('exit', (c, s) => resolve([c, s])));
  t.is(signal, null, out);
  t.is(code, 0, out);
  t.regex(out, /^ok 20$/m);
});
