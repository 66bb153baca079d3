/**
 * Closing a netlink socket with a datagram in flight (issue 11: SIGSEGV on stop), at the addon's
 * level, deterministically: test/helpers/close-probe.ts runs in a child process inside a lab
 * namespace and the child's exit status is the verdict (a use after close is a SIGSEGV, not a
 * throw this process could catch).
 * - raw: nlSendAsync then nlClose at once, 2,000 times; every send callback runs exactly once, and
 *   every datagram is sent (its routes are counted) or dropped by the close (ECANCELED).
 * - channel: NetlinkChannel.close() resolves only after the in-flight send's callback ran.
 * - callback: nlClose called from inside a receive callback, with more data waiting: no callback
 *   runs after it (the JS references and async context it runs on are released after it returns).
 * - worker: threads that exit with sockets open and sends queued (the environment's cleanup
 *   hooks, then the addon unloaded with the thread) exit 0.
 * Before the fix all three died with SIGSEGV (send_done -> napi_make_callback on an async context
 * nlClose had destroyed; uv close callbacks into an unloaded addon).
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { captureOutput, isRoot, Lab, rootSkipReason } from '../helpers/netns.js';

const probe = fileURLToPath(new URL('../helpers/close-probe.js', import.meta.url));
const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('close-in-flight tests', (t) => t.log(`skipped: ${rootSkipReason}`));

interface ProbeResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly report: { mode: string; rounds: number; callbacks: number; errors: Record<string, number>; order: string[] } | undefined;
  readonly output: string;
}

async function runProbe(lab: Lab, ns: string, mode: string, rounds: number): Promise<ProbeResult> {
  const child = lab.spawn(ns, process.execPath, [probe, mode, String(rounds)]);
  const out = captureOutput(child);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.once('exit', (c, s) => resolve([c, s]));
  });
  // 'exit' can come before the last stdout chunk: wait for the stream to end too.
  if (child.stdout !== null && !child.stdout.readableEnded) await new Promise((resolve) => child.stdout?.once('end', resolve));
  const line = out.lines.find((l) => l.startsWith('{'));
  return { code, signal, report: line === undefined ? undefined : JSON.parse(line) as ProbeResult['report'], output: `${out.lines.join('\n')}\n${out.stderr()}` };
}

let lab: Lab | undefined;
let ns = '';

test.before(async () => {
  if (!isRoot) return;
  lab = await Lab.create('closeflight');
  ns = await lab.namespace('n');
});

test.after.always(async () => {
  await lab?.destroy();
});

nsTest('nlClose right after nlSendAsync, 2,000 times: every callback once, sent or cancelled, exit 0', async (t) => {
  const r = await runProbe(lab!, ns, 'raw', 2000);
  t.deepEqual([r.code, r.signal], [0, null], r.output);
  t.is(r.report?.callbacks, 2000, r.output);
  // The worker had started on it (sent) or the close dropped it (ECANCELED, issue 21): nothing else.
  const cancelled = r.report?.errors.ECANCELED ?? 0;
  t.deepEqual(Object.keys(r.report?.errors ?? {}).filter((c) => c !== 'ECANCELED'), [], r.output);
  const { stdout } = await lab!.ip(ns, '-4', 'route', 'show', 'proto', '202');
  t.is(stdout.split('\n').filter((l) => l.trim() !== '').length, (2000 - cancelled) * 64, 'every datagram sent reached the kernel');
});

nsTest('NetlinkChannel.close() resolves after the in-flight send completed, 500 times', async (t) => {
  const r = await runProbe(lab!, ns, 'channel', 500);
  t.deepEqual([r.code, r.signal], [0, null], r.output);
  t.is(r.report?.callbacks, 500, r.output);
  t.deepEqual(r.report?.order, ['sent 0', 'closed 0', 'sent 1', 'closed 1', 'sent 2', 'closed 2'], r.output);
});

nsTest('nlClose inside the first onData of a long dump: no callback after it, 200 times', async (t) => {
  // The namespace holds the routes of the first test (up to 128,000): the dump fills read chunks.
  const r = await runProbe(lab!, ns, 'callback', 200);
  t.deepEqual([r.code, r.signal], [0, null], r.output);
  t.is(r.report?.callbacks, 200, r.output);
  t.deepEqual(r.report?.errors, {}, r.output);
});

nsTest('threads ending with sockets open and sends in flight: cleanup hooks, exit 0', async (t) => {
  const r = await runProbe(lab!, ns, 'worker', 40);
  t.deepEqual([r.code, r.signal], [0, null], r.output);
  t.is(r.report?.callbacks, 40, r.output);
});
