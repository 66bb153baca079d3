/**
 * IPv4 routes via IPv6 next hops (RFC 8950 section 3, RTA_VIA) through the Fib into the real
 * kernel, in network namespaces: a node `n` dual-homed to two ToRs `t1` and `t2` (veths; the one to
 * t1 also carries 10.1.0.0/24 and fd00:1::/64, the one to t2 only link-local addresses). Each
 * route shape lands as `ip route` shows `via inet6` routes; a full dump-and-compare finds nothing to
 * do; an ECMP set losing a member is replaced in place (an `ip monitor route` sees no deletion); and
 * an agent that restarts (SIGKILL, then restart mode) takes the routes it finds as its own, touching
 * none of them; a global next hop that no connected IPv6 route puts on a link is refused by the
 * kernel (EHOSTUNREACH) and installed once an address does.
 * Not here: the codec's bytes (route-via.test.ts), desiredRoute's table (fib-pure.test.ts).
 */
import test, { type ExecutionContext } from 'ava';
import type { DriverChange, DriverOptions, DriverPath } from '../helpers/fib-driver.js';
import { FibClient, kernelRoutes, type IpRoute } from '../helpers/fib-client.js';
import { RouteWatcher } from '../helpers/kernel-watch.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, type Lab, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.skip;
if (!isRoot) {
  test('fib RTA_VIA integration tests', (t) => {
    t.log(`skipped: ${rootSkipReason}`);
    t.pass();
  });
}

const PROTO = 201;

interface ViaLab {
  lab: Lab;
  n: string;
  /** n's ends of the uplinks to t1 and t2. */
  up1: string;
  up2: string;
  /** The ToRs' link-local addresses on those links. */
  ll1: string;
  ll2: string;
}

async function viaLab(t: ExecutionContext, name: string): Promise<ViaLab> {
  const lab = await useLab(t, name);
  const n = await lab.namespace('n');
  const t1 = await lab.namespace('t1');
  const t2 = await lab.namespace('t2');
  const l1 = await lab.veth(n, { ipv4: '10.1.0.1/24', ipv6: 'fd00:1::1/64' }, t1, { ipv4: '10.1.0.2/24', ipv6: 'fd00:1::2/64' });
  const l2 = await lab.veth(n, {}, t2, {});
  const linkLocal = async (ns: string, dev: string): Promise<string | undefined> => {
    const { stdout } = await lab.ip(ns, '-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link');
    const info = JSON.parse(stdout) as Array<{ addr_info: Array<{ local?: string }> }>;
    return info[0]?.addr_info.find((a) => a.local !== undefined)?.local;
  };
  // The kernel adds link-local addresses shortly after a link comes up.
  const ll1 = await waitFor(() => linkLocal(t1, l1.b), { timeoutMs: 5000, what: `a link-local address on ${l1.b}` });
  const ll2 = await waitFor(() => linkLocal(t2, l2.b), { timeoutMs: 5000, what: `a link-local address on ${l2.b}` });
  return { lab, n, up1: l1.a, up2: l2.a, ll1, ll2 };
}

async function startFib(t: ExecutionContext, vl: ViaLab, mode: 'fresh' | 'restart' = 'fresh'): Promise<FibClient> {
  const options: DriverOptions = {
    protocol: PROTO, table: 254, tunnelDevice: 'tunl0', nodeIpv4Address: '10.1.0.1/24', pools: [],
    reconcileIntervalMs: 60_000, mode,
  };
  const client = await FibClient.start(vl.lab, vl.n, options);
  t.teardown(() => client.kill());
  return client;
}

/** A path from an unnumbered peer: its link-local address with the interface as zone. */
const unnumbered = (ll: string, dev: string): DriverPath => ({ peer: `${dev} (${ll})`, nextHop: ll, peerAddress: `${ll}%${dev}` });

function shapes(vl: ViaLab): DriverChange[] {
  return [
    { prefix: '192.168.0.64/26', best: [unnumbered(vl.ll2, vl.up2), unnumbered(vl.ll1, vl.up1)] }, // dual-homed ECMP
    { prefix: '192.168.0.128/26', best: [unnumbered(vl.ll1, vl.up1)] },
    { prefix: '10.60.0.0/24', best: [{ peer: 'fd00:1::2', nextHop: 'fd00:1::2' }] }, // global: the kernel finds the device
    { prefix: '10.61.0.0/24', best: [{ peer: '10.1.0.2', nextHop: '10.1.0.2' }, unnumbered(vl.ll2, vl.up2)] }, // mixed
  ];
}

/** `gateway dev` of each next hop (RTA_GATEWAY or RTA_VIA), sorted; single path or multipath. */
function hops(r: IpRoute | undefined): string[] {
  type Hop = { gateway?: string; via?: { family: string; host: string }; dev?: string };
  const route = r as (IpRoute & Hop & { nexthops?: Hop[] }) | undefined;
  if (route === undefined) return [];
  const list: Hop[] = route.nexthops ?? [route];
  return list.map((h) => `${h.via === undefined ? h.gateway : `inet6 ${h.via.host}`} ${h.dev}`).sort();
}

async function ours(vl: ViaLab): Promise<Map<string, IpRoute>> {
  return new Map((await kernelRoutes(vl.lab, vl.n, { family: 4, proto: PROTO })).map((r) => [r.dst, r]));
}

