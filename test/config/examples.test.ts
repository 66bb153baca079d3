/**
 * Every file in config/examples loads (found by readdirSync, so a new example is tested without
 * editing this file), and the defaults that SPEC.md documents come out of a minimal config.
 */

import test from 'ava';
import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ROUTE_PROTOCOL, loadConfig, type Config } from '../../config/index.js';
import { baseDoc, makeTempDir, writeConfig, writeKeyFile } from './helpers.js';

// dist/test/config/ -> the repository root, so the examples are read from the source tree.
const examplesDir = fileURLToPath(new URL('../../../config/examples/', import.meta.url));
const examples = readdirSync(examplesDir).filter((f) => /\.(ya?ml|json)$/.test(f));

test('there are examples to test', (t) => {
  t.true(examples.length >= 4, examples.join(', '));
});

for (const file of examples) {
  test(`example ${file} loads`, (t) => {
    const config = loadConfig(examplesDir + file);
    t.true(config.bgp.peers.length > 0 || config.bgp.nodeToNodeMesh, 'an example that peers with something');
    t.true(Object.isFrozen(config.bgp.peers));
  });
}

const tmp = makeTempDir();
test.after.always(() => tmp.remove());

function load(doc: unknown, name = 'config.yaml'): Config {
  return loadConfig(writeConfig(tmp.dir, name, doc));
}

test('a minimal config gets every documented default', (t) => {
  const c = load({ node: { ipv4Address: '10.0.1.13/24' } });
  t.deepEqual(c, {
    node: {
      name: hostname(),
      ipv4Address: '10.0.1.13/24',
      ipv6Address: '',
      routerId: '10.0.1.13',
      asNumber: 64512,
      labels: {},
      routeReflectorClusterID: '',
    },
    bgp: {
      asNumber: 64512,
      listenPort: 179,
      nodeToNodeMesh: false,
      holdTime: 90,
      keepaliveTime: 30,
      sendHoldTime: null,
      multipath: 8,
      gracefulRestart: { enabled: true, restartTime: 120 },
      endOfRibQuietTime: 5,
      drained: false,
      bfd: { enabled: false, minRxMs: 300, minTxMs: 300, multiplier: 3, strict: false, multihop: 'auto', minTtl: 0 },
      peers: [],
      nodes: [],
    },
    pools: [],
    blocks: [],
    services: [],
    policy: { import: [], export: [] },
    kernel: { routeProtocol: DEFAULT_ROUTE_PROTOCOL, table: 254, tunnelDevice: 'tunl0' },
    control: { socket: '/run/rack-agent/agent.sock', group: '' },
    metrics: { listen: '' },
    check: { interval: 0, timeout: 5 },
    log: { level: 'info', format: 'json' },
  });
  t.is(DEFAULT_ROUTE_PROTOCOL, 201);
});

test('policy rules get their defaults: accept, nothing set, no condition but the ones written', (t) => {
  const doc = baseDoc();
  doc.policy = { import: [{ match: { prefix: '0.0.0.0/0', exact: true }, set: { localPref: 200 } }], export: [{ match: { pool: '192.168.0.0/16' }, set: { communities: ['64512:10'], largeCommunities: ['64512:1:2'], med: 10, prepend: 1 } }] };
  const c = load(doc);
  const none = { prefix: '', exact: false, ge: null, le: null, pool: '', community: '', largeCommunity: '', asPathContains: null, peer: { address: '', interface: '', type: '' } };
  t.deepEqual(c.policy.import, [{ match: { ...none, prefix: '0.0.0.0/0', exact: true }, action: 'accept', set: { localPref: 200, med: null, communities: [], largeCommunities: [], prepend: 0 } }]);
  t.deepEqual(c.policy.export[0].match, { ...none, pool: '192.168.0.0/16' });
  t.deepEqual(c.policy.export[0].set, { localPref: null, med: 10, communities: ['64512:10'], largeCommunities: ['64512:1:2'], prepend: 1 });
});

test('peer, node and pool items get their defaults, derived from the globals', (t) => {
  const doc = baseDoc();
  doc.node.ipv6Address = 'fd00:1::13/64';
  doc.bgp.holdTime = 30;
  doc.bgp.peers = [{ peerIP: '[fd00:1::1]:1179', asNumber: 65100 }, { peerIP: '10.0.1.2', asNumber: 64512, holdTime: 9 }];
  doc.bgp.nodes = [{ name: 'r1-n04', ipv4Address: '10.0.1.14/24' }];
  doc.pools.push({ cidr: 'fd00:10::/48' });
  const c = load(doc);
  t.deepEqual(c.bgp.peers[0], {
    peerIP: '[fd00:1::1]:1179',
    peerSelector: '',
    interface: '',
    address: 'fd00:1::1',
    port: 1179,
    asNumber: 65100,
    scope: 'node',
    passwordFile: '',
    sourceAddress: 'UseNodeIP',
    holdTime: 30,
    keepaliveTime: 10,
    sendHoldTime: null,
    ttlSecurity: 0,
    nextHopMode: 'Auto',
    maxPrefixes: 0,
    passive: false,
    bfd: { enabled: false, minRxMs: 300, minTxMs: 300, multiplier: 3, strict: false, multihop: 'auto', minTtl: 0 },
  });
  t.like(c.bgp.peers[1], { address: '10.0.1.2', port: 179, holdTime: 9, keepaliveTime: 3 });
  t.like(c.bgp.nodes[0], { asNumber: 64512, ipv6Address: '', labels: {}, routeReflectorClusterID: '' });
  t.deepEqual(c.pools[1], { cidr: 'fd00:10::/48', blockSize: 122, ipipMode: 'Never', disabled: false });
  t.is(load({ node: { ipv4Address: '10.0.1.13/24' }, pools: [{ cidr: '10.8.0.0/16' }] }).pools[0].ipipMode, 'Always');
});

