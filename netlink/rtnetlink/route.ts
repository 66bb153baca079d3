/**
 * Route messages (RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE; linux/rtnetlink.h struct rtmsg and
 * the RTA_* attributes), decoded into plain data and encoded back. One table row per attribute:
 * a new attribute is one row and one test. RTA_MULTIPATH carries struct rtnexthop entries, each with
 * its own attributes (RTA_GATEWAY, RTA_VIA). Unknown attributes are skipped on decode.
 * Not here: what our routes should be (netlink/fib) or sending them (route-socket.ts).
 */
import { AF, RTA, RT_TABLE } from './constants.js';
import { NetlinkError } from './errors.js';
import { addressFamily, addressToText, afOf, familyOf, type Family, textToAddress } from './address.js';
import { align4, encodeAttr, forEachAttr, u32 } from './message.js';

export interface RouteNextHop {
  /** Gateway address text ('' for a device route); an IPv6 gateway of an IPv4 route comes from RTA_VIA. */
  readonly gateway: string;
  /** Output interface index; 0 lets the kernel resolve the gateway. */
  readonly ifindex: number;
  /** RTNH_F_* (ONLINK 4, LINKDOWN 16, ...). */
  readonly flags: number;
  /** 1..256 (rtnh_hops + 1). */
  readonly weight: number;
}

export interface RouteMessage {
  readonly family: Family;
  readonly dstLen: number;
  readonly srcLen: number;
  readonly tos: number;
  /** RTA_TABLE when present (tables above 255 need it), else rtm_table. */
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  /** RTN_* */
  readonly type: number;
  /** rtm_flags: RTNH_F_ONLINK for a single-path route, RTM_F_CLONED, ... */
  readonly flags: number;
  /** Destination address text; the family's zero address for a default route. */
  readonly dst: string;
  readonly gateway: string;
  readonly oif: number;
  /** RTA_PRIORITY, the metric; 0 when absent. */
  readonly priority: number;
  readonly prefsrc: string;
  /** RTA_MULTIPATH entries; empty for a single-path route. */
  readonly multipath: readonly RouteNextHop[];
}

const RTMSG_LEN = 12;
const RTNH_LEN = 8;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Fields = Mutable<RouteMessage>;

interface AttrRow {
  readonly type: number;
  decode(value: Buffer, into: Fields): void;
  /** Attributes for this row, or nothing when the field is at its default. */
  encode(route: RouteMessage): Buffer | null;
}

/** RTA_VIA: struct rtvia { family u16, address } (RFC 5549 style IPv6 next hop of IPv4 routes). */
function decodeVia(value: Buffer): string {
  if (value.length < 2) throw new NetlinkError('decode', 'EPROTO', 'RTA_VIA shorter than 2 bytes');
  return addressToText(value.subarray(2));
}

function encodeVia(gateway: string): Buffer {
  const addr = textToAddress(gateway);
  const head = Buffer.alloc(2);
  head.writeUInt16LE(afOf(addressFamily(gateway)), 0);
  return encodeAttr(RTA.VIA, Buffer.concat([head, addr]));
}

/** A gateway goes in RTA_GATEWAY when its family is the route's, else in RTA_VIA. */
function encodeGateway(family: Family, gateway: string): Buffer {
  return addressFamily(gateway) === family ? encodeAttr(RTA.GATEWAY, textToAddress(gateway)) : encodeVia(gateway);
}

const u32At = (value: Buffer): number => {
  if (value.length < 4) throw new NetlinkError('decode', 'EPROTO', `u32 attribute of ${value.length} bytes`);
  return value.readUInt32LE(0);
};

const routeAttrs: readonly AttrRow[] = [
  {
    type: RTA.DST,
    decode: (v, r) => { r.dst = addressToText(v); },
    encode: (r) => (r.dst === '' ? null : encodeAttr(RTA.DST, textToAddress(r.dst))),
  },
  {
    type: RTA.GATEWAY,
    decode: (v, r) => { r.gateway = addressToText(v); },
    encode: (r) => (r.gateway === '' ? null : encodeGateway(r.family, r.gateway)),
  },
  { type: RTA.VIA, decode: (v, r) => { r.gateway = decodeVia(v); }, encode: () => null },
  {
    type: RTA.OIF,
    decode: (v, r) => { r.oif = u32At(v); },
    encode: (r) => (r.oif === 0 ? null : encodeAttr(RTA.OIF, u32(r.oif))),
  },
  {
    type: RTA.PRIORITY,
    decode: (v, r) => { r.priority = u32At(v); },
    encode: (r) => (r.priority === 0 ? null : encodeAttr(RTA.PRIORITY, u32(r.priority))),
  },
  {
    type: RTA.PREFSRC,
    decode: (v, r) => { r.prefsrc = addressToText(v); },
    encode: (r) => (r.prefsrc === '' ? null : encodeAttr(RTA.PREFSRC, textToAddress(r.prefsrc))),
  },
  {
    type: RTA.TABLE,
    decode: (v, r) => { r.table = u32At(v); },
    encode: (r) => encodeAttr(RTA.TABLE, u32(r.table)),
  },
  {
    type: RTA.MULTIPATH,
    decode: (v, r) => { r.multipath = decodeMultipath(v); },
    encode: (r) => (r.multipath.length === 0 ? null : encodeAttr(RTA.MULTIPATH, encodeMultipath(r.family, r.multipath))),
  },
];

