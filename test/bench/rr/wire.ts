/**
 * bench:rr's own BGP wire code, kept apart from agent/bgp on purpose (the generator must not share
 * the reflector's bugs, and must be cheap): the few messages a client sends (RFC 4271 section 4:
 * OPEN with the capabilities of RFC 4760, 2918 and 6793; KEEPALIVE; UPDATE with NLRI or
 * MP_REACH_NLRI; End-of-RIB of RFC 4724 section 2) and a scanner over a received UPDATE that maps
 * each prefix to (client, slot) by plan.ts's arithmetic and reports whether ORIGINATOR_ID and
 * CLUSTER_LIST (RFC 4456 section 7) were there. No strings per prefix, no objects per route.
 * Not here: checking attribute values beyond presence, ADD-PATH, extended messages.
 */
import { AS, keyOfV4, keyOfV6 } from './plan.js';

export const Type = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;
const NEXT_HOP = 3;
const ORIGINATOR_ID = 9;
const CLUSTER_LIST = 10;
const MP_REACH = 14;
const MP_UNREACH = 15;

function message(type: number, body: Uint8Array): Buffer {
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = type;
  b.set(body, 19);
  return b;
}

export const KEEPALIVE = message(Type.KEEPALIVE, new Uint8Array(0));

/** OPEN: version 4, AS, hold time, BGP identifier; MP IPv4 and IPv6 unicast, route refresh, 4-octet AS. */
export function open(routerId: number, holdTime: number): Buffer {
  const caps = Buffer.from([
    1, 4, 0, 1, 0, 1, // MP: IPv4 unicast (RFC 4760)
    1, 4, 0, 2, 0, 1, // MP: IPv6 unicast
    2, 0, // route refresh (RFC 2918)
    65, 4, (AS >>> 24) & 255, (AS >>> 16) & 255, (AS >>> 8) & 255, AS & 255, // 4-octet AS (RFC 6793)
  ]);
  const body = Buffer.alloc(10 + 2 + caps.length);
  body[0] = 4;
  body.writeUInt16BE(AS > 0xffff ? 23456 : AS, 1);
  body.writeUInt16BE(holdTime, 3);
  body.writeUInt32BE(routerId, 5);
  body[9] = 2 + caps.length;
  body[10] = 2; // optional parameter: capabilities (RFC 5492)
  body[11] = caps.length;
  caps.copy(body, 12);
  return message(Type.OPEN, body);
}

/** ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100: what every client route carries. */
const COMMON = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100];

function v4Prefixes(list: readonly number[]): number[] {
  return list.flatMap((p) => [26, p >>> 24, (p >>> 16) & 255, (p >>> 8) & 255, p & 255]);
}

/** An IPv4 UPDATE: withdrawals, and announcements with NEXT_HOP `nextHop` (all /26). */
export function updateV4(nextHop: number, announce: readonly number[], withdraw: readonly number[] = []): Buffer {
  const wd = v4Prefixes(withdraw);
  const attrs = announce.length === 0 ? [] : [...COMMON, 0x40, NEXT_HOP, 4, nextHop >>> 24, (nextHop >>> 16) & 255, (nextHop >>> 8) & 255, nextHop & 255];
  const body = [wd.length >>> 8, wd.length & 255, ...wd, attrs.length >>> 8, attrs.length & 255, ...attrs, ...v4Prefixes(announce)];
  return message(Type.UPDATE, Uint8Array.from(body));
}

/** An IPv6 UPDATE: one /122 in MP_REACH_NLRI with a 16-byte global next hop. */
export function updateV6(nextHop: Uint8Array, prefix: Uint8Array): Buffer {
  const mp = [0, 2, 1, 16, ...nextHop, 0, 122, ...prefix];
  const attrs = [...COMMON, 0x80, MP_REACH, mp.length, ...mp];
  return message(Type.UPDATE, Uint8Array.from([0, 0, attrs.length >>> 8, attrs.length & 255, ...attrs]));
}

