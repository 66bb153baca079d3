/**
 * IPv4 and IPv6 addresses between text and bytes. IPv6 text follows RFC 5952 (lowercase, the
 * longest run of two or more zero groups compressed, the first such run on a tie).
 * IPv4 addresses that are per-prefix data are numbers (uint32), never strings.
 */

import { BgpEncodeError } from './errors.js';

export function ipv4ToNumber(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new BgpEncodeError('ip.v4', `not an IPv4 address: ${JSON.stringify(text)}`);
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) {
      throw new BgpEncodeError('ip.v4', `not an IPv4 address: ${JSON.stringify(text)}`);
    }
    n = n * 256 + Number(part);
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function readIpv4(buf: Uint8Array, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

export function writeIpv4(text: string, buf: Uint8Array, at: number): void {
  const n = ipv4ToNumber(text);
  buf[at] = n >>> 24;
  buf[at + 1] = (n >>> 16) & 255;
  buf[at + 2] = (n >>> 8) & 255;
  buf[at + 3] = n & 255;
}

/** Parses IPv6 text (with an optional embedded IPv4 tail) into 16 bytes. */
export function ipv6ToBytes(text: string): Uint8Array {
  const fail = (): never => {
    throw new BgpEncodeError('ip.v6', `not an IPv6 address: ${JSON.stringify(text)}`);
  };
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const groups: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) fail();
  const parseHalf = (half: string): number[] => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    pieces.forEach((piece, i) => {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = ipv4ToNumber(piece);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) fail();
        out.push(parseInt(piece, 16));
      }
    });
    return out;
  };
  const head = parseHalf(halves[0]);
  if (halves.length === 2) {
    const tail = parseHalf(halves[1]);
    const fill = 8 - head.length - tail.length;
    if (fill < 1) fail();
    groups.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else {
    if (head.length !== 8) fail();
    groups.push(...head);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >>> 8;
    bytes[i * 2 + 1] = g & 255;
  });
  return bytes;
}

export function bytesToIpv6(buf: Uint8Array, at = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((buf[at + i * 2] << 8) | buf[at + i * 2 + 1]);
  // Longest run of zero groups, length >= 2 (RFC 5952 section 4.2.2).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function isIpv6Text(text: string): boolean {
  return text.includes(':');
}

/** fe80::/10 (RFC 4291 section 2.5.6), from text as bytesToIpv6 writes it (lowercase). */
export function isIpv6LinkLocal(text: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(text);
}
