/**
 * Route messages (RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE; linux/rtnetlink.h struct rtmsg and
 * the RTA_* attributes), decoded into plain data and encoded back. One table row per attribute:
 * a new attribute is one row and one test. RTA_MULTIPATH carries struct rtnexthop entries, each with
 * its own attributes (RTA_GATEWAY, RTA_VIA). Unknown attributes are skipped on decode.
 * Not here: what our routes should be (netlink/fib) or sending them (route-socket.ts).
 */
import { AF, RTA, RT_TABLE } from './constants.js';
import { NetlinkError } from './errors.js';
import { addressAt, addressFamily, afOf, familyOf, type Family, writeAddress } from './address.js';
import { align4 } from './message.js';

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
  /** Reads the value in buf[start, end) (offsets, not slices: this runs per route of a dump). */
  decode(buf: Buffer, start: number, end: number, into: Fields): void;
  /** Bytes this row adds to an encoded route (attribute headers and padding included); 0: absent. */
  size(route: RouteMessage): number;
  /** Writes the row's attribute(s) at `at`; returns the new offset. */
  write(route: RouteMessage, buf: Buffer, at: number): number;
}

/**
 * RTA_VIA: struct rtvia { family u16 (host order), address } (linux/rtnetlink.h): the next hop of
 * another family than the route's, an IPv6 one of an IPv4 route (RFC 8950 section 3, the kernel
 * since 5.2). The address must be as long as its family says (4 or 16 bytes).
 */
function decodeVia(buf: Buffer, start: number, end: number): string {
  if (end - start < 2) throw new NetlinkError('decode', 'EPROTO', 'RTA_VIA shorter than 2 bytes');
  const family = familyOf(buf.readUInt16LE(start));
  if (family === 0 || end - start - 2 !== (family === 4 ? 4 : 16)) {
    throw new NetlinkError('decode', 'EPROTO', `RTA_VIA of family ${buf.readUInt16LE(start)} with ${end - start - 2} address bytes`);
  }
  return addressAt(buf, start + 2, end);
}

const addrLen = (text: string): number => (addressFamily(text) === 4 ? 4 : 16);

/** A gateway goes in RTA_GATEWAY when its family is the route's, else in RTA_VIA. */
function gatewaySize(family: Family, gateway: string): number {
  return addressFamily(gateway) === family ? 4 + addrLen(gateway) : align4(6 + addrLen(gateway));
}

function writeGateway(family: Family, gateway: string, buf: Buffer, at: number): number {
  const gwFamily = addressFamily(gateway);
  if (gwFamily === family) return writeAddressAttr(buf, at, RTA.GATEWAY, gateway);
  const len = 6 + addrLen(gateway);
  buf.writeUInt16LE(len, at);
  buf.writeUInt16LE(RTA.VIA, at + 2);
  buf.writeUInt16LE(afOf(gwFamily), at + 4);
  writeAddress(gateway, buf, at + 6);
  return at + align4(len);
}

function writeAddressAttr(buf: Buffer, at: number, type: number, text: string): number {
  const len = 4 + writeAddress(text, buf, at + 4);
  buf.writeUInt16LE(len, at);
  buf.writeUInt16LE(type, at + 2);
  return at + len;
}

function writeU32Attr(buf: Buffer, at: number, type: number, value: number): number {
  buf.writeUInt16LE(8, at);
  buf.writeUInt16LE(type, at + 2);
  buf.writeUInt32LE(value >>> 0, at + 4);
  return at + 8;
}

const u32At = (buf: Buffer, start: number, end: number): number => {
  if (end - start < 4) throw new NetlinkError('decode', 'EPROTO', `u32 attribute of ${end - start} bytes`);
  return buf.readUInt32LE(start);
};

const addressRow = (type: number, field: 'dst' | 'prefsrc'): AttrRow => ({
  type,
  decode: (b, from, to, r) => { r[field] = addressAt(b, from, to); },
  size: (r) => (r[field] === '' ? 0 : 4 + addrLen(r[field])),
  write: (r, buf, at) => writeAddressAttr(buf, at, type, r[field]),
});

const u32Row = (type: number, field: 'oif' | 'priority' | 'table', always = false): AttrRow => ({
  type,
  decode: (b, from, to, r) => { r[field] = u32At(b, from, to); },
  size: (r) => (r[field] === 0 && !always ? 0 : 8),
  write: (r, buf, at) => writeU32Attr(buf, at, type, r[field]),
});

