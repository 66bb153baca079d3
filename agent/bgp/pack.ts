/**
 * Packing routes into as few UPDATE messages as the negotiated maximum allows (RFC 4271 section
 * 9.2, RFC 8654): the attributes of a group are encoded once and every message is filled with as
 * many prefixes as fit. IPv4 prefixes travel in the message body, IPv6 in MP_REACH_NLRI and
 * MP_UNREACH_NLRI (RFC 4760); IPv4 prefixes with an IPv6 next hop (RFC 8950 section 3: the group's
 * mpReach has AFI 1) in MP_REACH_NLRI too, their withdrawals still in the body (section 3 changes
 * only the next hop). The AS attributes are made right for the session first (RFC 6793:
 * AS_TRANS and AS4_PATH toward a 2-octet peer). Which prefixes share an attribute set is the
 * caller's grouping. The encoded attributes of a frozen (interned) attribute set are kept per
 * encode context, so a set that goes out in many UPDATEs, to many peers, is encoded once.
 */

import { AFI, AttrCode, AttrFlag, HEADER_LENGTH, MessageType, SAFI } from './constants.js';
import { type CodecContext, contextKey, DEFAULT_CONTEXT } from './context.js';
import { BgpEncodeError } from './errors.js';
import { as4Outbound } from './as-path.js';
import { encodeAttributes, type PathAttributes } from './attributes.js';
import { writeHeader } from './header.js';
import { mpReachHeadSize, writeMpReachHead } from './mp.js';
import { nlriSize, writeNlri, type Prefix } from './prefix.js';

export interface RouteGroup {
  /**
   * Shared attributes. For IPv4 prefixes, `nextHop` is used, or, when `mpReach` has AFI 1, its
   * (IPv6) next hops (RFC 8950); for IPv6 prefixes, `mpReach` gives the next hops. Its own `nlri`
   * is ignored.
   */
  readonly attributes: PathAttributes;
  readonly prefixes: readonly Prefix[];
}

export interface PackInput {
  readonly withdraw?: readonly Prefix[];
  readonly announce?: readonly RouteGroup[];
}

interface MpEncoded {
  readonly others: Uint8Array;
  readonly head: Uint8Array;
}

/** What packing one attribute set needs, encoded once per set and context. */
interface Encoded {
  /** The attributes without MP_REACH_NLRI (IPv4 prefixes), or undefined before first use. */
  v4?: Uint8Array;
  /** The attributes without NEXT_HOP and MP_REACH_NLRI, and the MP_REACH_NLRI value head (IPv6 prefixes). */
  mp?: MpEncoded;
  /** The same for IPv4 prefixes with an IPv6 next hop (RFC 8950). */
  mp4?: MpEncoded;
}

const encodedSets = new WeakMap<PathAttributes, Map<string, Encoded>>();

/** The cache entry of a frozen attribute set, or a fresh one (never kept) for a set that may still change. */
function encodedOf(attributes: PathAttributes, ctx: CodecContext): Encoded {
  if (!Object.isFrozen(attributes)) return {};
  let byContext = encodedSets.get(attributes);
  if (byContext === undefined) encodedSets.set(attributes, (byContext = new Map()));
  const key = contextKey(ctx);
  let e = byContext.get(key);
  if (e === undefined) byContext.set(key, (e = {}));
  return e;
}

/** Returns encoded UPDATE messages: withdrawals first, then each group's announcements. */
export function packUpdates(input: PackInput, ctx: CodecContext = DEFAULT_CONTEXT): Uint8Array[] {
  const out: Uint8Array[] = [];
  const withdraw = input.withdraw ?? [];
  packWithdrawals(withdraw.filter((p) => p.afi === AFI.IPV4), AFI.IPV4, ctx, out);
  packWithdrawals(withdraw.filter((p) => p.afi === AFI.IPV6), AFI.IPV6, ctx, out);
  for (const group of input.announce ?? []) {
    const v4 = group.prefixes.filter((p) => p.afi === AFI.IPV4);
    const v6 = group.prefixes.filter((p) => p.afi === AFI.IPV6);
    const cache = encodedOf(group.attributes, ctx);
    // RFC 6793 section 4.2.2: a 2-octet peer gets AS_TRANS in AS_PATH and the real path in AS4_PATH.
    const attributes = (): PathAttributes => as4Outbound(group.attributes, ctx.fourOctetAs);
    if (v4.length > 0 && group.attributes.mpReach?.afi === AFI.IPV4) packMp(cache.mp4 ??= encodeMp(attributes(), AFI.IPV4, ctx), v4, ctx.addPathIpv4, ctx, out);
    else if (v4.length > 0) packIpv4(cache.v4 ??= encodeV4(attributes(), ctx), v4, ctx, out);
    if (v6.length > 0) packMp(cache.mp ??= encodeMp(attributes(), AFI.IPV6, ctx), v6, ctx.addPathIpv6, ctx, out);
  }
  return out;
}

