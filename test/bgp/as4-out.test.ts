/**
 * RFC 6793 section 4.2.2 toward a 2-octet (OLD) peer, golden bytes annotated field by field: AS_TRANS
 * in AS_PATH and AGGREGATOR, the real values in AS4_PATH and AS4_AGGREGATOR, none of them when every
 * AS fits 2 octets; toward a 4-octet peer never AS4_*; the OPEN's My Autonomous System is AS_TRANS.
 * Then the receiving side merges the bytes back into the real path (section 4.2.3).
 */

import test from 'ava';
import { AS_TRANS, as4Outbound, contextWith, decodeUpdate, encodeAsPath, encodeOpen, packUpdates, parsePrefix, type PathAttributes } from '../../agent/bgp/index.js';
import { buildOpen } from '../../agent/session/negotiate.js';
import { receivedUpdate } from '../../agent/session/receive.js';
import { hex } from './build.js';

const OLD = contextWith({ fourOctetAs: false, external: true });
const NEW = contextWith({ fourOctetAs: true, external: true });
const P = parsePrefix('192.168.0.0/26');
const HEADER = (len: number): string => `${'ff'.repeat(16)} ${len.toString(16).padStart(4, '0')} 02`;

const rows: { name: string; attrs: PathAttributes; ctx: typeof OLD; wire: string }[] = [
  {
    name: 'our 4-octet AS to a 2-octet peer: AS_TRANS in AS_PATH, the real path in AS4_PATH',
    attrs: { origin: 0, asPath: [{ type: 'sequence', asns: [4200000101, 65100] }], nextHop: '10.0.1.13' },
    ctx: OLD,
    wire: `${HEADER(0x3d)} 0000 0021
      40 01 01 00                                   ORIGIN IGP
      40 02 06 02 02 5ba0 fe4c                      AS_PATH: SEQUENCE of 2, AS_TRANS 65100
      40 03 04 0a00010d                             NEXT_HOP 10.0.1.13
      c0 11 0a 02 02 fa56ea65 0000fe4c              AS4_PATH: SEQUENCE of 2, 4200000101 65100
      1a c0a80000                                   NLRI 192.168.0.0/26`,
  },
  {
    name: 'every AS fits 2 octets: no AS4_PATH (RFC 6793 4.2.2 SHOULD NOT)',
    attrs: { origin: 0, asPath: [{ type: 'sequence', asns: [65001, 65100] }], nextHop: '10.0.1.13' },
    ctx: OLD,
    wire: `${HEADER(0x30)} 0000 0014
      40 01 01 00                                   ORIGIN IGP
      40 02 06 02 02 fde9 fe4c                      AS_PATH: SEQUENCE of 2, 65001 65100
      40 03 04 0a00010d                             NEXT_HOP 10.0.1.13
      1a c0a80000                                   NLRI 192.168.0.0/26`,
  },
  {
    name: 'AGGREGATOR of a 4-octet AS: AS_TRANS there, AS4_AGGREGATOR beside it',
    attrs: { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }], nextHop: '10.0.1.13', aggregator: { asn: 4200000101, address: '10.0.0.1' } },
    ctx: OLD,
    wire: `${HEADER(0x42)} 0000 0026
      40 01 01 00                                   ORIGIN IGP
      40 02 04 02 01 fde9                           AS_PATH: SEQUENCE of 1, 65001
      40 03 04 0a00010d                             NEXT_HOP 10.0.1.13
      c0 07 06 5ba0 0a000001                        AGGREGATOR AS_TRANS 10.0.0.1
      c0 12 08 fa56ea65 0a000001                    AS4_AGGREGATOR 4200000101 10.0.0.1
      1a c0a80000                                   NLRI 192.168.0.0/26`,
  },
  {
    name: 'confederation segments stay out of AS4_PATH',
    attrs: { origin: 0, asPath: [{ type: 'confed-sequence', asns: [64512] }, { type: 'sequence', asns: [4200000101] }], nextHop: '10.0.1.13' },
    ctx: OLD,
    wire: `${HEADER(0x3b)} 0000 001f
      40 01 01 00                                   ORIGIN IGP
      40 02 08 03 01 fc00 02 01 5ba0                AS_PATH: CONFED_SEQUENCE 64512, SEQUENCE AS_TRANS
      40 03 04 0a00010d                             NEXT_HOP 10.0.1.13
      c0 11 06 02 01 fa56ea65                       AS4_PATH: SEQUENCE 4200000101 only
      1a c0a80000                                   NLRI 192.168.0.0/26`,
  },
  {
    name: 'to a 4-octet peer: 4-octet AS_PATH, a stray AS4_PATH is not sent (RFC 6793 4.1)',
    attrs: { origin: 0, asPath: [{ type: 'sequence', asns: [4200000101, 65100] }], nextHop: '10.0.1.13', as4Path: [{ type: 'sequence', asns: [1] }] },
    ctx: NEW,
    wire: `${HEADER(0x34)} 0000 0018
      40 01 01 00                                   ORIGIN IGP
      40 02 0a 02 02 fa56ea65 0000fe4c              AS_PATH: SEQUENCE of 2, 4-octet
      40 03 04 0a00010d                             NEXT_HOP 10.0.1.13
      1a c0a80000                                   NLRI 192.168.0.0/26`,
  },
];

