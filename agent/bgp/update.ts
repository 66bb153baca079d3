/**
 * UPDATE message (RFC 4271 section 4.3) with RFC 7606 error handling: a malformed message either
 * throws a BgpError with action 'reset', or decodes with `errors` listing treat-as-withdraw and
 * attribute-discard findings, so the session can act (treat-as-withdraw: every NLRI in the message
 * is a withdrawal). An IPv6 next hop for IPv4 NLRI from a session without RFC 8950's extended
 * next hop is treat-as-withdraw too (reason NEXT_HOP_FAMILY_REASON). Also End-of-RIB markers
 * (RFC 4724 section 2). Packing many prefixes into messages is pack.ts.
 */

import { AFI, AttrCode, ErrorCode, HEADER_LENGTH, MessageType, SAFI, UpdateSubcode } from './constants.js';
import { type CodecContext, DEFAULT_CONTEXT } from './context.js';
import { BgpEncodeError, BgpError } from './errors.js';
import { decodeAttributes, encodeAttributes, Findings, type PathAttributes } from './attributes.js';
import { writeHeader } from './header.js';
import { decodeNlri4, nlriSize, writeNlri, type Prefix } from './prefix.js';

export interface UpdateMessage {
  readonly type: 'update';
  /** IPv4 unicast withdrawals of the Withdrawn Routes field. */
  readonly withdrawn: readonly Prefix[];
  readonly attributes: PathAttributes;
  /** IPv4 unicast NLRI of the message body. */
  readonly nlri: readonly Prefix[];
  /** RFC 7606 findings that did not reset the session (present only when there are some). */
  readonly errors?: readonly BgpError[];
}

function resetError(reason: string, message: string, subcode: number): BgpError {
  return new BgpError(reason, message, ErrorCode.UPDATE_MESSAGE, subcode, 'reset');
}

