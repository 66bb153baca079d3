/**
 * Peer sets from real config files (loaded and validated by loadConfig): explicit peers, the
 * node-to-node mesh, peerSelector, precedence, TTL, families, route-reflector clients, and the
 * shipped examples.
 */

import test from 'ava';
import { NO_POLICY } from '../../agent/rib/policy-rules.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../config/index.js';
import { peerKey, peerSet, selectorProblems } from '../../agent/peers/peer-set.js';
import { ribSettings } from '../../agent/rib/settings.js';
import { makeTempDir, writeConfig } from '../config/helpers.js';
import type { PeerSpec } from '../../agent/contracts/engines.js';

const tmp = makeTempDir();
test.after.always(() => tmp.remove());
let n = 0;

function load(doc: Record<string, unknown>): Config {
  return loadConfig(writeConfig(tmp.dir, `c${n++}.yaml`, doc));
}

const nodes = [
  { name: 'n01', ipv4Address: '10.0.2.11/24', labels: { rack: 'r1', role: 'worker' } },
  { name: 'n02', ipv4Address: '10.0.2.12/24', labels: { rack: 'r1', role: 'worker' } },
  { name: 'n03', ipv4Address: '10.0.3.13/24', asNumber: 65003, labels: { rack: 'r2', role: 'worker' } },
  { name: 'rr1', ipv4Address: '10.0.2.5/24', labels: { role: 'rr' }, routeReflectorClusterID: '224.0.0.1' },
];

const base = (over: Record<string, unknown> = {}, bgp: Record<string, unknown> = {}): Record<string, unknown> => ({
  node: { name: 'n02', ipv4Address: '10.0.2.12/24' },
  bgp: { asNumber: 64512, nodes, ...bgp },
  pools: [{ cidr: '192.168.0.0/16' }],
  blocks: [],
  ...over,
});

const byKey = (peers: PeerSpec[]): Record<string, PeerSpec> => Object.fromEntries(peers.map((p) => [p.key, p]));

test('mesh: everyone but itself and the route reflector; the higher address is passive', (t) => {
  const peers = byKey(peerSet(load(base({}, { nodeToNodeMesh: true }))));
  t.deepEqual(Object.keys(peers).sort(), ['10.0.2.11', '10.0.3.13']);
  t.is(peers['10.0.2.11'].passive, true, '10.0.2.12 > 10.0.2.11: we wait');
  t.is(peers['10.0.3.13'].passive, false);
  t.is(peers['10.0.2.11'].type, 'node-to-node mesh');
  t.is(peers['10.0.3.13'].peerAs, 65003);
  t.is(peers['10.0.3.13'].internal, false);
  t.is(peers['10.0.2.11'].localAddress, '10.0.2.12');
});

test('mesh: a route-reflector node has no mesh peers', (t) => {
  const doc = base({ node: { name: 'rr1', ipv4Address: '10.0.2.5/24', routeReflectorClusterID: '224.0.0.1' } }, { nodeToNodeMesh: true });
  t.deepEqual(peerSet(load(doc)), []);
});

test('mesh off: no mesh peers', (t) => {
  t.deepEqual(peerSet(load(base())), []);
});

test('explicit peers: scope, port in the key, options carried over', (t) => {
  const peers = byKey(
    peerSet(
      load(base({}, {
        peers: [
          { peerIP: '10.0.2.1', asNumber: 64512, scope: 'node', holdTime: 30, maxPrefixes: 100, nextHopMode: 'Self', passive: true },
          { peerIP: '10.9.0.1:1179', asNumber: 65000, scope: 'global', sourceAddress: 'None' },
        ],
      })),
    ),
  );
  t.deepEqual(Object.keys(peers).sort(), ['10.0.2.1', '10.9.0.1:1179']);
  const tor = peers['10.0.2.1'];
  t.like(tor, { type: 'node specific', port: 179, holdTime: 30, keepaliveTime: 10, maxPrefixes: 100, nextHopMode: 'Self', passive: true, internal: true, ttl: 255 });
  t.like(peers['10.9.0.1:1179'], { type: 'global', port: 1179, peerAs: 65000, localAddress: '', internal: false });
});