const routeAttrs: readonly AttrRow[] = [
  addressRow(RTA.DST, 'dst'),
  {
    type: RTA.GATEWAY,
    decode: (b, from, to, r) => { r.gateway = addressAt(b, from, to); },
    size: (r) => (r.gateway === '' ? 0 : gatewaySize(r.family, r.gateway)),
    write: (r, buf, at) => writeGateway(r.family, r.gateway, buf, at),
  },
  { type: RTA.VIA, decode: (b, from, to, r) => { r.gateway = decodeVia(b, from, to); }, size: () => 0, write: (_r, _b, at) => at },
  u32Row(RTA.OIF, 'oif'),
  u32Row(RTA.PRIORITY, 'priority'),
  addressRow(RTA.PREFSRC, 'prefsrc'),
  u32Row(RTA.TABLE, 'table', true),
  {
    type: RTA.MULTIPATH,
    decode: (b, from, to, r) => { r.multipath = decodeMultipath(b, from, to); },
    size: (r) => (r.multipath.length === 0 ? 0 : 4 + multipathSize(r.family, r.multipath)),
    write: (r, buf, at) => {
      const end = writeMultipath(r.family, r.multipath, buf, at + 4);
      buf.writeUInt16LE(end - at, at);
      buf.writeUInt16LE(RTA.MULTIPATH, at + 2);
      return end;
    },
  },
];

const rowByType: (AttrRow | undefined)[] = [];
for (const row of routeAttrs) rowByType[row.type] = row;

/** Calls visit(type, start, end) for each attribute in buf[start, end), by offsets. */
function walk(buf: Buffer, start: number, end: number, visit: (type: number, from: number, to: number) => void): void {
  let at = start;
  while (at + 4 <= end) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) {
      throw new NetlinkError('decode', 'EPROTO', `attribute at ${at - start} claims ${len} bytes, ${end - at} left`);
    }
    visit(buf.readUInt16LE(at + 2) & 0x3fff, at + 4, at + len);
    at += align4(len);
  }
}

/** struct rtnexthop { u16 len; u8 flags; u8 hops; s32 ifindex } followed by attributes. */
function decodeMultipath(buf: Buffer, start: number, end: number): RouteNextHop[] {
  const out: RouteNextHop[] = [];
  let at = start;
  while (at + RTNH_LEN <= end) {
    const len = buf.readUInt16LE(at);
    if (len < RTNH_LEN || at + len > end) {
      throw new NetlinkError('decode', 'EPROTO', `rtnexthop at ${at - start} claims ${len} bytes, ${end - at} left`);
    }
    let gateway = '';
    walk(buf, at + RTNH_LEN, at + len, (type, from, to) => {
      if (type === RTA.GATEWAY) gateway = addressAt(buf, from, to);
      else if (type === RTA.VIA) gateway = decodeVia(buf, from, to);
    });
    out.push({ gateway, flags: buf[at + 2], weight: buf[at + 3] + 1, ifindex: buf.readInt32LE(at + 4) });
    at += align4(len);
  }
  return out;
}

function multipathSize(family: Family, hops: readonly RouteNextHop[]): number {
  let n = 0;
  for (const nh of hops) n += RTNH_LEN + (nh.gateway === '' ? 0 : gatewaySize(family, nh.gateway));
  return n;
}

function writeMultipath(family: Family, hops: readonly RouteNextHop[], buf: Buffer, start: number): number {
  let at = start;
  for (const nh of hops) {
    if (nh.weight < 1 || nh.weight > 256 || !Number.isInteger(nh.weight)) {
      throw new NetlinkError('encode', 'EINVAL', `next hop weight ${nh.weight} outside 1..256`);
    }
    const end = nh.gateway === '' ? at + RTNH_LEN : writeGateway(family, nh.gateway, buf, at + RTNH_LEN);
    buf.writeUInt16LE(end - at, at);
    buf[at + 2] = nh.flags;
    buf[at + 3] = nh.weight - 1;
    buf.writeInt32LE(nh.ifindex, at + 4);
    at = end;
  }
  return at;
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
  walk(payload, RTMSG_LEN, payload.length, (type, from, to) => rowByType[type]?.decode(payload, from, to, r));
  return r;
}

/** The rtmsg and its attributes (the payload of an RTM_*ROUTE message), in one allocation. */
export function encodeRoute(r: RouteMessage): Buffer {
  let size = RTMSG_LEN;
  for (const row of routeAttrs) size += row.size(r);
  // From Node's buffer pool (no zero-filled ArrayBuffer per route); every byte is written below,
  // attribute padding included.
  const buf = Buffer.allocUnsafe(size).fill(0);
  buf[0] = r.family === 4 ? AF.INET : AF.INET6;
  buf[1] = r.dstLen;
  buf[2] = r.srcLen;
  buf[3] = r.tos;
  buf[4] = r.table < 256 ? r.table : RT_TABLE.COMPAT;
  buf[5] = r.protocol;
  buf[6] = r.scope;
  buf[7] = r.type;
  buf.writeUInt32LE(r.flags >>> 0, 8);
  let at = RTMSG_LEN;
  for (const row of routeAttrs) if (row.size(r) > 0) at = row.write(r, buf, at);
  return buf;
}

/** A RouteMessage with every optional field at its default. */
export function routeMessage(fields: Partial<RouteMessage> & Pick<RouteMessage, 'family'>): RouteMessage {
  return {
    dstLen: 0, srcLen: 0, tos: 0, table: RT_TABLE.MAIN, protocol: 0, scope: 0, type: 0, flags: 0,
    dst: '', gateway: '', oif: 0, priority: 0, prefsrc: '', multipath: [], ...fields,
  };
}
