/** Address text and bytes: RFC 5952 canonical IPv6 text, IPv4 numbers, prefix masking. */

import test from 'ava';
import { BgpEncodeError, bytesToIpv6, formatPrefix, ipv4ToNumber, ipv6ToBytes, numberToIpv4, parsePrefix } from '../../agent/bgp/index.js';

const v6: [string, string][] = [
  ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['::', '::'],
  ['::ffff:10.0.0.1', '::ffff:a00:1'],
  ['FE80::1%eth0', 'fe80::1'],
];
for (const [input, canonical] of v6) {
  test(`IPv6 ${input} -> ${canonical}`, (t) => {
    t.is(bytesToIpv6(ipv6ToBytes(input)), canonical);
  });
}

for (const bad of ['1::2::3', 'fd00', '1:2:3:4:5:6:7:8:9', 'gg::1', '']) {
  test(`IPv6 rejects ${JSON.stringify(bad)}`, (t) => {
    t.throws(() => ipv6ToBytes(bad), { instanceOf: BgpEncodeError });
  });
}

for (const bad of ['1.2.3', '1.2.3.256', 'a.b.c.d', '1.2.3.4.5']) {
  test(`IPv4 rejects ${JSON.stringify(bad)}`, (t) => {
    t.throws(() => ipv4ToNumber(bad), { instanceOf: BgpEncodeError });
  });
}

test('IPv4 numbers are unsigned', (t) => {
  t.is(ipv4ToNumber('255.255.255.255'), 0xffffffff);
  t.is(numberToIpv4(0xc0a80040), '192.168.0.64');
});

test('prefixes are masked to their length', (t) => {
  t.is(formatPrefix(parsePrefix('192.168.0.77/26')), '192.168.0.64/26');
  t.is(formatPrefix(parsePrefix('fd00:1::ffff/122')), 'fd00:1::ffc0/122');
  t.is(formatPrefix(parsePrefix('10.0.0.0/8', 3)), '10.0.0.0/8#3');
  t.throws(() => parsePrefix('10.0.0.0/33'), { instanceOf: BgpEncodeError });
});
