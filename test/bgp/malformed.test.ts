/**
 * One case per error rule of RFC 4271 section 6 (header, OPEN, UPDATE), RFC 7606 (revised UPDATE
 * error handling), RFC 7607 (AS 0), RFC 6793 (AS4 attributes), RFC 9774 (AS_SET) and RFC 7313
 * (ROUTE-REFRESH length), asserting the NOTIFICATION code and subcode and the action.
 */

import test from 'ava';
import {
  AS_SET_REASON,
  BgpError,
  checkOpen,
  contextWith,
  decodeMessage,
  isTreatAsWithdraw,
  shutdownCommunication,
  type CodecContext,
  type ErrorAction,
  type UpdateMessage,
} from '../../agent/bgp/index.js';
import { AS_PATH_65100, MANDATORY, NEXT_HOP, NLRI_ONE, ORIGIN_IGP, attr, cat, message, update } from './build.js';

interface Case {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly ctx?: Partial<CodecContext>;
  readonly code: number;
  readonly subcode: number;
  readonly action: ErrorAction;
  /** Expected NOTIFICATION data, when the RFC says what it is. */
  readonly data?: Uint8Array | number[];
}

const open = (body: number[]): Uint8Array => message(1, body);
// version 4, AS 65101, hold 90, id 10.0.1.13
const OPEN_HEAD = [4, 0xfe, 0x4d, 0, 90, 10, 0, 1, 13];
const mp6 = (value: number[]): Uint8Array => attr(0x90, 14, value);
const MANDATORY_2OCTET = cat(ORIGIN_IGP, attr(0x40, 2, [2, 1, 0xfe, 0x4c]), NEXT_HOP);
const FD00 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

