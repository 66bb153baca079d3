/** The value formats, one table row per format: values it takes and values it refuses. */

import test from 'ava';
import { parseEndpoint } from '../../config/addresses.js';
import { FORMATS, RESERVED_ROUTE_PROTOCOLS, DEFAULT_ROUTE_PROTOCOL, type FormatName } from '../../config/formats.js';

const rows: { format: FormatName; good: unknown[]; bad: unknown[] }[] = [
  { format: 'ra-as-number', good: [1, 64512, 65535, 4200000000, 4294967295], bad: [0, 23456, 4294967296, -1, 1.5, '64512', null] },
  { format: 'ra-hold-time', good: [0, 3, 90, 65535], bad: [1, 2, 65536, '90', 9.5] },
  { format: 'ra-keepalive-time', good: [0, 1, 30], bad: [-1, 21846, '30'] },
  { format: 'ra-restart-time', good: [0, 120, 4095], bad: [4096, -1] },
  { format: 'ra-route-protocol', good: [DEFAULT_ROUTE_PROTOCOL, 5, 100, 199, 255], bad: [0, 2, 4, 12, 17, 18, 42, 80, 99, 168, 186, 192, 198, 256, '201'] },
  { format: 'ra-route-table', good: [1, 100, 254, 4294967295], bad: [0, 255, 4294967296] },
  { format: 'ra-port', good: [1, 179, 65535], bad: [0, 65536, '179'] },
  { format: 'ra-multipath', good: [1, 8, 256], bad: [0, 257] },
  { format: 'ra-ipv4', good: ['10.0.1.13', '255.255.255.255'], bad: ['0.0.0.0', '10.0.1', '10.0.1.256', '010.0.1.1', 'fd00::1', ''] },
  { format: 'ra-ipv4-interface', good: ['10.0.1.13/24', '10.0.1.13/32'], bad: ['10.0.1.13', '10.0.1.13/33', '10.0.1.13/0', 'fd00::1/64', '10.0.1.13/ 24'] },
  { format: 'ra-ipv6-interface', good: ['', 'fd00:1::13/64', '2001:db8::1/128'], bad: ['fd00:1::13', '10.0.1.13/24', 'fe80::1%eth0/64', 'fd00::1/129'] },
  {
    format: 'ra-cidr',
    good: ['192.168.0.0/16', '192.168.0.64/26', '0.0.0.0/0', 'fd00:10::/48', 'fd00:10::1:0/122'],
    bad: ['192.168.0.1/26', '192.168.0.0/33', '192.168.0.0', 'fd00:10::1/48', 'fd00::/129', '192.168.0.0/', '192.168.0.0/0x10', ''],
  },
  {
    format: 'ra-endpoint',
    good: ['', '10.0.1.1', '10.0.1.1:179', 'fd00::1', '[fd00::1]', '[fd00::1]:1179'],
    bad: ['10.0.1.1:0', '10.0.1.1:65536', '[10.0.1.1]:179', 'fd00::1:179:x', 'tor1', '[fd00::1]:', 5],
  },
  { format: 'ra-listen', good: ['', '127.0.0.1:9179', '[::1]:9179'], bad: ['127.0.0.1', '::1', ':9179'] },
  { format: 'ra-cluster-id', good: ['', '224.0.0.1'], bad: ['0.0.0.0', '1'] },
  { format: 'ra-labels', good: [{}, { rack: 'r1', 'topology.kubernetes.io/zone': 'z1', empty: '' }], bad: [[], 'rack=r1', { rack: 1 }, { 'bad key': 'x' }, { rack: 'bad value' }] },
  { format: 'ra-ifname', good: ['tunl0', 'eth0.100'], bad: ['', 'a-very-long-name0', 'a b', 'a/b'] },
  { format: 'ra-socket-path', good: ['/run/rack-agent/agent.sock'], bad: ['run/agent.sock', '', `/${'x'.repeat(107)}`] },
  { format: 'ra-group', good: ['', 'rack-agent', '1001'], bad: ['bad group', '-x'] },
  { format: 'ra-bool', good: [true, false], bad: ['true', 'yes', 1, 0] },
  { format: 'ra-ipip-mode', good: ['Always', 'CrossSubnet', 'Never'], bad: ['always', 'VXLAN', ''] },
  { format: 'ra-log-level', good: ['error', 'warn', 'info', 'debug'], bad: ['trace', 'INFO'] },
];

for (const { format, good, bad } of rows) {
  test(`format ${format}`, (t) => {
    for (const v of good) t.is(FORMATS[format](v), undefined, `takes ${JSON.stringify(v)}`);
    for (const v of bad) t.is(typeof FORMATS[format](v), 'string', `refuses ${JSON.stringify(v)}`);
  });
}

test('the default route protocol is not reserved, and the named ones are', (t) => {
  t.false(RESERVED_ROUTE_PROTOCOLS.has(DEFAULT_ROUTE_PROTOCOL));
  for (const p of [12, 17, 80, 186, 187, 190, 198]) t.true(RESERVED_ROUTE_PROTOCOLS.has(p), String(p));
});

test('endpoints split into a canonical address and a port', (t) => {
  t.like(parseEndpoint('[FD00:1:0::1]:1179'), { address: { key: 'fd00:1::1', family: 'ipv6' }, port: 1179 });
  t.like(parseEndpoint('10.0.1.1'), { address: { key: '10.0.1.1', family: 'ipv4' }, port: undefined });
});
