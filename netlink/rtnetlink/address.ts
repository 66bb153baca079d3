/**
 * Address bytes <-> text for rtnetlink attributes (IPv4 dotted quad, IPv6 RFC 5952 text via
 * agent/bgp/ip.ts, so prefixes from the kernel compare equal to prefixes from BGP).
 */
import { bytesToIpv6, ipv4ToNumber, ipv6ToBytes } from '../../agent/bgp/ip.js';
import { AF } from './constants.js';
import { NetlinkError } from './errors.js';

export type Family = 4 | 6;

export const familyOf = (af: number): Family | 0 => (af === AF.INET ? 4 : af === AF.INET6 ? 6 : 0);
export const afOf = (family: Family): number => (family === 4 ? AF.INET : AF.INET6);

export function addressToText(value: Buffer): string {
  return addressAt(value, 0, value.length);
}

/** The address in buf[start, end), without slicing the buffer (dumps read a million of them). */
export function addressAt(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  if (len === 4) return `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}`;
  if (len === 16) return bytesToIpv6(buf, start);
  throw new NetlinkError('decode', 'EPROTO', `address attribute of ${len} bytes`);
}

export function textToAddress(text: string): Buffer {
  try {
    if (text.includes(':')) return Buffer.from(ipv6ToBytes(text));
    const n = ipv4ToNumber(text);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0, 0);
    return b;
  } catch (err) {
    throw new NetlinkError('encode', 'EINVAL', `not an IP address: ${JSON.stringify(text)}`, { cause: err });
  }
}

/**
 * Writes the address bytes of `text` at `at`; returns how many (4 or 16). IPv4 is parsed by hand:
 * this runs once per route sent.
 */
export function writeAddress(text: string, buf: Buffer, at: number): number {
  if (text.includes(':')) {
    textToAddress(text).copy(buf, at);
    return 16;
  }
  let octet = 0;
  let digits = 0;
  let index = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || index > 3) break;
      buf[at + index++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + c - 48;
      digits++;
      if (octet > 255) break;
    } else {
      break;
    }
    if (i === text.length && index === 4) return 4;
  }
  throw new NetlinkError('encode', 'EINVAL', `not an IP address: ${JSON.stringify(text)}`);
}

export const addressFamily = (text: string): Family => (text.includes(':') ? 6 : 4);