test('TTL: 1 for directly connected eBGP, 255 for multihop, GTSM, or iBGP', (t) => {
  const peers = byKey(
    peerSet(
      load(base({}, {
        peers: [
          { peerIP: '10.0.2.1', asNumber: 65000 },
          { peerIP: '10.0.9.1', asNumber: 65000 },
          { peerIP: '10.0.2.2', asNumber: 65000, ttlSecurity: 1 },
          { peerIP: '10.0.2.3', asNumber: 64512 },
        ],
      })),
    ),
  );
  t.is(peers['10.0.2.1'].ttl, 1);
  t.is(peers['10.0.9.1'].ttl, 255);
  t.is(peers['10.0.2.2'].ttl, 255);
  t.is(peers['10.0.2.3'].ttl, 255);
});

test('families: an IPv4 session carries IPv6 too when the node has IPv6; an IPv6 session IPv6', (t) => {
  const doc = base(
    { node: { name: 'n02', ipv4Address: '10.0.2.12/24', ipv6Address: 'fd00:2::12/64' } },
    { peers: [{ peerIP: '10.0.2.1', asNumber: 64512 }, { peerIP: '[fd00:2::1]:179', asNumber: 64512 }] },
  );
  const peers = byKey(peerSet(load(doc)));
  t.deepEqual(peers['10.0.2.1'].families, ['ipv4', 'ipv6']);
  t.deepEqual(peers['fd00:2::1'].families, ['ipv6']);
  t.is(peers['fd00:2::1'].localAddress, 'fd00:2::12');
  t.deepEqual(byKey(peerSet(load(base({}, { peers: [{ peerIP: '10.0.2.1', asNumber: 64512 }] }))))['10.0.2.1'].families, ['ipv4']);
  // No IPv4 peer at all (an IPv6-only fabric): the IPv6 session carries IPv4 too (RFC 8950).
  const v6only = base(
    { node: { name: 'n02', ipv4Address: '10.0.2.12/24', ipv6Address: 'fd00:2::12/64' } },
    { peers: [{ peerIP: 'fd00:2::1', asNumber: 64512 }] },
  );
  t.deepEqual(byKey(peerSet(load(v6only)))['fd00:2::1'].families, ['ipv4', 'ipv6']);
});

test('peerSelector: each selected node in its own AS, never the node itself', (t) => {
  const peers = byKey(peerSet(load(base({}, { peers: [{ peerSelector: "role == 'worker'", scope: 'global' }] }))));
  t.deepEqual(Object.keys(peers).sort(), ['10.0.2.11', '10.0.3.13']);
  t.is(peers['10.0.3.13'].peerAs, 65003);
  t.is(peers['10.0.2.11'].type, 'global');
});

test('route reflector: peers are clients unless they share the cluster ID (or are eBGP)', (t) => {
  const doc = base(
    { node: { name: 'rr2', ipv4Address: '10.0.2.6/24', routeReflectorClusterID: '224.0.0.1' } },
    {
      nodes: [...nodes, { name: 'rr3', ipv4Address: '10.0.2.7/24', routeReflectorClusterID: '224.0.0.2' }],
      peers: [
        { peerSelector: 'all()', scope: 'global' },
        { peerIP: '10.0.2.1', asNumber: 64512 },
      ],
    },
  );
  const peers = byKey(peerSet(load(doc)));
  t.is(peers['10.0.2.11'].routeReflectorClient, true);
  t.is(peers['10.0.2.5'].routeReflectorClient, false, 'rr1 shares 224.0.0.1');
  t.is(peers['10.0.2.7'].routeReflectorClient, true, 'rr3 has another cluster ID');
  t.is(peers['10.0.3.13'].routeReflectorClient, false, 'eBGP');
  t.is(peers['10.0.2.1'].routeReflectorClient, true, 'an explicit iBGP peer not in bgp.nodes');
});

test('a plain node has no route-reflector clients', (t) => {
  const peers = peerSet(load(base({}, { peers: [{ peerSelector: 'all()' }] })));
  t.true(peers.length > 0);
  t.true(peers.every((p) => !p.routeReflectorClient));
});