test('bgp.bfd is every peer\'s default; a peer\'s bfd overrides any of its keys', (t) => {
  const doc = baseDoc();
  doc.bgp.bfd = { enabled: true, minRxMs: 100, multiplier: 5 };
  doc.bgp.peers = [
    { peerIP: '10.0.1.1', asNumber: 64512 }, { peerIP: '10.0.1.2', asNumber: 64512, bfd: { enabled: false, minTxMs: 50 } },
    { peerIP: '10.0.1.3', asNumber: 64512, bfd: {} }, { peerIP: '10.0.1.4', asNumber: 64512, bfd: { strict: true, multihop: 'on', minTtl: 250 } },
  ];
  const c = load(doc);
  t.deepEqual(c.bgp.bfd, { enabled: true, minRxMs: 100, minTxMs: 300, multiplier: 5, strict: false, multihop: 'auto', minTtl: 0 });
  t.deepEqual(c.bgp.peers[0].bfd, { enabled: true, minRxMs: 100, minTxMs: 300, multiplier: 5, strict: false, multihop: 'auto', minTtl: 0 });
  t.deepEqual(c.bgp.peers[1].bfd, { enabled: false, minRxMs: 100, minTxMs: 50, multiplier: 5, strict: false, multihop: 'auto', minTtl: 0 });
  t.deepEqual(c.bgp.peers[2].bfd, c.bgp.bfd);
  t.is(c.bgp.peers[3].bfd.strict, true);
  t.like(c.bgp.peers[3].bfd, { multihop: 'on', minTtl: 250 });
});

test('bgp.bfd.strict must be a boolean', (t) => {
  const doc = baseDoc();
  doc.bgp.bfd = { strict: 'yes' };
  t.throws(() => load(doc), { message: /bgp\.bfd\.strict/ });
});

test('sendHoldTime (RFC 9687): null is the RFC default, bgp.sendHoldTime is every peer\'s default, a peer overrides it', (t) => {
  const doc = baseDoc();
  doc.bgp.sendHoldTime = 600;
  doc.bgp.peers = [{ peerIP: '10.0.1.1', asNumber: 64512 }, { peerIP: '10.0.1.2', asNumber: 64512, sendHoldTime: 0 }, { peerIP: '10.0.1.3', asNumber: 64512, holdTime: 3, sendHoldTime: 4 }];
  const c = load(doc);
  t.is(c.bgp.sendHoldTime, 600);
  t.deepEqual(c.bgp.peers.map((p) => p.sendHoldTime), [600, 0, 4]);
  t.is(load(baseDoc()).bgp.sendHoldTime, null);
});

test('node.asNumber and routerId take explicit values over the defaults', (t) => {
  const doc = baseDoc();
  Object.assign(doc.node, { asNumber: 65101, routerId: '10.255.0.13' });
  doc.bgp.keepaliveTime = 20;
  const c = load(doc);
  t.is(c.node.asNumber, 65101);
  t.is(c.node.routerId, '10.255.0.13');
  t.is(c.bgp.keepaliveTime, 20);
});

test('the config is deeply frozen', (t) => {
  const c = load(baseDoc());
  for (const o of [c, c.node, c.node.labels, c.bgp, c.bgp.peers, c.bgp.peers[0], c.pools[0], c.blocks, c.kernel]) {
    t.true(Object.isFrozen(o));
  }
});

test('a relative passwordFile is taken from the config file directory and kept as a path', (t) => {
  writeKeyFile(tmp.dir, 'tor1.key', 'not-in-the-config\n', 0o600);
  const doc = baseDoc();
  doc.bgp.peers[0].passwordFile = 'tor1.key';
  const c = load(doc);
  t.is(c.bgp.peers[0].passwordFile, `${tmp.dir}/tor1.key`);
  t.false(JSON.stringify(c).includes('not-in-the-config'));
});

test('a YAML section left empty is an empty mapping', (t) => {
  const c = load('node:\n  ipv4Address: 10.0.1.13/24\nmetrics:\nlog:\n');
  t.is(c.metrics.listen, '');
  t.is(c.log.level, 'info');
});

test('JSON and YAML give the same config', (t) => {
  t.deepEqual(load(baseDoc(), 'same.json'), load(baseDoc(), 'same.yml'));
});