/** The hex of an annotated vector: a comment follows two or more spaces on its line. */
const strip = (s: string): string => s.split('\n').map((l) => l.trim().replace(/\s{2,}.*$/, '')).join(' ');

for (const r of rows) {
  test(`as4 out: ${r.name}`, (t) => {
    const [msg, ...more] = packUpdates({ announce: [{ attributes: r.attrs, prefixes: [P] }] }, r.ctx);
    t.is(more.length, 0);
    t.is(Buffer.from(msg).toString('hex'), Buffer.from(hex(strip(r.wire))).toString('hex'));
  });
}

test('as4 out: the 2-octet bytes merge back into the real path on receipt (RFC 6793 4.2.3)', (t) => {
  const real: PathAttributes = { origin: 0, asPath: [{ type: 'sequence', asns: [4200000101, 65100] }], nextHop: '10.0.1.13', aggregator: { asn: 4200000101, address: '10.0.0.1' } };
  const [msg] = packUpdates({ announce: [{ attributes: real, prefixes: [P] }] }, OLD);
  const u = receivedUpdate(decodeUpdate(msg, OLD), false);
  t.deepEqual(u.attributes, real);
});

test('as4 out: as4Outbound leaves a path that needs nothing as the same object (interned sets stay shared)', (t) => {
  const a: PathAttributes = { origin: 0, asPath: [{ type: 'sequence', asns: [65001] }] };
  t.is(as4Outbound(a, false), a);
  t.is(as4Outbound(a, true), a);
});

test('as4 out: encodeAsPath at 2 octets writes AS_TRANS, never the low 16 bits', (t) => {
  t.deepEqual([...encodeAsPath([{ type: 'sequence', asns: [4200000101] }], 2)], [2, 1, 0x5b, 0xa0]);
  t.is(AS_TRANS, 0x5ba0);
});

test('as4 out: the OPEN of a 4-octet AS carries AS_TRANS in My Autonomous System and the AS in the capability', (t) => {
  const open = buildOpen({ asn: 4200000101, routerId: '10.0.1.13', holdTime: 90, families: ['ipv4'] });
  t.is(open.myAs, AS_TRANS);
  t.deepEqual(open.capabilities.find((c) => c.kind === 'four-octet-as'), { kind: 'four-octet-as', asn: 4200000101 });
  const bytes = encodeOpen(open);
  t.deepEqual([bytes[20], bytes[21]], [0x5b, 0xa0]);
});
