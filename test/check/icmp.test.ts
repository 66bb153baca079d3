/**
 * The ICMP codec (agent/check/icmp.ts): golden bytes annotated field by field, RFC 1071's own
 * checksum example, round trips, every error kind quoting our echo, and malformed input with
 * the CheckError code.
 */
import test from 'ava';

import { CheckError, type CheckErrorCode } from '../../agent/check/errors.js';
import { checksum, decodeIcmp, decodeIpv4, echoLengthFor, encodeEcho, type IcmpMessage } from '../../agent/check/icmp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');
const TOKEN = hex('0102030405060708');

test('checksum: RFC 1071 section 3 example, odd length, and a message that carries its checksum sums to 0', (t) => {
  // RFC 1071 s3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2; the checksum is its complement.
  t.is(checksum(hex('0001f203f4f5f6f7')), 0x220d);
  // Odd length: the last byte is padded with a zero byte; 0001+f203+f4f5+f600 = 2dcf9, folded dcfb.
  t.is(checksum(hex('0001f203f4f5f6')), 0x2304);
  const echo = encodeEcho({ family: 4, id: 0xbeef, seq: 7, token: TOKEN, length: 1472 });
  t.is(checksum(echo), 0);
});

test('encodeEcho IPv4: golden bytes', (t) => {
  const b = encodeEcho({ family: 4, id: 0x1234, seq: 1, token: TOKEN, length: 20 });
  t.deepEqual(b, hex(`
    08 00        # type 8 echo request, code 0
    d5 b6        # checksum (RFC 1071 over the whole message)
    12 34        # identifier: this run's
    00 01        # sequence number: this probe's
    01 02 03 04 05 06 07 08   # the probe's token
    00 00 00 00  # padding to the exact size
  `));
});

test('encodeEcho IPv6: type 128, checksum left 0 for the kernel (RFC 3542 s3.1)', (t) => {
  const b = encodeEcho({ family: 6, id: 0xabcd, seq: 0xffff, token: TOKEN, length: 16 });
  t.deepEqual(b, hex('80 00 0000 abcd ffff 0102030405060708'));
});

test('sizes: an IP packet of N bytes is an echo of N-20 (IPv4) or N-40 (IPv6) bytes', (t) => {
  t.is(echoLengthFor(4, 64), 44);
  t.is(echoLengthFor(4, 1500), 1480);
  t.is(echoLengthFor(6, 64), 24);
  t.is(echoLengthFor(6, 1500), 1460);
});

for (const [name, length, token] of [['too small', 15, TOKEN], ['too large', 65536, TOKEN], ['fractional', 20.5, TOKEN], ['short token', 20, hex('0102')]] as const) {
  test(`encodeEcho refuses ${name}: ICMP_BAD_SIZE`, (t) => {
    const e = t.throws(() => encodeEcho({ family: 4, id: 1, seq: 1, token, length }), { instanceOf: CheckError });
    t.is(e?.code, 'ICMP_BAD_SIZE');
  });
}

test('decode an echo reply as a raw IPv4 socket delivers it (IP header first)', (t) => {
  const reply = encodeEcho({ family: 4, id: 0x1234, seq: 9, token: TOKEN, length: 44 });
  reply[0] = 0; // type 0 echo reply
  const ip = hex(`
    45 00 0040   # version 4, IHL 5, total length 64
    0000 0000    # id, flags, fragment offset
    40 01 0000   # TTL 64, protocol 1 (ICMP), header checksum (not checked: the kernel did)
    0a000d0d     # source 10.0.13.13
    0a00010b     # destination 10.0.1.11
  `);
  const packet = decodeIpv4(Buffer.concat([ip, reply]));
  t.like(packet, { source: '10.0.13.13', destination: '10.0.1.11', protocol: 1 });
  t.is(packet.payload.length, 44);
  t.deepEqual(decodeIcmp(4, packet.payload), { kind: 'echo-reply', id: 0x1234, seq: 9, token: TOKEN });
});

/** An ICMP error quoting an echo request of ours to `to` (IPv4 header + the echo's first 8 bytes and more). */
function quotedV4(to: string): Buffer {
  const ip = hex(`45 00 05dc 0000 4000 4001 0000 0a00010b ${to.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`);
  return Buffer.concat([ip, encodeEcho({ family: 4, id: 0x4242, seq: 300, token: TOKEN, length: 16 })]);
}

