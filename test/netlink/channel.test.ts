/**
 * The addon's AF_NETLINK socket (netlink/native/src/netlink.c through NetlinkChannel):
 * - in this process, read-only: a link dump round trip, typed errors for bad calls and closed
 *   sockets, idempotent close;
 * - in a namespace (netlink-probe.ts): a receive-buffer overflow while the event loop is blocked
 *   arrives as a JS error event with code ENOBUFS (libuv reports it as a poll error and stops the
 *   handle; the addon restarts it), the process lives, and later notifications still arrive.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { NetlinkChannel } from '../../netlink/rtnetlink/channel.js';
import { NLMSG, NLM_F, RTM } from '../../netlink/rtnetlink/constants.js';
import { NetlinkError } from '../../netlink/rtnetlink/errors.js';
import { decodeLink, ifinfomsg } from '../../netlink/rtnetlink/link.js';
import { encodeMessage, splitMessages, type NlMessage } from '../../netlink/rtnetlink/message.js';
import { useLab } from '../helpers/lab-fixture.js';
import { captureOutput, isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';

const probe = fileURLToPath(new URL('../helpers/netlink-probe.js', import.meta.url));

test('a link dump through the addon: request, datagrams, NLMSG_DONE', async (t) => {
  const received: NlMessage[] = [];
  const errors: NetlinkError[] = [];
  const channel = NetlinkChannel.open({
    onData: (buf) => received.push(...splitMessages(buf)),
    onError: (err) => errors.push(err),
  });
  t.teardown(() => channel.close());
  t.true(channel.portId > 0);
  const sent = channel.send(encodeMessage(RTM.GETLINK, NLM_F.REQUEST | NLM_F.DUMP, 1, ifinfomsg(0)));
  t.is(sent, 32);
  await waitFor(() => received.some((m) => m.type === NLMSG.DONE), { timeoutMs: 5000, what: 'NLMSG_DONE' });
  const links = received.filter((m) => m.type === RTM.NEWLINK).map((m) => decodeLink(m.payload));
  t.true(links.some((l) => l.name === 'lo'));
  t.true(received.every((m) => m.seq === 1));
  t.deepEqual(errors, []);
});

test('bad calls and closed sockets: typed errors', (t) => {
  const channel = NetlinkChannel.open({ onData: () => undefined, onError: () => undefined });
  channel.close();
  channel.close();
  t.true(channel.closed);
  t.throws(() => channel.send(Buffer.alloc(16)), { instanceOf: NetlinkError, code: 'EBADF' });
  t.throws(() => NetlinkChannel.open({ groups: [5000], onData: () => undefined, onError: () => undefined }),
    { instanceOf: RangeError });
  const open = NetlinkChannel.open({ onData: () => undefined, onError: () => undefined });
  t.teardown(() => open.close());
  // A message the kernel cannot take: its answer is an error message, not a throw.
  t.throws(() => open.send(Buffer.alloc(0)), { instanceOf: NetlinkError });
});

(isRoot ? test : test.skip)('ENOBUFS is an error event; the socket goes on delivering', async (t) => {
  if (!isRoot) t.log(rootSkipReason);
  const lab = await useLab(t, 'chan');
  const ns = await lab.namespace('n');
  const child = lab.spawn(ns, process.execPath, [probe, '65536'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = captureOutput(child);
  const events = (): Array<Record<string, unknown>> => out.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const send = (cmd: Record<string, unknown>): void => {
    child.stdin?.write(`${JSON.stringify(cmd)}\n`);
  };
  await waitFor(() => events().some((e) => e.event === 'ready'), { timeoutMs: 10_000, what: 'probe ready' });

  send({ cmd: 'block', ms: 1500 });
  // 3,000 notifications into a 64 KiB buffer nobody reads for a while.
  const lines = Array.from({ length: 3000 }, (_, i) => `route add blackhole 10.${100 + (i >> 8)}.${i & 255}.0/24`);
  await lab.exec(ns, 'sh', ['-c', `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} | ip -batch -`], { check: true });
  await waitFor(() => events().some((e) => e.event === 'block'), { timeoutMs: 30_000, what: 'the block to end' });
  await waitFor(() => events().some((e) => e.event === 'error'), { timeoutMs: 10_000, what: 'the ENOBUFS event' });
  const error = events().find((e) => e.event === 'error');
  t.like(error, { code: 'ENOBUFS', errno: 105, op: 'recv' });

  // After the overflow, the socket is polled again: new notifications arrive.
  send({ cmd: 'count' });
  const before = await waitFor(() => events().find((e) => e.event === 'count'), { timeoutMs: 10_000, what: 'count' });
  await lab.ip(ns, 'route', 'add', 'blackhole', '10.200.0.0/24');
  await waitFor(async () => {
    send({ cmd: 'count' });
    await new Promise((resolve) => setImmediate(resolve));
    const counts = events().filter((e) => e.event === 'count');
    return (counts[counts.length - 1].messages as number) > (before.messages as number);
  }, { timeoutMs: 10_000, what: 'a notification after the overflow' });
  t.is(child.exitCode, null, 'the process lives');
  send({ cmd: 'exit' });
  await waitFor(() => events().some((e) => e.event === 'exit'), { timeoutMs: 10_000, what: 'exit' });
});
