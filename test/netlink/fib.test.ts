/**
 * The Fib against the real kernel, in network namespaces (see fib-setup.ts): what lands in the
 * kernel for each kind of RIB change (SPEC.md), the clear error for a missing tunnel device, routes
 * of other protocols left alone through every operation and a full reconcile, and repair of a
 * route of ours that someone else deletes or changes. Read back with `ip -j route`.
 */
import test from 'ava';
import { kernelRoutes } from '../helpers/fib-client.js';
import { waitFor } from '../helpers/netns.js';
import { isRoot, rootSkipReason } from '../helpers/netns.js';
import {
  aliens, fibLab, hops, local, ours, PROTO, startDriver, via, withdraw,
} from './fib-setup.js';

const nsTest = isRoot ? test.serial : test.skip;
if (!isRoot) {
  test('fib integration tests', (t) => {
    t.log(`skipped: ${rootSkipReason}`);
    t.pass();
  });
}

nsTest('blackhole, via, onlink on the tunnel device, ECMP, IPv6, replace and delete', async (t) => {
  const fl = await fibLab(t, 'fibkinds');
  const fib = await startDriver(t, fl);
  await fib.apply([
    local('192.168.0.0/26'),
    via('192.168.0.16/28', '10.1.0.2'), // borrowed addresses inside our own block
    via('192.168.1.0/26', '10.1.0.2'), // CrossSubnet pool, next hop in our subnet: plain via
    via('192.168.2.0/26', '10.9.0.2'), // CrossSubnet, next hop elsewhere: IPIP
    via('172.20.1.0/26', '10.1.0.2'), // Always pool: IPIP even on our subnet
    via('192.168.3.0/26', '10.1.0.2', '10.1.0.3', '10.1.0.2'), // ECMP, one duplicate
    via('10.50.0.0/24', '10.1.0.2'), // outside every pool
    via('fd00:100::/122', 'fd00:1::2'),
    { prefix: 'fd00:100::40/122', best: [{ peer: 'fd00:1::2', nextHop: fl.peerLinkLocal, peerAddress: 'fd00:1::2' }] },
    {
      prefix: 'fd00:100::80/122',
      best: [{ peer: 'fd00:1::2', nextHop: 'fd00:1::2' }, { peer: 'fd00:1::3', nextHop: 'fd00:1::3' }],
    },
    local('fd00:100::c0/122'),
  ]);
  let snap = await fib.idle();
  t.deepEqual(snap.errors, []);
  t.true(snap.inSync);
  t.is(snap.routes, 11);

  const v4 = await ours(fl);
  t.is(v4.get('192.168.0.0/26')?.type, 'blackhole');
  t.deepEqual(hops(v4.get('192.168.0.16/28')), [`10.1.0.2 ${fl.toP}`]);
  t.deepEqual(hops(v4.get('192.168.1.0/26')), [`10.1.0.2 ${fl.toP}`]);
  t.deepEqual(hops(v4.get('192.168.2.0/26')), [`10.9.0.2 ${fl.toQ} onlink`]);
  t.deepEqual(hops(v4.get('172.20.1.0/26')), [`10.1.0.2 ${fl.toQ} onlink`]);
  t.deepEqual(hops(v4.get('192.168.3.0/26')), [`10.1.0.2 ${fl.toP}`, `10.1.0.3 ${fl.toP}`]);
  t.deepEqual(hops(v4.get('10.50.0.0/24')), [`10.1.0.2 ${fl.toP}`]);
  t.is(v4.size, 7);
  const v6 = await ours(fl, 6);
  t.deepEqual(hops(v6.get('fd00:100::/122')), [`fd00:1::2 ${fl.toP}`]);
  t.deepEqual(hops(v6.get('fd00:100::40/122')), [`${fl.peerLinkLocal} ${fl.toP}`]);
  t.deepEqual(hops(v6.get('fd00:100::80/122')), [`fd00:1::2 ${fl.toP}`, `fd00:1::3 ${fl.toP}`]);
  t.is(v6.get('fd00:100::c0/122')?.type, 'blackhole');

  // Next-hop changes replace in place; withdrawals delete.
  await fib.apply([
    via('192.168.1.0/26', '10.1.0.3'),
    via('192.168.3.0/26', '10.1.0.4'),
    via('192.168.2.0/26', '10.1.0.2'), // back on our subnet: no more tunnel
    via('fd00:100::80/122', 'fd00:1::4'),
    withdraw('10.50.0.0/24'),
    withdraw('fd00:100::c0/122'),
  ]);
  snap = await fib.idle();
  t.true(snap.inSync);
  t.deepEqual(snap.ops, { add: 11, replace: 4, delete: 2 });
  const v4b = await ours(fl);
  t.deepEqual(hops(v4b.get('192.168.1.0/26')), [`10.1.0.3 ${fl.toP}`]);
  t.deepEqual(hops(v4b.get('192.168.3.0/26')), [`10.1.0.4 ${fl.toP}`]);
  t.deepEqual(hops(v4b.get('192.168.2.0/26')), [`10.1.0.2 ${fl.toP}`]);
  t.false(v4b.has('10.50.0.0/24'));
  const v6b = await ours(fl, 6);
  t.deepEqual(hops(v6b.get('fd00:100::80/122')), [`fd00:1::4 ${fl.toP}`]);
  t.false(v6b.has('fd00:100::c0/122'));

  // A full dump-and-compare finds nothing to do: what we installed reads back as what we wanted.
  snap = await fib.reconcile();
  t.deepEqual(snap.ops, { add: 11, replace: 4, delete: 2 });
  snap = await fib.idle();
  t.true(snap.inSync, JSON.stringify(snap));
  t.deepEqual(fib.logs('warn'), []);
  t.deepEqual(fib.logs('error'), []);
});

