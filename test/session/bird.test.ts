/**
 * A smoke test against a real BIRD 2 as the ToR: eBGP in the AS-per-rack model (ToR 65100, node
 * 65101), IPv4 and IPv6 unicast over one IPv4 session, routes both ways, GTSM on both ends, and an
 * administrative stop whose RFC 9003 text BIRD shows. The full interop matrix (BIRD and FRR, iBGP
 * with route reflection, 4-octet ASes, MD5, restarts) lives with the interop tests.
 */

import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDriver } from '../helpers/driver-client.js';
import { useLab } from '../helpers/lab-fixture.js';
import { isRoot, rootSkipReason, waitFor } from '../helpers/netns.js';
import { driverSpec, peerSpec } from './specs.js';

const haveBird = existsSync('/usr/sbin/bird');
const run = isRoot && haveBird ? test : test.skip;
if (!isRoot || !haveBird) test('BIRD smoke test', (t) => t.log(`skipped: ${!isRoot ? rootSkipReason : 'BIRD 2 is not installed'}`));

run('BIRD 2 eBGP with GTSM: Established, IPv4 and IPv6 routes both ways, Cease text shown by BIRD', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rack-bird-'));
  const lab = await useLab(t, 'bird');
  lab.defer(() => rmSync(dir, { recursive: true, force: true }));
  const tor = await lab.namespace('tor');
  const node = await lab.namespace('node');
  await lab.veth(tor, { ipv4: '10.0.0.1/24', ipv6: 'fd00::1/64' }, node, { ipv4: '10.0.0.2/24', ipv6: 'fd00::2/64' });
  writeFileSync(join(dir, 'tor.conf'), [
    'router id 10.0.0.1;',
    'protocol device {}',
    'protocol static s4 { ipv4; route 172.16.0.0/24 blackhole; }',
    'protocol static s6 { ipv6; route fd99::/48 blackhole; }',
    'protocol bgp node { local 10.0.0.1 as 65100; neighbor 10.0.0.2 as 65101; ttl security on;',
    '  ipv4 { import all; export where proto = "s4"; };',
    '  ipv6 { import all; export where proto = "s6"; next hop address fd00::1; }; }',
    '',
  ].join('\n'));
  const sock = join(dir, 'tor.ctl');
  lab.spawn(tor, 'bird', ['-f', '-c', join(dir, 'tor.conf'), '-s', sock, '-P', join(dir, 'tor.pid')]);
  const birdc = async (...args: string[]): Promise<string> => (await lab.exec(tor, 'birdc', ['-s', sock, ...args])).stdout;

  const agent = await startDriver(lab, node, driverSpec([
    peerSpec({ address: '10.0.0.1', localAs: 65101, peerAs: 65100, routerId: '10.0.0.2', ttlSecurity: 1 }),
  ], { announce: { ipv4: ['192.168.7.0/26'], ipv6: ['fd10:7::/64'] }, nextHop: { ipv4: '10.0.0.2', ipv6: 'fd00::2' } }));
  const established = await agent.waitFor((e) => e.ev === 'established', 'Established with BIRD', 20_000);
  t.deepEqual(established.families, ['ipv4', 'ipv6']);
  await agent.waitFor((e) => e.ev === 'update' && (e.announced as string[] | undefined)?.includes('172.16.0.0/24') === true, 'BIRD\'s IPv4 route');
  await agent.waitFor((e) => e.ev === 'update' && (e.announced as string[] | undefined)?.includes('fd99::/48') === true, 'BIRD\'s IPv6 route');
  await waitFor(async () => (await birdc('show', 'route', '192.168.7.0/26')).includes('192.168.7.0/26'), { timeoutMs: 10_000, what: 'BIRD to have our IPv4 route' });
  await waitFor(async () => (await birdc('show', 'route', 'fd10:7::/64')).includes('fd10:7::/64'), { timeoutMs: 10_000, what: 'BIRD to have our IPv6 route' });
  const route = await birdc('show', 'route', 'all', '192.168.7.0/26');
  t.regex(route, /BGP.as_path: 65101/);
  t.regex(route, /BGP.next_hop: 10\.0\.0\.2/);

  agent.stop('10.0.0.1', 'rack r1 maintenance');
  await waitFor(async () => /rack r1 maintenance/.test(await birdc('show', 'protocols', 'all', 'node')), { timeoutMs: 10_000, what: 'BIRD to show the shutdown communication' });
  t.log((await birdc('show', 'protocols', 'all', 'node')).split('\n').find((l) => l.includes('maintenance'))?.trim());
});
