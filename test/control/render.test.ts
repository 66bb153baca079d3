process.env.TZ = 'UTC';

import test from 'ava';

import type { PeerAnswer } from '../../agent/control/api.js';
import {
  formatSince, renderPeerDetail, renderPeers, renderReload, renderRouteDetail, renderRoutes, renderServices, renderStatus, renderVersion, renderWait, shortState,
} from '../../agent/control/render.js';
import { boxTable } from '../../agent/control/table.js';
import { ROUTES, SERVICES, SPEC_PEERS, SPEC_STATUS } from './fakes.js';
import type { RouteAnswer } from '../../agent/control/api.js';

const now = new Date('2026-11-21T18:00:00Z');
const plain = { now, colour: false };

test('status with SPEC.md\'s Established peer is SPEC.md\'s drawing line for line', (t) => {
  t.is(renderStatus({ ...SPEC_STATUS, peers: [SPEC_PEERS[0]] }, plain), `rack-agent process is running.

IPv4 BGP status
+--------------+---------------+-------+----------+-------------+
| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |    INFO     |
+--------------+---------------+-------+----------+-------------+
| 10.0.1.1     | node specific | up    | 17:38:47 | Established |
+--------------+---------------+-------+----------+-------------+

IPv6 BGP status
No IPv6 peers found.
`);
});

test('status with both SPEC.md peers widens INFO to the longest cell', (t) => {
  t.is(renderStatus(SPEC_STATUS, plain), `rack-agent process is running.

IPv4 BGP status
+--------------+---------------+-------+----------+-----------------------------------+
| PEER ADDRESS |   PEER TYPE   | STATE |  SINCE   |               INFO                |
+--------------+---------------+-------+----------+-----------------------------------+
| 10.0.1.1     | node specific | up    | 17:38:47 | Established                       |
| 10.0.1.2     | node specific | start | 17:40:09 | Active Socket: Connection refused |
+--------------+---------------+-------+----------+-----------------------------------+

IPv6 BGP status
No IPv6 peers found.
`);
});

const v6peer: PeerAnswer = {
  address: 'fd00:1::1', family: 'ipv6', type: 'node-to-node mesh', asNumber: 64512, state: 'Idle',
  since: '2026-11-19T09:00:00Z', info: 'Idle', enabled: false, prefixes: { received: 0, accepted: 0, advertised: 0 },
};

test('status: IPv6 section, no IPv4 peers, down state, date for old SINCE, mesh type', (t) => {
  t.is(renderStatus({ ...SPEC_STATUS, peers: [v6peer] }, plain), `rack-agent process is running.

IPv4 BGP status
No IPv4 peers found.

IPv6 BGP status
+--------------+-------------------+-------+------------+------+
| PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    | INFO |
+--------------+-------------------+-------+------------+------+
| fd00:1::1    | node-to-node mesh | down  | 2026-11-19 | Idle |
+--------------+-------------------+-------+------------+------+
`);
});

test('status and peers name an interface peer `eth0 (fe80::...)`, or say no neighbour is known yet', (t) => {
  const ifPeer: PeerAnswer = { ...v6peer, address: 'eth0', linkLocal: 'fe80::1', type: 'node specific' };
  const waiting: PeerAnswer = { ...v6peer, address: 'eth1', linkLocal: '', type: 'node specific' };
  const text = renderStatus({ ...SPEC_STATUS, peers: [ifPeer, waiting] }, plain);
  t.regex(text, /\| eth0 \(fe80::1\)\s+\| node specific \|/);
  t.regex(text, /\| eth1 \(no neighbour yet\) \| node specific \|/);
  t.regex(renderPeers([ifPeer], plain), /\| eth0 \(fe80::1\) \|/);
  t.regex(renderPeerDetail([ifPeer], plain), /^Peer eth0 \(fe80::1\)\n/);
});