test('one session per address: explicit over selector over mesh', (t) => {
  const doc = base({}, {
    nodeToNodeMesh: true,
    peers: [
      { peerSelector: "role == 'worker'", scope: 'global', holdTime: 60 },
      { peerIP: '10.0.3.13', asNumber: 65003, scope: 'node', holdTime: 33 },
    ],
  });
  const peers = byKey(peerSet(load(doc)));
  t.like(peers['10.0.3.13'], { type: 'node specific', holdTime: 33 });
  t.like(peers['10.0.2.11'], { type: 'global', holdTime: 60 });
  t.is(Object.keys(peers).length, 2);
});

test('a bad selector is a typed error naming its key', (t) => {
  const cfg = load(base({}, { peers: [{ peerSelector: "role = 'x'" }] }));
  t.deepEqual(selectorProblems(cfg), [{ path: 'bgp.peers[0].peerSelector', message: 'unexpected character "=" at offset 5' }]);
  const err = t.throws(() => peerSet(cfg));
  t.like(err, { code: 'PEER_SET_INVALID', where: 'bgp.peers[0].peerSelector' });
});

test('peer keys: port 179 is the bare address, others address:port or [v6]:port', (t) => {
  t.is(peerKey('10.0.0.1', 179), '10.0.0.1');
  t.is(peerKey('10.0.0.1', 1179), '10.0.0.1:1179');
  t.is(peerKey('fd00::1', 1179), '[fd00::1]:1179');
});

test('every shipped example config yields a peer set', (t) => {
  const dir = join(process.cwd(), 'config', 'examples');
  const files = readdirSync(dir);
  t.true(files.length >= 4);
  for (const f of files) {
    const cfg = loadConfig(join(dir, f));
    const peers = peerSet(cfg);
    t.true(peers.length > 0, f);
    for (const p of peers) t.is(p.localAs, cfg.node.asNumber, `${f} ${p.key}`);
  }
});

test('ribSettings: identity, addresses without length, enabled pools only, multipath, blocks', (t) => {
  const cfg = load(
    base(
      {
        node: { name: 'n02', ipv4Address: '10.0.2.12/24', ipv6Address: 'fd00:2::12/64', routeReflectorClusterID: '224.0.0.1' },
        pools: [{ cidr: '192.168.0.0/16' }, { cidr: '10.244.0.0/16', disabled: true }],
        blocks: ['192.168.0.0/26'],
      },
      { multipath: 4 },
    ),
  );
  t.deepEqual(ribSettings(cfg), {
    node: { asNumber: 64512, routerId: '10.0.2.12', clusterId: '224.0.0.1', ipv4: '10.0.2.12', ipv6: 'fd00:2::12' },
    pools: ['192.168.0.0/16'],
    multipath: 4,
    blocks: ['192.168.0.0/26'],
    importRules: NO_POLICY,
    exportRules: NO_POLICY,
  });
});

test('interface peers (BGP unnumbered): keyed by the interface, address and next hop from the link, both families', (t) => {
  const c = load(base({}, { nodes: [], peers: [
    { interface: 'eth0', asNumber: 'external' },
    { interface: 'eth1', asNumber: 'internal' },
    { interface: 'eth2', asNumber: 65100, ttlSecurity: 1 },
  ] }));
  const none = byKey(peerSet(c));
  t.deepEqual(Object.keys(none), ['eth0', 'eth1', 'eth2']);
  t.like(none.eth0, { address: '', interface: 'eth0', family: 'ipv6', families: ['ipv4', 'ipv6'], peerAs: 0, internal: false, passive: true, localAddress: '', ttl: 1 });
  t.like(none.eth1, { peerAs: 64512, internal: true, ttl: 255 });
  t.like(none.eth2, { peerAs: 65100, internal: false, ttl: 255, ttlSecurity: 1 }, 'GTSM: TTL 255');
  const heard = byKey(peerSet(c, new Map([['eth0', { peer: 'fe80::1', local: 'fe80::2' }]])));
  t.like(heard.eth0, { address: 'fe80::1%eth0', localAddress: 'fe80::2', passive: false });
  t.like(heard.eth1, { address: '', passive: true }, 'the other links are unchanged');
});
