/**
 * MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 section 3 and 4) for IPv4 and IPv6 unicast, with the
 * IPv6 global + link-local next hop of RFC 2545 section 3, also for IPv4 NLRI (RFC 8950 section 3:
 * AFI 1 with a 16- or 32-byte next hop; whether the session negotiated it is update.ts's check).
 * mpNextHop reads every next-hop encoding seen in the wild into one shape. Other families are kept as raw bytes so
 * the RIB can ignore them. Any error here resets the session: once the next-hop length or an NLRI is
 * wrong, the NLRI cannot be located reliably (RFC 7606 section 7.11, section 3 (h)).
 */

import { AFI, SAFI } from './constants.js';
import { bytesToIpv6, ipv6ToBytes, isIpv6LinkLocal, readIpv4, writeIpv4 } from './ip.js';
import { decodeNlri4, decodeNlri6, NlriFault, nlriSize, writeNlri, type Prefix } from './prefix.js';

export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  /** One address, or for IPv6 the global then the link-local address (RFC 2545). */
  readonly nextHops: readonly string[];
  readonly nlri: readonly Prefix[];
  /** The whole attribute value, for families this codec does not parse. */
  readonly raw?: Uint8Array;
}

export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly Prefix[];
  readonly raw?: Uint8Array;
}

export interface AddPathFlags {
  readonly addPathIpv4: boolean;
  readonly addPathIpv6: boolean;
}

export class MpFault {
  constructor(readonly message: string) {}
}

const isUnicast = (afi: number, safi: number): boolean =>
  (afi === AFI.IPV4 || afi === AFI.IPV6) && safi === SAFI.UNICAST;

function decodePrefixes(afi: number, v: Uint8Array, start: number, flags: AddPathFlags, out: Prefix[]): NlriFault | undefined {
  return afi === AFI.IPV4
    ? decodeNlri4(v, start, v.length, flags.addPathIpv4, out)
    : decodeNlri6(v, start, v.length, flags.addPathIpv6, out);
}

export function decodeMpReach(v: Uint8Array, flags: AddPathFlags): MpReach | MpFault {
  if (v.length < 5) return new MpFault(`MP_REACH_NLRI of ${v.length} bytes is too short`);
  const afi = (v[0] << 8) | v[1];
  const safi = v[2];
  const nhLen = v[3];
  if (5 + nhLen > v.length) return new MpFault(`next hop length ${nhLen} overruns MP_REACH_NLRI`);
  if (!isUnicast(afi, safi)) return { afi, safi, nextHops: [], nlri: [], raw: v };
  const nextHops: string[] = [];
  if (nhLen === 4) {
    nextHops.push(readIpv4(v, 4));
  } else if (nhLen === 16 || nhLen === 32) {
    nextHops.push(bytesToIpv6(v, 4));
    if (nhLen === 32) nextHops.push(bytesToIpv6(v, 20));
  } else {
    return new MpFault(`next hop length ${nhLen} is not 4, 16 or 32`);
  }
  if (afi === AFI.IPV6 && nhLen === 4) return new MpFault('IPv6 NLRI with a 4-byte next hop');
  // v[4 + nhLen] is the reserved octet (RFC 4760 section 3): ignored on receipt.
  const nlri: Prefix[] = [];
  const fault = decodePrefixes(afi, v, 5 + nhLen, flags, nlri);
  if (fault) return new MpFault(`MP_REACH_NLRI: ${fault.message}`);
  return { afi, safi, nextHops, nlri };
}

export function decodeMpUnreach(v: Uint8Array, flags: AddPathFlags): MpUnreach | MpFault {
  if (v.length < 3) return new MpFault(`MP_UNREACH_NLRI of ${v.length} bytes is too short`);
  const afi = (v[0] << 8) | v[1];
  const safi = v[2];
  if (!isUnicast(afi, safi)) return { afi, safi, withdrawn: [], raw: v };
  const withdrawn: Prefix[] = [];
  const fault = decodePrefixes(afi, v, 3, flags, withdrawn);
  if (fault) return new MpFault(`MP_UNREACH_NLRI: ${fault.message}`);
  return { afi, safi, withdrawn };
}

/** The next hop of an MP_REACH_NLRI as a route carries it: a global address and a link-local one. */
export interface MpNextHop {
  /** The global (or IPv4) address; '' when the peer sent only a link-local one. */
  readonly nextHop: string;
  /** The link-local address, or ''. */
  readonly linkLocal: string;
}

/**
 * The encodings seen in the wild (RFC 2545 section 3, RFC 8950 section 3), for IPv6 and for IPv4
 * NLRI alike: 4 bytes (IPv4); 16 bytes global; 32 bytes global + link-local; 32 bytes `::` +
 * link-local (BIRD on a link-local session); 32 bytes link-local twice (FRR without a global
 * address); 16 bytes link-local alone (GoBGP). `::` is never a next hop: it reads as ''.
 */
export function mpNextHop(m: Pick<MpReach, 'nextHops'>): MpNextHop {
  const [first = '', second = ''] = m.nextHops;
  const ll = (h: string): boolean => isIpv6LinkLocal(h);
  const global = first === '::' || ll(first) ? '' : first;
  const linkLocal = ll(second) ? second : ll(first) ? first : '';
  return { nextHop: global, linkLocal };
}

function addPathFor(afi: number, flags: AddPathFlags): boolean {
  return afi === AFI.IPV4 ? flags.addPathIpv4 : flags.addPathIpv6;
}

/** Size of the MP_REACH_NLRI value without its NLRI. */
export function mpReachHeadSize(m: Pick<MpReach, 'nextHops'>): number {
  return 5 + nextHopBytes(m.nextHops);
}

function nextHopBytes(nextHops: readonly string[]): number {
  return nextHops.reduce((n, h) => n + (h.includes(':') ? 16 : 4), 0);
}

/** Writes the MP_REACH_NLRI value head (AFI, SAFI, next hop, reserved) at buf[at]. */
export function writeMpReachHead(m: Pick<MpReach, 'afi' | 'safi' | 'nextHops'>, buf: Uint8Array, at: number): number {
  let p = at;
  buf[p++] = m.afi >> 8;
  buf[p++] = m.afi & 255;
  buf[p++] = m.safi;
  buf[p++] = nextHopBytes(m.nextHops);
  for (const h of m.nextHops) {
    if (h.includes(':')) {
      buf.set(ipv6ToBytes(h), p);
      p += 16;
    } else {
      writeIpv4(h, buf, p);
      p += 4;
    }
  }
  buf[p++] = 0;
  return p;
}

export function encodeMpReach(m: MpReach, flags: AddPathFlags): Uint8Array {
  if (m.raw) return m.raw;
  const ap = addPathFor(m.afi, flags);
  const size = mpReachHeadSize(m) + m.nlri.reduce((n, p) => n + nlriSize(p, ap), 0);
  const out = new Uint8Array(size);
  let p = writeMpReachHead(m, out, 0);
  for (const prefix of m.nlri) p = writeNlri(prefix, ap, out, p);
  return out;
}

export function encodeMpUnreach(m: MpUnreach, flags: AddPathFlags): Uint8Array {
  if (m.raw) return m.raw;
  const ap = addPathFor(m.afi, flags);
  const out = new Uint8Array(3 + m.withdrawn.reduce((n, p) => n + nlriSize(p, ap), 0));
  out[0] = m.afi >> 8;
  out[1] = m.afi & 255;
  out[2] = m.safi;
  let p = 3;
  for (const prefix of m.withdrawn) p = writeNlri(prefix, ap, out, p);
  return out;
}