async function expectShapes(t: ExecutionContext, vl: ViaLab): Promise<void> {
  const routes = await ours(vl);
  t.deepEqual(hops(routes.get('192.168.0.64/26')), [`inet6 ${vl.ll1} ${vl.up1}`, `inet6 ${vl.ll2} ${vl.up2}`].sort());
  t.deepEqual(hops(routes.get('192.168.0.128/26')), [`inet6 ${vl.ll1} ${vl.up1}`]);
  t.deepEqual(hops(routes.get('10.60.0.0/24')), [`inet6 fd00:1::2 ${vl.up1}`]);
  t.deepEqual(hops(routes.get('10.61.0.0/24')), [`10.1.0.2 ${vl.up1}`, `inet6 ${vl.ll2} ${vl.up2}`].sort());
  t.is(routes.size, 4);
}

nsTest('RTA_VIA: each shape installed, no churn on reconcile, an ECMP set shrunk in place', async (t) => {
  const vl = await viaLab(t, 'fibvia');
  const fib = await startFib(t, vl);
  await fib.apply(shapes(vl));
  let snap = await fib.idle();
  t.deepEqual(snap.errors, []);
  t.true(snap.inSync);
  t.deepEqual(snap.ops, { add: 4, replace: 0, delete: 0 });
  await expectShapes(t, vl);

  snap = await fib.reconcile();
  snap = await fib.idle();
  t.true(snap.inSync, JSON.stringify(snap));
  t.deepEqual(snap.ops, { add: 4, replace: 0, delete: 0 }, 'what we installed reads back as what we wanted');

  // An uplink's paths go: each set shrinks to what is left, replaced in place.
  const watcher = new RouteWatcher(vl.lab, vl.n);
  t.teardown(() => watcher.stop());
  await watcher.sync();
  await fib.apply([
    { prefix: '192.168.0.64/26', best: [unnumbered(vl.ll1, vl.up1)] },
    { prefix: '10.61.0.0/24', best: [{ peer: '10.1.0.2', nextHop: '10.1.0.2' }] },
  ]);
  snap = await fib.idle();
  await watcher.sync();
  t.deepEqual(watcher.deletions(), [], 'replaced, never deleted');
  t.true(snap.inSync);
  t.deepEqual(snap.ops, { add: 4, replace: 2, delete: 0 });
  const routes = await ours(vl);
  t.deepEqual(hops(routes.get('192.168.0.64/26')), [`inet6 ${vl.ll1} ${vl.up1}`]);
  t.deepEqual(hops(routes.get('10.61.0.0/24')), [`10.1.0.2 ${vl.up1}`]);
  t.deepEqual(fib.logs('warn'), []);
  t.deepEqual(fib.logs('error'), []);
});

nsTest('RTA_VIA: a restarted agent finds its routes and keeps them untouched', async (t) => {
  const vl = await viaLab(t, 'fibviarestart');
  const first = await startFib(t, vl);
  await first.apply(shapes(vl));
  t.deepEqual((await first.idle()).ops, { add: 4, replace: 0, delete: 0 });
  await first.kill('SIGKILL');
  await expectShapes(t, vl);

  const watcher = new RouteWatcher(vl.lab, vl.n);
  t.teardown(() => watcher.stop());
  await watcher.sync();
  const second = await startFib(t, vl, 'restart');
  await second.apply(shapes(vl));
  let snap = await second.idle();
  t.deepEqual(snap.ops, { add: 0, replace: 0, delete: 0 }, 'found routes equal the desired ones');
  await second.command({ cmd: 'converged' });
  snap = await second.idle();
  t.true(snap.inSync, JSON.stringify(snap));
  t.deepEqual(snap.ops, { add: 0, replace: 0, delete: 0 }, 'nothing deleted once converged: they are ours');
  await expectShapes(t, vl);
  await watcher.sync();
  t.deepEqual(watcher.deletions(), []);
});

nsTest('RTA_VIA: a global IPv6 next hop off-link is refused (EHOSTUNREACH) until an address puts it on a link', async (t) => {
  const vl = await viaLab(t, 'fibviaoff');
  const fib = await startFib(t, vl);
  await fib.apply([{ prefix: '10.62.0.0/24', best: [{ peer: 'fd00:9::2', nextHop: 'fd00:9::2' }] }]);
  const snap = await fib.idle();
  t.deepEqual(snap.errors.map((e) => `${e.prefix} ${e.code}`), ['10.62.0.0/24 EHOSTUNREACH']);
  t.false((await ours(vl)).has('10.62.0.0/24'));

  // A connected fd00:9::/64 on the second uplink: the kernel now resolves the next hop there.
  await vl.lab.ip(vl.n, 'addr', 'add', 'fd00:9::1/64', 'dev', vl.up2, 'nodad');
  await waitFor(async () => (await fib.snapshot()).errors.length === 0 && (await ours(vl)).has('10.62.0.0/24'),
    { timeoutMs: 10_000, what: 'the refused route installed once its next hop is on-link' });
  t.deepEqual(hops((await ours(vl)).get('10.62.0.0/24')), [`inet6 fd00:9::2 ${vl.up2}`]);
  t.true((await fib.idle()).inSync);
});