const rowByType: (AttrRow | undefined)[] = [];
for (const row of routeAttrs) rowByType[row.type] = row;

/** struct rtnexthop { u16 len; u8 flags; u8 hops; s32 ifindex } followed by attributes. */
function decodeMultipath(buf: Buffer): RouteNextHop[] {
  const out: RouteNextHop[] = [];
  let at = 0;
  while (at + RTNH_LEN <= buf.length) {
    const len = buf.readUInt16LE(at);
    if (len < RTNH_LEN || at + len > buf.length) {
      throw new NetlinkError('decode', 'EPROTO', `rtnexthop at ${at} claims ${len} bytes, ${buf.length - at} left`);
    }
    let gateway = '';
    forEachAttr(buf.subarray(at + RTNH_LEN, at + len), (type, value) => {
      if (type === RTA.GATEWAY) gateway = addressToText(value);
      else if (type === RTA.VIA) gateway = decodeVia(value);
    });
    out.push({ gateway, flags: buf[at + 2], weight: buf[at + 3] + 1, ifindex: buf.readInt32LE(at + 4) });
    at += align4(len);
  }
  return out;
}

function encodeMultipath(family: Family, hops: readonly RouteNextHop[]): Buffer {
  return Buffer.concat(hops.map((nh) => {
    const attrs = nh.gateway === '' ? Buffer.alloc(0) : encodeGateway(family, nh.gateway);
    const head = Buffer.alloc(RTNH_LEN);
    head.writeUInt16LE(RTNH_LEN + attrs.length, 0);
    head[2] = nh.flags;
    if (nh.weight < 1 || nh.weight > 256 || !Number.isInteger(nh.weight)) {
      throw new NetlinkError('encode', 'EINVAL', `next hop weight ${nh.weight} outside 1..256`);
    }
    head[3] = nh.weight - 1;
    head.writeInt32LE(nh.ifindex, 4);
    return Buffer.concat([head, attrs]);
  }));
}

export function decodeRoute(payload: Buffer): RouteMessage {
  if (payload.length < RTMSG_LEN) {
    throw new NetlinkError('decode', 'EPROTO', `rtmsg of ${payload.length} bytes, 12 expected`);
  }
  const family = familyOf(payload[0]);
  if (family === 0) throw new NetlinkError('decode', 'EAFNOSUPPORT', `route of address family ${payload[0]}`);
  const r: Fields = {
    family,
    dstLen: payload[1],
    srcLen: payload[2],
    tos: payload[3],
    table: payload[4],
    protocol: payload[5],
    scope: payload[6],
    type: payload[7],
    flags: payload.readUInt32LE(8),
    dst: family === 4 ? '0.0.0.0' : '::',
    gateway: '',
    oif: 0,
    priority: 0,
    prefsrc: '',
    multipath: [],
  };
  forEachAttr(payload.subarray(RTMSG_LEN), (type, value) => rowByType[type]?.decode(value, r));
  return r;
}

/** The rtmsg and its attributes (the payload of an RTM_*ROUTE message). */
export function encodeRoute(r: RouteMessage): Buffer {
  const head = Buffer.alloc(RTMSG_LEN);
  head[0] = r.family === 4 ? AF.INET : AF.INET6;
  head[1] = r.dstLen;
  head[2] = r.srcLen;
  head[3] = r.tos;
  head[4] = r.table < 256 ? r.table : RT_TABLE.COMPAT;
  head[5] = r.protocol;
  head[6] = r.scope;
  head[7] = r.type;
  head.writeUInt32LE(r.flags >>> 0, 8);
  const parts: Buffer[] = [head];
  for (const row of routeAttrs) {
    const attr = row.encode(r);
    if (attr !== null) parts.push(attr);
  }
  return Buffer.concat(parts);
}

/** A RouteMessage with every optional field at its default. */
export function routeMessage(fields: Partial<RouteMessage> & Pick<RouteMessage, 'family'>): RouteMessage {
  return {
    dstLen: 0, srcLen: 0, tos: 0, table: RT_TABLE.MAIN, protocol: 0, scope: 0, type: 0, flags: 0,
    dst: '', gateway: '', oif: 0, priority: 0, prefsrc: '', multipath: [], ...fields,
  };
}