nsTest('a missing tunnel device: one clear error, everything else installed', async (t) => {
  const fl = await fibLab(t, 'fibtunl');
  const fib = await startDriver(t, fl, { tunnelDevice: 'tunl0' });
  const errors = await fib.waitEvent((e) => e.event === 'log' && e.level === 'error', 'the tunnel error');
  t.regex(String(errors.message), /tunnel device tunl0 is missing and cannot be created \(this kernel has no IPIP support/);
  await fib.apply([
    local('192.168.0.0/26'),
    via('172.20.1.0/26', '10.1.0.2'), // needs IPIP
    via('192.168.2.0/26', '10.9.0.2'), // needs IPIP (CrossSubnet)
    via('192.168.1.0/26', '10.1.0.2'), // does not
    via('fd00:100::/122', 'fd00:1::2'),
  ]);
  const snap = await fib.idle();
  const v4 = await ours(fl);
  t.deepEqual([...v4.keys()].sort(), ['192.168.0.0/26', '192.168.1.0/26']);
  t.true((await ours(fl, 6)).has('fd00:100::/122'));
  t.deepEqual(snap.errors.map((e) => `${e.prefix} ${e.code}`).sort(),
    ['172.20.1.0/26 TUNNEL_DEVICE_MISSING', '192.168.2.0/26 TUNNEL_DEVICE_MISSING']);
  t.false(snap.inSync);
  await fib.reconcile();
  await fib.apply([via('172.20.2.0/26', '10.1.0.2')]);
  await fib.idle();
  t.is(fib.logs('error').length, 1, 'the error is logged once, not per route or per reconcile');
});

nsTest('routes of other protocols survive every operation and a full reconcile', async (t) => {
  const fl = await fibLab(t, 'fibalien');
  const { lab, n, toP } = fl;
  // Same prefix as ours at our metric, same prefix at another metric, overlapping prefixes.
  const setup = [
    ['route', 'add', '192.168.5.0/26', 'via', '10.1.0.2', 'proto', 'static'],
    ['route', 'add', '192.168.6.0/26', 'via', '10.1.0.3', 'proto', '12', 'metric', '32'],
    ['route', 'add', '192.168.0.0/24', 'via', '10.1.0.3', 'proto', 'boot'],
    ['route', 'add', '192.168.1.0/28', 'via', '10.1.0.3', 'proto', '12', 'metric', '32'],
    ['route', 'add', '192.168.1.0/25', 'dev', toP, 'proto', 'kernel', 'scope', 'link'],
    ['route', 'add', '192.168.7.0/26', 'dev', toP, 'proto', 'kernel', 'scope', 'link', 'metric', '5'],
    ['route', 'add', 'blackhole', '192.168.8.0/26', 'proto', 'boot'],
    ['-6', 'route', 'add', 'fd00:100::/122', 'via', 'fd00:1::3', 'proto', 'static'],
    ['-6', 'route', 'add', 'fd00:100::/48', 'via', 'fd00:1::3', 'proto', '12'],
  ];
  for (const args of setup) await lab.ip(n, ...args);
  const before4 = await aliens(fl);
  const before6 = await aliens(fl, 6);
  t.true(before4.length >= 7);
  const unchanged = async (when: string): Promise<void> => {
    t.deepEqual(await aliens(fl), before4, `IPv4 routes of other protocols ${when}`);
    t.deepEqual(await aliens(fl, 6), before6, `IPv6 routes of other protocols ${when}`);
  };

  const fib = await startDriver(t, fl);
  const mine = [
    via('192.168.5.0/26', '10.1.0.2'), // held by proto static: a conflict
    via('192.168.6.0/26', '10.1.0.2'),
    local('192.168.0.0/26'),
    via('192.168.1.0/26', '10.1.0.2'),
    via('192.168.7.0/26', '10.1.0.2'),
    local('192.168.8.0/26'), // held by a blackhole of proto boot
    via('fd00:100::/122', 'fd00:1::2'), // held by proto static
    via('fd00:100::40/122', 'fd00:1::2'),
  ];
  await fib.apply(mine);
  let snap = await fib.idle();
  await unchanged('after adding ours');
  t.deepEqual(snap.errors.map((e) => `${e.prefix} ${e.code}`).sort(),
    ['192.168.5.0/26 CONFLICT', '192.168.8.0/26 CONFLICT', 'fd00:100::/122 CONFLICT']);
  t.deepEqual([...(await ours(fl)).keys()].sort(), ['192.168.0.0/26', '192.168.1.0/26', '192.168.6.0/26', '192.168.7.0/26']);
  t.deepEqual([...(await ours(fl, 6)).keys()], ['fd00:100::40/122']);

  await fib.apply([via('192.168.6.0/26', '10.1.0.3'), via('192.168.5.0/26', '10.1.0.3'), via('fd00:100::/122', 'fd00:1::4')]);
  await fib.idle();
  await unchanged('after replacing ours');
  await fib.apply([withdraw('192.168.6.0/26'), withdraw('192.168.5.0/26'), withdraw('192.168.8.0/26'), withdraw('fd00:100::/122'),
    withdraw('192.168.7.0/26')]);
  await fib.idle();
  await unchanged('after withdrawing ours');
  snap = await fib.reconcile();
  await unchanged('after a full reconcile');
  t.deepEqual(snap.errors, []);
  await fib.apply(mine);
  await fib.idle();
  await fib.command({ cmd: 'converged' });
  await fib.reconcile();
  await fib.idle();
  await unchanged('after re-adding, convergence and another reconcile');

  // The conflict resolves when the other route goes: ours goes in then.
  await lab.ip(n, 'route', 'del', '192.168.5.0/26', 'proto', 'static');
  await waitFor(async () => (await ours(fl)).has('192.168.5.0/26'), { timeoutMs: 2000, what: 'ours once the static route is gone' });
  await fib.exit();
  t.true((await ours(fl)).has('192.168.0.0/26'), 'routes stay in the kernel when the agent stops');
});

nsTest('repair: a route of ours deleted or changed by someone else is back within 2 s', async (t) => {
  const fl = await fibLab(t, 'fibrepair');
  const { lab, n } = fl;
  const fib = await startDriver(t, fl);
  await fib.apply([local('192.168.0.0/26'), via('192.168.1.0/26', '10.1.0.2'), via('fd00:100::/122', 'fd00:1::2')]);
  await fib.idle();

  const back = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const started = Date.now();
    await waitFor(check, { timeoutMs: 2000, what });
    t.log(`${what}: ${Date.now() - started} ms`);
  };
  await lab.ip(n, 'route', 'del', '192.168.1.0/26');
  await back('192.168.1.0/26 restored after ip route del', async () => hops((await ours(fl)).get('192.168.1.0/26')).length === 1);
  await lab.ip(n, 'route', 'del', 'blackhole', '192.168.0.0/26', 'proto', String(PROTO));
  await back('the blackhole restored', async () => (await ours(fl)).get('192.168.0.0/26')?.type === 'blackhole');
  await lab.ip(n, 'route', 'replace', '192.168.1.0/26', 'via', '10.1.0.9', 'proto', String(PROTO));
  await back('192.168.1.0/26 next hop restored after ip route replace',
    async () => hops((await ours(fl)).get('192.168.1.0/26'))[0] === `10.1.0.2 ${fl.toP}`);
  await lab.ip(n, '-6', 'route', 'del', 'fd00:100::/122');
  await back('fd00:100::/122 restored', async () => (await ours(fl, 6)).has('fd00:100::/122'));

  // A link that goes down takes its routes with it, silently; when it is back, so are they.
  await lab.sysctl(n, `net.ipv6.conf.${fl.toP}.keep_addr_on_down`, 1);
  await lab.ip(n, 'link', 'set', fl.toP, 'down');
  await waitFor(async () => !(await ours(fl)).has('192.168.1.0/26'), { timeoutMs: 2000, what: 'the kernel to drop the route' });
  await lab.ip(n, 'link', 'set', fl.toP, 'up');
  await back('routes via a link that came back', async () => (await ours(fl)).has('192.168.1.0/26') && (await ours(fl, 6)).has('fd00:100::/122'));
  const snap = await fib.idle();
  t.true(snap.inSync);
});

nsTest('a table above 255 (RTA_TABLE), empty at start, dumped and reconciled', async (t) => {
  const fl = await fibLab(t, 'fibtable');
  const fib = await startDriver(t, fl, { table: 1000 });
  await fib.apply([local('192.168.0.0/26'), via('192.168.1.0/26', '10.1.0.2'), via('fd00:100::/122', 'fd00:1::2')]);
  let snap = await fib.idle();
  t.true(snap.inSync);
  const v4 = await kernelRoutes(fl.lab, fl.n, { table: 1000, proto: PROTO });
  t.deepEqual(v4.map((r) => r.dst).sort(), ['192.168.0.0/26', '192.168.1.0/26']);
  t.deepEqual((await kernelRoutes(fl.lab, fl.n, { family: 6, table: 1000, proto: PROTO })).map((r) => r.dst), ['fd00:100::/122']);
  t.deepEqual([...(await ours(fl)).keys()], [], 'nothing in table main');
  snap = await fib.reconcile();
  t.deepEqual(snap.ops, { add: 3, replace: 0, delete: 0 });
  t.is(snap.routes, 3);
});
