/**
 * The Fib's keys as flat strings (issue 12). A key built by template literals is a tree of
 * string pieces in V8 (about 110 bytes for "64.0.1.64/26" in a Map); written into a scratch
 * buffer and read back as latin1 it is one flat string (about 35). prefixText is formatPrefix
 * for the Fib (path identifiers dropped): IPv4 directly, IPv6 through formatPrefix and flatKey.
 * Pure apart from the module's scratch buffer, which never escapes.
 */
import { AFI } from '../../agent/bgp/constants.js';
import { formatPrefix, type Prefix } from '../../agent/bgp/prefix.js';

const scratch = Buffer.allocUnsafe(256);
const DIGITS: readonly Buffer[] = Array.from({ length: 256 }, (_, i) => Buffer.from(String(i), 'latin1'));
const DOT = 0x2e;
const SLASH = 0x2f;

function put(at: number, digits: Buffer): number {
  for (let j = 0; j < digits.length; j++) scratch[at + j] = digits[j];
  return at + digits.length;
}

/** "a.b.c.d/len", flat. */
export function ipv4Text(addr: number, len: number): string {
  let at = 0;
  for (let shift = 24; shift >= 0; shift -= 8) {
    at = put(at, DIGITS[(addr >>> shift) & 255]);
    scratch[at++] = shift === 0 ? SLASH : DOT;
  }
  at = put(at, DIGITS[len]);
  return scratch.toString('latin1', 0, at);
}

/** The same text as one flat string (keys are ASCII). */
export function flatKey(key: string): string {
  if (key.length > scratch.length) return key;
  const n = scratch.write(key, 0, 'latin1');
  return scratch.toString('latin1', 0, n);
}

/** formatPrefix without the path identifier, flat. */
export function prefixText(p: Prefix): string {
  if (p.afi === AFI.IPV4) return ipv4Text(p.addr, p.len);
  return flatKey(formatPrefix(p.pathId === undefined ? p : { ...p, pathId: undefined }));
}
