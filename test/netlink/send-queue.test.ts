/**
 * RouteSocket's send queue (issue 21): every datagram the window allows goes to the addon's send
 * worker at once (netlink/native/src/netlink-send.c), which sends them in order, back to back.
 * In a lab namespace, through test/helpers/send-queue-probe.ts (a socket belongs to the namespace
 * of the process that opens it) and, for the addon alone, close-probe.ts:
 * - ordering across datagrams: add, delete, add again of the same prefixes in hundreds of datagrams
 *   handed over before any answer; one EEXIST per request that should fail, none elsewhere;
 * - close with the queue full: every request fails once with EBADF, nothing is called after close
 *   resolves, the kernel got whole datagrams only, and later requests fail with EBADF;
 * - the addon: sockets closed with 50 datagrams queued; every callback once, in order: those sent
 *   first, then only ECANCELED, and the kernel holds exactly the sent ones.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WINDOW } from '../../netlink/rtnetlink/route-socket.js';
import { useLab } from '../helpers/lab-fixture.js';
import { captureOutput, isRoot, type Lab, rootSkipReason } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.serial.skip;
if (!isRoot) test('send-queue tests', (t) => t.log(`skipped: ${rootSkipReason}`));

async function probe(lab: Lab, ns: string, file: string, ...args: string[]): Promise<{ report: Record<string, unknown>; code: number | null; output: string }> {
  const child = lab.spawn(ns, process.execPath, [fileURLToPath(new URL(`../helpers/${file}`, import.meta.url)), ...args]);
  const out = captureOutput(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (child.stdout !== null && !child.stdout.readableEnded) await new Promise((resolve) => child.stdout?.once('end', resolve));
  const line = out.lines.find((l) => l.startsWith('{'));
  return { report: line === undefined ? {} : JSON.parse(line) as Record<string, unknown>, code, output: `${out.lines.join('\n')}\n${out.stderr()}` };
}

nsTest('order kept across hundreds of queued datagrams; errors per request', async (t) => {
  const lab = await useLab(t, 'sendqorder');
  const ns = await lab.namespace('n');
  const { report: r, code, output } = await probe(lab, ns, 'send-queue-probe.js', 'order', '5000');
  t.is(code, 0, output);
  t.deepEqual(r.unexpected, [], output);
  t.deepEqual(r.codes, { ok: 15000, EEXIST: 50 }, output);
  t.is(r.prefixes, 5000, output);
  // 15,050 requests, 64 a datagram, all inside the window (16,384): every datagram handed over at once.
  t.is(r.handedBeforeAnswers, Math.ceil(15050 / 64), output);
  t.is(r.datagrams, Math.ceil(15050 / 64), output);
  // The addon counted every datagram its workers sent and a time inside sendto for them (15,050
  // route requests: well above zero, below the test's own time); close keeps the numbers.
  const kernel = r.kernel as { datagrams: number; seconds: number; handed: number };
  t.is(kernel.datagrams, kernel.handed, output);
  t.true(kernel.seconds > 0.001 && kernel.seconds < 30, `kernel time ${kernel.seconds} s\n${output}`);
  t.true(r.keptAtClose, output);
});

nsTest('a flood of refusals fits the receive buffer: 200,000 EEXIST answered, no overflow', async (t) => {
  const lab = await useLab(t, 'sendqrefuse');
  const ns = await lab.namespace('n');
  const { report: r, code, output } = await probe(lab, ns, 'send-queue-probe.js', 'refusals', '200000');
  t.is(code, 0, output);
  t.deepEqual(r.first, { ok: 200000 }, output);
  t.deepEqual(r.again, { EEXIST: 200000 }, output);
  t.is(r.overflows, 0, output);
  t.is(r.prefixes, 200000, output);
});

nsTest('close with the send queue full: EBADF once each, nothing after, whole datagrams only', async (t) => {
  const lab = await useLab(t, 'sendqclose');
  const ns = await lab.namespace('n');
  const { report: r, code, output } = await probe(lab, ns, 'send-queue-probe.js', 'close', '80000');
  t.is(code, 0, output);
  t.is(r.handed, DEFAULT_WINDOW / 64, output); // the window's worth, at once
  t.deepEqual(r.atClose, { EBADF: 80000 }, output);
  t.deepEqual(r.codes, { EBADF: 80000 }, output);
  t.is(r.late, 0, output);
  t.is(r.rejected, 'EBADF', output);
  const prefixes = r.prefixes as number;
  t.true(prefixes < 80000, `the addon dropped the datagrams not yet sent (${prefixes} routes)\n${output}`);
  t.is(prefixes % 64, 0, `whole datagrams only (${prefixes} routes)\n${output}`);
});

nsTest('the addon: sockets closed with 50 datagrams queued; callbacks in order, sent ones then ECANCELED', async (t) => {
  const lab = await useLab(t, 'sendqraw');
  const ns = await lab.namespace('n');
  const { report: r, code, output } = await probe(lab, ns, 'close-probe.js', 'queue', '40');
  t.is(code, 0, output);
  t.is(r.callbacks, 40 * 50, output);
  t.deepEqual(r.order, [], `a success after a cancel, or a callback out of order\n${output}`);
  const sent = 40 * 50 - ((r.errors as Record<string, number>).ECANCELED ?? 0);
  t.deepEqual(Object.keys(r.errors as object).filter((c) => c !== 'ECANCELED'), [], output);
  const { stdout } = await lab.ip(ns, '-4', 'route', 'show', 'proto', '202');
  t.is(stdout.split('\n').filter((l) => l.trim() !== '').length, sent * 64, 'the kernel holds exactly the datagrams sent');
});
