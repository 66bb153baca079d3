/**
 * Address, prefix and endpoint text as the config file writes it, parsed strictly: no leading
 * zeros in IPv4 octets, no IPv6 zone ids, prefix lengths as plain decimals. Built on the wire
 * codec's parsers (agent/bgp/ip.ts, agent/bgp/prefix.ts); each function returns undefined for bad
 * text instead of throwing, so callers phrase the problem for the key they check.
 */

import { bytesToIpv6, ipv4ToNumber, ipv6ToBytes, numberToIpv4 } from '../agent/bgp/ip.js';
import { parsePrefix } from '../agent/bgp/prefix.js';

export type Family = 'ipv4' | 'ipv6';

export interface Address {
  readonly family: Family;
  /** Canonical text (RFC 5952 for IPv6): equal addresses have equal keys. */
  readonly key: string;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface Cidr {
  readonly family: Family;
  readonly len: number;
  /** The address as written. */
  readonly address: Address;
  /** The network address: the written one with the host bits cleared. */
  readonly network: Address;
  readonly hostBitsSet: boolean;
}

export interface Endpoint {
  readonly address: Address;
  /** undefined when the text had no port. */
  readonly port: number | undefined;
}

const V4_TEXT = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/;

export function parseIpv4(text: string): Address | undefined {
  if (!V4_TEXT.test(text)) return undefined;
  let n: number;
  try {
    n = ipv4ToNumber(text);
  } catch {
    return undefined; // an octet above 255: the caller reports the key
  }
  const bytes = new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  return { family: 'ipv4', key: numberToIpv4(n), bytes };
}

export function parseIpv6(text: string): Address | undefined {
  if (!text.includes(':') || text.includes('%') || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  try {
    const bytes = ipv6ToBytes(text);
    return { family: 'ipv6', key: bytesToIpv6(bytes), bytes };
  } catch {
    return undefined; // malformed groups: the caller reports the key
  }
}

export function parseAddress(text: string): Address | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** `a.b.c.d/n` or `v6/n`; host bits are allowed here and reported in `hostBitsSet`. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1))) return undefined;
  const address = parseAddress(text.slice(0, slash));
  const len = Number(text.slice(slash + 1));
  if (!address || len > address.bytes.length * 8) return undefined;
  const p = parsePrefix(`${address.key}/${len}`);
  const network: Address =
    p.afi === 1
      ? { family: 'ipv4', key: numberToIpv4(p.addr), bytes: new Uint8Array([p.addr >>> 24, (p.addr >>> 16) & 255, (p.addr >>> 8) & 255, p.addr & 255]) }
      : { family: 'ipv6', key: bytesToIpv6(p.addr), bytes: p.addr };
  return { family: address.family, len, address, network, hostBitsSet: network.key !== address.key };
}

/** `ip`, `ip:port`, `v6`, `[v6]` or `[v6]:port`. */
export function parseEndpoint(text: string): Endpoint | undefined {
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  let host: string;
  let portText: string | undefined;
  if (bracket) {
    host = bracket[1];
    portText = bracket[2];
    if (!host.includes(':')) return undefined;
  } else if (text.split(':').length === 2) {
    [host, portText] = text.split(':');
    if (!/^\d{1,5}$/.test(portText)) return undefined;
  } else {
    host = text;
  }
  const address = parseAddress(host);
  if (!address) return undefined;
  if (portText === undefined) return { address, port: undefined };
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { address, port } : undefined;
}

/** True when `inner` lies inside `outer` (same family, outer no longer, same leading bits). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.len > inner.len) return false;
  return leadingBitsEqual(outer.network.bytes, inner.network.bytes, outer.len);
}

/** True when two prefixes share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

function leadingBitsEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let bit = 0; bit < bits; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((a[bit >> 3] & mask) !== (b[bit >> 3] & mask)) return false;
  }
  return true;
}