test('status colours STATE only when asked, without moving the borders', (t) => {
  const coloured = renderStatus(SPEC_STATUS, { now, colour: true });
  t.true(coloured.includes('\u001b[32mup\u001b[0m    |'));
  t.true(coloured.includes('\u001b[33mstart\u001b[0m |'));
  t.is(coloured.replace(/\u001b\[\d+m/g, ''), renderStatus(SPEC_STATUS, plain));
  t.false(renderStatus(SPEC_STATUS, plain).includes('\u001b'));
  t.true(renderStatus({ ...SPEC_STATUS, peers: [v6peer] }, { now, colour: true }).includes('\u001b[31mdown\u001b[0m'));
});

test('cells cannot smuggle terminal escapes or newlines', (t) => {
  const evil = { ...SPEC_PEERS[1], info: 'Idle Received: shutdown \u001b[2J\nrm -rf' };
  const text = renderStatus({ ...SPEC_STATUS, peers: [evil] }, plain);
  t.false(text.includes('\u001b'));
  t.true(text.includes('Idle Received: shutdown ?[2J?rm -rf |'));
});

test('formatSince: local HH:MM:SS within 20 hours, local date before, text kept when unparseable', (t) => {
  t.is(formatSince('2026-11-21T17:38:47Z', now), '17:38:47');
  t.is(formatSince('2026-11-20T22:00:01Z', now), '22:00:01');
  t.is(formatSince('2026-11-20T21:59:59Z', now), '2026-11-20');
  t.is(formatSince('', now), '');
  t.is(formatSince('never', now), 'never');
  process.env.TZ = 'Asia/Kolkata';
  try {
    t.is(formatSince('2026-11-21T17:38:47Z', now), '23:08:47', 'the local zone of the operator');
  } finally {
    process.env.TZ = 'UTC';
  }
});

test('shortState', (t) => {
  t.is(shortState({ state: 'Established', enabled: true }), 'up');
  t.is(shortState({ state: 'Connect', enabled: true }), 'start');
  t.is(shortState({ state: 'Idle', enabled: true }), 'start');
  t.is(shortState({ state: 'Idle', enabled: false }), 'down');
});

test('boxTable centres headers with the odd space on the right and pads cells', (t) => {
  t.is(boxTable(['AB', 'C'], [['x', 'long cell'], ['yyyyy', '']]), [
    '+-------+-----------+',
    '|  AB   |     C     |',
    '+-------+-----------+',
    '| x     | long cell |',
    '| yyyyy |           |',
    '+-------+-----------+',
  ].join('\n'));
  t.is(boxTable(['Ω'], [['ünïcode']]).split('\n')[3], '| ünïcode |');
});

test('peers table', (t) => {
  t.is(renderPeers(SPEC_PEERS, plain), `+--------------+---------+---------------+-------+----------+----------+----------+------------+-----------------------------------+
| PEER ADDRESS | PEER AS |   PEER TYPE   | STATE |  SINCE   | RECEIVED | ACCEPTED | ADVERTISED |               INFO                |
+--------------+---------+---------------+-------+----------+----------+----------+------------+-----------------------------------+
| 10.0.1.1     | 64512   | node specific | up    | 17:38:47 | 12       | 12       | 1          | Established                       |
| 10.0.1.2     | 64512   | node specific | start | 17:40:09 | 0        | 0        | 0          | Active Socket: Connection refused |
+--------------+---------+---------------+-------+----------+----------+----------+------------+-----------------------------------+
`);
  t.is(renderPeers([], plain), 'No peers found.\n');
});

test('peer detail', (t) => {
  t.is(renderPeerDetail([SPEC_PEERS[0]], plain), `Peer 10.0.1.1
  Type:         node specific, ipv4, AS 64512
  State:        Established (up) since 17:38:47 (2026-11-21T17:38:47Z)
  Info:         Established
  Last error:   -
  Prefixes:     received 12, accepted 12, advertised 1
  Capabilities: 4-octet AS, route refresh
  Messages in:  open 1, update 3, keepalive 10
  Messages out: open 1, update 1, keepalive 10
`);
});

test('routes table: blackhole, ECMP continuation rows, onlink', (t) => {
  t.is(renderRoutes(ROUTES), `+-----------------+------------+--------------+----------+------------+
|     PREFIX      |  NEXT HOP  |     DEV      |   PEER   | DECIDED BY |
+-----------------+------------+--------------+----------+------------+
| 192.168.0.0/26  | blackhole  |              |          |            |
| 192.168.0.64/26 | 10.0.1.14  | eth0         | 10.0.1.1 | router-id  |
|                 | 10.0.2.21  | tunl0 onlink | 10.0.1.2 |            |
| fd00:10::/122   | fd00:1::14 | eth0         | 10.0.1.1 |            |
+-----------------+------------+--------------+----------+------------+
`);
  t.is(renderRoutes([]), 'No routes found.\n');
});

test('reload, wait and version texts', (t) => {
  const none = { applied: true, peersAdded: [], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: [] };
  t.is(renderReload(none), 'Reloaded: nothing changed.\n');
  t.is(renderReload({ ...none, peersRestarted: ['10.0.1.1', '10.0.1.2'], blocksAdded: ['192.168.0.128/26'] }),
    'Reloaded.\n  peers restarted: 10.0.1.1, 10.0.1.2\n  blocks added: 192.168.0.128/26\n');
  t.is(renderReload({ ...none, applied: false, problems: ['blocks[0]: not in any pool', 'log.level: bad'] }),
    'Reload refused; the running configuration stays.\n  blocks[0]: not in any pool\n  log.level: bad\n');
  t.is(renderWait({ converged: true, waited: 1.5 }), 'Converged (waited 1.5 s).\n');
  t.is(renderWait({ converged: false, waited: 5 }), 'Not converged after 5 s.\n');
  t.is(renderVersion('0.1.0', { version: '0.1.0', node: 'r1-n03' }), 'agentctl 0.1.0\nrack-agent 0.1.0 (node r1-n03)\n');
  t.is(renderVersion('0.1.0', null), 'agentctl 0.1.0\nrack-agent process is not running.\n');
});

test('services table: NAME | PREFIX | STATE | SINCE | LAST CHECK, "not yet" before the first check; a reload names services', (t) => {
  t.is(renderServices(SERVICES, plain), `+------+-----------------+-------+----------+-------------------------------------------+
| NAME |     PREFIX      | STATE |  SINCE   |                LAST CHECK                 |
+------+-----------------+-------+----------+-------------------------------------------+
| dns  | 10.255.0.53/32  | up    | 17:38:47 | ok: connected (17:40:01)                  |
| web  | fd00:53::80/128 | down  | 17:39:00 | failed: HTTP 500, expected 200 (17:40:00) |
| ntp  | 10.255.0.123/32 | down  | 17:40:00 | not yet                                   |
+------+-----------------+-------+----------+-------------------------------------------+
`);
  t.is(renderServices({ services: [] }, plain), 'No services configured.\n');
  const coloured = renderServices(SERVICES, { now, colour: true });
  t.true(coloured.includes('\u001b[32mup\u001b[0m') && coloured.includes('\u001b[31mdown\u001b[0m'));
  const none = { applied: true, peersAdded: [], peersRemoved: [], peersRestarted: [], blocksAdded: [], blocksRemoved: [] };
  t.is(renderReload({ ...none, servicesAdded: ['dns'], servicesRestarted: ['web'] }), 'Reloaded.\n  services added: dns\n  services restarted: web\n');
});

test('peer detail: the BFD path line says single hop on an interface, or multihop, and the port (issue 22)', (t) => {
  const bfd = {
    state: 'Up', diagnostic: 'No Diagnostic', remoteState: 'Up', remoteDiagnostic: 'No Diagnostic', since: '2026-11-21T17:59:00Z',
    localDiscriminator: 1, remoteDiscriminator: 2, txIntervalMs: 100, detectTimeMs: 300, minRxMs: 100, minTxMs: 100, multiplier: 3,
    remoteControlPlaneIndependent: false, upCount: 1, downCount: 0, packetsIn: 10, packetsOut: 10,
  };
  const rows = [
    { bfd: { ...bfd, mode: 'single-hop' as const, interface: 'eth0' }, line: 'BFD path:     single-hop on eth0, UDP 3784' },
    { bfd: { ...bfd, mode: 'single-hop' as const }, line: 'BFD path:     single-hop, UDP 3784' },
    { bfd: { ...bfd, mode: 'multihop' as const }, line: 'BFD path:     multihop, UDP 4784' },
  ];
  for (const row of rows) {
    const text = renderPeerDetail([{ ...SPEC_PEERS[0], bfd: row.bfd }], plain);
    t.true(text.split('\n').some((l) => l.trim() === row.line), text);
  }
});

test('routes --detail: a block per route with its AS path, LOCAL_PREF, MED, communities and peers', (t) => {
  const routes: RouteAnswer[] = [
    { prefix: '0.0.0.0/0', family: 'ipv4', kind: 'unicast', decidedBy: 'router-id', nextHops: [{ via: '10.0.1.1', dev: 'eth0', peer: '10.0.1.1' }, { via: '10.0.2.1', dev: 'eth1', peer: '10.0.2.1' }],
      asPath: '65001 {65002 65003}', communities: ['64512:10', '65535:0'], largeCommunities: ['64512:1:2'], localPref: 200, med: 5, peers: ['10.0.1.1', '10.0.2.1'] },
    { prefix: '192.168.0.0/26', family: 'ipv4', kind: 'blackhole', nextHops: [], asPath: '', communities: [], largeCommunities: [], localPref: 100, peers: ['local'] },
  ];
  t.is(renderRouteDetail(routes), `0.0.0.0/0
  Next hops:    via 10.0.1.1 dev eth0, via 10.0.2.1 dev eth1
  Peers:        10.0.1.1, 10.0.2.1
  AS path:      65001 {65002 65003}
  Local pref:   200
  MED:          5
  Communities:  64512:10 65535:0
  Large comm.:  64512:1:2
  Decided by:   router-id

192.168.0.0/26
  Next hops:    blackhole
  Peers:        local
  AS path:      (empty)
  Local pref:   100
  MED:          -
  Communities:  -
  Large comm.:  -
  Decided by:   -
`);
  t.is(renderRouteDetail([]), 'No routes found.\n');
});

test('status text says drained only when drained', (t) => {
  const opts = { now: new Date('2026-11-21T17:41:00Z'), colour: false };
  t.false(renderStatus(SPEC_STATUS, opts).includes('drained'));
  const text = renderStatus({ ...SPEC_STATUS, drained: true }, opts);
  t.true(text.startsWith('rack-agent process is running.\nThis node is drained (RFC 8326)'), text);
});
