/**
 * The ICMP codec of `agentctl check` (RFC 792 echo and errors, RFC 4443 ICMPv6 echo and errors),
 * pure: `encodeEcho` builds an echo request of an exact size, `decodeIcmp` reads one ICMP or
 * ICMPv6 message (already cut out of its IP packet), `decodeIpv4` cuts a raw IPv4 socket's
 * datagram into header fields and payload, `checksum` is RFC 1071's Internet checksum.
 * Echo payload: an 8-byte per-probe token first (random, checked on every reply: every raw ICMP
 * socket of the host sees every echo reply, another prober's included), then zero padding.
 * ICMPv6 checksums cover a pseudo-header (RFC 4443 s2.3): the kernel fills them in for raw
 * ICMPv6 sockets and verifies them on receipt, so IPv6 echoes are encoded with checksum 0.
 * Not here: sockets, timers, which probe a reply belongs to (prober.ts).
 */
import { CheckError } from './errors.js';

export type Family = 4 | 6;

/** Type numbers, one row per family (RFC 792, RFC 4443 s2.1). */
export const ICMP_TYPES = {
  4: { echoRequest: 8, echoReply: 0, unreachable: 3, tooBig: -1, timeExceeded: 11 },
  6: { echoRequest: 128, echoReply: 129, unreachable: 1, tooBig: 2, timeExceeded: 3 },
} as const;

/** RFC 792: destination unreachable code 4, "fragmentation needed and DF set" (RFC 1191 s4 MTU). */
const FRAG_NEEDED = 4;
export const ICMP_HEADER = 8;
export const TOKEN_BYTES = 8;
export const IPV4_HEADER = 20;
export const IPV6_HEADER = 40;

export interface Echo {
  readonly family: Family;
  readonly id: number;
  readonly seq: number;
  /** TOKEN_BYTES bytes. */
  readonly token: Buffer;
  /** The whole ICMP message in bytes (header, token, padding). */
  readonly length: number;
}

/** What an ICMP error says, and the echo of ours it quotes (its id and seq), if it quotes one. */
export type IcmpMessage =
  | { readonly kind: 'echo-reply'; readonly id: number; readonly seq: number; readonly token: Buffer }
  | { readonly kind: 'echo-request' }
  | {
    readonly kind: 'unreachable' | 'too-big' | 'time-exceeded';
    readonly code: number;
    /** The next-hop MTU of a "fragmentation needed" (RFC 1191) or "packet too big" (RFC 4443 s3.2); 0 otherwise. */
    readonly mtu: number;
    /** The quoted packet's destination and echo id/seq; null when it quotes no echo request. */
    readonly quoted: { readonly destination: string; readonly id: number; readonly seq: number } | null;
  }
  | { readonly kind: 'other'; readonly type: number; readonly code: number };

/** RFC 1071: one's complement of the one's complement sum of 16-bit words (odd byte padded). */
export function checksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i);
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The echo request's ICMP message length for an IP packet of `packetBytes` (IP header included). */
export function echoLengthFor(family: Family, packetBytes: number): number {
  return packetBytes - (family === 4 ? IPV4_HEADER : IPV6_HEADER);
}

export function encodeEcho(echo: Echo): Buffer {
  if (echo.token.length !== TOKEN_BYTES) throw new CheckError('ICMP_BAD_SIZE', `token of ${echo.token.length} bytes, ${TOKEN_BYTES} expected`);
  if (!Number.isInteger(echo.length) || echo.length < ICMP_HEADER + TOKEN_BYTES || echo.length > 65535) {
    throw new CheckError('ICMP_BAD_SIZE', `echo of ${echo.length} bytes: ${ICMP_HEADER + TOKEN_BYTES}..65535 expected`);
  }
  const b = Buffer.alloc(echo.length);
  b[0] = ICMP_TYPES[echo.family].echoRequest;
  b[1] = 0;
  b.writeUInt16BE(echo.id & 0xffff, 4);
  b.writeUInt16BE(echo.seq & 0xffff, 6);
  echo.token.copy(b, ICMP_HEADER);
  if (echo.family === 4) b.writeUInt16BE(checksum(b), 2);
  return b;
}

