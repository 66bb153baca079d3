/**
 * Link messages (RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK; struct ifinfomsg and IFLA_* attributes):
 * what the FIB needs to know about interfaces (index, name, up, kind), and the RTM_NEWLINK request
 * that creates a tunnel device (IFLA_LINKINFO / IFLA_INFO_KIND, e.g. "ipip").
 * Not here: link attributes nobody reads (statistics, addresses, queues).
 */
import { IFF, IFLA, IFLA_INFO } from './constants.js';
import { NetlinkError } from './errors.js';
import { cstring, encodeAttr, forEachAttr, readCString } from './message.js';

export interface LinkMessage {
  readonly index: number;
  readonly name: string;
  /** ifi_flags: IFF_UP 0x1, IFF_RUNNING 0x40, IFF_LOWER_UP 0x10000, ... */
  readonly flags: number;
  /** IFLA_OPERSTATE (RFC 2863: 6 = up, 2 = down, 0 = unknown). */
  readonly operstate: number;
  /** IFLA_INFO_KIND ('veth', 'ipip', ...), '' for a physical device. */
  readonly kind: string;
  readonly mtu: number;
}

const IFINFOMSG_LEN = 16;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const linkAttrs: Readonly<Record<number, (value: Buffer, into: Mutable<LinkMessage>) => void>> = {
  [IFLA.IFNAME]: (v, l) => { l.name = readCString(v); },
  [IFLA.MTU]: (v, l) => { if (v.length >= 4) l.mtu = v.readUInt32LE(0); },
  [IFLA.OPERSTATE]: (v, l) => { if (v.length >= 1) l.operstate = v[0]; },
  [IFLA.LINKINFO]: (v, l) => {
    forEachAttr(v, (type, value) => { if (type === IFLA_INFO.KIND) l.kind = readCString(value); });
  },
};

export function decodeLink(payload: Buffer): LinkMessage {
  if (payload.length < IFINFOMSG_LEN) {
    throw new NetlinkError('decode', 'EPROTO', `ifinfomsg of ${payload.length} bytes, 16 expected`);
  }
  const link: Mutable<LinkMessage> = {
    index: payload.readInt32LE(4),
    flags: payload.readUInt32LE(8),
    name: '',
    operstate: 0,
    kind: '',
    mtu: 0,
  };
  forEachAttr(payload.subarray(IFINFOMSG_LEN), (type, value) => linkAttrs[type]?.(value, link));
  return link;
}

export const isUp = (link: LinkMessage): boolean => (link.flags & IFF.UP) !== 0;

/** ifinfomsg for requests: family unspecified, the index (0 for a new link), flags and change mask. */
export function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

/** The payload of RTM_NEWLINK creating `name` of `kind`, administratively up. */
export function encodeNewLink(name: string, kind: string): Buffer {
  if (name.length === 0 || name.length > 15) {
    throw new NetlinkError('encode', 'EINVAL', `interface name must be 1 to 15 bytes, got ${JSON.stringify(name)}`);
  }
  return Buffer.concat([
    ifinfomsg(0, IFF.UP, IFF.UP),
    encodeAttr(IFLA.IFNAME, cstring(name)),
    encodeAttr(IFLA.LINKINFO, encodeAttr(IFLA_INFO.KIND, cstring(kind))),
  ]);
}

/** Round-trip helper for tests: a link message as the kernel would send it. */
export function encodeLink(link: LinkMessage): Buffer {
  const parts = [ifinfomsg(link.index, link.flags), encodeAttr(IFLA.IFNAME, cstring(link.name))];
  if (link.mtu !== 0) {
    const mtu = Buffer.alloc(4);
    mtu.writeUInt32LE(link.mtu, 0);
    parts.push(encodeAttr(IFLA.MTU, mtu));
  }
  parts.push(encodeAttr(IFLA.OPERSTATE, Buffer.from([link.operstate])));
  if (link.kind !== '') parts.push(encodeAttr(IFLA.LINKINFO, encodeAttr(IFLA_INFO.KIND, cstring(link.kind))));
  return Buffer.concat(parts);
}