const cases: Case[] = [
  // RFC 4271 section 6.1: message header errors.
  { name: 'marker not all ones', bytes: cat(new Array(15).fill(0xff), [0xfe, 0, 19, 4]), code: 1, subcode: 1, action: 'reset' },
  { name: 'length below 19', bytes: message(4, [], 18), code: 1, subcode: 2, action: 'reset', data: [0, 18] },
  { name: 'length above 4096', bytes: message(2, new Array(4097 - 19).fill(0)), code: 1, subcode: 2, action: 'reset', data: [0x10, 0x01] },
  { name: 'OPEN shorter than 29', bytes: open([4, 0, 1, 0, 90, 1, 2, 3]), code: 1, subcode: 2, action: 'reset', data: [0, 27] },
  { name: 'KEEPALIVE longer than 19', bytes: message(4, [0]), code: 1, subcode: 2, action: 'reset', data: [0, 20] },
  { name: 'UPDATE shorter than 23', bytes: message(2, [0, 0, 0]), code: 1, subcode: 2, action: 'reset', data: [0, 22] },
  { name: 'NOTIFICATION shorter than 21', bytes: message(3, [6]), code: 1, subcode: 2, action: 'reset', data: [0, 20] },
  { name: 'ROUTE-REFRESH shorter than 23', bytes: message(5, [0, 1, 0]), code: 1, subcode: 2, action: 'reset', data: [0, 22] },
  { name: 'unknown message type', bytes: message(9, []), code: 1, subcode: 3, action: 'reset', data: [9] },
  { name: 'OPEN above 4096 even with extended messages', bytes: open([...OPEN_HEAD, 255, 255, 0x10, 0x00, ...new Array(4096).fill(0)]), ctx: { maxLength: 65535 }, code: 1, subcode: 2, action: 'reset' },

  // RFC 4271 section 6.2: OPEN errors found by decoding.
  { name: 'unsupported version', bytes: open([3, 0xfe, 0x4d, 0, 90, 10, 0, 1, 13, 0]), code: 2, subcode: 1, action: 'reset', data: [0, 4] },
  { name: 'unsupported optional parameter', bytes: open([...OPEN_HEAD, 4, 1, 2, 0, 0]), code: 2, subcode: 4, action: 'reset' },
  { name: 'malformed capability (multiprotocol of 3 bytes)', bytes: open([...OPEN_HEAD, 7, 2, 5, 1, 3, 0, 1, 0]), code: 2, subcode: 0, action: 'reset' },
  { name: 'malformed capability (4-octet AS of 2 bytes)', bytes: open([...OPEN_HEAD, 6, 2, 4, 65, 2, 0, 1]), code: 2, subcode: 0, action: 'reset' },
  { name: 'malformed capability (graceful restart of 3 bytes)', bytes: open([...OPEN_HEAD, 7, 2, 5, 64, 3, 0, 120, 0]), code: 2, subcode: 0, action: 'reset' },
  { name: 'capability overruns its parameter', bytes: open([...OPEN_HEAD, 4, 2, 2, 65, 4]), code: 2, subcode: 0, action: 'reset' },
  { name: 'optional parameters length disagrees with the message', bytes: open([...OPEN_HEAD, 9, 2, 2, 2, 0]), code: 2, subcode: 0, action: 'reset' },
  { name: 'optional parameter overruns', bytes: open([...OPEN_HEAD, 3, 2, 9, 2]), code: 2, subcode: 0, action: 'reset' },

  // RFC 4271 section 6.3 with RFC 7606: UPDATE errors that reset the session.
  { name: 'withdrawn routes length exceeds the message', bytes: message(2, [0, 9, 0, 0]), code: 3, subcode: 1, action: 'reset' },
  { name: 'total attribute length exceeds the message', bytes: message(2, [0, 0, 0, 9]), code: 3, subcode: 1, action: 'reset' },
  { name: 'withdrawn prefix longer than 32 (RFC 7606 3.g)', bytes: update({ withdrawn: [33, 1, 2, 3, 4, 5] }), code: 3, subcode: 10, action: 'reset' },
  { name: 'withdrawn prefix overruns', bytes: update({ withdrawn: [24, 10, 0] }), code: 3, subcode: 10, action: 'reset' },
  { name: 'NLRI prefix longer than 32', bytes: update({ attrs: MANDATORY, nlri: [33, 1, 2, 3, 4, 5] }), code: 3, subcode: 10, action: 'reset' },
  { name: 'NLRI prefix overruns the message', bytes: update({ attrs: MANDATORY, nlri: [26, 192, 168] }), code: 3, subcode: 10, action: 'reset' },
  { name: 'add-path NLRI truncated path id', bytes: update({ attrs: MANDATORY, nlri: [0, 0, 1] }), ctx: { addPathIpv4: true }, code: 3, subcode: 10, action: 'reset' },
  { name: 'unrecognized well-known attribute', bytes: update({ attrs: attr(0x40, 200, [1]) }), code: 3, subcode: 2, action: 'reset', data: [0x40, 200, 1, 1] },
  { name: 'MP_REACH_NLRI shorter than 5 bytes', bytes: update({ attrs: mp6([0, 2, 1, 16]) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_REACH_NLRI next hop length overruns', bytes: update({ attrs: mp6([0, 2, 1, 32, ...FD00, 0]) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_REACH_NLRI IPv6 next hop of 8 bytes', bytes: update({ attrs: mp6([0, 2, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0]) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_REACH_NLRI IPv6 with a 4-byte next hop', bytes: update({ attrs: mp6([0, 2, 1, 4, 10, 0, 0, 1, 0]) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_REACH_NLRI prefix longer than 128', bytes: update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, mp6([0, 2, 1, 16, ...FD00, 0, 129, ...new Array(17).fill(0)])) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_UNREACH_NLRI shorter than 3 bytes', bytes: update({ attrs: attr(0x90, 15, [0, 2]) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_UNREACH_NLRI prefix overruns', bytes: update({ attrs: attr(0x90, 15, [0, 2, 1, 64, 0xfd, 0]) }), code: 3, subcode: 9, action: 'reset' },
  { name: 'MP_REACH_NLRI with wrong flags (RFC 7606 3.c, reset for MP)', bytes: update({ attrs: attr(0x40, 14, [0, 2, 1, 16, ...FD00, 0]) }), code: 3, subcode: 4, action: 'reset' },
  { name: 'MP_REACH_NLRI twice (RFC 7606 3.g)', bytes: update({ attrs: cat(mp6([0, 2, 1, 16, ...FD00, 0]), mp6([0, 2, 1, 16, ...FD00, 0])) }), code: 3, subcode: 1, action: 'reset' },

  // RFC 7606 treat-as-withdraw.
  { name: 'attribute length overruns the list (RFC 7606 4)', bytes: update({ attrs: cat(ORIGIN_IGP, [0x40, 2, 9, 2]), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'stray bytes after the last attribute (RFC 7606 4)', bytes: update({ attrs: cat(MANDATORY, [0x40, 1]), nlri: NLRI_ONE }), code: 3, subcode: 1, action: 'withdraw' },
  { name: 'extended-length header truncated (RFC 7606 4)', bytes: update({ attrs: cat(MANDATORY, [0x50, 8, 0]), nlri: NLRI_ONE }), code: 3, subcode: 1, action: 'withdraw' },
  { name: 'ORIGIN flags conflict (RFC 7606 3.c)', bytes: update({ attrs: cat(attr(0xc0, 1, [0]), AS_PATH_65100, NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 4, action: 'withdraw', data: [0xc0, 1, 1, 0] },
  { name: 'ORIGIN of 2 bytes (RFC 7606 7.1)', bytes: update({ attrs: cat(attr(0x40, 1, [0, 0]), AS_PATH_65100, NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'ORIGIN value 3 (RFC 7606 7.1)', bytes: update({ attrs: cat(attr(0x40, 1, [3]), AS_PATH_65100, NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 6, action: 'withdraw', data: [0x40, 1, 1, 3] },
  { name: 'AS_PATH unknown segment type (RFC 7606 7.2)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [5, 1, 0, 0, 0, 1]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH segment overrun (RFC 7606 7.2)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [2, 2, 0, 0, 0, 1]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH segment of zero ASes (RFC 7606 7.2)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [2, 0]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH truncated segment header (RFC 7606 7.2)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [2, 1, 0, 0, 0, 1, 2]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH with an AS_SET (RFC 9774 3)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [2, 1, 0, 0, 0xfe, 0x4c, 1, 2, 0, 0, 0xfe, 0x4d, 0, 0, 0xfe, 0x4e]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH with an AS_CONFED_SET (RFC 9774 3)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [4, 1, 0, 0, 0xfc, 0x00, 2, 1, 0, 0, 0xfe, 0x4c]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH with an AS_SET, 2-octet session (RFC 9774 3)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [1, 1, 0xfe, 0x4c]), NEXT_HOP), nlri: NLRI_ONE }), ctx: { fourOctetAs: false }, code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS4_PATH with an AS_SET on a 2-octet session (RFC 9774 3: withdraw, not discard)', bytes: update({ attrs: cat(MANDATORY_2OCTET, attr(0xc0, 17, [1, 1, 0xfa, 0x56, 0xea, 0x65])), nlri: NLRI_ONE }), ctx: { fourOctetAs: false }, code: 3, subcode: 11, action: 'withdraw' },
  { name: 'AS_PATH containing AS 0 (RFC 7607)', bytes: update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [2, 1, 0, 0, 0, 0]), NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 11, action: 'withdraw' },
  { name: 'NEXT_HOP of 5 bytes (RFC 7606 7.3)', bytes: update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, attr(0x40, 3, [10, 0, 1, 1, 0])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'NEXT_HOP 0.0.0.0 (RFC 4271 6.3)', bytes: update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, attr(0x40, 3, [0, 0, 0, 0])), nlri: NLRI_ONE }), code: 3, subcode: 8, action: 'withdraw' },
  { name: 'NEXT_HOP multicast (RFC 4271 6.3)', bytes: update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, attr(0x40, 3, [224, 0, 0, 5])), nlri: NLRI_ONE }), code: 3, subcode: 8, action: 'withdraw' },
  { name: 'MULTI_EXIT_DISC of 3 bytes (RFC 7606 7.4)', bytes: update({ attrs: cat(MANDATORY, attr(0x80, 4, [0, 0, 1])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'LOCAL_PREF of 3 bytes (RFC 7606 7.5)', bytes: update({ attrs: cat(MANDATORY, attr(0x40, 5, [0, 0, 100])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'COMMUNITIES of 5 bytes (RFC 7606 7.8)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 8, [0, 0, 0, 1, 2])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'COMMUNITIES empty (RFC 7606 7.8)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 8, [])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'ORIGINATOR_ID of 3 bytes (RFC 7606 7.9)', bytes: update({ attrs: cat(MANDATORY, attr(0x80, 9, [1, 2, 3])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'CLUSTER_LIST of 6 bytes (RFC 7606 7.10)', bytes: update({ attrs: cat(MANDATORY, attr(0x80, 10, [1, 2, 3, 4, 5, 6])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'EXTENDED_COMMUNITIES of 7 bytes (RFC 7606 7.14)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 16, [0, 2, 0, 1, 0, 0, 0])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'LARGE_COMMUNITY of 13 bytes (RFC 8092 6)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 32, new Array(13).fill(1))), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'withdraw' },
  { name: 'COMMUNITIES flagged non-transitive (RFC 7606 3.c)', bytes: update({ attrs: cat(MANDATORY, attr(0x80, 8, [0, 0, 0, 1])), nlri: NLRI_ONE }), code: 3, subcode: 4, action: 'withdraw' },
  { name: 'ORIGIN missing (RFC 7606 3.d)', bytes: update({ attrs: cat(AS_PATH_65100, NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 3, action: 'withdraw', data: [1] },
  { name: 'AS_PATH missing (RFC 7606 3.d)', bytes: update({ attrs: cat(ORIGIN_IGP, NEXT_HOP), nlri: NLRI_ONE }), code: 3, subcode: 3, action: 'withdraw', data: [2] },
  { name: 'NEXT_HOP missing with NLRI in the body (RFC 7606 3.d)', bytes: update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100), nlri: NLRI_ONE }), code: 3, subcode: 3, action: 'withdraw', data: [3] },
  { name: 'ORIGIN missing with NLRI in MP_REACH_NLRI', bytes: update({ attrs: cat(AS_PATH_65100, mp6([0, 2, 1, 16, ...FD00, 0, 64, 0xfd, 0, 0, 1, 0, 0, 0, 0])) }), code: 3, subcode: 3, action: 'withdraw', data: [1] },

  // RFC 7606 attribute discard.
  { name: 'ATOMIC_AGGREGATE of 1 byte (RFC 7606 7.6)', bytes: update({ attrs: cat(MANDATORY, attr(0x40, 6, [0])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'discard' },
  { name: 'AGGREGATOR of 7 bytes (RFC 7606 7.7)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 7, [0, 0, 1, 1, 2, 3, 4])), nlri: NLRI_ONE }), code: 3, subcode: 5, action: 'discard' },
  { name: 'AGGREGATOR with AS 0 (RFC 7607)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 7, [0, 0, 0, 0, 1, 2, 3, 4])), nlri: NLRI_ONE }), code: 3, subcode: 9, action: 'discard' },
  { name: 'AGGREGATOR flagged non-transitive (RFC 7606 3.c with 7.7)', bytes: update({ attrs: cat(MANDATORY, attr(0x80, 7, [0, 0, 0, 1, 1, 2, 3, 4])), nlri: NLRI_ONE }), code: 3, subcode: 4, action: 'discard' },
  { name: 'LOCAL_PREF from an external peer (RFC 7606 7.5)', bytes: update({ attrs: cat(MANDATORY, attr(0x40, 5, [0, 0, 0, 100])), nlri: NLRI_ONE }), ctx: { external: true }, code: 3, subcode: 1, action: 'discard' },
  { name: 'ORIGIN twice: the second is discarded (RFC 7606 3.g)', bytes: update({ attrs: cat(MANDATORY, attr(0x40, 1, [1])), nlri: NLRI_ONE }), code: 3, subcode: 1, action: 'discard' },
  { name: 'AS4_PATH malformed on a 2-octet session (RFC 6793 6)', bytes: update({ attrs: cat(MANDATORY_2OCTET, attr(0xc0, 17, [2, 1, 0, 1])), nlri: NLRI_ONE }), ctx: { fourOctetAs: false }, code: 3, subcode: 11, action: 'discard' },
  { name: 'AS4_PATH from a 4-octet speaker (RFC 6793 4.1)', bytes: update({ attrs: cat(MANDATORY, attr(0xc0, 17, [2, 1, 0, 1, 0, 1])), nlri: NLRI_ONE }), code: 3, subcode: 9, action: 'discard' },
  { name: 'AS4_AGGREGATOR of 6 bytes (RFC 6793 6)', bytes: update({ attrs: cat(MANDATORY_2OCTET, attr(0xc0, 18, [0, 1, 1, 2, 3, 4])), nlri: NLRI_ONE }), ctx: { fourOctetAs: false }, code: 3, subcode: 5, action: 'discard' },

  // RFC 7313 section 5.
  { name: 'ROUTE-REFRESH longer than 23', bytes: message(5, [0, 1, 0, 1, 0]), code: 7, subcode: 1, action: 'reset' },
];

for (const c of cases) {
  test(`malformed: ${c.name}`, (t) => {
    const ctx = contextWith(c.ctx ?? {});
    let err: BgpError | undefined;
    let decoded: ReturnType<typeof decodeMessage> | undefined;
    try {
      decoded = decodeMessage(c.bytes, ctx);
    } catch (e) {
      t.true(e instanceof BgpError, `threw ${String(e)}`);
      err = e as BgpError;
    }
    if (c.action === 'reset') {
      t.truthy(err, 'a session reset is thrown');
    } else {
      t.is(err, undefined, `decoded without throwing (${err?.message})`);
      t.is(decoded?.type, 'update');
      const errors = (decoded as UpdateMessage).errors ?? [];
      t.is(errors.length, 1, errors.map((e) => e.message).join('; '));
      err = errors[0];
      t.is(isTreatAsWithdraw(decoded as UpdateMessage), c.action === 'withdraw');
    }
    t.is(err?.code, c.code, err?.message);
    t.is(err?.subcode, c.subcode, err?.message);
    t.is(err?.action, c.action);
    if (c.data) t.deepEqual(err?.data, Uint8Array.from(c.data));
  });
}

test('RFC 9774: AS_SET and AS_CONFED_SET have their own reason code; AS_CONFED_SEQUENCE is fine', (t) => {
  const set = decodeMessage(update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [1, 1, 0, 0, 0xfe, 0x4c]), NEXT_HOP), nlri: NLRI_ONE })) as UpdateMessage;
  t.deepEqual(set.errors?.map((e) => e.reason), [AS_SET_REASON]);
  const confedSeq = decodeMessage(update({ attrs: cat(ORIGIN_IGP, attr(0x40, 2, [3, 1, 0, 0, 0xfc, 0x00, 2, 1, 0, 0, 0xfe, 0x4c]), NEXT_HOP), nlri: NLRI_ONE })) as UpdateMessage;
  t.is(confedSeq.errors, undefined);
  t.deepEqual(confedSeq.attributes.asPath, [{ type: 'confed-sequence', asns: [64512] }, { type: 'sequence', asns: [65100] }]);
});

test('discarded attributes are absent, the rest of the UPDATE stands', (t) => {
  const u = decodeMessage(update({ attrs: cat(MANDATORY, attr(0xc0, 7, [0, 0, 1, 1, 2, 3, 4])), nlri: NLRI_ONE })) as UpdateMessage;
  t.is(u.attributes.aggregator, undefined);
  t.is(u.attributes.origin, 0);
  t.is(u.nlri.length, 1);
});

test('the strongest action wins when discard and withdraw meet (RFC 7606 3.f)', (t) => {
  const u = decodeMessage(update({ attrs: cat(MANDATORY, attr(0x40, 6, [0]), attr(0xc0, 8, [1])), nlri: NLRI_ONE })) as UpdateMessage;
  t.deepEqual(u.errors?.map((e) => e.action), ['discard', 'withdraw']);
  t.true(isTreatAsWithdraw(u));
});

test('an unknown optional non-transitive attribute is dropped silently', (t) => {
  const u = decodeMessage(update({ attrs: cat(MANDATORY, attr(0x80, 250, [1, 2])), nlri: NLRI_ONE })) as UpdateMessage;
  t.is(u.errors, undefined);
  t.is(u.attributes.unknown, undefined);
});

test('an unknown optional transitive attribute is kept with the Partial bit', (t) => {
  const u = decodeMessage(update({ attrs: cat(MANDATORY, attr(0xc0, 250, [1, 2])), nlri: NLRI_ONE })) as UpdateMessage;
  t.deepEqual(u.attributes.unknown, [{ code: 250, flags: 0xe0, value: Uint8Array.of(1, 2) }]);
});

test('NEXT_HOP is not required when the NLRI is in MP_REACH_NLRI only', (t) => {
  const u = decodeMessage(update({ attrs: cat(ORIGIN_IGP, AS_PATH_65100, mp6([0, 2, 1, 16, ...FD00, 0, 64, 0xfd, 0, 0, 1, 0, 0, 0, 0])) })) as UpdateMessage;
  t.is(u.errors, undefined);
  t.is(u.attributes.mpReach?.nlri.length, 1);
});

test('a withdraw-only UPDATE needs no mandatory attributes', (t) => {
  const u = decodeMessage(update({ withdrawn: NLRI_ONE })) as UpdateMessage;
  t.is(u.errors, undefined);
  t.is(u.withdrawn.length, 1);
});

test('messages up to 65535 bytes pass once extended messages are negotiated (RFC 8654)', (t) => {
  const big = update({ attrs: cat(MANDATORY, attr(0xd0, 8, new Array(8000).fill(1))), nlri: NLRI_ONE });
  t.throws(() => decodeMessage(big), { instanceOf: BgpError });
  const u = decodeMessage(big, contextWith({ maxLength: 65535 })) as UpdateMessage;
  t.is(u.attributes.communities?.length, 2000);
});

// RFC 4271 section 6.2 checks that need configuration: checkOpen.
const OPEN_OK = { type: 'open' as const, version: 4, myAs: 65100, holdTime: 90, bgpId: '10.0.1.1', capabilities: [] };
const openChecks: { name: string; open: typeof OPEN_OK; expect: Parameters<typeof checkOpen>[1]; subcode?: number }[] = [
  { name: 'accepts a good OPEN', open: OPEN_OK, expect: { peerAs: 65100 } },
  { name: 'bad peer AS', open: OPEN_OK, expect: { peerAs: 65101 }, subcode: 2 },
  { name: 'bad peer AS via the 4-octet capability', open: { ...OPEN_OK, myAs: 23456, capabilities: [{ kind: 'four-octet-as', asn: 4200000100 }] as never }, expect: { peerAs: 4200000101 }, subcode: 2 },
  { name: 'accepts the 4-octet capability AS', open: { ...OPEN_OK, myAs: 23456, capabilities: [{ kind: 'four-octet-as', asn: 4200000100 }] as never }, expect: { peerAs: 4200000100 } },
  { name: 'external (an unnumbered peer): any AS but ours', open: OPEN_OK, expect: { notAs: 65200 } },
  { name: 'external (an unnumbered peer): our own AS is a bad peer AS', open: OPEN_OK, expect: { notAs: 65100 }, subcode: 2 },
  { name: 'AS 0 (RFC 7607)', open: { ...OPEN_OK, myAs: 0 }, expect: {}, subcode: 2 },
  { name: 'hold time 1', open: { ...OPEN_OK, holdTime: 1 }, expect: {}, subcode: 6 },
  { name: 'hold time 2', open: { ...OPEN_OK, holdTime: 2 }, expect: {}, subcode: 6 },
  { name: 'hold time 0 is allowed', open: { ...OPEN_OK, holdTime: 0 }, expect: {} },
  { name: 'BGP identifier 0.0.0.0', open: { ...OPEN_OK, bgpId: '0.0.0.0' }, expect: {}, subcode: 3 },
  { name: 'iBGP peer with our BGP identifier', open: OPEN_OK, expect: { internal: true, localId: '10.0.1.1' }, subcode: 3 },
  { name: 'eBGP peer with our BGP identifier is allowed (RFC 6286)', open: OPEN_OK, expect: { internal: false, localId: '10.0.1.1' } },
];
for (const c of openChecks) {
  test(`checkOpen: ${c.name}`, (t) => {
    const err = checkOpen(c.open, c.expect);
    if (c.subcode === undefined) t.is(err, undefined);
    else {
      t.is(err?.code, 2);
      t.is(err?.subcode, c.subcode);
      t.is(err?.action, 'reset');
    }
  });
}

const shutdowns: { name: string; data: number[]; text?: string }[] = [
  { name: 'valid', data: [4, 0x74, 0x65, 0x73, 0x74], text: 'test' },
  { name: 'length beyond the data', data: [9, 0x74], text: undefined },
  { name: 'invalid UTF-8', data: [2, 0xc3, 0x28], text: undefined },
  { name: 'empty', data: [], text: undefined },
];
for (const s of shutdowns) {
  test(`shutdown communication (RFC 9003): ${s.name}`, (t) => {
    t.is(shutdownCommunication({ code: 6, subcode: 2, data: Uint8Array.from(s.data) }), s.text);
  });
}
