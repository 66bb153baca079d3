/**
 * The BIRD 2 and FRR harnesses (test/helpers/bird.ts, frr.ts) proven against each other, without
 * any of our code: BIRD as iBGP route reflector with FRR its client (MD5, IPv4 + IPv6, attributes
 * both ways), then an eBGP 4-octet pair with GTSM and a passive side; stop/restart, SIGSTOP/SIGCONT
 * with a 3 s hold time, reconfiguration to a wrong AS (the NOTIFICATION shows as BIRD's last error)
 * and back. Plus the generated configs and parsers on fixed input, which need no root.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { Bird, birdConfig, parseBirdProtocol, parseBirdRoutes } from '../helpers/bird.js';
import { type DaemonOptions, DaemonError, waitEstablished, waitRoutes } from '../helpers/bgp-daemon.js';
import { Frr, frrCommands, frrReconfigureCommands, parseJsonDocuments } from '../helpers/frr.js';
import { useLab } from '../helpers/lab-fixture.js';
import { holdsFor, isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';

const nsTest = isRoot ? test.serial : test.skip;
const note = isRoot ? '' : ` (skipped: ${rootSkipReason})`;

const B = { ipv4: '10.77.0.1', ipv6: 'fd00:77::1' };
const F = { ipv4: '10.77.0.2', ipv6: 'fd00:77::2' };

function birdRr(password: string): DaemonOptions {
  return {
    routerId: '10.77.255.1', localAs: 64512, clusterId: '10.77.255.99',
    neighbors: [{ address: F.ipv4, as: 64512, rrClient: true, password, holdTime: 3, connectRetry: 1 }],
    routes: {
      ipv4: [{ prefix: '192.168.70.0/26', med: 7, localPref: 150, communities: ['64512:70'] }, '192.168.70.64/26'],
      ipv6: ['fd00:70::/64'],
    },
  };
}

function frrClient(password: string, birdAs = 64512): DaemonOptions {
  return {
    routerId: '10.77.255.2', localAs: 64512,
    neighbors: [{ address: B.ipv4, as: birdAs, password, holdTime: 3, connectRetry: 1 }],
    routes: { ipv4: [{ prefix: '192.168.71.0/26', communities: ['64512:71', '64512:72'], med: 9 }], ipv6: ['fd00:71::/64'] },
  };
}

test('birdConfig: iBGP neighbours are direct, RR clients carry the cluster id, attributes go on static routes', (t) => {
  const conf = birdConfig(birdRr('k'), '/tmp/x');
  t.regex(conf, /protocol bgp n_10_77_0_2 \{[^}]*direct;[^}]*rr client;\n {2}rr cluster id 10\.77\.255\.99;/s);
  t.regex(conf, /route 192\.168\.70\.0\/26 blackhole \{ bgp_med = 7; bgp_local_pref = 150; bgp_community\.add\(\(64512,70\)\); \};/);
  t.regex(conf, /hold time 3;\n {2}keepalive time 1;/);
  t.regex(conf, /error wait time 1, 2;/);
  t.throws(() => birdConfig({ ...birdRr('k'), neighbors: [{ address: F.ipv4, as: 1, ttlSecurity: 2 }] }, '/tmp/x'),
    { instanceOf: DaemonError, message: /multihop 2/ });
  t.throws(() => birdConfig({ ...birdRr('k'), routes: { ipv4: [{ prefix: '10.0.0.0/8', communities: ['70000:1'] }] } }, '/tmp/x'),
    { instanceOf: DaemonError, message: /16 bits/ });
});

test('frrCommands and frrReconfigureCommands: only changed neighbours are removed', (t) => {
  const before = frrClient('k');
  const cmds = frrCommands(before);
  t.true(cmds.includes(` neighbor ${B.ipv4} password k`));
  t.true(cmds.includes(`  network 192.168.71.0/26 route-map RA-ipv4-0`));
  t.true(cmds.includes(' set community 64512:71 64512:72'));
  const after = frrClient('k', 65000);
  const diff = frrReconfigureCommands(before, after);
  t.true(diff.includes(` no neighbor ${B.ipv4}`));
  t.true(diff.includes(` neighbor ${B.ipv4} remote-as 65000`));
  t.false(frrReconfigureCommands(before, before).some((l) => l.includes('no neighbor')));
  const fewer = frrReconfigureCommands(before, { ...before, routes: { ipv6: ['fd00:71::/64'] } });
  t.true(fewer.includes('  no network 192.168.71.0/26'));
  t.deepEqual(frrReconfigureCommands(before, { ...before, localAs: 65001 }).slice(0, 2), ['no router bgp 64512', 'route-map RA-ipv4-0 permit 10']);
});

test('frrCommands: graceful restart in restarting mode, preserve-fw-state (F bit) only when asked, both undone by reconfigure', (t) => {
  const plain = frrClient('k');
  t.false(frrCommands(plain).some((l) => l.includes('graceful-restart')));
  const gr = { ...plain, neighbors: plain.neighbors.map((n) => ({ ...n, gracefulRestart: true })) };
  t.true(frrCommands(gr).includes(' bgp graceful-restart'));
  t.false(frrCommands(gr).some((l) => l.includes('preserve-fw-state')));
  const kept = { ...gr, preserveForwarding: true };
  t.true(frrCommands(kept).includes(' bgp graceful-restart preserve-fw-state'));
  t.true(frrReconfigureCommands(kept, gr).includes(' no bgp graceful-restart preserve-fw-state'));
  t.true(frrReconfigureCommands(gr, plain).includes(' no bgp graceful-restart'));
  t.false(frrReconfigureCommands(kept, kept).some((l) => l.startsWith(' no bgp graceful-restart')));
});

test('parsers: birdc protocol and route output, vtysh back-to-back JSON', (t) => {
  const proto = parseBirdProtocol('10.0.0.2', [
    'Name       Proto      Table      State  Since         Info',
    'frr        BGP        ---        start  15:35:10.003  Idle          Received: Bad peer AS',
    '  BGP state:          Idle',
    '    Neighbor address: 10.0.0.2',
    '    Neighbor AS:      64512',
  ].join('\n'));
  t.like(proto, { state: 'Idle', established: false, lastError: 'Received: Bad peer AS', peerAs: 64512 });
  t.is(parseBirdProtocol('10.0.0.9', 'syntax error').state, 'Absent');
  const routes = parseBirdRoutes([
    'Table master6:',
    'fd00:2::/64          unicast [frr 15:35:00.276 from 10.9.0.2] * (100) [i]',
    '\tvia fd00:9::2 on va',
    '\tBGP.as_path: 65100 {65101 65102}',
    '\tBGP.next_hop: fd00:9::2 fe80::1',
    '\tBGP.community: (65000,1) (65000,2)',
    '\tBGP.cluster_list: 10.0.0.98 10.0.0.97',
    '                     unicast [other 15:35:00.276] (100) [i]',
    '\tBGP.local_pref: 50',
  ].join('\n'), new Map([['frr', '10.9.0.2']]));
  t.is(routes.length, 2);
  t.like(routes[0], { prefix: 'fd00:2::/64', from: '10.9.0.2', best: true, asPath: [65100, 65101, 65102],
    nextHops: ['fd00:9::2', 'fe80::1'], communities: ['65000:1', '65000:2'], clusterList: ['10.0.0.98', '10.0.0.97'] });
  t.like(routes[1], { prefix: 'fd00:2::/64', from: '', best: false, localPref: 50 });
  t.deepEqual(parseJsonDocuments('{"a":"}{"}\n{"b":{"c":[1]}}\n'), [{ a: '}{' }, { b: { c: [1] } }]);
});

nsTest(`BIRD route reflector and FRR client: MD5, both families, attributes, freeze, restart, wrong AS${note}`, async (t) => {
  const lab = await useLab(t, 'harness');
  const nsB = await lab.namespace('bird');
  const nsF = await lab.namespace('frr');
  await lab.veth(nsB, B, nsF, F);
  const bird = await Bird.start(lab, nsB, birdRr('s3cret'));
  const frr = await Frr.start(lab, nsF, frrClient('s3cret'));
  const seen = await waitEstablished(bird, F.ipv4);
  t.is(seen.holdTime, 3);
  t.is((await waitEstablished(frr, B.ipv4)).holdTime, 3);

  // BIRD's routes at FRR, with the attributes set on them.
  const atFrr = await waitRoutes(frr, 'ipv4', B.ipv4, (r) => r.length === 2 && r.every((x) => x.best));
  t.like(atFrr.find((r) => r.prefix === '192.168.70.0/26'), {
    med: 7, localPref: 150, communities: ['64512:70'], nextHops: [B.ipv4], asPath: [], best: true,
  });
  const v6AtFrr = await waitRoutes(frr, 'ipv6', B.ipv4, (r) => r.length === 1);
  t.is(v6AtFrr[0].prefix, 'fd00:70::/64');
  t.is(v6AtFrr[0].nextHops[0], B.ipv6);
  // FRR's routes at BIRD (zebra gives FRR its IPv6 interface address as next hop).
  const atBird = await waitRoutes(bird, 'ipv4', F.ipv4, (r) => r.length === 1);
  t.like(atBird[0], { prefix: '192.168.71.0/26', med: 9, communities: ['64512:71', '64512:72'], nextHops: [F.ipv4] });
  const v6AtBird = await waitRoutes(bird, 'ipv6', F.ipv4, (r) => r.length === 1);
  t.like(v6AtBird[0], { prefix: 'fd00:71::/64' });
  t.is(v6AtBird[0].nextHops[0], F.ipv6);
  t.like((await bird.neighbor(F.ipv4)).accepted, { ipv4: 1, ipv6: 1 });
  t.like((await frr.neighbor(B.ipv4)).accepted, { ipv4: 2, ipv6: 1 });

  // Frozen FRR: BIRD's 3 s hold timer expires; after SIGCONT the session comes back.
  frr.pause();
  // FRR offers graceful restart, so BIRD keeps its routes as stale and shows no last error.
  await waitFor(async () => !(await bird!.neighbor(F.ipv4)).established, { timeoutMs: 8000, what: 'BIRD to drop the frozen FRR' });
  frr.resume();
  await waitEstablished(bird, F.ipv4, 20_000);

  // BIRD restart: FRR reconnects.
  await bird.restart();
  await waitEstablished(frr, B.ipv4, 20_000);

  // FRR reconfigured with a wrong AS for BIRD: BIRD receives Bad Peer AS; back again, up again.
  await frr.reconfigure(frrClient('s3cret', 65000));
  t.is((await frr.neighbor(B.ipv4)).peerAs, 65000);
  await waitFor(async () => (await bird!.neighbor(F.ipv4)).lastError === 'Received: Bad peer AS',
    { timeoutMs: 15_000, what: 'BIRD to receive Bad Peer AS' });
  await frr.reconfigure(frrClient('s3cret'));
  await waitEstablished(bird, F.ipv4, 20_000);

  // BIRD reconfigured with a different key: never up while the keys differ.
  await bird.reconfigure(birdRr('other'));
  await waitFor(async () => !(await frr!.neighbor(B.ipv4)).established, { timeoutMs: 10_000, what: 'session to drop' });
  await holdsFor(async () => !(await bird!.neighbor(F.ipv4)).established, { forMs: 3000, intervalMs: 200, what: 'no session with a wrong MD5 key' });
});

nsTest(`eBGP 4-octet BIRD passive, FRR active, GTSM both sides${note}`, async (t) => {
  const lab = await useLab(t, 'harnessb');
  const nsB = await lab.namespace('bird');
  const nsF = await lab.namespace('frr');
  await lab.veth(nsB, B, nsF, F);
  const bird = await Bird.start(lab, nsB, {
    routerId: '10.77.255.1', localAs: 4200000100, routes: { ipv4: ['192.168.72.0/26'], ipv6: ['fd00:72::/64'] },
    neighbors: [{ address: F.ipv4, as: 4200000101, passive: true, ttlSecurity: 1 }],
  });
  const frr = await Frr.start(lab, nsF, {
    routerId: '10.77.255.2', localAs: 4200000101, routes: { ipv4: ['192.168.73.0/26'] },
    neighbors: [{ address: B.ipv4, as: 4200000100, ttlSecurity: 1 }],
  });
  await waitEstablished(frr, B.ipv4);
  const atFrr = await waitRoutes(frr, 'ipv4', B.ipv4, (r) => r.length === 1);
  t.deepEqual(atFrr[0].asPath, [4200000100]);
  const atBird = await waitRoutes(bird, 'ipv4', F.ipv4, (r) => r.length === 1);
  t.deepEqual(atBird[0].asPath, [4200000101]);
  t.like(await waitRoutes(frr, 'ipv6', B.ipv4, (r) => r.length === 1), [{ prefix: 'fd00:72::/64', asPath: [4200000100] }]);
  // GTSM on FRR's side only: BIRD sends TTL 1... only with GTSM off, so the session must fail.
  await bird.reconfigure({ ...bird.options, neighbors: [{ address: F.ipv4, as: 4200000101, passive: true }] });
  await waitFor(async () => !(await frr!.neighbor(B.ipv4)).established, { timeoutMs: 10_000, what: 'session to drop' });
  await holdsFor(async () => !(await frr!.neighbor(B.ipv4)).established, { forMs: 4000, intervalMs: 200, what: 'GTSM refusing TTL 1' });
});

nsTest(`eBGP multihop between loopbacks, best routes installed in both kernels${note}`, async (t) => {
  const lab = await useLab(t, 'harnessc');
  const nsB = await lab.namespace('bird');
  const nsF = await lab.namespace('frr');
  await lab.veth(nsB, B, nsF, F);
  const loB = '10.78.255.1';
  const loF = '10.78.255.2';
  await lab.ip(nsB, 'addr', 'add', `${loB}/32`, 'dev', 'lo');
  await lab.ip(nsF, 'addr', 'add', `${loF}/32`, 'dev', 'lo');
  await lab.ip(nsB, 'route', 'add', `${loF}/32`, 'via', F.ipv4);
  await lab.ip(nsF, 'route', 'add', `${loB}/32`, 'via', B.ipv4);
  const bird = await Bird.start(lab, nsB, {
    routerId: loB, localAs: 65200, installRoutes: true, routes: { ipv4: ['192.168.74.0/26'] },
    neighbors: [{ address: loF, as: 65201, localAddress: loB, multihop: 2, families: ['ipv4'] }],
  });
  const frr = await Frr.start(lab, nsF, {
    routerId: loF, localAs: 65201, installRoutes: true, routes: { ipv4: ['192.168.75.0/26'] },
    neighbors: [{ address: loB, as: 65200, localAddress: loF, multihop: 2, families: ['ipv4'] }],
  });
  await waitEstablished(bird, loF);
  const atBird = await waitRoutes(bird, 'ipv4', loF, (r) => r.length === 1 && r[0].best);
  t.like(atBird[0], { prefix: '192.168.75.0/26', nextHops: [loF], asPath: [65201] });
  const atFrr = await waitRoutes(frr, 'ipv4', loB, (r) => r.length === 1 && r[0].best);
  t.like(atFrr[0], { prefix: '192.168.74.0/26', nextHops: [loB], asPath: [65200] });
  const kernelRoute = async (ns: string, prefix: string): Promise<string> =>
    (await lab.ip(ns, 'route', 'show', prefix)).stdout.trim();
  t.regex(await waitFor(async () => kernelRoute(nsB, '192.168.75.0/26'), { timeoutMs: 10_000, what: 'BIRD kernel route' }),
    /via 10\.77\.0\.2 .*proto bird/);
  t.regex(await waitFor(async () => kernelRoute(nsF, '192.168.74.0/26'), { timeoutMs: 10_000, what: 'FRR kernel route' }),
    /via 10\.77\.0\.1 .*proto bgp/);
});

nsTest(`a configuration the daemon refuses is a DAEMON_CONFIG error, and nothing is left behind${note}`, async (t) => {
  const lab = await useLab(t, 'harnessd');
  const ns = await lab.namespace('tor');
  const bad = { routerId: '10.77.255.1', localAs: 65000, neighbors: [{ address: '10.77.0.2', as: 65001 }],
    routes: { ipv4: ['10.0.0.0/33'] } };
  for (const start of [Bird.start, Frr.start]) {
    const err = await t.throwsAsync(start(lab, ns, bad), { instanceOf: DaemonError });
    t.is(err?.code, 'DAEMON_CONFIG');
    t.regex(err?.message ?? '', /10\.0\.0\.0\/33/);
    // The message quotes the generated config, whose log line names the temp dir: it is gone.
    const dir = /(\/\S+\/rack-(?:bird|frr)-\w+)\//.exec(err?.message ?? '')?.[1];
    t.truthy(dir);
    t.false(existsSync(dir ?? ''), `${dir} removed`);
  }
});