function quotedV6(): Buffer {
  const ip = hex(`60000000 05b4 3a 40 fd000001000000000000000000000011 fd000001000000000000000000000013`);
  return Buffer.concat([ip, encodeEcho({ family: 6, id: 0x4242, seq: 300, token: TOKEN, length: 16 })]);
}

const errors: [string, 4 | 6, Buffer, IcmpMessage][] = [
  ['IPv4 fragmentation needed (RFC 1191: next-hop MTU 1400)', 4, Buffer.concat([hex('03 04 0000 0000 0578'), quotedV4('10.0.1.13')]),
    { kind: 'too-big', code: 4, mtu: 1400, quoted: { destination: '10.0.1.13', id: 0x4242, seq: 300 } }],
  ['IPv4 host unreachable', 4, Buffer.concat([hex('03 01 0000 00000000'), quotedV4('10.0.1.13')]),
    { kind: 'unreachable', code: 1, mtu: 0, quoted: { destination: '10.0.1.13', id: 0x4242, seq: 300 } }],
  ['IPv4 time exceeded', 4, Buffer.concat([hex('0b 00 0000 00000000'), quotedV4('10.0.1.13')]),
    { kind: 'time-exceeded', code: 0, mtu: 0, quoted: { destination: '10.0.1.13', id: 0x4242, seq: 300 } }],
  ['IPv4 unreachable quoting no echo (a UDP packet)', 4, Buffer.concat([hex('03 03 0000 00000000 45000020 0000 4000 4011 0000 0a00010b 0a00010d'), hex('0035003500080000')]),
    { kind: 'unreachable', code: 3, mtu: 0, quoted: null }],
  ['IPv6 packet too big (RFC 4443 s3.2: MTU 1280)', 6, Buffer.concat([hex('02 00 0000 00000500'), quotedV6()]),
    { kind: 'too-big', code: 0, mtu: 1280, quoted: { destination: 'fd00:1::13', id: 0x4242, seq: 300 } }],
  ['IPv6 address unreachable', 6, Buffer.concat([hex('01 03 0000 00000000'), quotedV6()]),
    { kind: 'unreachable', code: 3, mtu: 0, quoted: { destination: 'fd00:1::13', id: 0x4242, seq: 300 } }],
  ['IPv6 echo reply', 6, hex('81 00 1234 abcd 0001 0102030405060708 0000'), { kind: 'echo-reply', id: 0xabcd, seq: 1, token: TOKEN }],
  ['IPv6 echo request (someone pinging us)', 6, hex('80 00 1234 abcd 0001 0102030405060708'), { kind: 'echo-request' }],
  ['IPv4 router advertisement', 4, hex('09 00 0000 00000000'), { kind: 'other', type: 9, code: 0 }],
];

for (const [name, family, bytes, expected] of errors) {
  test(`decodeIcmp: ${name}`, (t) => {
    t.deepEqual(decodeIcmp(family, bytes), expected);
  });
}

const malformed: [string, () => unknown, CheckErrorCode][] = [
  ['ICMP shorter than its header', () => decodeIcmp(4, hex('000000')), 'ICMP_TRUNCATED'],
  ['echo reply without its token', () => decodeIcmp(4, hex('00 00 0000 1234 0001 0102')), 'ICMP_TRUNCATED'],
  ['IPv4 packet shorter than 20 bytes', () => decodeIpv4(hex('4500001c')), 'ICMP_TRUNCATED'],
  ['IPv6 bytes on the IPv4 socket', () => decodeIpv4(Buffer.concat([hex('60000000'), Buffer.alloc(36)])), 'IP_NOT_IPV4'],
  ['IHL below 5', () => decodeIpv4(Buffer.concat([hex('44000020'), Buffer.alloc(28)])), 'ICMP_TRUNCATED'],
];

for (const [name, fn, code] of malformed) {
  test(`malformed: ${name} is CheckError ${code}`, (t) => {
    const e = t.throws(fn, { instanceOf: CheckError });
    t.is(e?.code, code);
  });
}

test('the decoder does not copy or change its input; a total length shorter than the datagram cuts the payload', (t) => {
  const reply = encodeEcho({ family: 4, id: 1, seq: 2, token: TOKEN, length: 16 });
  reply[0] = 0;
  const datagram = Buffer.concat([hex('45000024 00000000 40010000 0a000001 0a000002'), reply, hex('ffff')]);
  const before = Buffer.from(datagram);
  const p = decodeIpv4(datagram);
  t.is(p.payload.length, 16);
  t.is(p.payload.buffer, datagram.buffer);
  t.deepEqual(datagram, before);
});
