/**
 * The BFD Control packet codec (RFC 5880 section 4.1): round trips, a golden vector annotated field
 * by field, and the malformed-packet table of section 6.8.6: each row's bytes must throw a
 * BfdError with that code.
 */

import test from 'ava';
import { BfdError } from '../../agent/bfd/errors.js';
import { decodeControl, encodeControl, type ControlPacket } from '../../agent/bfd/packet.js';

export const UP: ControlPacket = {
  version: 1, diag: 0, state: 'Up', poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false,
  detectMult: 3, myDiscr: 0x11223344, yourDiscr: 0x55667788, desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0,
};

// A packet as BIRD 2 sends it Up with 100 ms intervals, field by field.
const GOLDEN = Buffer.from([
  0x20, // version 1 (001), diag 0
  0xc0, // state 3 Up (11), P F C A D M clear
  0x03, // Detect Mult 3
  0x18, // Length 24
  0x11, 0x22, 0x33, 0x44, // My Discriminator
  0x55, 0x66, 0x77, 0x88, // Your Discriminator
  0x00, 0x01, 0x86, 0xa0, // Desired Min TX 100000 us
  0x00, 0x01, 0x86, 0xa0, // Required Min RX 100000 us
  0x00, 0x00, 0x00, 0x00, // Required Min Echo RX 0
]);

test('the golden vector decodes field by field and encodes to the same bytes', (t) => {
  t.deepEqual(decodeControl(GOLDEN), UP);
  t.deepEqual(encodeControl(UP), GOLDEN);
});

const VARIANTS: readonly Partial<ControlPacket>[] = [
  { state: 'AdminDown', diag: 7, yourDiscr: 0 },
  { state: 'Down', diag: 1 },
  { state: 'Init', poll: true },
  { state: 'Up', final: true, cpi: true },
  { state: 'Up', demand: true, detectMult: 255, desiredMinTx: 0xffffffff, requiredMinRx: 0, requiredMinEchoRx: 50_000 },
  { diag: 8, myDiscr: 0xffffffff, yourDiscr: 1 },
];

for (const [i, v] of VARIANTS.entries()) {
  test(`round trip ${i}: ${JSON.stringify(v)}`, (t) => {
    const p = { ...UP, ...v };
    const bytes = encodeControl(p);
    t.is(bytes.length, 24);
    t.is(bytes[3], bytes.length);
    t.deepEqual(decodeControl(bytes), p);
    t.deepEqual(encodeControl(decodeControl(bytes)), bytes);
  });
}

test('a longer datagram decodes only its Length bytes; the input is not modified', (t) => {
  const buf = Buffer.concat([GOLDEN, Buffer.from([1, 2, 3])]);
  const copy = Buffer.from(buf);
  t.deepEqual(decodeControl(buf), UP);
  t.deepEqual(buf, copy);
});

function mutate(f: (b: Buffer) => Buffer | void): Buffer {
  const b = Buffer.from(GOLDEN);
  return f(b) ?? b;
}

/** Section 6.8.6 discard rules that need only the bytes, one row each. */
export const MALFORMED: readonly { name: string; bytes: Buffer; code: BfdError['code'] }[] = [
  { name: 'empty', bytes: Buffer.alloc(0), code: 'SHORT' },
  { name: '23 bytes', bytes: GOLDEN.subarray(0, 23), code: 'SHORT' },
  { name: 'version 0', bytes: mutate((b) => void (b[0] = 0x00)), code: 'BAD_VERSION' },
  { name: 'version 2', bytes: mutate((b) => void (b[0] = 0x40)), code: 'BAD_VERSION' },
  { name: 'version 7', bytes: mutate((b) => void (b[0] = 0xe0)), code: 'BAD_VERSION' },
  { name: 'Length 23', bytes: mutate((b) => void (b[3] = 23)), code: 'BAD_LENGTH' },
  { name: 'Length 0', bytes: mutate((b) => void (b[3] = 0)), code: 'BAD_LENGTH' },
  { name: 'Length 25 in 24 bytes', bytes: mutate((b) => void (b[3] = 25)), code: 'BAD_LENGTH' },
  { name: 'Length 255', bytes: mutate((b) => void (b[3] = 255)), code: 'BAD_LENGTH' },
  { name: 'A bit with Length 24', bytes: mutate((b) => void (b[1] |= 0x04)), code: 'BAD_LENGTH' },
  { name: 'Detect Mult 0', bytes: mutate((b) => void (b[2] = 0)), code: 'ZERO_DETECT_MULT' },
  { name: 'M bit', bytes: mutate((b) => void (b[1] |= 0x01)), code: 'MULTIPOINT' },
  { name: 'My Discriminator 0', bytes: mutate((b) => void b.writeUInt32BE(0, 4)), code: 'ZERO_MY_DISCRIMINATOR' },
  {
    name: 'A bit with an authentication section (not configured)',
    bytes: mutate((b) => {
      b[1] |= 0x04;
      b[3] = 28;
      return Buffer.concat([b, Buffer.from([1, 4, 1, 0])]);
    }),
    code: 'AUTH_NOT_CONFIGURED',
  },
];

for (const row of MALFORMED) {
  test(`malformed: ${row.name} -> ${row.code}`, (t) => {
    const err = t.throws(() => decodeControl(row.bytes), { instanceOf: BfdError });
    t.is(err?.code, row.code);
  });
}