export const EOR_V4 = message(Type.UPDATE, new Uint8Array(4));
export const EOR_V6 = message(Type.UPDATE, Uint8Array.from([0, 0, 0, 6, 0x80, MP_UNREACH, 3, 0, 2, 1]));

/** What the scanner reports; `key` is client << 2 | slot, or -1 for a prefix outside the plan. */
export interface UpdateSink {
  route(key: number, announced: boolean): void;
  /** Once per UPDATE that announces something: were ORIGINATOR_ID and CLUSTER_LIST there. */
  reflected(family: 4 | 6, originatorId: boolean, clusterList: boolean): void;
  endOfRib(family: 4 | 6): void;
}

/** Malformed input: the scanner's only error. */
export class WireError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function v4Nlri(b: Uint8Array, at: number, end: number, announced: boolean, sink: UpdateSink): void {
  while (at < end) {
    const len = b[at];
    const n = (len + 7) >>> 3;
    if (len > 32 || at + 1 + n > end) throw new WireError('nlri', `bad IPv4 prefix length ${len}`);
    let addr = 0;
    for (let k = 0; k < 4; k++) addr = (addr << 8) | (k < n ? b[at + 1 + k] : 0);
    sink.route(keyOfV4(addr >>> 0, len), announced);
    at += 1 + n;
  }
}

function v6Nlri(b: Uint8Array, at: number, end: number, announced: boolean, sink: UpdateSink): void {
  while (at < end) {
    const len = b[at];
    const n = (len + 7) >>> 3;
    if (len > 128 || at + 1 + n > end) throw new WireError('nlri', `bad IPv6 prefix length ${len}`);
    sink.route(n === 16 ? keyOfV6(b, at + 1, len) : -1, announced);
    at += 1 + n;
  }
}

/** Scans one whole UPDATE message (header included) into `sink`. */
export function scanUpdate(b: Uint8Array, sink: UpdateSink): void {
  const end = (b[16] << 8) | b[17];
  let at = 19;
  const wdLen = (b[at] << 8) | b[at + 1];
  at += 2;
  if (at + wdLen + 2 > end) throw new WireError('update', 'withdrawn routes length');
  v4Nlri(b, at, at + wdLen, false, sink);
  at += wdLen;
  const attrLen = (b[at] << 8) | b[at + 1];
  at += 2;
  const attrEnd = at + attrLen;
  if (attrEnd > end) throw new WireError('update', 'path attributes length');
  let originator = false;
  let clusters = false;
  let reach6 = false;
  let unreach6 = -1;
  let attrs = 0;
  while (at < attrEnd) {
    const flags = b[at];
    const code = b[at + 1];
    const ext = (flags & 0x10) !== 0;
    const len = ext ? (b[at + 2] << 8) | b[at + 3] : b[at + 2];
    const v = at + (ext ? 4 : 3);
    if (v + len > attrEnd) throw new WireError('attr', `attribute ${code} overruns`);
    attrs++;
    if (code === ORIGINATOR_ID) originator = true;
    else if (code === CLUSTER_LIST) clusters = true;
    else if (code === MP_REACH || code === MP_UNREACH) {
      const afi = (b[v] << 8) | b[v + 1];
      const nlri = code === MP_REACH ? v + 5 + b[v + 3] : v + 3; // AFI, SAFI, next hop length, next hop, reserved
      const family = afi === 2 ? v6Nlri : v4Nlri;
      family(b, nlri, v + len, code === MP_REACH, sink);
      if (code === MP_REACH && afi === 2) reach6 = true;
      if (code === MP_UNREACH && afi === 2) unreach6 = v + len - nlri;
    }
    at = v + len;
  }
  v4Nlri(b, attrEnd, end, true, sink);
  if (end > attrEnd) sink.reflected(4, originator, clusters);
  if (reach6) sink.reflected(6, originator, clusters);
  if (wdLen === 0 && attrLen === 0) sink.endOfRib(4);
  else if (attrs === 1 && unreach6 === 0 && end === attrEnd) sink.endOfRib(6);
}