/** Takes prefixes from `list` starting at `from` while they fit `room` bytes; returns the end index. */
function fill(list: readonly Prefix[], from: number, room: number, addPath: boolean): [number, number] {
  let used = 0;
  let i = from;
  while (i < list.length) {
    const n = nlriSize(list[i], addPath);
    if (used + n > room) break;
    used += n;
    i++;
  }
  if (i === from) throw new BgpEncodeError('pack.no-room', 'the attributes leave no room for a single prefix');
  return [i, used];
}

function packWithdrawals(list: readonly Prefix[], afi: number, ctx: CodecContext, out: Uint8Array[]): void {
  const v4 = afi === AFI.IPV4;
  const ap = v4 ? ctx.addPathIpv4 : ctx.addPathIpv6;
  // IPv6: MP_UNREACH_NLRI with an extended-length header (4) and AFI/SAFI (3).
  const room = ctx.maxLength - HEADER_LENGTH - 4 - (v4 ? 0 : 7);
  for (let i = 0; i < list.length; ) {
    const [next, used] = fill(list, i, room, ap);
    const total = HEADER_LENGTH + 4 + used + (v4 ? 0 : 7);
    const msg = new Uint8Array(total);
    writeHeader(msg, total, MessageType.UPDATE);
    let p = HEADER_LENGTH;
    if (v4) {
      msg[p++] = used >> 8;
      msg[p++] = used & 255;
      for (let k = i; k < next; k++) p = writeNlri(list[k], ap, msg, p);
      p += 2; // total path attribute length 0
    } else {
      p += 2; // withdrawn routes length 0
      msg[p++] = (used + 7) >> 8;
      msg[p++] = (used + 7) & 255;
      msg[p++] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
      msg[p++] = AttrCode.MP_UNREACH_NLRI;
      msg[p++] = (used + 3) >> 8;
      msg[p++] = (used + 3) & 255;
      msg[p++] = afi >> 8;
      msg[p++] = afi & 255;
      msg[p++] = SAFI.UNICAST;
      for (let k = i; k < next; k++) p = writeNlri(list[k], ap, msg, p);
    }
    out.push(msg);
    i = next;
  }
}

function encodeV4(attributes: PathAttributes, ctx: CodecContext): Uint8Array {
  const { mpReach: _ignored, ...rest } = attributes;
  return encodeAttributes(rest, ctx);
}

function encodeMp(attributes: PathAttributes, afi: number, ctx: CodecContext): MpEncoded {
  const { mpReach, nextHop: _v4NextHop, ...rest } = attributes;
  if (!mpReach) throw new BgpEncodeError('pack.next-hop', 'IPv6 prefixes need attributes.mpReach with the next hops');
  const head = new Uint8Array(mpReachHeadSize(mpReach));
  writeMpReachHead({ afi, safi: SAFI.UNICAST, nextHops: mpReach.nextHops }, head, 0);
  return { others: encodeAttributes(rest, ctx), head };
}

function packIpv4(attrs: Uint8Array, list: readonly Prefix[], ctx: CodecContext, out: Uint8Array[]): void {
  const room = ctx.maxLength - HEADER_LENGTH - 4 - attrs.length;
  for (let i = 0; i < list.length; ) {
    const [next, used] = fill(list, i, room, ctx.addPathIpv4);
    const total = HEADER_LENGTH + 4 + attrs.length + used;
    const msg = new Uint8Array(total);
    writeHeader(msg, total, MessageType.UPDATE);
    let p = HEADER_LENGTH + 2;
    msg[p++] = attrs.length >> 8;
    msg[p++] = attrs.length & 255;
    msg.set(attrs, p);
    p += attrs.length;
    for (let k = i; k < next; k++) p = writeNlri(list[k], ctx.addPathIpv4, msg, p);
    out.push(msg);
    i = next;
  }
}

function packMp(encoded: MpEncoded, list: readonly Prefix[], addPath: boolean, ctx: CodecContext, out: Uint8Array[]): void {
  const { others } = encoded;
  const head = encoded.head.length;
  const room = ctx.maxLength - HEADER_LENGTH - 4 - others.length - 4 - head;
  for (let i = 0; i < list.length; ) {
    const [next, used] = fill(list, i, room, addPath);
    const attrLen = 4 + head + used + others.length;
    const total = HEADER_LENGTH + 4 + attrLen;
    const msg = new Uint8Array(total);
    writeHeader(msg, total, MessageType.UPDATE);
    let p = HEADER_LENGTH + 2;
    msg[p++] = attrLen >> 8;
    msg[p++] = attrLen & 255;
    msg[p++] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
    msg[p++] = AttrCode.MP_REACH_NLRI;
    msg[p++] = (head + used) >> 8;
    msg[p++] = (head + used) & 255;
    msg.set(encoded.head, p);
    p += head;
    for (let k = i; k < next; k++) p = writeNlri(list[k], addPath, msg, p);
    msg.set(others, p);
    out.push(msg);
    i = next;
  }
}
