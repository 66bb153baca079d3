/**
 * Request templates for IPv4 routes (issue 12): the RTM_NEWROUTE payload of an interned route
 * (shapes.ts) for prefixes of one length, encoded once, with the place of its RTA_DST address.
 * A payload differs between prefixes of one length only there (routeToMessage reads the prefix for
 * RTA_DST and rtm_dst_len alone), so a request is the template with the address written in: no
 * prefix text, message object or attribute walk per route. Byte-equal to encodeRoute
 * (test/netlink/fib-template.test.ts).
 */
import { RTA } from '../rtnetlink/constants.js';
import { encodeRoute } from '../rtnetlink/route.js';
import type { DesiredEntry } from './diff.js';
import { routeToMessage } from './kernel-route.js';
import type { FibRoute, Ownership } from './types.js';

/** An encoded RTM_NEWROUTE payload of an IPv4 route without its destination address. */
export interface Template {
  readonly bytes: Buffer;
  /** Offset of the 4-byte RTA_DST address in `bytes`. */
  readonly dstAt: number;
}

const RTMSG_LEN = 12;

/** Offset of the value of the route attribute `type` in an encoded rtmsg payload. */
function attributeAt(payload: Buffer, type: number): number {
  for (let at = RTMSG_LEN; at + 4 <= payload.length; at += (payload.readUInt16LE(at) + 3) & ~3) {
    if (payload.readUInt16LE(at + 2) === type) return at + 4;
  }
  throw new Error(`route attribute ${type} missing from an encoded route`);
}

/** `route` (an interned route: prefix '') for IPv4 prefixes of length `len`. */
export function routeTemplate(route: FibRoute, len: number, own: Ownership): Template {
  const bytes = encodeRoute(routeToMessage({ ...route, prefix: `0.0.0.0/${len}` }, own));
  return { bytes: Buffer.from(bytes), dstAt: attributeAt(bytes, RTA.DST) };
}

/**
 * The payload for the prefix at `addr` (32-bit, host order), what encodeRoute would give, written
 * into `buf` at `at` (the caller made room); returns its length.
 */
export function writeTemplate(t: Template, addr: number, buf: Buffer, at: number): number {
  t.bytes.copy(buf, at);
  buf.writeUInt32BE(addr >>> 0, at + t.dstAt);
  return t.bytes.length;
}

/** Templates kept per interned route (forgotten with it) and prefix length. */
export class Templates {
  private readonly byRoute = new WeakMap<DesiredEntry, Template[]>();

  /**
   * The payload installing `want` for the IPv4 prefix addr/len (writeTemplate's bytes), written
   * into `buf` at `at` when it fits; returns its length either way.
   */
  write(want: DesiredEntry, len: number, addr: number, own: Ownership, buf: Buffer, at: number): number {
    const t = this.template(want, len, own);
    return at + t.bytes.length <= buf.length ? writeTemplate(t, addr, buf, at) : t.bytes.length;
  }

  private template(want: DesiredEntry, len: number, own: Ownership): Template {
    let row = this.byRoute.get(want);
    if (row === undefined) {
      row = [];
      this.byRoute.set(want, row);
    }
    let t = row[len];
    if (t === undefined) {
      t = routeTemplate(want.route, len, own);
      row[len] = t;
    }
    return t;
  }
}