function ipv4Text(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6Text(b: Buffer, at: number): string {
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(at + 2 * i).toString(16));
  // The canonical form (RFC 5952): the longest run of two or more zero words becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best === -1) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

export interface Ipv4Packet {
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  /** The bytes after the header (IHL), cut to the total length. */
  readonly payload: Buffer;
}

/** A raw IPv4 socket's datagram: the IPv4 header, then the ICMP message. */
export function decodeIpv4(b: Buffer): Ipv4Packet {
  if (b.length < IPV4_HEADER) throw new CheckError('ICMP_TRUNCATED', `IPv4 packet of ${b.length} bytes`);
  if (b[0] >> 4 !== 4) throw new CheckError('IP_NOT_IPV4', `IP version ${b[0] >> 4}`);
  const ihl = (b[0] & 0x0f) * 4;
  const total = Math.min(b.readUInt16BE(2), b.length);
  if (ihl < IPV4_HEADER || total < ihl) throw new CheckError('ICMP_TRUNCATED', `IPv4 header length ${ihl}, total ${total}`);
  return { source: ipv4Text(b, 12), destination: ipv4Text(b, 16), protocol: b[9], payload: b.subarray(ihl, total) };
}

/** The packet an ICMP error quotes: its destination and, if it is an echo request, id and seq. */
function quoted(family: Family, inner: Buffer): { destination: string; id: number; seq: number } | null {
  if (family === 4) {
    if (inner.length < IPV4_HEADER || inner[0] >> 4 !== 4) return null;
    const ihl = (inner[0] & 0x0f) * 4;
    const icmp = inner.subarray(ihl);
    if (inner[9] !== 1 || icmp.length < ICMP_HEADER || icmp[0] !== ICMP_TYPES[4].echoRequest) return null;
    return { destination: ipv4Text(inner, 16), id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6) };
  }
  // No extension headers: our echoes are sent without any.
  if (inner.length < IPV6_HEADER + ICMP_HEADER || inner[0] >> 4 !== 6 || inner[6] !== 58) return null;
  const icmp = inner.subarray(IPV6_HEADER);
  if (icmp[0] !== ICMP_TYPES[6].echoRequest) return null;
  return { destination: ipv6Text(inner, 24), id: icmp.readUInt16BE(4), seq: icmp.readUInt16BE(6) };
}

/** One ICMP (family 4) or ICMPv6 (family 6) message, its IP header already removed. */
export function decodeIcmp(family: Family, b: Buffer): IcmpMessage {
  if (b.length < ICMP_HEADER) throw new CheckError('ICMP_TRUNCATED', `ICMP message of ${b.length} bytes`);
  const types = ICMP_TYPES[family];
  const type = b[0];
  const code = b[1];
  switch (type) {
    case types.echoReply:
      if (b.length < ICMP_HEADER + TOKEN_BYTES) throw new CheckError('ICMP_TRUNCATED', `echo reply of ${b.length} bytes, no token`);
      return { kind: 'echo-reply', id: b.readUInt16BE(4), seq: b.readUInt16BE(6), token: b.subarray(ICMP_HEADER, ICMP_HEADER + TOKEN_BYTES) };
    case types.echoRequest:
      return { kind: 'echo-request' };
    case types.unreachable: {
      const tooBig = family === 4 && code === FRAG_NEEDED;
      return {
        kind: tooBig ? 'too-big' : 'unreachable', code,
        // RFC 1191 s4: the next-hop MTU in the low 16 bits of the second word.
        mtu: tooBig ? b.readUInt16BE(6) : 0,
        quoted: quoted(family, b.subarray(ICMP_HEADER)),
      };
    }
    case types.tooBig:
      return { kind: 'too-big', code, mtu: b.readUInt32BE(4), quoted: quoted(family, b.subarray(ICMP_HEADER)) };
    case types.timeExceeded:
      return { kind: 'time-exceeded', code, mtu: 0, quoted: quoted(family, b.subarray(ICMP_HEADER)) };
    default:
      return { kind: 'other', type, code };
  }
}
