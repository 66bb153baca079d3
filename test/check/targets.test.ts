/** Which next hops are probed and at what size (agent/check/targets.ts), as a table. */
import test from 'ava';

import { probeTargets, type RouteInput, type TargetInputs } from '../../agent/check/targets.js';

const MTUS: Record<string, number> = { eth0: 1500, eth1: 9000, tunl0: 1480 };
const inputs = (routes: RouteInput[], peers: string[] = []): TargetInputs => ({
  routes, peers, tunnelDevice: 'tunl0',
  mtuOf: (name) => MTUS[name] ?? null,
  deviceFor: (address) => (address.startsWith('10.0.1.') || address.startsWith('fd00:1::') ? 'eth0' : address.startsWith('10.0.9.') ? 'eth1' : null),
});
const route = (prefix: string, hops: RouteInput['nextHops'], over: Partial<RouteInput> = {}): RouteInput => ({ prefix, kind: 'unicast', installed: true, nextHops: hops, ...over });

test('one target per distinct next hop and peer, sorted, IPv4 first, numerically', (t) => {
  const targets = probeTargets(inputs([
    route('192.168.0.64/26', [{ via: '10.0.1.14' }, { via: '10.0.1.9' }]),
    route('192.168.0.128/26', [{ via: '10.0.1.14' }]),
    route('fd00:10::40/122', [{ via: 'fd00:1::14' }]),
  ], ['10.0.1.1', '10.0.1.14']));
  t.deepEqual(targets.map((x) => [x.address, x.family, x.device, x.packetBytes, x.sizeFrom, x.why, x.routes]), [
    ['10.0.1.1', 4, 'eth0', 1500, 'device', ['peer'], 0],
    ['10.0.1.9', 4, 'eth0', 1500, 'device', ['192.168.0.64/26'], 1],
    ['10.0.1.14', 4, 'eth0', 1500, 'device', ['peer', '192.168.0.64/26', '192.168.0.128/26'], 2],
    ['fd00:1::14', 6, 'eth0', 1500, 'device', ['fd00:10::40/122'], 1],
  ]);
});

test('blackholes and routes not installed are not probed', (t) => {
  t.deepEqual(probeTargets(inputs([
    route('192.168.0.0/26', [], { kind: 'blackhole' }),
    route('192.168.0.64/26', [{ via: '10.0.1.14' }], { installed: false }),
  ])), []);
});

test('IPIP next hop: the tunnel MTU plus the 20-byte outer header; the device named is the tunnel', (t) => {
  const [x] = probeTargets(inputs([route('192.168.0.64/26', [{ via: '10.0.2.21', dev: 'tunl0', onlink: true }])]));
  t.like(x, { address: '10.0.2.21', ipip: true, device: 'tunl0', packetBytes: 1500, sizeFrom: 'tunnel' });
});

test('the route\'s device wins over the connected subnet; unknown device: 1500 assumed', (t) => {
  const targets = probeTargets(inputs([route('192.168.0.64/26', [{ via: '10.0.1.14', dev: 'eth1' }])], ['10.9.9.9']));
  t.like(targets[0], { address: '10.0.1.14', device: 'eth1', packetBytes: 9000, sizeFrom: 'device' });
  t.like(targets[1], { address: '10.9.9.9', device: '', packetBytes: 1500, sizeFrom: 'assumed' });
});

test('an IPv6 link-local next hop is probed on its device (%zone)', (t) => {
  const [x] = probeTargets(inputs([route('fd00:10::40/122', [{ via: 'fe80::1', dev: 'eth1' }])]));
  t.like(x, { address: 'fe80::1%eth1', family: 6, device: 'eth1', packetBytes: 9000 });
});
