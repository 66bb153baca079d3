/**
 * bench:rr's wire code: what the clients send, scanned back by the clients' own scanner, maps each
 * prefix to (client, slot) of plan.ts; End-of-RIB of both families (RFC 4724 section 2) and the
 * presence of ORIGINATOR_ID / CLUSTER_LIST (RFC 4456) are reported; the agent's own decoder
 * accepts what the clients send.
 */
import test from 'ava';
import { decodeMessage } from '../../../agent/bgp/index.js';
import { blockV4, blockV6, keyOfV4, keyOfV6, nextHopV6, Slot } from './plan.js';
import { EOR_V4, EOR_V6, open, scanUpdate, updateV4, updateV6, type UpdateSink } from './wire.js';

function scan(b: Buffer) {
  const got = { routes: [] as [number, boolean][], reflected: [] as [number, boolean, boolean][], eor: [] as number[] };
  const sink: UpdateSink = {
    route: (key, announced) => got.routes.push([key, announced]),
    reflected: (family, o, c) => got.reflected.push([family, o, c]),
    endOfRib: (family) => got.eor.push(family),
  };
  scanUpdate(b, sink);
  return got;
}

test('IPv4 UPDATE: withdrawn and announced /26 map back to (client, slot)', (t) => {
  const got = scan(updateV4(0x0a800008, [blockV4(7, Slot.CHURN), blockV4(7, Slot.B)], [blockV4(7, Slot.A)]));
  t.deepEqual(got.routes, [[7 << 2 | Slot.A, false], [7 << 2 | Slot.CHURN, true], [7 << 2 | Slot.B, true]]);
  t.deepEqual(got.reflected, [[4, false, false]]);
  t.deepEqual(got.eor, []);
});

test('IPv6 UPDATE: the MP_REACH_NLRI /122 maps back to (client, 2)', (t) => {
  const got = scan(updateV6(nextHopV6(1999), blockV6(1999)));
  t.deepEqual(got.routes, [[1999 << 2 | Slot.V6, true]]);
  t.deepEqual(got.reflected, [[6, false, false]]);
});

test('End-of-RIB for both families', (t) => {
  t.deepEqual(scan(EOR_V4).eor, [4]);
  t.deepEqual(scan(EOR_V6).eor, [6]);
  t.deepEqual(scan(EOR_V6).routes, []);
});

test('prefixes outside the plan are -1', (t) => {
  t.is(keyOfV4(blockV4(3, Slot.A), 24), -1);
  t.is(keyOfV4(blockV4(3, Slot.A) + 1, 26), -1);
  t.is(keyOfV4(blockV4(3, Slot.V6), 26), -1);
  const b = blockV6(3);
  b[15] = 1;
  t.is(keyOfV6(b, 0, 122), -1);
  t.is(keyOfV6(blockV6(3), 0, 64), -1);
});

test('the agent decodes what a client sends', (t) => {
  for (const m of [open(0x0a800001, 90), updateV4(0x0a800001, [blockV4(0, Slot.A)]), updateV6(nextHopV6(0), blockV6(0)), EOR_V4, EOR_V6]) {
    t.notThrows(() => decodeMessage(m));
  }
});