/** Decodes a whole UPDATE message, header included. */
export function decodeUpdate(msg: Uint8Array, ctx: CodecContext = DEFAULT_CONTEXT): UpdateMessage {
  const end = msg.length;
  if (end < HEADER_LENGTH + 4) {
    throw new BgpError('update.length', `UPDATE of ${end} bytes is shorter than 23`, ErrorCode.MESSAGE_HEADER, 2, 'reset', Uint8Array.of(end >> 8, end & 255));
  }
  let p = HEADER_LENGTH;
  const wrLen = (msg[p] << 8) | msg[p + 1];
  p += 2;
  // RFC 4271 section 6.3: lengths that exceed the message are a Malformed Attribute List.
  if (p + wrLen + 2 > end) {
    throw resetError('update.withdrawn-length', `withdrawn routes length ${wrLen} exceeds the message`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
  }
  const withdrawn: Prefix[] = [];
  // RFC 7606 section 3 (g) and 5.3: the withdrawn routes are checked like the NLRI field.
  let fault = decodeNlri4(msg, p, p + wrLen, ctx.addPathIpv4, withdrawn);
  if (fault) throw resetError('update.withdrawn', `withdrawn routes: ${fault.message}`, UpdateSubcode.INVALID_NETWORK_FIELD);
  p += wrLen;
  const taLen = (msg[p] << 8) | msg[p + 1];
  p += 2;
  if (p + taLen > end) {
    throw resetError('update.attributes-length', `total path attribute length ${taLen} exceeds the message`, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST);
  }
  const findings = new Findings();
  const attributes = decodeAttributes(msg, p, p + taLen, ctx, findings);
  p += taLen;
  const nlri: Prefix[] = [];
  fault = decodeNlri4(msg, p, end, ctx.addPathIpv4, nlri);
  if (fault) throw resetError('update.nlri', `NLRI: ${fault.message}`, UpdateSubcode.INVALID_NETWORK_FIELD);
  checkNextHopFamily(attributes, ctx, findings);
  checkMandatory(attributes, nlri.length > 0, findings);
  const base = { type: 'update' as const, withdrawn, attributes, nlri };
  return findings.errors.length > 0 ? { ...base, errors: findings.errors } : base;
}

/** The reason code of an UPDATE withdrawn for an IPv6 next hop on IPv4 NLRI without RFC 8950. */
export const NEXT_HOP_FAMILY_REASON = 'update.next-hop-family';

/**
 * RFC 8950 section 3 allows an IPv6 next hop for IPv4 NLRI only once the capability was exchanged.
 * Without it the next hop is not one we can use. RFC 7606 section 7.11 resets the session for a
 * next-hop length that is "inconsistent", because the NLRI behind it cannot be located; a 16- or
 * 32-byte next hop is a length we parse, the NLRI were located, so the milder treat-as-withdraw
 * applies (as FRR and BIRD treat a next hop they cannot use): the prefixes are withdrawn, the
 * session stays.
 */
function checkNextHopFamily(a: PathAttributes, ctx: CodecContext, findings: Findings): void {
  const m = a.mpReach;
  if (m === undefined || m.raw !== undefined || m.afi !== AFI.IPV4 || ctx.extendedNextHopIpv4) return;
  if (!m.nextHops.some((h) => h.includes(':'))) return;
  findings.add(NEXT_HOP_FAMILY_REASON, `IPv6 next hop ${m.nextHops.join(' ')} for IPv4 NLRI without the extended next hop capability (RFC 8950)`,
    UpdateSubcode.INVALID_NEXT_HOP, 'withdraw');
}

/**
 * RFC 4271 section 6.3 and RFC 7606 section 3 (d): announcing NLRI needs ORIGIN and AS_PATH, and
 * NEXT_HOP for NLRI in the body; a missing one is treat-as-withdraw. An attribute that was itself
 * malformed already made the message treat-as-withdraw and is not reported twice.
 */
function checkMandatory(a: PathAttributes, bodyNlri: boolean, findings: Findings): void {
  const reach = bodyNlri || (a.mpReach !== undefined && a.mpReach.nlri.length > 0);
  if (!reach || findings.errors.some((e) => e.action === 'withdraw')) return;
  const missing = (code: number, name: string): void =>
    findings.add('update.missing', `missing well-known attribute ${name}`, UpdateSubcode.MISSING_WELL_KNOWN, 'withdraw', Uint8Array.of(code));
  if (a.origin === undefined) missing(AttrCode.ORIGIN, 'ORIGIN');
  else if (a.asPath === undefined) missing(AttrCode.AS_PATH, 'AS_PATH');
  else if (bodyNlri && a.nextHop === undefined) missing(AttrCode.NEXT_HOP, 'NEXT_HOP');
}

/** True when RFC 7606 says every route in this UPDATE is to be withdrawn. */
export function isTreatAsWithdraw(u: UpdateMessage): boolean {
  return u.errors?.some((e) => e.action === 'withdraw') ?? false;
}

export function encodeUpdate(u: Omit<UpdateMessage, 'type' | 'errors'>, ctx: CodecContext = DEFAULT_CONTEXT): Uint8Array {
  const attrs = encodeAttributes(u.attributes, ctx);
  const ap = ctx.addPathIpv4;
  const wrLen = u.withdrawn.reduce((n, x) => n + nlriSize(x, ap), 0);
  const nlriLen = u.nlri.reduce((n, x) => n + nlriSize(x, ap), 0);
  const total = HEADER_LENGTH + 4 + wrLen + attrs.length + nlriLen;
  if (total > ctx.maxLength) {
    throw new BgpEncodeError('update.too-long', `UPDATE of ${total} bytes exceeds the maximum of ${ctx.maxLength}`);
  }
  const msg = new Uint8Array(total);
  writeHeader(msg, total, MessageType.UPDATE);
  let p = HEADER_LENGTH;
  msg[p++] = wrLen >> 8;
  msg[p++] = wrLen & 255;
  for (const x of u.withdrawn) p = writeNlri(checkV4(x), ap, msg, p);
  msg[p++] = attrs.length >> 8;
  msg[p++] = attrs.length & 255;
  msg.set(attrs, p);
  p += attrs.length;
  for (const x of u.nlri) p = writeNlri(checkV4(x), ap, msg, p);
  return msg;
}

function checkV4(p: Prefix): Prefix {
  if (p.afi !== AFI.IPV4) throw new BgpEncodeError('update.family', 'only IPv4 prefixes go in the UPDATE body; use MP_REACH_NLRI');
  return p;
}

/** The End-of-RIB marker of a family (RFC 4724 section 2). */
export function endOfRib(afi: number, safi: number = SAFI.UNICAST): UpdateMessage {
  if (afi === AFI.IPV4 && safi === SAFI.UNICAST) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}

/**
 * The family whose End-of-RIB this UPDATE is, or undefined (RFC 4724 section 2): the empty UPDATE
 * for IPv4 unicast, an MP_UNREACH_NLRI with no prefixes and nothing else for other families. A
 * message with RFC 7606 findings (`errors`, kept when treat-as-withdraw rewrote it) never is one,
 * even when nothing is left of it: on the wire it was not empty.
 */
export function endOfRibFamily(u: UpdateMessage): { afi: number; safi: number } | undefined {
  if (u.withdrawn.length > 0 || u.nlri.length > 0 || u.errors) return undefined;
  const keys = Object.keys(u.attributes);
  if (keys.length === 0) return { afi: AFI.IPV4, safi: SAFI.UNICAST };
  const un = u.attributes.mpUnreach;
  if (keys.length === 1 && un && un.withdrawn.length === 0 && !un.raw) return { afi: un.afi, safi: un.safi };
  return undefined;
}
