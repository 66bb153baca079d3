/**
 * The Fib across an agent restart and through a netlink overflow, in network namespaces:
 * - restart: 10,000 routes installed, the driver SIGKILLed and started again in restart mode with
 *   the same routes minus one; `ip monitor route` records no deletion of a still-valid route (and
 *   no re-add), and the withdrawn one goes only after markConverged;
 * - ENOBUFS: the driver's event loop blocked for a second while `ip -batch` adds 100,000 routes of
 *   another protocol (and deletes and changes routes of ours); the driver survives, logs the
 *   overflow, resynchronises by a dump, and the kernel ends exactly as desired.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberToIpv4 } from '../../agent/bgp/ip.js';
import { kernelRoutes } from '../helpers/fib-client.js';
import { captureOutput, isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';
import { fibLab, type FibLab, hops, PROTO, startDriver } from './fib-setup.js';

const nsTest = isRoot ? test.serial : test.skip;
if (!isRoot) {
  test('fib restart and overflow tests', (t) => {
    t.log(`skipped: ${rootSkipReason}`);
    t.pass();
  });
}

const FIRST = 0x0a400000; // 10.64.0.0
const prefixAt = (i: number): string => `${numberToIpv4(FIRST + i * 64)}/26`;

/** `ip monitor route` in the node namespace, proven to be listening before it is used. */
async function routeWatcher(fl: FibLab): Promise<{ lines: string[]; sync: () => Promise<void> }> {
  const child = fl.lab.spawn(fl.n, 'ip', ['monitor', 'route']);
  const out = captureOutput(child);
  let probes = 0;
  // A probe route shows up in the watcher once everything before it has been printed.
  const sync = async (timeoutMs = 10_000): Promise<void> => {
    const probe = `10.250.${probes++}.0/24`;
    await fl.lab.ip(fl.n, 'route', 'add', probe, 'dev', fl.toP, 'proto', 'static');
    await waitFor(() => out.lines.some((l) => l.startsWith(probe)), { timeoutMs, what: `watcher to see ${probe}` });
  };
  await waitFor(async () => {
    try {
      await sync(250);
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 10_000, what: 'ip monitor to listen' });
  return { lines: out.lines, sync };
}

nsTest('restart: SIGKILL with 10,000 routes, restart mode, no still-valid route ever deleted', async (t) => {
  const fl = await fibLab(t, 'fibrestart');
  const count = 10_000;
  const first = await startDriver(t, fl);
  await first.command({ cmd: 'generate', first: '10.64.0.0', count, len: 26, nextHop: '10.1.0.2' });
  let snap = await first.idle(60_000);
  t.is(snap.routes, count);
  await first.kill('SIGKILL');
  t.is((await kernelRoutes(fl.lab, fl.n, { proto: PROTO })).length, count, 'routes stay when the agent dies');

  const watcher = await routeWatcher(fl);
  const withdrawn = 5;
  const second = await startDriver(t, fl, { mode: 'restart' });
  await second.command({ cmd: 'generate', first: '10.64.0.0', count, len: 26, nextHop: '10.1.0.2', skip: [withdrawn] });
  snap = await second.idle(60_000);
  t.false(snap.converged);
  t.false(snap.inSync, 'not in sync before the RIB has converged');
  t.deepEqual(snap.ops, { add: 0, replace: 0, delete: 0 }, 'existing routes untouched');
  const before = await kernelRoutes(fl.lab, fl.n, { proto: PROTO });
  t.is(before.length, count);
  t.true(before.some((r) => r.dst === prefixAt(withdrawn)), 'the withdrawn route waits for convergence');

  await second.command({ cmd: 'converged' });
  snap = await second.idle(60_000);
  t.true(snap.inSync);
  t.deepEqual(snap.ops, { add: 0, replace: 0, delete: 1 });
  const after = await kernelRoutes(fl.lab, fl.n, { proto: PROTO });
  t.is(after.length, count - 1);
  t.false(after.some((r) => r.dst === prefixAt(withdrawn)));
  t.true(after.every((r) => hops(r)[0] === `10.1.0.2 ${fl.toP}`));

  await watcher.sync();
  const ourEvents = watcher.lines.filter((l) => / proto (201|rack-agent)\b/.test(l));
  t.deepEqual(ourEvents.filter((l) => l.startsWith('Deleted ')).map((l) => l.split(' ')[1]), [prefixAt(withdrawn)],
    'exactly one deletion: the withdrawn route');
  t.deepEqual(ourEvents.filter((l) => !l.startsWith('Deleted ')), [], 'no route of ours re-added or replaced');
});

nsTest('ENOBUFS: event loop blocked during a 100,000-route burst; overflow logged, resync by dump', async (t) => {
  const fl = await fibLab(t, 'fibenobufs');
  const { lab, n } = fl;
  const count = 2000;
  // The monitor's buffer (8 MiB by default) is made small enough that the part of the burst even a
  // slow, shared CI machine produces in that second overflows it: the overflow path is the point.
  const fib = await startDriver(t, fl, { socket: { monitorRcvbuf: 1024 * 1024 } });
  await fib.command({ cmd: 'generate', first: '10.64.0.0', count, len: 26, nextHop: '10.1.0.2' });
  await fib.idle(60_000);

  // 100,000 routes of protocol static, plus one route of ours deleted and one changed, all while
  // the driver cannot read: only a dump can tell it about the last two.
  const dir = mkdtempSync(join(tmpdir(), 'fib-enobufs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const batch = join(dir, 'burst.batch');
  const lines: string[] = [];
  // Protocols as numbers: iproute2 6.1's batch mode reads `proto static` after a line with
  // `proto 201` as 201 (a stale lookup cache), which would make the burst's routes ours.
  for (let i = 0; i < 100_000; i++) lines.push(`route add ${numberToIpv4(0xac100000 + i * 64)}/26 via 10.1.0.3 proto 4`);
  lines.splice(50_000, 0, `route del ${prefixAt(7)}`, `route replace ${prefixAt(8)} via 10.1.0.9 proto ${PROTO}`);
  writeFileSync(batch, `${lines.join('\n')}\n`);

  // The driver blocks until the whole burst is in the kernel, however slow the machine is today.
  const released = join(dir, 'burst.done');
  const blockId = fib.send({ cmd: 'block', ms: 120_000, untilFile: released });
  await fib.waitEvent((e) => e.event === 'blocking' && e.id === blockId, 'the driver to block', 30_000);
  const burst = await lab.exec(n, 'ip', ['-batch', batch]);
  writeFileSync(released, '');
  t.is(burst.code, 0, burst.stderr);
  await fib.waitEvent((e) => e.id === blockId && e.event !== 'blocking', 'the block to end', 60_000);

  const overflow = await fib.waitEvent((e) => e.event === 'log' && /overflowed \(ENOBUFS\)/.test(String(e.message)),
    'the overflow to be logged', 30_000);
  t.is(overflow.level, 'warn');
  await waitFor(async () => {
    const s = await fib.snapshot();
    return s.inSync && s.reconciles >= 2;
  }, { timeoutMs: 60_000, what: 'the driver to resync and settle' });
  const snap = await fib.snapshot();
  t.true(snap.overflows >= 1);
  t.false(fib.exited, 'the driver survives');

  const mine = await kernelRoutes(lab, n, { proto: PROTO });
  const expected = new Set(Array.from({ length: count }, (_, i) => prefixAt(i)));
  t.deepEqual(mine.filter((r) => !expected.has(r.dst)).slice(0, 5), [], 'nothing but ours');
  t.is(mine.length, count, 'every route of ours is there');
  t.true(mine.every((r) => hops(r)[0] === `10.1.0.2 ${fl.toP}`), 'each with its own next hop');
  const statics = await kernelRoutes(lab, n, { proto: 'static' });
  t.is(statics.length, 100_000, 'the 100,000 routes of protocol static are untouched');
});
