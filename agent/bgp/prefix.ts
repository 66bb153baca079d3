/**
 * Prefixes and the NLRI encoding (RFC 4271 section 4.3, RFC 4760 section 5, add-path path
 * identifiers of RFC 7911 section 3). This is the per-prefix hot path: an IPv4 prefix is a number
 * and a length, decoded straight from the received buffer with no intermediate copies or strings.
 * Host bits beyond the prefix length are cleared on decode, so equal prefixes compare equal.
 * Not here: what the prefixes mean (the RIB's job).
 */

import { AFI } from './constants.js';
import { BgpEncodeError } from './errors.js';
import { bytesToIpv6, ipv4ToNumber, ipv6ToBytes, numberToIpv4 } from './ip.js';

export interface Prefix4 {
  readonly afi: 1;
  readonly len: number;
  /** The network address as an unsigned 32-bit number. */
  readonly addr: number;
  /** RFC 7911 path identifier, present only when add-path is in force for this direction. */
  readonly pathId?: number;
}

export interface Prefix6 {
  readonly afi: 2;
  readonly len: number;
  /** The network address, 16 bytes. */
  readonly addr: Uint8Array;
  readonly pathId?: number;
}

export type Prefix = Prefix4 | Prefix6;

/** Why an NLRI field could not be parsed; the caller maps it to its NOTIFICATION (RFC 7606 5.3). */
export class NlriFault {
  constructor(readonly message: string) {}
}

/**
 * The slot hash of an IPv4 prefix for the open-addressing tables keyed by prefix (the RIB's
 * table4, the FIB's entries). Neighbouring prefixes of one length land in neighbouring slots in
 * runs of 16 (blocks of a pool arrive in address order, so most probes hit a cache line just
 * used); the runs are spread by a multiplicative hash of the rest of the prefix and its length.
 */
export function prefixHash4(addr: number, len: number): number {
  const idx = len === 0 ? 0 : addr >>> (32 - len);
  let h = Math.imul((idx >>> 4) ^ Math.imul(len, 0x01000193), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return (h << 4) | (idx & 15);
}

/** 'a.b.c.d/n' or 'v6::/n', optionally with a path id. */
export function parsePrefix(text: string, pathId?: number): Prefix {
  const slash = text.lastIndexOf('/');
  if (slash < 0) throw new BgpEncodeError('prefix.text', `not a prefix: ${JSON.stringify(text)}`);
  const len = Number(text.slice(slash + 1));
  const host = text.slice(0, slash);
  const v6 = host.includes(':');
  const max = v6 ? 128 : 32;
  if (!Number.isInteger(len) || len < 0 || len > max) {
    throw new BgpEncodeError('prefix.text', `bad prefix length in ${JSON.stringify(text)}`);
  }
  const extra = pathId === undefined ? {} : { pathId };
  if (v6) {
    const addr = ipv6ToBytes(host);
    maskBytes(addr, len);
    return { afi: AFI.IPV6, len, addr, ...extra };
  }
  return { afi: AFI.IPV4, len, addr: mask4(ipv4ToNumber(host), len), ...extra };
}

export function formatPrefix(p: Prefix): string {
  const base = p.afi === AFI.IPV4 ? `${numberToIpv4(p.addr)}/${p.len}` : `${bytesToIpv6(p.addr)}/${p.len}`;
  return p.pathId === undefined ? base : `${base}#${p.pathId}`;
}

function mask4(addr: number, len: number): number {
  return len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
}

function maskBytes(addr: Uint8Array, len: number): void {
  for (let bit = len; bit < addr.length * 8; bit++) {
    addr[bit >> 3] &= ~(0x80 >> (bit & 7));
  }
}

/**
 * Decodes a run of IPv4 NLRI from buf[start, end) into out. Returns a fault rather than throwing,
 * because the caller decides the error code (NLRI field vs MP attribute).
 */
export function decodeNlri4(
  buf: Uint8Array,
  start: number,
  end: number,
  addPath: boolean,
  out: Prefix[],
): NlriFault | undefined {
  let p = start;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (p + 5 > end) return new NlriFault('truncated path identifier or prefix length');
      pathId = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
      p += 4;
    }
    const len = buf[p++];
    if (len > 32) return new NlriFault(`IPv4 prefix length ${len} exceeds 32`);
    const n = (len + 7) >> 3;
    if (p + n > end) return new NlriFault(`prefix of length ${len} overruns the NLRI field`);
    let a = 0;
    switch (n) {
      case 4:
        a = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
        break;
      case 3:
        a = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8);
        break;
      case 2:
        a = (buf[p] << 24) | (buf[p + 1] << 16);
        break;
      case 1:
        a = buf[p] << 24;
        break;
    }
    p += n;
    const addr = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
    out.push(addPath ? { afi: 1, len, addr, pathId } : { afi: 1, len, addr });
  }
  return undefined;
}

/** The IPv6 twin of decodeNlri4, kept separate so the IPv4 hot path stays monomorphic. */
export function decodeNlri6(
  buf: Uint8Array,
  start: number,
  end: number,
  addPath: boolean,
  out: Prefix[],
): NlriFault | undefined {
  let p = start;
  while (p < end) {
    let pathId = 0;
    if (addPath) {
      if (p + 5 > end) return new NlriFault('truncated path identifier or prefix length');
      pathId = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
      p += 4;
    }
    const len = buf[p++];
    if (len > 128) return new NlriFault(`IPv6 prefix length ${len} exceeds 128`);
    const n = (len + 7) >> 3;
    if (p + n > end) return new NlriFault(`prefix of length ${len} overruns the NLRI field`);
    const addr = new Uint8Array(16);
    for (let i = 0; i < n; i++) addr[i] = buf[p + i];
    if (len & 7) addr[n - 1] &= (0xff00 >> (len & 7)) & 0xff;
    p += n;
    out.push(addPath ? { afi: 2, len, addr, pathId } : { afi: 2, len, addr });
  }
  return undefined;
}

/** Bytes one prefix takes on the wire. */
export function nlriSize(p: Prefix, addPath: boolean): number {
  return (addPath ? 5 : 1) + ((p.len + 7) >> 3);
}

/** Writes one prefix at buf[at]; returns the next offset. */
export function writeNlri(p: Prefix, addPath: boolean, buf: Uint8Array, at: number): number {
  let q = at;
  if (addPath) {
    const id = p.pathId ?? 0;
    buf[q] = id >>> 24;
    buf[q + 1] = (id >>> 16) & 255;
    buf[q + 2] = (id >>> 8) & 255;
    buf[q + 3] = id & 255;
    q += 4;
  }
  buf[q++] = p.len;
  const n = (p.len + 7) >> 3;
  if (p.afi === AFI.IPV4) {
    const a = p.addr;
    if (n > 0) buf[q] = a >>> 24;
    if (n > 1) buf[q + 1] = (a >>> 16) & 255;
    if (n > 2) buf[q + 2] = (a >>> 8) & 255;
    if (n > 3) buf[q + 3] = a & 255;
  } else {
    for (let i = 0; i < n; i++) buf[q + i] = p.addr[i];
  }
  return q + n;
}

export function checkPrefix(p: Prefix): void {
  const max = p.afi === AFI.IPV4 ? 32 : 128;
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > max) {
    throw new BgpEncodeError('prefix.length', `prefix length ${p.len} is out of range for AFI ${p.afi}`);
  }
}
